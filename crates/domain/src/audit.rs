//! The kinds of event the audit trail records.

/// An administrative or security event. The stored form is `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    OrganizationCreated,
    UserCreated,
    InvitationQueued,
    InvitationDelivered,
    InvitationFailed,
    Joined,
    InvitationResent,
    InvitationRequested,
    UserUpdated,
    UserDeactivated,
    UserActivated,
    UserDeleted,
    CompanyDetailsChanged,
    ProfileCreated,
    ProfileUpdated,
    ProfileDeleted,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    TermsPublished,
    PasswordResetRequested,
    PasswordReset,
    SignedIn,
    SignInFailed,
    SignedOut,
    SessionsEnded,
    TermsAccepted,
    TermsDeclined,
    PictureChanged,
    PictureRemoved,
    UsersImported,
    ApiTokenCreated,
    ApiTokenRevoked,
    ApiTokenUsed,
    UsersExported,
    SsoConfigured,
    SsoSignedIn,
    SsoJoined,
    SsoRefused,
}

impl AuditAction {
    /// Every action, for the Audit Log's filter.
    pub const ALL: [AuditAction; 39] = [
        Self::OrganizationCreated,
        Self::UserCreated,
        Self::InvitationQueued,
        Self::InvitationDelivered,
        Self::InvitationFailed,
        Self::InvitationResent,
        Self::InvitationRequested,
        Self::Joined,
        Self::SignedIn,
        Self::SignInFailed,
        Self::SignedOut,
        Self::SessionsEnded,
        Self::TermsAccepted,
        Self::TermsDeclined,
        Self::TermsPublished,
        Self::UserUpdated,
        Self::UserDeactivated,
        Self::UserActivated,
        Self::UserDeleted,
        Self::UsersImported,
        Self::CompanyDetailsChanged,
        Self::ProfileCreated,
        Self::ProfileUpdated,
        Self::ProfileDeleted,
        Self::RoleCreated,
        Self::RoleUpdated,
        Self::RoleDeleted,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::PictureChanged,
        Self::PictureRemoved,
        Self::ApiTokenCreated,
        Self::ApiTokenRevoked,
        Self::ApiTokenUsed,
        Self::UsersExported,
        Self::SsoConfigured,
        Self::SsoSignedIn,
        Self::SsoJoined,
        Self::SsoRefused,
    ];

    /// The words shown in the Audit Log.
    pub fn label(self) -> &'static str {
        match self {
            Self::OrganizationCreated => "Organization created",
            Self::UserCreated => "User created",
            Self::InvitationQueued => "Invitation queued",
            Self::InvitationDelivered => "Invitation delivered",
            Self::InvitationFailed => "Invitation failed",
            Self::InvitationResent => "Invitation resent",
            Self::InvitationRequested => "New invitation requested",
            Self::Joined => "Joined",
            Self::SignedIn => "Signed in",
            Self::SignInFailed => "Sign-in failed",
            Self::SignedOut => "Signed out",
            Self::SessionsEnded => "Signed out everywhere",
            Self::TermsAccepted => "Terms accepted",
            Self::TermsDeclined => "Terms declined",
            Self::TermsPublished => "Terms published",
            Self::PasswordResetRequested => "Password reset requested",
            Self::PasswordReset => "Password changed by reset link",
            Self::UserUpdated => "User changed",
            Self::UserDeactivated => "User deactivated",
            Self::UserActivated => "User activated",
            Self::UserDeleted => "User deleted",
            Self::CompanyDetailsChanged => "Company details changed",
            Self::ProfileCreated => "Profile created",
            Self::ProfileUpdated => "Profile changed",
            Self::ProfileDeleted => "Profile deleted",
            Self::RoleCreated => "Role created",
            Self::RoleUpdated => "Role changed",
            Self::RoleDeleted => "Role deleted",
            Self::PictureChanged => "Profile picture changed",
            Self::PictureRemoved => "Profile picture removed",
            Self::UsersImported => "Users imported",
            Self::ApiTokenCreated => "API token created",
            Self::ApiTokenRevoked => "API token revoked",
            Self::ApiTokenUsed => "API token used",
            Self::UsersExported => "Users exported",
            Self::SsoConfigured => "Single sign-on configured",
            Self::SsoSignedIn => "Signed in with single sign-on",
            Self::SsoJoined => "Joined with single sign-on",
            Self::SsoRefused => "Single sign-on refused",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == key)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OrganizationCreated => "organization_created",
            Self::UserCreated => "user_created",
            Self::InvitationQueued => "invitation_queued",
            Self::InvitationDelivered => "invitation_delivered",
            Self::InvitationFailed => "invitation_failed",
            Self::Joined => "joined",
            Self::InvitationResent => "invitation_resent",
            Self::InvitationRequested => "invitation_requested",
            Self::UserUpdated => "user_updated",
            Self::UserDeactivated => "user_deactivated",
            Self::UserActivated => "user_activated",
            Self::UserDeleted => "user_deleted",
            Self::CompanyDetailsChanged => "company_details_changed",
            Self::ProfileCreated => "profile_created",
            Self::ProfileUpdated => "profile_updated",
            Self::ProfileDeleted => "profile_deleted",
            Self::RoleCreated => "role_created",
            Self::RoleUpdated => "role_updated",
            Self::RoleDeleted => "role_deleted",
            Self::TermsPublished => "terms_published",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignedOut => "signed_out",
            Self::SessionsEnded => "sessions_ended",
            Self::TermsAccepted => "terms_accepted",
            Self::TermsDeclined => "terms_declined",
            Self::PictureChanged => "picture_changed",
            Self::PictureRemoved => "picture_removed",
            Self::UsersImported => "users_imported",
            Self::ApiTokenCreated => "api_token_created",
            Self::ApiTokenRevoked => "api_token_revoked",
            Self::ApiTokenUsed => "api_token_used",
            Self::UsersExported => "users_exported",
            Self::SsoConfigured => "sso_configured",
            Self::SsoSignedIn => "sso_signed_in",
            Self::SsoJoined => "sso_joined",
            Self::SsoRefused => "sso_refused",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_action_is_listed_once_and_parses_back() {
        let unique: HashSet<_> = AuditAction::ALL.into_iter().collect();
        assert_eq!(unique.len(), AuditAction::ALL.len());
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
    }
}
