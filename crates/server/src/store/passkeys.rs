//! Passkeys (WebAuthn): the `two_step_methods` rows of kind `passkey` and the ceremonies in
//! flight (`webauthn_ceremonies`), both from migration 0016. The credential itself is stored as
//! webauthn-rs serialises it (`passkey_json`: public key and signature counter); the use case
//! (`usecases::passkeys`) is the only one that reads or writes that JSON.

use super::LockOrganization;
use super::audit::insert_audit_event;
use super::two_step::{
    AddedMethod, MethodOwner, first_codes, lock_then_is_first_method, replace_codes,
};
use super::{Store, StoreError, classify, in_transaction, new_id, on_pool, on_writer};
use onestop_domain::{AuditAction, Timestamp, UserId};

/// What a ceremony is for: its state can only finish the same kind of ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    Register,
    Authenticate,
}

impl CeremonyPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Authenticate => "authenticate",
        }
    }
}

/// One of a user's passkeys, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPasskey {
    /// The id of its `two_step_methods` row.
    pub id: String,
    pub name: String,
    /// webauthn-rs's `Passkey`, as JSON.
    pub passkey_json: String,
}

/// A passkey just registered, to be added to its user's methods.
#[derive(Debug)]
pub struct NewPasskey<'a> {
    pub name: &'a str,
    /// base64url of the credential id (unique across all users).
    pub credential_id: &'a str,
    pub passkey_json: &'a str,
}

impl Store {
    /// The passkeys of `user_id`, oldest first.
    pub async fn passkeys_of(&self, user_id: &UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, StoredPasskey>(
                "SELECT id, name, passkey_json FROM two_step_methods \
                 WHERE user_id = $1 AND kind = 'passkey' AND passkey_json IS NOT NULL \
                 ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Keeps the state of a ceremony until `expires_at`; the user's expired ceremonies go.
    /// Returns the ceremony's id.
    pub async fn start_webauthn_ceremony(
        &self,
        user_id: &UserId,
        purpose: CeremonyPurpose,
        state_json: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String, StoreError> {
        let id = new_id();
        in_transaction!(self, |transaction| {
            sqlx::query("DELETE FROM webauthn_ceremonies WHERE user_id = $1 AND expires_at <= $2")
                .bind(user_id)
                .bind(now.unix_millis())
                .execute(&mut *transaction)
                .await?;
            sqlx::query(
                "INSERT INTO webauthn_ceremonies (id, user_id, purpose, state_json, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(user_id)
            .bind(purpose.as_str())
            .bind(state_json)
            .bind(expires_at.unix_millis())
            .execute(&mut *transaction)
            .await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(id)
    }

    /// Takes the state of ceremony `id` of `user_id` for `purpose` out of storage, so that it
    /// can finish once at most: `None` when there is no such ceremony (never started, another
    /// user's, already finished) or it expired before `now`.
    pub async fn take_webauthn_ceremony(
        &self,
        id: &str,
        user_id: &UserId,
        purpose: CeremonyPurpose,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let taken: Option<(String, i64)> = on_writer!(self, |pool| {
            sqlx::query_as(
                "DELETE FROM webauthn_ceremonies WHERE id = $1 AND user_id = $2 AND purpose = $3 \
                 RETURNING state_json, expires_at",
            )
            .bind(id)
            .bind(user_id)
            .bind(purpose.as_str())
            .fetch_optional(pool)
            .await
        })?;
        Ok(taken
            .filter(|(_, expires_at)| *expires_at > now.unix_millis())
            .map(|(state_json, _)| state_json))
    }

    /// Deletes every ceremony that expired by `now` (the outbox worker's periodic purge: a
    /// browser that never answered leaves its row behind). The table holds only ceremonies in
    /// flight, so it stays small without an index on the expiry.
    pub async fn purge_expired_webauthn_ceremonies(
        &self,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let purged = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
                .bind(now.unix_millis())
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(purged)
    }

    /// Adds a passkey to the owner's methods, audited in the same transaction. If it is the
    /// user's first method, `recovery_code_hashes` (when given) become their recovery codes. A
    /// credential id already registered (by anyone) is
    /// [`StoreError::Duplicate`]`("credential_id")`.
    pub async fn add_passkey(
        &self,
        owner: MethodOwner<'_>,
        passkey: &NewPasskey<'_>,
        recovery_code_hashes: Option<&[String]>,
    ) -> Result<AddedMethod, StoreError> {
        let id = new_id();
        let details = format!("Passkey \u{201c}{}\u{201d}", passkey.name);
        let recovery_codes_stored = in_transaction!(self, |transaction| {
            let first = lock_then_is_first_method!(transaction, &owner);
            sqlx::query(
                "INSERT INTO two_step_methods \
                 (id, org_id, user_id, kind, name, credential_id, passkey_json, created_at) \
                 VALUES ($1, $2, $3, 'passkey', $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(owner.org_id)
            .bind(owner.user_id)
            .bind(passkey.name)
            .bind(passkey.credential_id)
            .bind(passkey.passkey_json)
            .bind(owner.now.unix_millis())
            .execute(&mut *transaction)
            .await
            .map_err(|error| classify(error, &["credential_id"]))?;
            insert_audit_event!(
                &mut *transaction,
                &owner.event(AuditAction::TwoStepEnrolled, &details)
            )?;
            Ok::<bool, StoreError>(first_codes!(
                transaction,
                &owner,
                first,
                recovery_code_hashes
            ))
        })?;
        Ok(AddedMethod {
            id,
            recovery_codes_stored,
        })
    }

    /// Records a use of passkey `method_id` of `user_id`: its updated credential (signature
    /// counter) when it changed, and the time.
    pub async fn record_passkey_use(
        &self,
        user_id: &UserId,
        method_id: &str,
        updated_passkey_json: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE two_step_methods SET last_used_at = $3, \
                 passkey_json = COALESCE($4, passkey_json) \
                 WHERE id = $1 AND user_id = $2 AND kind = 'passkey'",
            )
            .bind(method_id)
            .bind(user_id)
            .bind(now.unix_millis())
            .bind(updated_passkey_json)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }
}
