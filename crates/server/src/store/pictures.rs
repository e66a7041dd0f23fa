//! Profile pictures (`user_pictures`, migration 0011): saving and removing one with its audit
//! event in one transaction, reading one to serve, and the versions of a page's pictures.

use super::audit::insert_audit_event;
use super::user_admin::Actor;
use super::{Store, StoreError, in_transaction, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{AuditAction, UserId};
use std::collections::HashMap;

/// A stored picture, as the picture route serves it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPicture {
    pub image: Vec<u8>,
    pub content_type: String,
    /// SHA-256 of `image`, hex.
    pub digest: String,
}

/// The picture a picture link serves (`$1` the user, `$2` the organization).
pub(crate) const FIND_PICTURE: &str =
    "SELECT image, content_type, digest FROM user_pictures WHERE user_id = $1 AND org_id = $2";

/// The digests of the pictures of `count` users (`$2`...) of an organization (`$1`). An empty
/// page asks too (`IN (NULL)` matches nothing), so that every page of the Users page costs the
/// same statements (tests/api/load.rs counts them).
pub(crate) fn picture_digests_sql(count: usize) -> String {
    let ids: Vec<String> = (2..count + 2).map(|index| format!("${index}")).collect();
    let ids = if ids.is_empty() {
        "NULL".to_owned()
    } else {
        ids.join(", ")
    };
    format!("SELECT user_id, digest FROM user_pictures WHERE org_id = $1 AND user_id IN ({ids})")
}

impl Store {
    /// Stores `image` as the picture of `user_id` (replacing any), if that user belongs to the
    /// actor's organization; records the change. Whether there was such a user.
    pub async fn save_picture(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
        image: &[u8],
        content_type: &str,
        digest: &str,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |transaction| {
            let saved = sqlx::query(
                "INSERT INTO user_pictures (user_id, org_id, image, content_type, digest, updated_at) \
                 SELECT id, org_id, $3, $4, $5, $6 FROM users WHERE id = $1 AND org_id = $2 \
                 ON CONFLICT (user_id) DO UPDATE SET image = excluded.image, \
                   content_type = excluded.content_type, digest = excluded.digest, \
                   updated_at = excluded.updated_at",
            )
            .bind(user_id)
            .bind(actor.scope.id())
            .bind(image)
            .bind(content_type)
            .bind(digest)
            .bind(actor.now.unix_millis())
            .execute(&mut *transaction)
            .await?
            .rows_affected()
                == 1;
            if saved {
                insert_audit_event!(
                    &mut *transaction,
                    &actor.event(AuditAction::PictureChanged, user_id.as_str(), "")
                )?;
            }
            Ok::<_, StoreError>(saved)
        })
    }

    /// Removes the picture of `user_id` in the actor's organization, recording it if there was
    /// one. Whether there was.
    pub async fn remove_picture(
        &self,
        actor: Actor<'_>,
        user_id: &UserId,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |transaction| {
            let removed =
                sqlx::query("DELETE FROM user_pictures WHERE user_id = $1 AND org_id = $2")
                    .bind(user_id)
                    .bind(actor.scope.id())
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
                    == 1;
            if removed {
                insert_audit_event!(
                    &mut *transaction,
                    &actor.event(AuditAction::PictureRemoved, user_id.as_str(), "")
                )?;
            }
            Ok::<_, StoreError>(removed)
        })
    }

    /// The picture of `user_id`, if they belong to `scope` and have one.
    pub async fn picture(
        &self,
        scope: &OrganizationScope,
        user_id: &UserId,
    ) -> Result<Option<StoredPicture>, StoreError> {
        let picture = on_pool!(self, |pool| {
            sqlx::query_as::<_, StoredPicture>(FIND_PICTURE)
                .bind(user_id)
                .bind(scope.id())
                .fetch_optional(pool)
                .await
        })?;
        Ok(picture)
    }

    /// The digests of the pictures of those of `user_ids` (a page's worth) who have one, by id.
    pub async fn picture_digests(
        &self,
        scope: &OrganizationScope,
        user_ids: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let sql = picture_digests_sql(user_ids.len());
        let rows: Vec<(String, String)> = on_pool!(self, |pool| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(scope.id());
            for id in user_ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows.into_iter().collect())
    }
}
