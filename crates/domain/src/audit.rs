//! The kinds of event the audit trail records.

/// An administrative or security event. The stored form is `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    SignedIn,
    SignInFailed,
    SignedOut,
    TermsAccepted,
    TermsDeclined,
}

impl AuditAction {
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
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignedOut => "signed_out",
            Self::TermsAccepted => "terms_accepted",
            Self::TermsDeclined => "terms_declined",
        }
    }
}
