//! The preview: every row of the file checked as New User's Save would check it, plus what only a
//! file can get wrong (the same address twice, a profile or role named that does not exist), all
//! before anything is written.

use super::columns::ColumnMapping;
use super::csv_file::{CsvRow, CsvTable};
use crate::store::{ProfileRow, RoleRow, StoreError};
use crate::usecases::invite_user::{EMAIL_TAKEN, GrantOptions};
use crate::usecases::{FieldErrors, Services};
use onestop_domain::{EmailAddress, FirstName, LastName};
use std::collections::HashMap;

/// The mapping step's choices, as typed.
#[derive(Debug, Clone, Default)]
pub struct ImportChoices {
    pub mapping: ColumnMapping,
    /// For rows whose Profile cell is empty, or when no column is mapped to Profile.
    pub default_profile_id: String,
    /// Likewise for Role.
    pub default_role_id: String,
}

/// A row the preview found ready.
#[derive(Debug, Clone)]
pub struct ReadyRow {
    pub first_name: FirstName,
    pub last_name: LastName,
    pub email: EmailAddress,
    pub profile: ProfileRow,
    pub role: RoleRow,
}

/// One row of the file as the preview shows it.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub row_number: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// The profile and role the row would get (by name), or what the file said.
    pub profile: String,
    pub role: String,
    pub errors: Vec<String>,
    /// `Some` when the row has no error.
    pub ready: Option<ReadyRow>,
}

/// Every row, and the counts.
#[derive(Debug, Clone)]
pub struct Preview {
    pub rows: Vec<PreviewRow>,
    pub ready: usize,
    pub with_errors: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The mapping cannot work (no Email or Last Name column, a default not offered).
    #[error("the column mapping needs attention")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The mapping form's field names (the web form and the errors use them).
pub mod field {
    pub const DEFAULT_PROFILE: &str = "default_profile_id";
    pub const DEFAULT_ROLE: &str = "default_role_id";
}

/// Looks a name up among the organization's profiles or roles (case-insensitively): the ones
/// this administrator may grant first.
enum Named<'a, T> {
    Found(&'a T),
    NotYours,
    Unknown,
}

fn by_name<'a, T>(
    name: &str,
    grantable: &'a [T],
    all: &[T],
    name_of: impl Fn(&T) -> &str,
) -> Named<'a, T> {
    let key = name.to_lowercase();
    if let Some(found) = grantable
        .iter()
        .find(|item| name_of(item).to_lowercase() == key)
    {
        Named::Found(found)
    } else if all.iter().any(|item| name_of(item).to_lowercase() == key) {
        Named::NotYours
    } else {
        Named::Unknown
    }
}

/// Checks every row of `table` under `choices`, for an administrator who may grant `options`.
/// Writes nothing.
pub async fn preview(
    services: &Services,
    scope: &crate::tenancy::OrganizationScope,
    options: &GrantOptions,
    table: &CsvTable,
    choices: &ImportChoices,
) -> Result<Preview, PreviewError> {
    let mut errors = FieldErrors::default();
    let mapping = choices.mapping;
    for target in super::columns::Target::ALL {
        if mapping
            .get(target)
            .is_some_and(|column| column >= table.headers.len())
        {
            errors.add(target.field(), "Choose one of the file's columns.");
        }
    }
    if mapping.email.is_none() {
        errors.add(
            super::columns::Target::Email.field(),
            "Choose the column that holds the email addresses.",
        );
    }
    if mapping.last_name.is_none() {
        errors.add(
            super::columns::Target::LastName.field(),
            "Choose the column that holds the last names.",
        );
    }
    let default_profile = options.profile(&choices.default_profile_id);
    if default_profile.is_none() {
        errors.add(field::DEFAULT_PROFILE, "Choose a profile from the list.");
    }
    let default_role = options.role(&choices.default_role_id);
    if default_role.is_none() {
        errors.add(field::DEFAULT_ROLE, "Choose a role from the list.");
    }
    let (Some(default_profile), Some(default_role), true) =
        (default_profile, default_role, errors.is_empty())
    else {
        return Err(PreviewError::Invalid(errors));
    };
    let all_profiles = services.store.profiles(scope).await?;
    let all_roles = services.store.roles(scope).await?;

    let mut rows: Vec<PreviewRow> = table
        .rows
        .iter()
        .map(|row| {
            check_row(
                row,
                &mapping,
                options,
                (&all_profiles, &all_roles),
                (default_profile, default_role),
            )
        })
        .collect();

    // The same address twice: the first row is imported, the others say where it is.
    let mut first_rows: HashMap<String, u64> = HashMap::new();
    for row in &mut rows {
        let Some(normalized) = row
            .ready
            .as_ref()
            .map(|ready| ready.email.normalized().to_owned())
        else {
            continue;
        };
        match first_rows.get(&normalized) {
            Some(first) => {
                row.errors.push(format!(
                    "The same email address is on row {first}; only that row is imported."
                ));
                row.ready = None;
            }
            None => {
                first_rows.insert(normalized, row.row_number);
            }
        }
    }
    let addresses: Vec<&str> = first_rows.keys().map(String::as_str).collect();
    let taken = services.store.taken_emails(&addresses).await?;
    for row in &mut rows {
        if row
            .ready
            .as_ref()
            .is_some_and(|ready| taken.contains(ready.email.normalized()))
        {
            row.errors.push(EMAIL_TAKEN.to_owned());
            row.ready = None;
        }
    }
    let ready = rows.iter().filter(|row| row.ready.is_some()).count();
    Ok(Preview {
        with_errors: rows.len() - ready,
        ready,
        rows,
    })
}

fn check_row(
    row: &CsvRow,
    mapping: &ColumnMapping,
    options: &GrantOptions,
    (all_profiles, all_roles): (&[ProfileRow], &[RoleRow]),
    (default_profile, default_role): (&ProfileRow, &RoleRow),
) -> PreviewRow {
    let mut errors = Vec::new();
    let first_name_cell = row.cell(mapping.first_name);
    let last_name_cell = row.cell(mapping.last_name);
    let email_cell = row.cell(mapping.email);
    let profile_cell = row.cell(mapping.profile);
    let role_cell = row.cell(mapping.role);
    let first_name = FirstName::parse(first_name_cell)
        .map_err(|error| errors.push(error.to_string()))
        .ok();
    let last_name = LastName::parse(last_name_cell)
        .map_err(|error| errors.push(error.to_string()))
        .ok();
    let email = EmailAddress::parse(email_cell)
        .map_err(|error| errors.push(format!("Email: {error}")))
        .ok();
    let profile = if profile_cell.is_empty() {
        Some(default_profile)
    } else {
        match by_name(profile_cell, &options.profiles, all_profiles, |profile| {
            &profile.name
        }) {
            Named::Found(profile) => Some(profile),
            Named::NotYours => {
                errors.push(format!(
                    "You may not grant the profile \u{201c}{profile_cell}\u{201d}: it allows more than you may hand out."
                ));
                None
            }
            Named::Unknown => {
                errors.push(format!(
                    "There is no profile named \u{201c}{profile_cell}\u{201d} (see Setup > Profiles)."
                ));
                None
            }
        }
    };
    let role = if role_cell.is_empty() {
        Some(default_role)
    } else {
        match by_name(role_cell, &options.roles, all_roles, |role| &role.name) {
            Named::Found(role) => Some(role),
            Named::NotYours => {
                errors.push(format!(
                    "You may not assign the role \u{201c}{role_cell}\u{201d}: only roles below your own."
                ));
                None
            }
            Named::Unknown => {
                errors.push(format!(
                    "There is no role named \u{201c}{role_cell}\u{201d} (see Setup > Roles)."
                ));
                None
            }
        }
    };
    let ready = match (first_name, last_name, email, profile, role) {
        (Some(first_name), Some(last_name), Some(email), Some(profile), Some(role)) => {
            Some(ReadyRow {
                first_name,
                last_name,
                email,
                profile: profile.clone(),
                role: role.clone(),
            })
        }
        _ => None,
    };
    PreviewRow {
        row_number: row.line,
        first_name: first_name_cell.to_owned(),
        last_name: last_name_cell.to_owned(),
        email: email_cell.to_owned(),
        profile: profile.map_or_else(|| profile_cell.to_owned(), |profile| profile.name.clone()),
        role: role.map_or_else(|| role_cell.to_owned(), |role| role.name.clone()),
        errors,
        ready,
    }
}
