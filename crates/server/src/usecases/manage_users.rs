//! What administrators do to users on the Users page: reinvite, delete, deactivate, activate
//! (one or many at once). Every action reports what happened to each user. Editing one is
//! `edit_user`.

use super::Services;
use super::invite_user::{
    InvitationLetter, cap_message, grant_options, invitation_caps, invitation_lifetime, join_url,
    personal_message_audit,
};
use super::sessions::SignedInSession;
use crate::store::{Actor, BulkTarget, Reinvitation, StoreError, UserAdminError, UserMatch};
use onestop_domain::{PersonalMessage, SecretToken, Timestamp, UserId, UserStatus};
use std::collections::HashSet;
use std::time::Duration;

/// Limits on reinviting, with their defaults.
#[derive(Debug, Clone, Copy)]
pub struct ReinviteLimits {
    /// A user is not reinvited again within this time.
    pub cooldown: Duration,
    /// Invitations one administrator may send in an hour.
    pub per_administrator_per_hour: i64,
    /// Invitations one organization may send in an hour, all administrators together.
    pub per_organization_per_hour: i64,
}

impl Default for ReinviteLimits {
    fn default() -> Self {
        Self {
            cooldown: Duration::from_secs(60),
            per_administrator_per_hour: super::invite_user::INVITATIONS_PER_ADMINISTRATOR_PER_HOUR,
            per_organization_per_hour: super::invite_user::INVITATIONS_PER_ORGANIZATION_PER_HOUR,
        }
    }
}

/// At most this many users in one bulk request.
pub const MAX_SELECTION: usize = 1000;

/// What a bulk action did: a summary line, and one line for each user it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    pub summary: String,
    pub skipped: Vec<String>,
}

impl BulkOutcome {
    /// The summary, then each skipped user: as it travels to the page a redirect leads to.
    pub fn lines(&self) -> Vec<String> {
        std::iter::once(self.summary.clone())
            .chain(self.skipped.iter().cloned())
            .collect()
    }

    /// What [`lines`](Self::lines) made, back; `None` for no lines.
    pub fn from_lines(mut lines: Vec<String>) -> Option<Self> {
        if lines.is_empty() {
            return None;
        }
        let summary = lines.remove(0);
        Some(Self {
            summary,
            skipped: lines,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManageUsersError {
    #[error("Select at most {MAX_SELECTION} users at a time.")]
    TooManySelected,
    /// The personal message cannot be sent (too long, control characters): nobody was
    /// reinvited.
    #[error("{0} Nobody was reinvited.")]
    InvalidPersonalMessage(String),
    #[error(
        "More than {MAX_SELECTION} users match; a bulk action takes at most {MAX_SELECTION} at a time. Narrow the view, search or filters and try again."
    )]
    TooManyMatching,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for ManageUsersError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// The buttons above the Users list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Reinvite,
    Delete,
    Deactivate,
    Activate,
}

impl BulkAction {
    pub fn parse(key: &str) -> Option<Self> {
        match key {
            "reinvite" => Some(Self::Reinvite),
            "delete" => Some(Self::Delete),
            "deactivate" => Some(Self::Deactivate),
            "activate" => Some(Self::Activate),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Reinvite => "reinvite",
            Self::Delete => "delete",
            Self::Deactivate => "deactivate",
            Self::Activate => "activate",
        }
    }

    /// Delete cannot be undone and Deactivate ends sessions: both are confirmed first.
    pub fn needs_confirmation(self) -> bool {
        matches!(self, Self::Delete | Self::Deactivate)
    }

    /// Whether this action would change `target` (others are skipped with a reason).
    fn applies_to(self, target: &BulkTarget, admin: &SignedInSession) -> bool {
        let status = target.status().ok();
        match self {
            Self::Reinvite => status == Some(UserStatus::Unconfirmed),
            Self::Delete => status == Some(UserStatus::Unconfirmed),
            Self::Deactivate => {
                status != Some(UserStatus::Deactivated) && target.id != admin.user_id
            }
            Self::Activate => status == Some(UserStatus::Deactivated),
        }
    }
}

/// Which users a bulk action is for: ticked ones, or every user that matches the list's view,
/// search and filters ("Select all matching users").
#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<String>),
    Matching(UserMatch),
}

/// The ids a selection names. Every match is at most [`MAX_SELECTION`] users, like ticked ones:
/// one more is looked for to tell "too many" from "exactly enough".
async fn selected_ids(
    services: &Services,
    admin: &SignedInSession,
    selection: &Selection,
) -> Result<Vec<String>, ManageUsersError> {
    match selection {
        Selection::Ids(ids) => Ok(ids.clone()),
        Selection::Matching(matching) => {
            let bound = i64::try_from(MAX_SELECTION).unwrap_or(i64::MAX) + 1;
            let ids = services
                .store
                .matching_user_ids(&admin.scope, matching, bound)
                .await?;
            if ids.len() > MAX_SELECTION {
                return Err(ManageUsersError::TooManyMatching);
            }
            Ok(ids)
        }
    }
}

/// One bulk action on a selection: the same use cases (and set-based statements, caps and grant
/// rule) whether the users were ticked or matched. `personal_message` goes with a Reinvite.
pub async fn bulk_action(
    services: &Services,
    admin: &SignedInSession,
    action: BulkAction,
    selection: &Selection,
    personal_message: &str,
    ip: Option<&str>,
) -> Result<BulkOutcome, ManageUsersError> {
    let ids = selected_ids(services, admin, selection).await?;
    if ids.is_empty() {
        return Ok(BulkOutcome {
            summary: "Select at least one user first.".to_owned(),
            skipped: Vec::new(),
        });
    }
    match action {
        BulkAction::Reinvite => reinvite_users(services, admin, &ids, personal_message, ip).await,
        BulkAction::Delete => delete_users(services, admin, &ids, ip).await,
        BulkAction::Deactivate => set_users_status(services, admin, &ids, true, ip).await,
        BulkAction::Activate => set_users_status(services, admin, &ids, false, ip).await,
    }
}

/// Who `action` would change among the selection, for the page that asks to confirm it: the
/// users this administrator may manage and the action applies to. Nothing is written.
pub async fn bulk_preview(
    services: &Services,
    admin: &SignedInSession,
    action: BulkAction,
    selection: &Selection,
) -> Result<Vec<BulkTarget>, ManageUsersError> {
    let ids = selected_ids(services, admin, selection).await?;
    let (targets, _) = selection_of(services, admin, &ids).await?;
    let mut affected: Vec<BulkTarget> = targets
        .into_iter()
        .filter(|target| action.applies_to(target, admin))
        .collect();
    affected.sort_by(|a, b| (&a.last_name, &a.first_name).cmp(&(&b.last_name, &b.first_name)));
    Ok(affected)
}

/// A new invitation in `letter` for an existing user, with its rendered email.
pub(super) fn fresh_invitation(
    services: &Services,
    letter: &InvitationLetter<'_>,
    user_id: &UserId,
    first_name: Option<&str>,
    email: &str,
    expires_at: Timestamp,
) -> Result<Reinvitation, anyhow::Error> {
    let token = SecretToken::generate();
    let message = letter
        .email(first_name, join_url(services, &token), expires_at)
        .render(email)?;
    let message = services.seal(message)?;
    Ok(Reinvitation {
        user_id: user_id.clone(),
        token_hash: token.hash(),
        expires_at,
        message,
    })
}

fn count_of_users(count: usize) -> String {
    if count == 1 {
        "1 user".to_owned()
    } else {
        format!("{count} users")
    }
}

pub(super) fn actor<'a>(
    services: &Services,
    admin: &'a SignedInSession,
    ip: Option<&'a str>,
) -> Actor<'a> {
    Actor {
        scope: &admin.scope,
        user_id: admin.user_id.as_str(),
        ip,
        now: services.clock.now(),
    }
}

/// The selected users of the administrator's organization (others are ignored without a word:
/// their ids reveal nothing), split into those the administrator may manage and the skips.
pub(super) async fn selection_of(
    services: &Services,
    admin: &SignedInSession,
    ids: &[String],
) -> Result<(Vec<BulkTarget>, Vec<Skip>), ManageUsersError> {
    if ids.len() > MAX_SELECTION {
        return Err(ManageUsersError::TooManySelected);
    }
    // Malformed ids name nobody, like other organizations' ids: they are dropped without a word.
    let unique: Vec<UserId> = ids
        .iter()
        .filter_map(|id| UserId::parse(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let targets = services.store.bulk_targets(&admin.scope, &unique).await?;
    let options = grant_options(services, admin).await?;
    let mut manageable = Vec::new();
    let mut skipped = Vec::new();
    for target in targets {
        let may = options
            .profiles
            .iter()
            .any(|profile| profile.id == target.profile_id)
            && options.roles.iter().any(|role| role.id == target.role_id);
        if may {
            manageable.push(target);
        } else {
            skipped.push(Skip {
                reason: format!("{} has a profile or role above yours", target.full_name()),
                user_id: target.id,
            });
        }
    }
    Ok((manageable, skipped))
}

/// Why `target` cannot be reinvited at `now`, if they cannot.
fn not_reinvitable(
    target: &BulkTarget,
    now: Timestamp,
    cooldown: Duration,
) -> Result<Option<String>, StoreError> {
    let name = target.full_name();
    Ok(match target.status()? {
        UserStatus::Active => Some(format!("{name} has already joined")),
        UserStatus::Deactivated => Some(format!("{name} is deactivated; activate them first")),
        UserStatus::Unconfirmed => target
            .last_invited_at
            .filter(|last| now < Timestamp::from_unix_millis(*last).plus(cooldown))
            .map(|_| format!("{name} was invited less than a minute ago")),
    })
}

/// A selected user an action passed over, and why (a sentence naming them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub user_id: UserId,
    pub reason: String,
}

fn reasons(skipped: Vec<Skip>) -> Vec<String> {
    skipped.into_iter().map(|skip| skip.reason).collect()
}

/// What a Reinvite did to each user: whom it sent a new invitation, and whom it passed over
/// and why. Ids that name no user of the company appear in neither.
#[derive(Debug, Clone, Default)]
pub struct ReinviteReport {
    pub sent: Vec<UserId>,
    pub skipped: Vec<Skip>,
}

/// Reinvites the selected users; `personal_message` (optional, the same for all) goes into each
/// email.
pub async fn reinvite_users(
    services: &Services,
    admin: &SignedInSession,
    ids: &[String],
    personal_message: &str,
    ip: Option<&str>,
) -> Result<BulkOutcome, ManageUsersError> {
    let report = reinvite_each(services, admin, ids, personal_message, ip).await?;
    Ok(BulkOutcome {
        summary: format!(
            "Invitation resent to {}.",
            count_of_users(report.sent.len())
        ),
        skipped: reasons(report.skipped),
    })
}

/// [`reinvite_users`], answering for each user (the JSON API reports them one by one).
pub async fn reinvite_each(
    services: &Services,
    admin: &SignedInSession,
    ids: &[String],
    personal_message: &str,
    ip: Option<&str>,
) -> Result<ReinviteReport, ManageUsersError> {
    let personal_message = PersonalMessage::parse(personal_message)
        .map_err(|error| ManageUsersError::InvalidPersonalMessage(error.to_string()))?;
    let letter = InvitationLetter::from_session(admin, personal_message.as_ref());
    let (targets, mut skipped) = selection_of(services, admin, ids).await?;
    let now = services.clock.now();
    let limits = services.reinvite_limits;
    let lifetime = invitation_lifetime(services, &admin.scope).await?;
    let mut reinvitations = Vec::new();
    let mut names = std::collections::HashMap::new();
    for target in targets {
        names.insert(target.id.clone(), target.full_name());
        if let Some(reason) = not_reinvitable(&target, now, limits.cooldown)? {
            skipped.push(Skip {
                user_id: target.id,
                reason,
            });
            continue;
        }
        reinvitations.push(fresh_invitation(
            services,
            &letter,
            &target.id,
            target.first_name.as_deref(),
            &target.email,
            now.plus(lifetime),
        )?);
    }
    let result = services
        .store
        .reinvite(
            actor(services, admin, ip),
            &reinvitations,
            now.minus(limits.cooldown),
            &invitation_caps(services, admin),
            personal_message_audit(personal_message.as_ref()),
        )
        .await?;
    for (user_id, cap) in &result.over_cap {
        let name = names.get(user_id).map_or("A user", String::as_str);
        let reason = cap.map_or_else(String::new, |cap| cap_message(services, cap));
        // "You have sent ..." continues the sentence: "... was not reinvited: you have sent ...".
        let mut letters = reason.chars();
        let reason = letters.next().map_or_else(String::new, |first| {
            first.to_lowercase().chain(letters).collect()
        });
        skipped.push(Skip {
            user_id: user_id.clone(),
            reason: format!("{name} was not reinvited: {reason}"),
        });
    }
    if !result.unchanged.is_empty() {
        // Changed between reading the selection and the transaction (a parallel Reinvite, a
        // join, a deactivation, a deletion): say how they are now.
        let now_as = services
            .store
            .bulk_targets(&admin.scope, &result.unchanged)
            .await?;
        for user_id in &result.unchanged {
            let name = names.get(user_id).map_or("A user", String::as_str);
            let reason = match now_as.iter().find(|target| target.id == *user_id) {
                Some(target) => not_reinvitable(target, now, limits.cooldown)?,
                None => Some(format!("{name} was deleted meanwhile")),
            };
            skipped.push(Skip {
                user_id: user_id.clone(),
                reason: reason.unwrap_or_else(|| format!("{name} was not reinvited")),
            });
        }
    }
    if result.sent > 0 {
        services.outbox_signal.notify_one();
    }
    let sent = reinvitations
        .into_iter()
        .map(|reinvitation| reinvitation.user_id)
        .filter(|user_id| {
            !result.unchanged.contains(user_id)
                && !result.over_cap.iter().any(|(over, _)| over == user_id)
        })
        .collect();
    Ok(ReinviteReport { sent, skipped })
}

pub async fn delete_users(
    services: &Services,
    admin: &SignedInSession,
    ids: &[String],
    ip: Option<&str>,
) -> Result<BulkOutcome, ManageUsersError> {
    let (targets, skipped) = selection_of(services, admin, ids).await?;
    let mut skipped = reasons(skipped);
    let mut deletable = Vec::new();
    for target in targets {
        if target.status()? == UserStatus::Unconfirmed {
            deletable.push(target.id);
        } else {
            skipped.push(format!(
                "{} has joined; deactivate them instead",
                target.full_name()
            ));
        }
    }
    let deleted = services
        .store
        .delete_unconfirmed_users(actor(services, admin, ip), &deletable)
        .await?;
    Ok(BulkOutcome {
        summary: format!("Deleted {}.", count_of_users(deleted)),
        skipped,
    })
}

/// Deactivates (`Deactivated`) or activates (`Active`) the selected users. Activating someone who
/// never joined makes them Unconfirmed again, ready to be reinvited.
pub async fn set_users_status(
    services: &Services,
    admin: &SignedInSession,
    ids: &[String],
    deactivate: bool,
    ip: Option<&str>,
) -> Result<BulkOutcome, ManageUsersError> {
    let (targets, skipped) = selection_of(services, admin, ids).await?;
    let mut skipped = reasons(skipped);
    let mut administrators_left = services
        .store
        .active_administrator_count(&admin.scope)
        .await?;
    let mut changes = Vec::new();
    for target in targets {
        let name = target.full_name();
        let status = target.status()?;
        if deactivate {
            if status == UserStatus::Deactivated {
                skipped.push(format!("{name} is already deactivated"));
            } else if target.id == admin.user_id {
                skipped.push("You cannot deactivate yourself".to_owned());
            } else if status == UserStatus::Active
                && target.is_administrator == 1
                && administrators_left <= 1
            {
                skipped.push(format!("{name} is the last active administrator"));
            } else {
                if status == UserStatus::Active && target.is_administrator == 1 {
                    administrators_left -= 1;
                }
                changes.push((target.id, UserStatus::Deactivated));
            }
        } else if status == UserStatus::Deactivated {
            let restored = if target.has_password == 1 {
                UserStatus::Active
            } else {
                UserStatus::Unconfirmed
            };
            changes.push((target.id, restored));
        } else {
            skipped.push(format!("{name} is not deactivated"));
        }
    }
    let changed = match services
        .store
        .set_statuses(actor(services, admin, ip), &changes)
        .await
    {
        Ok(changed) => changed,
        Err(UserAdminError::LastAdministrator) => {
            skipped.push("No change was made: it would leave no active administrator".to_owned());
            0
        }
        Err(UserAdminError::Store(error)) => return Err(error.into()),
    };
    let verb = if deactivate {
        "Deactivated"
    } else {
        "Activated"
    };
    Ok(BulkOutcome {
        summary: format!("{verb} {}.", count_of_users(changed)),
        skipped,
    })
}
