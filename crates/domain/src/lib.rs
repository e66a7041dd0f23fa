//! The pure types and rules of the 1Stop account server.
//!
//! Nothing here performs I/O: values from the outside world (form fields, CLI flags, API bodies) are
//! parsed into these types once, at the edge, and the rest of the program trusts them. Each type has
//! private fields and a fallible constructor whose error says what is wrong and how to fix it.

pub mod api_token;
pub mod audit;
pub mod client_address;
pub mod clock;
pub mod email;
pub mod grant;
pub mod ids;
pub mod names;
pub mod password;
pub mod permission;
pub mod personal_message;
pub mod redirect;
pub mod role_tree;
pub mod scim_filter;
pub mod status;
pub mod time_zone;
pub mod token;
pub mod username;

pub use api_token::{ApiTokenKind, ApiTokenName, ApiTokenNameError, ApiTokenSecret};
pub use audit::AuditAction;
pub use client_address::{TrustedProxies, TrustedProxiesError};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use email::{EmailAddress, EmailAddressError};
pub use grant::{Grantor, ProfileGrant};
pub use ids::{
    ApiTokenId, ImportId, InvitationId, OrganizationId, ProfileId, RoleId, TypedId, UserId,
};
pub use names::{AccountName, CompanyName, FirstName, LastName, NameError};
pub use password::{Password, PasswordError, PersonalWords};
pub use permission::{Permission, PermissionSet};
pub use personal_message::{PersonalMessage, PersonalMessageError};
pub use redirect::LocalRedirect;
pub use role_tree::RoleTree;
pub use scim_filter::{FilterAttribute, FilterClause, FilterValue, ScimFilter, ScimFilterError};
pub use status::UserStatus;
pub use time_zone::{TimeZoneError, TimeZoneName};
pub use token::{SecretToken, TokenHash, sha256_hex};
pub use username::{Username, UsernameError};
