//! The First Steps checklist of a role's homepage, with each user's progress.

use super::{Store, StoreError, on_pool, on_writer};
use onestop_domain::Timestamp;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FirstStep {
    pub id: String,
    pub title: String,
    pub href: String,
    pub description: String,
    /// 1 when this user has ticked it off.
    pub done: i64,
}

impl Store {
    pub async fn first_steps(&self, user_id: &str) -> Result<Vec<FirstStep>, StoreError> {
        let steps = on_pool!(self, |pool| {
            sqlx::query_as::<_, FirstStep>(
                "SELECT s.id, s.title, s.href, s.description, \
                        (SELECT COUNT(*) FROM checklist_progress c WHERE c.user_id = u.id AND c.item_id = s.id) AS done \
                   FROM users u JOIN role_first_steps s ON s.role_id = u.role_id AND s.org_id = u.org_id \
                  WHERE u.id = $1 ORDER BY s.position, s.id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(steps)
    }

    /// Ticks a step off, or clears it; only steps of the user's own role can be ticked.
    pub async fn set_first_step_done(
        &self,
        user_id: &str,
        item_id: &str,
        done: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            if done {
                sqlx::query(
                    "INSERT INTO checklist_progress (user_id, item_id, done_at) \
                     SELECT u.id, s.id, $3 FROM users u JOIN role_first_steps s ON s.role_id = u.role_id AND s.org_id = u.org_id \
                      WHERE u.id = $1 AND s.id = $2 \
                     ON CONFLICT (user_id, item_id) DO NOTHING",
                )
                .bind(user_id)
                .bind(item_id)
                .bind(now.unix_millis())
                .execute(pool)
                .await
                .map(|_| ())
            } else {
                sqlx::query("DELETE FROM checklist_progress WHERE user_id = $1 AND item_id = $2")
                    .bind(user_id)
                    .bind(item_id)
                    .execute(pool)
                    .await
                    .map(|_| ())
            }
        })?;
        Ok(())
    }
}
