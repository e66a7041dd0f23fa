//! The three states of a user account.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    /// Invited, has not joined: no password, cannot sign in.
    Unconfirmed,
    Active,
    /// Cannot sign in; sessions ended; may be reactivated.
    Deactivated,
}

impl UserStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "unconfirmed",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
        }
    }

    /// The word shown on pages.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Unconfirmed => "Unconfirmed",
            Self::Active => "Active",
            Self::Deactivated => "Deactivated",
        }
    }

    pub const fn can_sign_in(self) -> bool {
        matches!(self, Self::Active)
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown user status {0:?}")]
pub struct UnknownUserStatus(String);

impl FromStr for UserStatus {
    type Err = UnknownUserStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "unconfirmed" => Ok(Self::Unconfirmed),
            "active" => Ok(Self::Active),
            "deactivated" => Ok(Self::Deactivated),
            other => Err(UnknownUserStatus(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_users_can_sign_in() {
        assert!(UserStatus::Active.can_sign_in());
        assert!(!UserStatus::Unconfirmed.can_sign_in());
        assert!(!UserStatus::Deactivated.can_sign_in());
    }

    #[test]
    fn status_round_trips_through_its_stored_form() {
        for status in [
            UserStatus::Unconfirmed,
            UserStatus::Active,
            UserStatus::Deactivated,
        ] {
            assert_eq!(status.as_str().parse::<UserStatus>().ok(), Some(status));
        }
        assert!("ACTIVE".parse::<UserStatus>().is_err());
    }
}
