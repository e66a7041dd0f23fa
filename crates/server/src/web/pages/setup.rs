//! `/setup`: the sections of Setup. A section's link appears only once its page exists.

use super::Shell;
use crate::web::session::{RequirePermission, ViewSetup};
use askama::Template;
use askama_web::WebTemplate;

pub struct SetupSection {
    pub name: &'static str,
    pub items: &'static [SetupItem],
}

pub struct SetupItem {
    pub name: &'static str,
    /// `None` until the page is built; the item is then listed without a link.
    pub href: Option<&'static str>,
}

const SECTIONS: &[SetupSection] = &[
    SetupSection {
        name: "Users and Control",
        items: &[
            SetupItem {
                name: "Users",
                href: Some("/setup/users"),
            },
            SetupItem {
                name: "Profiles",
                href: Some("/setup/profiles"),
            },
            SetupItem {
                name: "Roles",
                href: Some("/setup/roles"),
            },
            SetupItem {
                name: "Audit Log",
                href: Some("/setup/audit"),
            },
        ],
    },
    SetupSection {
        name: "Company",
        items: &[
            SetupItem {
                name: "Company Details",
                href: Some("/setup/company"),
            },
            SetupItem {
                name: "Terms of Service",
                href: Some("/setup/terms"),
            },
            SetupItem {
                name: "Single Sign-On",
                href: Some("/setup/sso"),
            },
        ],
    },
    SetupSection {
        name: "Developer Space",
        items: &[
            SetupItem {
                name: "API Tokens",
                href: Some("/setup/api-tokens"),
            },
            SetupItem {
                name: "SCIM provisioning",
                href: Some("/setup/scim"),
            },
        ],
    },
];

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
pub struct SetupPage {
    shell: Option<Shell>,
    title: &'static str,
    sections: &'static [SetupSection],
}

pub async fn show(user: RequirePermission<ViewSetup>) -> SetupPage {
    SetupPage {
        shell: Some(Shell::of(&user)),
        title: "Setup",
        sections: SECTIONS,
    }
}
