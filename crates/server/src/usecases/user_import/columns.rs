//! Which column of the file holds what: the targets an import fills, and the guesses made from
//! the file's header ("Given name", "E-Mail", "Surname", ...).

/// What an import fills from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    FirstName,
    LastName,
    Email,
    Profile,
    Role,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Self::FirstName,
        Self::LastName,
        Self::Email,
        Self::Profile,
        Self::Role,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::FirstName => "First Name",
            Self::LastName => "Last Name",
            Self::Email => "Email",
            Self::Profile => "Profile",
            Self::Role => "Role",
        }
    }

    /// The mapping form's field for this target.
    pub fn field(self) -> &'static str {
        match self {
            Self::FirstName => "first_name_column",
            Self::LastName => "last_name_column",
            Self::Email => "email_column",
            Self::Profile => "profile_column",
            Self::Role => "role_column",
        }
    }

    /// Headers (lower case, letters and digits only) taken to mean this target.
    fn names(self) -> &'static [&'static str] {
        match self {
            Self::FirstName => &[
                "firstname",
                "first",
                "givenname",
                "given",
                "forename",
                "fname",
                "vorname",
                "prénom",
                "prenom",
                "nombre",
            ],
            Self::LastName => &[
                "lastname",
                "last",
                "surname",
                "familyname",
                "family",
                "lname",
                "nachname",
                "nom",
                "nomdefamille",
                "apellido",
                "apellidos",
            ],
            Self::Email => &[
                "email",
                "emailaddress",
                "mail",
                "mailaddress",
                "emailadresse",
                "courriel",
                "workemail",
                "businessemail",
                "correo",
                "correoelectrónico",
            ],
            Self::Profile => &["profile", "profilename", "accessprofile", "profil"],
            Self::Role => &["role", "rolename", "jobrole", "rolle", "rôle"],
        }
    }
}

/// Lower case, letters and digits only: "E-Mail Address" and "email_address" read alike.
fn normalized(header: &str) -> String {
    header
        .chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The column (0-based) of each target, if the file has one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColumnMapping {
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    pub email: Option<usize>,
    pub profile: Option<usize>,
    pub role: Option<usize>,
}

impl ColumnMapping {
    /// Each target gets the first column whose header names it; no column serves two.
    pub fn guess(headers: &[String]) -> Self {
        let names: Vec<String> = headers.iter().map(|header| normalized(header)).collect();
        let mut mapping = Self::default();
        for target in Target::ALL {
            let column = names.iter().enumerate().position(|(index, name)| {
                target.names().contains(&name.as_str())
                    && Target::ALL
                        .iter()
                        .all(|other| mapping.get(*other) != Some(index))
            });
            mapping.set(target, column);
        }
        mapping
    }

    pub fn get(&self, target: Target) -> Option<usize> {
        match target {
            Target::FirstName => self.first_name,
            Target::LastName => self.last_name,
            Target::Email => self.email,
            Target::Profile => self.profile,
            Target::Role => self.role,
        }
    }

    pub fn set(&mut self, target: Target, column: Option<usize>) {
        let slot = match target {
            Target::FirstName => &mut self.first_name,
            Target::LastName => &mut self.last_name,
            Target::Email => &mut self.email,
            Target::Profile => &mut self.profile,
            Target::Role => &mut self.role,
        };
        *slot = column;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn common_headers_are_recognized() {
        let mapping = ColumnMapping::guess(&headers(&[
            "Given Name",
            "Surname",
            "E-Mail",
            "Department",
            "Role",
        ]));
        assert_eq!(
            mapping,
            ColumnMapping {
                first_name: Some(0),
                last_name: Some(1),
                email: Some(2),
                profile: None,
                role: Some(4),
            }
        );
        let mapping =
            ColumnMapping::guess(&headers(&["firstname", "last_name", "mail", "Profile"]));
        assert_eq!(mapping.email, Some(2));
        assert_eq!(mapping.profile, Some(3));
    }

    #[test]
    fn unknown_headers_map_to_nothing() {
        assert_eq!(
            ColumnMapping::guess(&headers(&["Department", "Phone"])),
            ColumnMapping::default()
        );
    }
}
