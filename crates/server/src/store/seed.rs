//! Filling an organization with many users at once, for benchmarks and trials (`onestop org
//! seed`). Multi-row INSERTs in batches, one transaction a batch: 100,000 users in seconds.
//!
//! Seeded users are ordinary rows (the same columns the use cases write), but no emails are
//! queued and no audit events written for them: they stand for people who were invited long ago,
//! and those who joined have accepted the current Terms of Service (they sign in straight to
//! their homepage).

use super::{Store, StoreError, in_transaction, on_pool};
use crate::tenancy::OrganizationScope;
use onestop_domain::{FirstName, LastName, SecretToken, Timestamp, UserId};

/// Rows per INSERT statement: 16 parameters a user keeps a statement well under SQLite's and
/// PostgreSQL's parameter limits.
const ROWS_PER_STATEMENT: usize = 500;
/// Users per transaction.
const USERS_PER_TRANSACTION: usize = 10_000;

/// What to seed.
pub struct SeedPlan<'a> {
    pub scope: &'a OrganizationScope,
    /// The administrator who "invited" everyone.
    pub invited_by: &'a UserId,
    pub count: usize,
    /// The argon2 hash every Active seeded user signs in with (one hash, computed once).
    pub password_hash: &'a str,
    /// Makes emails and usernames unique across seeding runs on one database.
    pub label: &'a str,
    pub invitation_lifetime_ms: i64,
    pub now: Timestamp,
}

/// One seeded user, as the benchmark needs to know them.
#[derive(Debug, Clone)]
pub struct SeededUser {
    pub id: String,
    pub status: &'static str,
    /// The username of an Active user.
    pub username: Option<String>,
    /// The Join Now token of an Unconfirmed user's live invitation.
    pub join_token: Option<SecretToken>,
}

const FIRST_NAMES: [&str; 16] = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Katherine",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Tim",
    "Whitfield",
    "Yukihiro",
];
const LAST_NAMES: [&str; 24] = [
    "Adams", "Baker", "Clark", "Davis", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
    "Kowalski", "Lopez", "Martin", "Nguyen", "Olsen", "Patel", "Quinn", "Rossi", "Schmidt",
    "Tanaka", "Usman", "Varga", "Walker", "Young",
];

/// The status of the `index`th seeded user: 60 % Active, 30 % Unconfirmed, 10 % Deactivated.
fn status_of(index: usize) -> &'static str {
    match index % 10 {
        0..=5 => "active",
        6..=8 => "unconfirmed",
        _ => "deactivated",
    }
}

struct SeedRow {
    user: SeededUser,
    first_name: String,
    last_name: String,
    email: String,
    name_search: String,
    invitation_id: Option<String>,
}

fn seed_row(plan: &SeedPlan<'_>, index: usize) -> SeedRow {
    let status = status_of(index);
    let first_name = FIRST_NAMES[index % FIRST_NAMES.len()].to_owned();
    let last_name = format!(
        "{}{}",
        LAST_NAMES[(index / FIRST_NAMES.len()) % LAST_NAMES.len()],
        index % 997
    );
    let search = match (FirstName::parse(&first_name), LastName::parse(&last_name)) {
        (Ok(first), Ok(last)) => onestop_domain::names::search_key(&first, &last),
        _ => format!("{first_name} {last_name}").to_lowercase(),
    };
    let username = (status != "unconfirmed").then(|| format!("{}{index}", plan.label));
    SeedRow {
        user: SeededUser {
            id: super::new_id(),
            status,
            username,
            join_token: (status == "unconfirmed").then(SecretToken::generate),
        },
        email: format!("{}{index}@seed.example", plan.label),
        first_name,
        last_name,
        name_search: search,
        invitation_id: (status == "unconfirmed").then(super::new_id),
    }
}

impl Store {
    /// Inserts `plan.count` users (and a live invitation for each Unconfirmed one) into the
    /// organization, with its Standard profile and Manager role.
    pub async fn seed_users(&self, plan: &SeedPlan<'_>) -> Result<Vec<SeededUser>, StoreError> {
        let (profile_id, role_id): (String, String) = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.id, r.id FROM profiles p JOIN roles r ON r.org_id = p.org_id \
                  WHERE p.org_id = $1 AND p.builtin = 'standard' AND r.builtin = 'manager'",
            )
            .bind(plan.scope.id())
            .fetch_one(pool)
            .await
        })?;
        let mut seeded = Vec::with_capacity(plan.count);
        let mut start = 0;
        while start < plan.count {
            let end = (start + USERS_PER_TRANSACTION).min(plan.count);
            let rows: Vec<SeedRow> = (start..end).map(|index| seed_row(plan, index)).collect();
            self.insert_seed_rows(plan, &profile_id, &role_id, &rows)
                .await?;
            seeded.extend(rows.into_iter().map(|row| row.user));
            start = end;
        }
        self.seed_terms_acceptances(plan).await?;
        Ok(seeded)
    }

    /// Everyone seeded who has joined accepted the current Terms (one statement).
    async fn seed_terms_acceptances(&self, plan: &SeedPlan<'_>) -> Result<(), StoreError> {
        in_transaction!(self, |transaction| {
            sqlx::query(
                "INSERT INTO terms_acceptances (user_id, terms_version_id, org_id, accepted_at, ip, user_agent) \
                 SELECT u.id, t.id, u.org_id, $3, '127.0.0.1', 'onestop org seed' \
                   FROM users u JOIN terms_versions t ON t.org_id = u.org_id \
                  WHERE u.org_id = $1 AND u.username IS NOT NULL AND u.id <> $2 \
                    AND t.version = (SELECT MAX(version) FROM terms_versions WHERE org_id = $1)",
            )
            .bind(plan.scope.id())
            .bind(plan.invited_by)
            .bind(plan.now.unix_millis())
            .execute(&mut *transaction)
            .await?;
            Ok::<(), StoreError>(())
        })
    }

    async fn insert_seed_rows(
        &self,
        plan: &SeedPlan<'_>,
        profile_id: &str,
        role_id: &str,
        rows: &[SeedRow],
    ) -> Result<(), StoreError> {
        let now = plan.now.unix_millis();
        // Invited half a lifetime ago: live, outside the reinvite cooldown and the hourly caps.
        let invited_at = now - plan.invitation_lifetime_ms / 2;
        let expires_at = invited_at + plan.invitation_lifetime_ms;
        in_transaction!(self, |transaction| {
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut users = sqlx::QueryBuilder::new(
                    "INSERT INTO users (id, org_id, first_name, last_name, email, email_normalized, \
                     username, username_normalized, password_hash, profile_id, role_id, status, \
                     invited_by, created_at, joined_at, name_search) ",
                );
                users.push_values(chunk, |mut values, row| {
                    let active = row.user.username.is_some();
                    values
                        .push_bind(&row.user.id)
                        .push_bind(plan.scope.id())
                        .push_bind(&row.first_name)
                        .push_bind(&row.last_name)
                        .push_bind(&row.email)
                        .push_bind(&row.email)
                        .push_bind(&row.user.username)
                        .push_bind(&row.user.username)
                        .push_bind(active.then_some(plan.password_hash))
                        .push_bind(profile_id)
                        .push_bind(role_id)
                        .push_bind(row.user.status)
                        .push_bind(plan.invited_by)
                        .push_bind(invited_at)
                        .push_bind(active.then_some(now))
                        .push_bind(&row.name_search);
                });
                users.build().execute(&mut *transaction).await?;

                let invited: Vec<&SeedRow> = chunk
                    .iter()
                    .filter(|row| row.invitation_id.is_some())
                    .collect();
                if invited.is_empty() {
                    continue;
                }
                let mut invitations = sqlx::QueryBuilder::new(
                    "INSERT INTO invitations (id, org_id, user_id, token_hash, created_at, expires_at, sent_by) ",
                );
                invitations.push_values(invited, |mut values, row| {
                    values
                        .push_bind(row.invitation_id.as_deref())
                        .push_bind(plan.scope.id())
                        .push_bind(&row.user.id)
                        .push_bind(
                            row.user
                                .join_token
                                .as_ref()
                                .map(|token| token.hash().as_str().to_owned()),
                        )
                        .push_bind(invited_at)
                        .push_bind(expires_at)
                        .push_bind(plan.invited_by);
                });
                invitations.build().execute(&mut *transaction).await?;
            }
            Ok::<(), StoreError>(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::status_of;

    #[test]
    fn six_in_ten_are_active_three_unconfirmed_one_deactivated() {
        let statuses: Vec<&str> = (0..10).map(status_of).collect();
        assert_eq!(statuses.iter().filter(|s| **s == "active").count(), 6);
        assert_eq!(statuses.iter().filter(|s| **s == "unconfirmed").count(), 3);
        assert_eq!(statuses.iter().filter(|s| **s == "deactivated").count(), 1);
    }
}
