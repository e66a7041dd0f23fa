//! What every new organization starts with: the built-in Profiles and Roles, the Roles' homepage
//! texts, and a first Terms of Service version that an administrator is expected to replace.

use onestop_domain::PermissionSet;
use std::time::Duration;

pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

pub struct BuiltinProfile {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: fn() -> PermissionSet,
}

pub const ADMINISTRATOR: BuiltinProfile = BuiltinProfile {
    key: "administrator",
    name: "Administrator",
    description: "Everything, including Setup. Cannot be edited or deleted.",
    permissions: PermissionSet::all,
};

pub const STANDARD: BuiltinProfile = BuiltinProfile {
    key: "standard",
    name: "Standard",
    description: "Everyday work in 1Stop, without access to Setup.",
    permissions: PermissionSet::empty,
};

pub const BUILTIN_PROFILES: [BuiltinProfile; 2] = [ADMINISTRATOR, STANDARD];

pub struct BuiltinRole {
    pub key: &'static str,
    pub name: &'static str,
    pub parent_key: Option<&'static str>,
    pub description: &'static str,
    pub headline: &'static str,
    pub introduction: &'static str,
}

pub const CEO: BuiltinRole = BuiltinRole {
    key: "ceo",
    name: "CEO",
    parent_key: None,
    description: "Leads the company; the top of the role hierarchy.",
    headline: "Your company at a glance",
    introduction: "Bring your team into 1Stop, decide what each person may do, and keep an eye on \
                   who has joined.",
};

pub const MANAGER: BuiltinRole = BuiltinRole {
    key: "manager",
    name: "Manager",
    parent_key: Some("ceo"),
    description: "Runs installation teams; reports to the CEO.",
    headline: "Your installations and your team",
    introduction: "Plan the week's installations, keep your crews informed, and follow every job \
                   from quote to sign-off.",
};

/// Parents before children.
pub const BUILTIN_ROLES: [BuiltinRole; 2] = [CEO, MANAGER];

/// A First Steps item of a built-in role's homepage.
pub struct FirstStepDefault {
    pub role_key: &'static str,
    pub position: i64,
    pub title: &'static str,
    pub href: &'static str,
    pub description: &'static str,
}

/// The same items migration 0002 gives organizations created before it.
pub const FIRST_STEPS: [FirstStepDefault; 5] = [
    FirstStepDefault {
        role_key: "ceo",
        position: 1,
        title: "Invite your team",
        href: "/setup/users/new",
        description: "Add the people who work with you; each gets an email with a Join Now link.",
    },
    FirstStepDefault {
        role_key: "ceo",
        position: 2,
        title: "Learn about Profiles and Roles",
        href: "/help/profiles-and-roles",
        description: "Decide what each person may do and where they sit in the company.",
    },
    FirstStepDefault {
        role_key: "ceo",
        position: 3,
        title: "Read Your First Steps after Logging In",
        href: "/help/first-steps",
        description: "A short tour of 1Stop.",
    },
    FirstStepDefault {
        role_key: "manager",
        position: 1,
        title: "Read how invitations work",
        href: "/help/inviting-users",
        description: "How your team joins 1Stop, and what to do if an invitation does not arrive.",
    },
    FirstStepDefault {
        role_key: "manager",
        position: 3,
        title: "Read Your First Steps after Logging In",
        href: "/help/first-steps",
        description: "A short tour of 1Stop.",
    },
];

pub const TERMS_OF_SERVICE: &str = "\
1Stop Terms of Service (version 1)

1. Your account. Your administrator created this account for your work at your company. Keep \
your password to yourself and sign out on shared computers.

2. Your company's data. What you enter in 1Stop belongs to your company. Use it only for your \
work there.

3. Acceptable use. Do not try to reach data of other companies, disrupt the service, or share \
your access with anyone.

4. Changes. When these terms change you will be asked to agree again before you continue.

Your administrator can replace this text in Setup > Terms of Service.";
