//! Two-step verification: the methods a user has set up (authenticator apps; passkeys are
//! stored beside them), their recovery codes, the browsers remembered after a second step, and
//! the one transaction that turns a pending session into a complete one.

use super::LockOrganization;
use super::audit::insert_audit_event;
use super::sessions::{INSERT_SESSION, RECORD_SIGN_IN};
use super::{AuditEvent, NewSession, Store, StoreError, in_transaction, new_id, on_pool};
use onestop_domain::{AuditAction, OrganizationId, Timestamp, TokenHash, UserId};

/// Deletes the user's recovery codes and inserts the new hashes, audited; inside the body of
/// an [`in_transaction!`] (an error returns from it, which rolls the transaction back).
macro_rules! replace_codes {
    ($transaction:ident, $owner:expr, $hashes:expr) => {{
        let owner: &MethodOwner<'_> = $owner;
        let hashes: &[String] = $hashes;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(owner.user_id)
            .execute(&mut *$transaction)
            .await?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(new_id())
            .bind(owner.user_id)
            .bind(hash)
            .bind(owner.now.unix_millis())
            .execute(&mut *$transaction)
            .await?;
        }
        insert_audit_event!(
            &mut *$transaction,
            &owner.event(AuditAction::RecoveryCodesGenerated, "")
        )?;
    }};
}
pub(crate) use replace_codes;

/// Whether the owner has no method yet, asked inside an [`in_transaction!`] with the
/// organization locked: of two first enrolments at once, the second waits for the first and
/// sees its method, so only one of them makes recovery codes (and shows them).
macro_rules! lock_then_is_first_method {
    ($transaction:ident, $owner:expr) => {{
        let owner: &MethodOwner<'_> = $owner;
        $transaction.lock_organization(owner.org_id).await?;
        let methods: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM two_step_methods WHERE user_id = $1")
                .bind(owner.user_id)
                .fetch_one(&mut *$transaction)
                .await?;
        methods == 0
    }};
}
pub(crate) use lock_then_is_first_method;

/// For the first method ([`lock_then_is_first_method!`]), `$hashes` (when given) become the user's
/// recovery codes ([`replace_codes!`]); whether they did.
macro_rules! first_codes {
    ($transaction:ident, $owner:expr, $first:expr, $hashes:expr) => {{
        let hashes: Option<&[String]> = $hashes;
        match hashes {
            Some(hashes) if $first => {
                replace_codes!($transaction, $owner, hashes);
                true
            }
            _ => false,
        }
    }};
}
pub(crate) use first_codes;

/// A method just added, and whether the recovery codes given with it were stored: only for
/// the user's first method.
#[derive(Debug, Clone)]
pub struct AddedMethod {
    pub id: String,
    pub recovery_codes_stored: bool,
}

/// One method as the user's page lists it (never its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoStepMethodRow {
    pub id: String,
    /// `totp` or `passkey`.
    pub kind: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// An authenticator app's sealed secret and the last time step it accepted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpMethodRow {
    pub id: String,
    pub totp_secret_sealed: Option<String>,
    pub totp_last_step: Option<i64>,
}

/// Who changes their own methods, and when.
#[derive(Debug, Clone, Copy)]
pub struct MethodOwner<'a> {
    pub org_id: &'a OrganizationId,
    pub user_id: &'a UserId,
    pub ip: Option<&'a str>,
    pub now: Timestamp,
}

impl<'a> MethodOwner<'a> {
    pub(crate) fn event(&self, action: AuditAction, details: &'a str) -> AuditEvent<'a> {
        AuditEvent {
            org_id: self.org_id,
            actor_user_id: Some(self.user_id.as_str()),
            action,
            target_user_id: Some(self.user_id.as_str()),
            details,
            ip: self.ip,
            at: self.now,
        }
    }
}

/// A confirmed authenticator app.
#[derive(Debug)]
pub struct NewTotpMethod<'a> {
    pub name: &'a str,
    pub sealed_secret: &'a str,
    /// The time step of the code that confirmed it: that code is spent.
    pub confirmed_step: i64,
}

/// What removing a method came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveOutcome {
    Removed,
    /// No such method of this user.
    NotFound,
    /// It is the last one and the profile requires two-step verification.
    LastWhileRequired,
}

/// What proves the second step.
#[derive(Debug, Clone)]
pub enum SecondStepProof<'a> {
    /// An authenticator app's code, of this time step.
    Totp { method_id: &'a str, step: i64 },
    /// An unused recovery code, by its hash.
    RecoveryCode { code_hash: &'a str },
    /// One of the user's passkeys, whose answer `usecases::passkeys` has checked.
    Passkey { method_id: &'a str },
}

/// The pending session to end, the complete one that replaces it, and the browser to remember.
pub struct FinishSecondStep<'a> {
    pub pending: &'a TokenHash,
    pub session: NewSession<'a>,
    pub proof: SecondStepProof<'a>,
    /// The SHA-256 of a new remembered-browser token, and when it expires.
    pub remember: Option<(&'a TokenHash, Timestamp)>,
}

/// What finishing the second step came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishOutcome {
    SignedIn,
    /// The code was spent already (or never valid), or the pending session is gone: nothing
    /// was written.
    Refused,
}

impl Store {
    /// Does a sign-in of this user, whose password was just checked, owe a second step? It does
    /// when they have a method or an unused recovery code, unless this browser was remembered
    /// (`remembered`: the SHA-256 of its cookie's token) after an earlier second step, that has
    /// not expired, and the company still allows remembering (turning the option off stops every
    /// remembered browser at once).
    pub async fn second_step_owed(
        &self,
        user_id: &UserId,
        remembered: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (methods, codes, remembered): (i64, i64, i64) = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT \
                   (SELECT COUNT(*) FROM two_step_methods WHERE user_id = $1), \
                   (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL), \
                   (SELECT COUNT(*) FROM remembered_browsers b \
                      JOIN users u ON u.id = b.user_id \
                      JOIN organizations o ON o.id = u.org_id \
                     WHERE b.user_id = $1 AND b.token_hash = $2 AND b.expires_at > $3 \
                       AND o.remember_two_step_browsers = 1)",
            )
            .bind(user_id)
            .bind(remembered.unwrap_or(""))
            .bind(now.unix_millis())
            .fetch_one(pool)
            .await
        })?;
        Ok((methods > 0 || codes > 0) && remembered == 0)
    }

    /// Whether the user's profile requires two-step verification.
    pub async fn profile_requires_two_step(&self, user_id: &UserId) -> Result<bool, StoreError> {
        let required: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT CAST(p.require_two_step AS BIGINT) FROM users u \
                   JOIN profiles p ON p.id = u.profile_id WHERE u.id = $1",
            )
            .bind(user_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(required.unwrap_or(0) != 0)
    }

    /// Whether the company lets a browser be remembered for 30 days after a second step.
    pub async fn remembers_browsers(&self, org_id: &OrganizationId) -> Result<bool, StoreError> {
        let remembers: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT CAST(remember_two_step_browsers AS BIGINT) FROM organizations WHERE id = $1",
            )
            .bind(org_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(remembers.unwrap_or(0) != 0)
    }

    /// The user's methods, oldest first.
    pub async fn two_step_methods(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<TwoStepMethodRow>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, TwoStepMethodRow>(
                "SELECT id, kind, name, created_at, last_used_at FROM two_step_methods \
                  WHERE user_id = $1 ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// How many of the user's recovery codes are still unused.
    pub async fn unused_recovery_codes(&self, user_id: &UserId) -> Result<i64, StoreError> {
        let count = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user_id)
            .fetch_one(pool)
            .await
        })?;
        Ok(count)
    }

    /// The user's authenticator apps, to check a code against.
    pub async fn totp_methods(&self, user_id: &UserId) -> Result<Vec<TotpMethodRow>, StoreError> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, TotpMethodRow>(
                "SELECT id, totp_secret_sealed, totp_last_step FROM two_step_methods \
                  WHERE user_id = $1 AND kind = 'totp' ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Saves a confirmed authenticator app, audited in the same transaction. If it is the
    /// user's first method, `recovery_code_hashes` (when given) become their recovery codes.
    pub async fn add_totp_method(
        &self,
        owner: MethodOwner<'_>,
        method: &NewTotpMethod<'_>,
        recovery_code_hashes: Option<&[String]>,
    ) -> Result<AddedMethod, StoreError> {
        let id = new_id();
        let details = format!("Authenticator app \u{201c}{}\u{201d}", method.name);
        let recovery_codes_stored = in_transaction!(self, |transaction| {
            let first = lock_then_is_first_method!(transaction, &owner);
            sqlx::query(
                "INSERT INTO two_step_methods \
                   (id, org_id, user_id, kind, name, totp_secret_sealed, totp_last_step, created_at) \
                 VALUES ($1, $2, $3, 'totp', $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(owner.org_id)
            .bind(owner.user_id)
            .bind(method.name)
            .bind(method.sealed_secret)
            .bind(method.confirmed_step)
            .bind(owner.now.unix_millis())
            .execute(&mut *transaction)
            .await?;
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

    /// Renames one of the user's methods; false when they have no such method.
    pub async fn rename_two_step_method(
        &self,
        user_id: &UserId,
        method_id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let renamed = in_transaction!(self, |transaction| {
            sqlx::query("UPDATE two_step_methods SET name = $1 WHERE id = $2 AND user_id = $3")
                .bind(name)
                .bind(method_id)
                .bind(user_id)
                .execute(&mut *transaction)
                .await
                .map(|done| done.rows_affected() == 1)
                .map_err(StoreError::from)
        })?;
        Ok(renamed)
    }

    /// Removes one of the user's methods, unless it is the last one and `required`. With the
    /// last one gone, the recovery codes and remembered browsers go too: they belong to a
    /// second step that no longer exists.
    pub async fn remove_two_step_method(
        &self,
        owner: MethodOwner<'_>,
        method_id: &str,
        required: bool,
    ) -> Result<RemoveOutcome, StoreError> {
        in_transaction!(self, |transaction| {
            // Two removals at once must not both see "another method is left".
            transaction.lock_organization(owner.org_id).await?;
            let found: Option<(String, String)> = sqlx::query_as(
                "SELECT kind, name FROM two_step_methods WHERE id = $1 AND user_id = $2",
            )
            .bind(method_id)
            .bind(owner.user_id)
            .fetch_optional(&mut *transaction)
            .await?;
            let Some((kind, name)) = found else {
                return Ok(RemoveOutcome::NotFound);
            };
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM two_step_methods WHERE user_id = $1")
                    .bind(owner.user_id)
                    .fetch_one(&mut *transaction)
                    .await?;
            if count <= 1 && required {
                return Ok(RemoveOutcome::LastWhileRequired);
            }
            sqlx::query("DELETE FROM two_step_methods WHERE id = $1 AND user_id = $2")
                .bind(method_id)
                .bind(owner.user_id)
                .execute(&mut *transaction)
                .await?;
            if count <= 1 {
                for sql in [
                    "DELETE FROM recovery_codes WHERE user_id = $1",
                    "DELETE FROM remembered_browsers WHERE user_id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(owner.user_id)
                        .execute(&mut *transaction)
                        .await?;
                }
            }
            let kind = if kind == "totp" {
                "Authenticator app"
            } else {
                "Passkey"
            };
            let details = format!("{kind} \u{201c}{name}\u{201d}");
            insert_audit_event!(
                &mut *transaction,
                &owner.event(AuditAction::TwoStepRemoved, &details)
            )?;
            Ok::<RemoveOutcome, StoreError>(RemoveOutcome::Removed)
        })
    }

    /// Replaces the user's recovery codes with new ones (by their hashes), audited.
    pub async fn replace_recovery_codes(
        &self,
        owner: MethodOwner<'_>,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            replace_codes!(transaction, &owner, hashes);
            Ok::<(), StoreError>(())
        })
    }

    /// Spends the proof, ends the pending session and starts the complete one, records the
    /// sign-in (last sign-in time and address, audit rows) and remembers the browser if asked,
    /// all in one transaction. A proof already spent, or a pending session already gone, writes
    /// nothing.
    pub async fn finish_second_step(
        &self,
        finish: &FinishSecondStep<'_>,
    ) -> Result<FinishOutcome, StoreError> {
        let session = &finish.session;
        // An early `return` inside leaves the transaction uncommitted: nothing is written.
        in_transaction!(self, |transaction| {
            // Finishers take turns (on PostgreSQL), so one pending session is finished once.
            transaction.lock_organization(session.org_id).await?;
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sessions WHERE id_hash = $1 AND user_id = $2 AND second_step_pending = 1",
            )
            .bind(finish.pending.as_str())
            .bind(session.user_id)
            .fetch_one(&mut *transaction)
            .await?;
            if pending != 1 {
                return Ok(FinishOutcome::Refused);
            }
            let (spent, method, details) = match &finish.proof {
                SecondStepProof::Totp { method_id, step } => {
                    let spent = sqlx::query(
                        "UPDATE two_step_methods SET totp_last_step = $1, last_used_at = $2 \
                          WHERE id = $3 AND user_id = $4 AND kind = 'totp' \
                            AND (totp_last_step IS NULL OR totp_last_step < $1)",
                    )
                    .bind(*step)
                    .bind(session.now.unix_millis())
                    .bind(*method_id)
                    .bind(session.user_id)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
                    (spent, None, "authenticator app")
                }
                SecondStepProof::Passkey { method_id } => {
                    let spent = sqlx::query(
                        "UPDATE two_step_methods SET last_used_at = $1 \
                          WHERE id = $2 AND user_id = $3 AND kind = 'passkey'",
                    )
                    .bind(session.now.unix_millis())
                    .bind(*method_id)
                    .bind(session.user_id)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
                    (spent, None, "passkey")
                }
                SecondStepProof::RecoveryCode { code_hash } => {
                    let id: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM recovery_codes \
                          WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL LIMIT 1",
                    )
                    .bind(session.user_id)
                    .bind(*code_hash)
                    .fetch_optional(&mut *transaction)
                    .await?;
                    let spent = match &id {
                        Some(id) => sqlx::query(
                            "UPDATE recovery_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
                        )
                        .bind(session.now.unix_millis())
                        .bind(id)
                        .execute(&mut *transaction)
                        .await?
                        .rows_affected(),
                        None => 0,
                    };
                    (spent, Some(AuditAction::RecoveryCodeUsed), "recovery code")
                }
            };
            if spent != 1 {
                return Ok(FinishOutcome::Refused);
            }
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(finish.pending.as_str())
                .execute(&mut *transaction)
                .await?;
            sqlx::query(INSERT_SESSION)
                .bind(session.id_hash.as_str())
                .bind(session.user_id)
                .bind(session.org_id)
                .bind(session.csrf_token)
                .bind(session.now.unix_millis())
                .bind(session.expires_at.unix_millis())
                .bind(session.ip)
                .bind(i64::from(session.second_step_pending))
                .bind(i64::from(session.single_sign_on))
                .execute(&mut *transaction)
                .await?;
            sqlx::query(RECORD_SIGN_IN)
                .bind(session.now.unix_millis())
                .bind(session.ip)
                .bind(session.user_id)
                .execute(&mut *transaction)
                .await?;
            if let Some((token_hash, expires_at)) = finish.remember {
                sqlx::query(
                    "INSERT INTO remembered_browsers (token_hash, user_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash.as_str())
                .bind(session.user_id)
                .bind(session.now.unix_millis())
                .bind(expires_at.unix_millis())
                .execute(&mut *transaction)
                .await?;
            }
            let owner = MethodOwner {
                org_id: session.org_id,
                user_id: session.user_id,
                ip: session.ip,
                now: session.now,
            };
            let mut actions = vec![(AuditAction::SecondStepSucceeded, details)];
            actions.extend(method.map(|action| (action, "")));
            actions.push((AuditAction::SignedIn, ""));
            for (action, details) in actions {
                insert_audit_event!(&mut *transaction, &owner.event(action, details))?;
            }
            Ok::<FinishOutcome, StoreError>(FinishOutcome::SignedIn)
        })
    }
}
