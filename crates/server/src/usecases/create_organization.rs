//! Creating an organization with its first administrator: from the first-run page and from
//! `onestop org create`.

use super::invite_user::{InvitationLetter, join_url};
use super::{FieldErrors, Services};
use crate::defaults::INVITATION_LIFETIME;
use crate::store::{
    CreateOrganizationError, FirstAdministrator, NewActiveUser, NewOrganization,
    OrganizationSummary, StoreError,
};
use onestop_domain::{
    AccountName, CompanyName, EmailAddress, FirstName, LastName, Password, PasswordError,
    PersonalWords, SecretToken, TimeZoneName, TokenHash, Username,
};

/// The fields as typed. `account_name` empty means "same as the company name".
#[derive(Debug, Default, Clone)]
pub struct OrganizationInput {
    pub company_name: String,
    pub account_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub password: String,
    /// `None` where no confirmation is asked (the CLI reads the password once from stdin).
    pub password_confirmation: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("some fields need attention")]
    Invalid(FieldErrors),
    #[error("the first-run link is not valid, or an organization already exists")]
    FirstRunCodeInvalid,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Field names, shared with the first-run form and the CLI's messages.
pub mod field {
    pub const COMPANY_NAME: &str = "company_name";
    pub const ACCOUNT_NAME: &str = "account_name";
    pub const FIRST_NAME: &str = "first_name";
    pub const LAST_NAME: &str = "last_name";
    pub const EMAIL: &str = "email";
    pub const USERNAME: &str = "username";
    pub const PASSWORD: &str = "password";
    pub const PASSWORD_CONFIRMATION: &str = "password_confirmation";
}

/// The company and its first administrator, parsed; `None` when any field failed (the errors
/// are then in `errors`).
struct ParsedOrganization {
    company_name: CompanyName,
    account_name: AccountName,
    first_name: FirstName,
    last_name: LastName,
    email: EmailAddress,
}

fn parse_company_and_administrator(
    input: &OrganizationInput,
    errors: &mut FieldErrors,
) -> Option<ParsedOrganization> {
    let company_name = errors.check(field::COMPANY_NAME, CompanyName::parse(&input.company_name));
    // An empty account name means "the same as the company name".
    let account_name = match (input.account_name.trim().is_empty(), &company_name) {
        (true, Some(company)) => {
            errors.check(field::ACCOUNT_NAME, AccountName::parse(company.as_str()))
        }
        (true, None) => None,
        (false, _) => errors.check(field::ACCOUNT_NAME, AccountName::parse(&input.account_name)),
    };
    let first_name = errors.check(field::FIRST_NAME, FirstName::parse(&input.first_name));
    let last_name = errors.check(field::LAST_NAME, LastName::parse(&input.last_name));
    let email = errors.check(field::EMAIL, EmailAddress::parse(&input.email));
    Some(ParsedOrganization {
        company_name: company_name?,
        account_name: account_name?,
        first_name: first_name?,
        last_name: last_name?,
        email: email?,
    })
}

pub async fn create_organization(
    services: &Services,
    input: &OrganizationInput,
    first_run_code: Option<&TokenHash>,
    ip: Option<&str>,
) -> Result<OrganizationSummary, CreateError> {
    let mut errors = FieldErrors::default();
    let parsed = parse_company_and_administrator(input, &mut errors);
    let username = errors.check(field::USERNAME, Username::parse(&input.username));
    let email_local_part = parsed
        .as_ref()
        .map(|parsed| parsed.email.local_part())
        .unwrap_or_default();
    let personal = PersonalWords::default()
        .with("username", input.username.trim())
        .with("first name", input.first_name.trim())
        .with("last name", input.last_name.trim())
        .with("email address", email_local_part)
        .with("company name", input.company_name.trim())
        .with("account name", input.account_name.trim());
    let password = errors.check(
        field::PASSWORD,
        Password::choose(&input.password, &personal),
    );
    if let Some(confirmation) = &input.password_confirmation
        && password.is_some()
        && Password::for_sign_in(confirmation) != password
    {
        errors.add(
            field::PASSWORD_CONFIRMATION,
            PasswordError::ConfirmationMismatch.to_string(),
        );
    }
    let (Some(parsed), Some(username), Some(password), true) =
        (parsed, username, password, errors.is_empty())
    else {
        return Err(CreateError::Invalid(errors));
    };
    let ParsedOrganization {
        company_name,
        account_name,
        first_name,
        last_name,
        email,
    } = parsed;

    let password_hash = services
        .hasher
        .hash(&password)
        .await
        .map_err(anyhow::Error::from)?;
    let new = NewOrganization {
        company_name: &company_name,
        account_name: &account_name,
        invitation_lifetime: INVITATION_LIFETIME,
        administrator: FirstAdministrator::Active(NewActiveUser {
            first_name: &first_name,
            last_name: &last_name,
            email: &email,
            username: &username,
            password_hash,
        }),
        first_run_code,
        ip,
        now: services.clock.now(),
    };
    services
        .store
        .create_organization(&new)
        .await
        .map_err(store_error)
}

/// `onestop org create` without `--admin-username`: the first administrator is invited by email
/// like any other user (Unconfirmed, one invitation, one queued email). Returns the summary and
/// the Join Now link.
pub async fn create_organization_inviting_administrator(
    services: &Services,
    input: &OrganizationInput,
) -> Result<(OrganizationSummary, String), CreateError> {
    let mut errors = FieldErrors::default();
    let (Some(parsed), true) = (
        parse_company_and_administrator(input, &mut errors),
        errors.is_empty(),
    ) else {
        return Err(CreateError::Invalid(errors));
    };
    let ParsedOrganization {
        company_name,
        account_name,
        first_name,
        last_name,
        email,
    } = parsed;

    let now = services.clock.now();
    let expires_at = now.plus(INVITATION_LIFETIME);
    let token = SecretToken::generate();
    // A new company's zone is UTC until Company Details says otherwise.
    let invitation = InvitationLetter {
        company_name: company_name.as_str(),
        account_name: account_name.as_str(),
        inviter_name: None,
        time_zone: &TimeZoneName::utc(),
        personal_message: None,
    }
    .email(
        first_name.as_option(),
        join_url(services, &token),
        expires_at,
    );
    let message = services
        .seal(
            invitation
                .render(email.as_str())
                .map_err(anyhow::Error::from)?,
        )
        .map_err(anyhow::Error::from)?;
    let new = NewOrganization {
        company_name: &company_name,
        account_name: &account_name,
        invitation_lifetime: INVITATION_LIFETIME,
        administrator: FirstAdministrator::Invited {
            first_name: &first_name,
            last_name: &last_name,
            email: &email,
            token_hash: &token.hash(),
            expires_at,
            message: &message,
        },
        first_run_code: None,
        ip: None,
        now,
    };
    let summary = services
        .store
        .create_organization(&new)
        .await
        .map_err(store_error)?;
    services.outbox_signal.notify_one();
    Ok((summary, invitation.join_url))
}

fn store_error(error: CreateOrganizationError) -> CreateError {
    match error {
        CreateOrganizationError::FirstRunCodeInvalid => CreateError::FirstRunCodeInvalid,
        CreateOrganizationError::Store(StoreError::Duplicate(column)) => {
            let mut errors = FieldErrors::default();
            if column == "email_normalized" {
                errors.add(
                    field::EMAIL,
                    "A user with this email address already exists; use another address.",
                );
            } else {
                errors.add(field::USERNAME, "This username is taken; choose another.");
            }
            CreateError::Invalid(errors)
        }
        CreateOrganizationError::Store(other) => CreateError::Internal(other.into()),
    }
}
