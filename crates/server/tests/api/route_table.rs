//! The router's own table of routes (`onestop_server::web::route_table`), tried route by route
//! as every kind of visitor: every state-changing route refuses forged forms, every route answers
//! each kind of visitor as its `Access` rule says, and another company's administrator reaches no
//! row of this one by id. Nothing here lists the routes by hand: a route added to the router
//! without a plausible form, an expected answer or a positive control below fails these tests
//! until it gets them.

use crate::helpers::{
    ADMIN_PASSWORD, COMPANY, MEMBER_PASSWORD, Scope, Snapshot, TestApp, assert_unchanged,
    csrf_token_in, location, on_both_databases,
};
use onestop_domain::{
    EmailAddress, FirstName, LastName, Password, Permission, PermissionSet, PersonalWords,
    SecretToken, Timestamp, Username,
};
use onestop_server::store::NewActiveUser;
use onestop_server::web::{Access, RouteInfo, route_table};
use std::time::Duration;

on_both_databases!(
    every_state_changing_route_refuses_a_missing_a_foreign_and_a_cross_site_token,
    every_setup_route_answers_each_kind_of_visitor_as_its_rule_says,
    another_companys_administrator_gets_404_on_every_id_route_and_changes_nothing,
);

/// The title of the page for a refused form token or a cross-site POST (`WebError::CsrfRejected`).
const FORM_EXPIRED: &str = "This form has expired";
/// What a signed-in user without the permission is told (`WebError::Forbidden`).
const NOT_ALLOWED: &str = "Your profile does not allow this.";
/// What a browser that sent no cookie at all is told (`WebError::CookiesDisabled`).
const COOKIES_DISABLED: &str =
    "Cookie is disabled in your browser. Please enable the Cookie to continue.";
/// The page for an address that names nothing (`WebError::NotFound`).
const NOT_FOUND: &str = "There is no page at this address.";
/// The buttons of Edit User and of the Users page's bulk bar (`web/pages/users.rs`).
const USER_ACTIONS: [&str; 4] = ["reinvite", "delete", "deactivate", "activate"];
const JOIN_PASSWORD: &str = "copper meadow lantern";
const RESET_PASSWORD: &str = "granite harbour sunrise";

// ---------------------------------------------------------------------------------------------
// A company with a row of every kind a route can name.

/// One company, created without HTTP: its administrator, users in every state the routes act
/// on, custom profiles and roles, and the links a visitor brings.
struct Company {
    org_id: String,
    company_name: String,
    admin_id: String,
    /// Active, Standard profile, Manager role: the user the `{user_id}` routes name.
    grace: String,
    grace_email: String,
    /// Active: what the bulk actions select.
    ken: String,
    /// Unconfirmed with a live invitation: joins in the positive control.
    ivy: String,
    ivy_username: String,
    ivy_link: String,
    /// Unconfirmed with an expired invitation, and its raw token: asks for a new one.
    eli: String,
    eli_token: String,
    /// Active, with a live password reset link.
    linus: String,
    linus_reset_link: String,
    /// Active, Standard profile, CEO role: a second session in the company.
    sam: String,
    sam_username: String,
    standard_profile: String,
    administrator_profile: String,
    /// "Dispatch", custom, with no permissions: the profile the `{profile_id}` routes name.
    custom_profile: String,
    /// "Temporary", custom, with no permissions: the one the delete route deletes.
    spare_profile: String,
    ceo_role: String,
    manager_role: String,
    /// Below Manager: the role the `{role_id}` routes name.
    installer_role: String,
    /// "Seasonal", below Manager: the one the delete route deletes.
    spare_role: String,
    /// The first First Steps item of the CEO role.
    ceo_first_step: String,
    /// A live API token of the administrator: the one the `{token_id}` routes name.
    api_token: String,
    /// Every last name in the company but the administrator's, to check that another
    /// company's pages reveal none.
    last_names: Vec<String>,
    /// What sets its usernames and addresses apart from other companies'.
    tag: String,
    /// An uploaded file of users, waiting for its mapping: what the `{import_id}` routes name.
    import: String,
}

impl Company {
    fn users(&self) -> Vec<String> {
        vec![
            self.admin_id.clone(),
            self.grace.clone(),
            self.ken.clone(),
            self.ivy.clone(),
            self.eli.clone(),
            self.linus.clone(),
            self.sam.clone(),
        ]
    }

    /// The ids the `{user_id}`, `{profile_id}` and `{role_id}` routes name by default.
    fn ids(&self) -> Ids {
        Ids {
            user: self.grace.clone(),
            profile: self.custom_profile.clone(),
            role: self.installer_role.clone(),
            spare_profile: self.spare_profile.clone(),
            spare_role: self.spare_role.clone(),
            import: self.import.clone(),
            token: self.api_token.clone(),
        }
    }

    /// Several sets of this company's ids, built-in rows and the root role included.
    fn id_sets(&self) -> Vec<Ids> {
        vec![
            self.ids(),
            Ids {
                user: self.admin_id.clone(),
                profile: self.administrator_profile.clone(),
                role: self.ceo_role.clone(),
                spare_profile: self.standard_profile.clone(),
                spare_role: self.manager_role.clone(),
                import: self.import.clone(),
                token: self.api_token.clone(),
            },
            Ids {
                user: self.ivy.clone(),
                profile: self.spare_profile.clone(),
                role: self.spare_role.clone(),
                spare_profile: self.custom_profile.clone(),
                spare_role: self.installer_role.clone(),
                import: self.import.clone(),
                token: self.api_token.clone(),
            },
        ]
    }
}

/// The password hash of every member this file adds (argon2 once, not once a user).
async fn member_hash(app: &TestApp) -> String {
    let password =
        Password::choose(MEMBER_PASSWORD, &PersonalWords::default()).expect("a good test password");
    app.services.hasher.hash(&password).await.unwrap()
}

/// Adds an Active user with the password [`MEMBER_PASSWORD`] (its `hash`), in a built-in role,
/// with the Standard profile; returns their id.
async fn add_member(
    app: &TestApp,
    org_id: &str,
    role: &str,
    name: (&str, &str),
    username: &str,
    hash: &str,
) -> String {
    let user = NewActiveUser {
        first_name: &FirstName::parse(name.0).unwrap(),
        last_name: &LastName::parse(name.1).unwrap(),
        email: &EmailAddress::parse(&format!("{username}@example.com")).unwrap(),
        username: &Username::parse(username).unwrap(),
        password_hash: hash.to_owned(),
    };
    app.store
        .add_active_user(
            &crate::helpers::scope(org_id),
            "standard",
            role,
            &user,
            Timestamp::from_unix_millis(0),
        )
        .await
        .expect("the user is added")
}

/// A custom profile holding exactly `permissions`; returns its id.
async fn add_profile(
    app: &TestApp,
    org_id: &str,
    name: &str,
    permissions: &[Permission],
) -> String {
    let permissions: PermissionSet = permissions.iter().copied().collect();
    app.store
        .add_profile(
            &crate::helpers::scope(org_id),
            name,
            "",
            permissions,
            Timestamp::from_unix_millis(0),
        )
        .await
        .expect("the profile is added")
}

/// The raw token at the end of a link.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap_or_default().to_owned()
}

/// A company named `name` whose administrator is `admin`; `tag` keeps usernames and addresses
/// apart from other companies'.
async fn company(app: &TestApp, name: &str, admin: &'static str, tag: &str, hash: &str) -> Company {
    use onestop_server::usecases::invite_user::{InviteInput, invite_user};
    use onestop_server::usecases::password_reset::request_password_reset;
    use onestop_server::usecases::sessions::{resolve_session, start_session};

    let organization = app
        .create_organization_named(name, admin, &format!("{admin}@{tag}.example.com"))
        .await;
    let org_id = organization.org_id.clone();
    let now = Timestamp::from_unix_millis(0);
    // Last names carry the tag too, so that a page can be searched for another company's people.
    let surname = |base: &str| format!("{base}-{tag}");
    let standard_profile = app.profile_id(&org_id, "Standard").await;
    let administrator_profile = app.profile_id(&org_id, "Administrator").await;
    let ceo_role = app.role_id(&org_id, "CEO").await;
    let manager_role = app.role_id(&org_id, "Manager").await;
    let installer_role = app
        .store
        .add_role(
            &crate::helpers::scope(&org_id),
            "Installer",
            &onestop_domain::RoleId::parse(&manager_role).unwrap(),
            now,
        )
        .await
        .unwrap();
    let spare_role = app
        .store
        .add_role(
            &crate::helpers::scope(&org_id),
            "Seasonal",
            &onestop_domain::RoleId::parse(&manager_role).unwrap(),
            now,
        )
        .await
        .unwrap();
    let custom_profile = add_profile(app, &org_id, "Dispatch", &[]).await;
    let spare_profile = add_profile(app, &org_id, "Temporary", &[]).await;

    let grace_username = format!("grace.{tag}");
    let grace = add_member(
        app,
        &org_id,
        "manager",
        ("Grace", surname("Hopper").as_str()),
        &grace_username,
        hash,
    )
    .await;
    let ken = add_member(
        app,
        &org_id,
        "manager",
        ("Ken", surname("Thompson").as_str()),
        &format!("ken.{tag}"),
        hash,
    )
    .await;
    let linus_username = format!("linus.{tag}");
    let linus = add_member(
        app,
        &org_id,
        "manager",
        ("Linus", surname("Torvalds").as_str()),
        &linus_username,
        hash,
    )
    .await;
    let sam_username = format!("sam.{tag}");
    let sam = add_member(
        app,
        &org_id,
        "ceo",
        ("Sam", surname("Standard").as_str()),
        &sam_username,
        hash,
    )
    .await;

    // Two invitations, sent by the administrator.
    let tokens = start_session(
        &app.services,
        &onestop_domain::UserId::parse(&organization.admin_id).unwrap(),
        organization.scope.id(),
        None,
        None,
        onestop_server::usecases::sessions::SecondStep::Done,
    )
    .await
    .unwrap();
    let administrator = resolve_session(&app.services, &tokens.session_token)
        .await
        .unwrap()
        .expect("a live session");
    let invite = |first: &str, last: String, email: String| {
        let input = InviteInput {
            first_name: first.into(),
            last_name: last,
            email,
            profile_id: standard_profile.clone(),
            role_id: manager_role.clone(),
            personal_message: String::new(),
        };
        let administrator = &administrator;
        async move {
            invite_user(&app.services, administrator, &input, None)
                .await
                .expect("invited")
        }
    };
    let ivy_email = format!("ivy.{tag}@example.com");
    let ivy = invite("Ivy", surname("Invited"), ivy_email.clone()).await;
    let eli_email = format!("eli.{tag}@example.com");
    let eli = invite("Eli", surname("Expired"), eli_email.clone()).await;
    let link = |email: String| async move {
        app.emails_to(&email)
            .await
            .last()
            .and_then(|email| email.action_url.clone())
            .expect("an email with a link is queued")
    };
    let ivy_link = link(ivy_email).await;
    let eli_token = token_of(&link(eli_email).await);
    app.text_value(
        "UPDATE invitations SET expires_at = created_at WHERE user_id = $1 RETURNING id",
        &eli,
    )
    .await
    .expect("Eli's invitation expires");

    request_password_reset(&app.services, &linus_username, "192.0.2.7")
        .await
        .unwrap();
    let linus_reset_link = link(format!("{linus_username}@example.com")).await;
    assert!(
        linus_reset_link.contains("/password/reset/"),
        "a reset link: {linus_reset_link}"
    );

    // Grace has a picture, so that its route has one to serve.
    onestop_server::usecases::pictures::change_picture(
        &app.services,
        &administrator,
        onestop_server::usecases::pictures::Whose::Managed(
            &onestop_domain::UserId::parse(&grace).unwrap(),
        ),
        crate::helpers::png(40, 40),
        None,
    )
    .await
    .expect("Grace's picture is saved");

    let ceo_first_step = app
        .text_value(
            "SELECT id FROM role_first_steps WHERE role_id = $1 ORDER BY position LIMIT 1",
            &ceo_role,
        )
        .await
        .expect("the CEO role has First Steps");
    let import = app
        .store
        .create_import_draft(
            &organization.scope,
            Some(&organization.admin_id),
            &format!(
                "First Name,Last Name,Email\nPia,{},pia.{tag}@example.com\n",
                surname("Imported")
            ),
            now,
        )
        .await
        .expect("an uploaded file");
    app.api_token(&organization, &[]).await;
    let api_token = app
        .text_value(
            "SELECT id FROM api_tokens WHERE org_id = $1 ORDER BY created_at DESC LIMIT 1",
            &org_id,
        )
        .await
        .expect("the administrator's API token is stored");
    Company {
        api_token,
        org_id,
        company_name: name.to_owned(),
        admin_id: organization.admin_id,
        grace,
        grace_email: format!("{grace_username}@example.com"),
        ken,
        ivy,
        ivy_username: format!("ivy.{tag}"),
        ivy_link,
        eli,
        eli_token,
        linus,
        linus_reset_link,
        sam,
        sam_username,
        standard_profile,
        administrator_profile,
        custom_profile,
        spare_profile,
        ceo_role,
        manager_role,
        installer_role,
        spare_role,
        ceo_first_step,
        last_names: [
            "Hopper", "Thompson", "Invited", "Expired", "Torvalds", "Standard",
        ]
        .map(surname)
        .to_vec(),
        tag: tag.to_owned(),
        import,
    }
}

// ---------------------------------------------------------------------------------------------
// Routes made concrete.

/// What the path parameters stand for.
#[derive(Debug, Clone)]
struct Ids {
    user: String,
    profile: String,
    role: String,
    /// Named instead of `profile` and `role` by the delete routes, so that deleting leaves the
    /// rows the other routes name.
    spare_profile: String,
    spare_role: String,
    import: String,
    /// An API token of the company.
    token: String,
}

/// Does the route name a row by id (`{..._id}`)?
fn names_a_row(path: &str) -> bool {
    parameters(path).any(|name| name.ends_with("_id"))
}

fn parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// The path with its parameters replaced by real values.
fn concrete(path: &str, ids: &Ids) -> String {
    let deletes = path.ends_with("/delete");
    path.split('/')
        .map(|segment| {
            let Some(name) = segment
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
            else {
                return segment.to_owned();
            };
            match name {
                "user_id" => ids.user.clone(),
                "profile_id" if deletes => ids.spare_profile.clone(),
                "profile_id" => ids.profile.clone(),
                "role_id" if deletes => ids.spare_role.clone(),
                "role_id" => ids.role.clone(),
                "import_id" => ids.import.clone(),
                "token_id" => ids.token.clone(),
                // One-time links: well-formed, but not one that was ever sent.
                "token" | "code" => SecretToken::generate().expose().to_owned(),
                "slug" => "first-steps".to_owned(),
                other => panic!(
                    "{path}: the parameter {{{other}}} is new: say in route_table.rs what it names"
                ),
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Where an anonymous visitor of `path` (GET) is sent: to sign in, and back afterwards.
fn sign_in_first(path: &str) -> String {
    if path == "/" {
        "/login".to_owned()
    } else {
        format!("/login?next={}", path.replace('/', "%2F"))
    }
}

type Form = Vec<(&'static str, String)>;

/// A form for the POST route `route` with every field its handler reads, naming real rows of
/// `company`: with a valid token it would change something (see the positive controls).
async fn plausible_form(app: &TestApp, company: &Company, route: &str) -> Form {
    let standard = company.standard_profile.clone();
    let manager = company.manager_role.clone();
    match route {
        "/login" => vec![
            ("username", company.sam_username.clone()),
            ("password", MEMBER_PASSWORD.into()),
            ("next", String::new()),
        ],
        "/logout" | "/terms/decline" => vec![],
        "/login/two-step" => vec![("code", "123456".into()), ("next", String::new())],
        "/login/two-step/passkey/options" => vec![],
        // A secret this server never sealed: refused before any code is checked.
        "/account/two-step/authenticator" => vec![
            ("secret", "not-a-sealed-secret".into()),
            ("name", "Phone".into()),
            ("code", "123456".into()),
        ],
        "/account/two-step/methods" => vec![
            ("action", "remove".into()),
            ("method_id", "0195a7c2-0000-7000-8000-000000000000".into()),
        ],
        "/account/two-step/recovery-codes" => vec![],
        // The upload routes get a picture too (see `post`); removing takes only the token.
        "/account/picture"
        | "/account/picture/remove"
        | "/setup/users/{user_id}/picture"
        | "/setup/users/{user_id}/picture/remove" => vec![],
        "/password/forgot" => vec![("username", company.sam_username.clone())],
        "/account/two-step/passkeys/options" => vec![("name", "Laptop".into())],
        "/account/two-step/passkeys" => vec![
            ("name", "Laptop".into()),
            ("ceremony", String::new()),
            ("credential", "{}".into()),
        ],
        "/password/reset" => vec![
            ("password", RESET_PASSWORD.into()),
            ("password_confirmation", RESET_PASSWORD.into()),
        ],
        "/terms/accept" => vec![(
            "version_id",
            app.text_value(
                "SELECT id FROM terms_versions WHERE org_id = $1 ORDER BY version DESC LIMIT 1",
                &company.org_id,
            )
            .await
            .expect("current Terms"),
        )],
        "/first-steps" => vec![
            ("item_id", company.ceo_first_step.clone()),
            ("done", "1".into()),
        ],
        "/setup/users/new" => vec![
            ("first_name", "Nina".into()),
            ("last_name", "Newcomer".into()),
            ("email", format!("nina.{}@example.com", company.tag)),
            ("profile_id", standard),
            ("role_id", manager),
            ("personal_message", "Welcome aboard!".into()),
        ],
        // An address nobody has (New User's control above saves Nina).
        "/setup/users/new/preview" => vec![
            ("first_name", "Petra".into()),
            ("last_name", "Preview".into()),
            ("email", format!("petra.{}@example.com", company.tag)),
            ("profile_id", standard),
            ("role_id", manager),
            ("personal_message", "Welcome aboard!".into()),
        ],
        "/account" => vec![("time_zone", "Asia/Tokyo".into())],
        // The upload gets a CSV file too (see `post`).
        "/setup/users/import" => vec![],
        "/setup/users/import/{import_id}/preview" | "/setup/users/import/{import_id}/start" => {
            vec![
                ("first_name_column", "0".into()),
                ("last_name_column", "1".into()),
                ("email_column", "2".into()),
                ("profile_column", String::new()),
                ("role_column", String::new()),
                ("default_profile_id", standard),
                ("default_role_id", manager),
            ]
        }
        "/setup/users/bulk" => vec![
            ("action", "deactivate".into()),
            ("confirmed", "1".into()),
            ("ids", company.ken.clone()),
            ("view", "all".into()),
            ("q", String::new()),
        ],
        "/setup/users/{user_id}/edit" => vec![
            ("first_name", "Grace".into()),
            ("last_name", "Brewster".into()),
            ("email", company.grace_email.clone()),
            ("profile_id", standard),
            ("role_id", manager),
        ],
        "/setup/users/{user_id}/actions" => {
            vec![("action", "deactivate".into()), ("confirmed", "1".into())]
        }
        "/setup/profiles" => vec![
            ("name", "Estimators".into()),
            ("description", "Price the jobs".into()),
            ("permissions", Permission::ViewSetup.key().into()),
        ],
        "/setup/profiles/{profile_id}" => vec![
            ("name", "Dispatch Desk".into()),
            ("description", "Sends the crews".into()),
            ("permissions", Permission::ViewSetup.key().into()),
        ],
        "/setup/profiles/{profile_id}/delete" => vec![("move_to", standard)],
        "/setup/profiles/{profile_id}/two-step" => vec![("require_two_step", "on".into())],
        "/setup/roles" => vec![
            ("name", "Estimator".into()),
            ("parent_id", manager),
            ("description", "Prices jobs".into()),
        ],
        "/setup/roles/{role_id}" => vec![
            ("name", "Lead Installer".into()),
            ("parent_id", manager),
            ("description", "Leads a crew".into()),
            ("headline", "Your crew's day".into()),
            ("introduction", "Start with the job sheet.".into()),
            ("step_title", "Read the job sheet".into()),
            ("step_link", "/help/first-steps".into()),
            ("step_description", String::new()),
        ],
        "/setup/roles/{role_id}/delete" => vec![("move_to", manager)],
        "/setup/terms" => vec![
            ("body", "Version two of the Terms of Service.".into()),
            ("summary", "Clearer wording".into()),
        ],
        "/setup/scim" => vec![("profile_id", standard), ("role_id", manager)],
        "/setup/company" => vec![
            ("company_name", "Renamed Install".into()),
            ("account_name", "Renamed".into()),
            ("invitation_lifetime_hours", "96".into()),
            ("time_zone", "Europe/Berlin".into()),
        ],
        "/setup/api-tokens/new" => vec![
            ("name", "Payroll sync".into()),
            ("kind", "api".into()),
            ("permissions", Permission::ViewSetup.key().into()),
            ("lifetime_days", "30".into()),
        ],
        "/setup/api-tokens/{token_id}/revoke" => vec![("confirmed", "1".into())],
        "/join/request" => vec![("token", company.eli_token.clone())],
        // Discovery at a closed loopback port fails: nothing is saved (tests/api/sso.rs saves
        // against a real provider).
        "/setup/sso" => vec![
            ("display_name", "Test IdP".into()),
            ("issuer_url", "http://127.0.0.1:9".into()),
            ("client_id", "onestop".into()),
            ("client_secret", "a secret".into()),
            ("domains", "example.com".into()),
        ],
        "/sso/start" => vec![("email", "sam@example.com".into())],
        "/join/sso" => Vec::new(),
        "/join" => vec![
            ("username", company.ivy_username.clone()),
            ("password", JOIN_PASSWORD.into()),
            ("password_confirmation", JOIN_PASSWORD.into()),
            ("time_zone", "America/Los_Angeles".into()),
        ],
        "/first-run" => vec![
            ("code", SecretToken::generate().expose().to_owned()),
            ("company_name", "Second Install".into()),
            ("account_name", "Second".into()),
            ("first_name", "Mallory".into()),
            ("last_name", "Second".into()),
            ("email", "mallory@second.example.com".into()),
            ("username", "mallory".into()),
            ("password", JOIN_PASSWORD.into()),
            ("password_confirmation", JOIN_PASSWORD.into()),
        ],
        other => panic!(
            "POST {other} is new: give it a plausible form, an expected answer and a positive control in route_table.rs"
        ),
    }
}

/// What a route answers a visitor who may use it, with the plausible form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Page(u16),
    Redirect(&'static str),
    /// A redirect to an address that starts so (it names a new row).
    RedirectUnder(&'static str),
}

fn allowed_answer(route: &str) -> Answer {
    match route {
        "/login" | "/join" | "/terms/accept" => Answer::Redirect("/"),
        "/logout" => Answer::Redirect("/login?signed_out=1"),
        "/terms/decline" => Answer::Redirect("/login?declined=1"),
        "/first-steps" => Answer::Redirect("/#first-steps"),
        "/password/reset" => Answer::Redirect("/login?password_changed=1"),
        "/setup/users/new" => Answer::RedirectUnder("/setup/users?invited="),
        // To the mapping step, and to the progress.
        "/setup/users/import" | "/setup/users/import/{import_id}/start" => {
            Answer::RedirectUnder("/setup/users/import/")
        }
        "/account/picture" => Answer::Redirect("/account?picture=saved"),
        "/account/picture/remove" => Answer::Redirect("/account?picture=removed"),
        // Back to the user's page, which says what was done.
        "/setup/users/{user_id}/edit"
        | "/setup/users/{user_id}/actions"
        | "/setup/users/{user_id}/picture"
        | "/setup/users/{user_id}/picture/remove" => Answer::RedirectUnder("/setup/users/"),
        "/account" => Answer::Redirect("/account?saved=1"),
        // The plausible forms name no method of the user (who has none): refused, as
        // tests/api/two_step.rs shows with real ones.
        "/account/two-step/authenticator" | "/account/two-step/recovery-codes" => Answer::Page(400),
        "/account/two-step/methods" => Answer::Page(404),
        "/login/two-step" | "/login/two-step/passkey/options" => Answer::Redirect("/"),
        "/setup/users/bulk" => Answer::RedirectUnder("/setup/users?"),
        "/setup/profiles/{profile_id}" => Answer::Redirect("/setup/profiles"),
        "/setup/roles" | "/setup/roles/{role_id}" => Answer::RedirectUnder("/setup/roles/"),
        "/setup/api-tokens/{token_id}/revoke" => Answer::Redirect("/setup/api-tokens"),
        "/password/forgot"
        | "/join/request"
        | "/setup/profiles"
        | "/setup/profiles/{profile_id}/delete"
        | "/setup/profiles/{profile_id}/two-step"
        | "/setup/roles/{role_id}/delete"
        | "/setup/terms"
        | "/setup/company"
        | "/setup/scim"
        | "/setup/users/new/preview"
        | "/setup/users/import/{import_id}/preview"
        | "/setup/api-tokens/new" => Answer::Page(200),
        // Without a provider (none is set up here): the refusal page, or the form again.
        "/setup/sso" | "/sso/start" | "/join/sso" => Answer::Page(422),
        // Once a company exists the first run is over, whatever the form says.
        "/first-run" => Answer::Page(404),
        // These servers' public URL is an IP address, which cannot be a WebAuthn relying party.
        "/account/two-step/passkeys/options" => Answer::Page(422),
        "/account/two-step/passkeys" => Answer::Page(400),
        other => panic!("POST {other} is new: say in route_table.rs what it answers"),
    }
}

/// What came back: status, Location, body.
struct Reply {
    status: u16,
    location: String,
    body: String,
}

impl Reply {
    /// A bulk action's redirect: its body is the outcome it carries to the list.
    async fn of(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let location = location(&response);
        let body = match crate::helpers::bulk_outcome_in(&response) {
            Some(outcome) => outcome,
            None => response.text().await.unwrap_or_default(),
        };
        Self {
            status,
            location,
            body,
        }
    }

    fn assert_answer(&self, expected: Answer, what: &str) {
        let matches = match expected {
            Answer::Page(status) => self.status == status,
            Answer::Redirect(target) => self.status == 303 && self.location == target,
            Answer::RedirectUnder(prefix) => {
                self.status == 303 && self.location.starts_with(prefix)
            }
        };
        assert!(
            matches,
            "{what}: expected {expected:?}, got {} (Location {:?}): {}",
            self.status, self.location, self.body
        );
    }

    fn assert_page(&self, status: u16, text: &str, what: &str) {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        assert!(
            self.body.contains(text),
            "{what}: the page says {text:?}: {}",
            self.body
        );
    }
}

/// A browser and the form token its pages carry.
struct Browser {
    client: reqwest::Client,
    token: String,
}

/// A browser signed in as `username`, past the Terms.
async fn signed_in(app: &TestApp, username: &str, password: &str) -> Browser {
    let client = app.new_client();
    let response = app.sign_in_with(&client, username, password).await;
    assert_eq!(response.status().as_u16(), 303, "{username} signs in");
    if get(app, &client, "/").await.location == "/terms" {
        assert_eq!(
            location(&app.agree_with(&client).await),
            "/",
            "{username} agrees"
        );
    }
    let home = get(app, &client, "/").await;
    assert_eq!(home.status, 200, "{username}'s homepage");
    Browser {
        token: csrf_token_in(&home.body),
        client,
    }
}

/// A browser that has not signed in but has opened the sign-in page (and has its form cookie).
async fn visitor(app: &TestApp) -> Browser {
    let client = app.new_client();
    let page = get(app, &client, "/login").await;
    Browser {
        token: csrf_token_in(&page.body),
        client,
    }
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> Reply {
    Reply::of(
        client
            .get(app.url(path))
            .send()
            .await
            .expect("GET is answered"),
    )
    .await
}

/// POSTs `form` (with `token` as `csrf_token` if given) as a same-origin browser would, unless
/// `headers` say otherwise.
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    token: Option<&str>,
    form: &Form,
    headers: &[(&str, &str)],
) -> Reply {
    let mut fields: Vec<(&str, &str)> = token
        .map(|token| ("csrf_token", token))
        .into_iter()
        .collect();
    fields.extend(form.iter().map(|(name, value)| (*name, value.as_str())));
    let mut request = if path.ends_with("/picture") {
        // An upload: a multipart form, the token first, and a picture.
        let mut multipart = reqwest::multipart::Form::new();
        for (name, value) in fields {
            multipart = multipart.text(name.to_owned(), value.to_owned());
        }
        let picture = reqwest::multipart::Part::bytes(crate::helpers::png(32, 32))
            .file_name("picture.png")
            .mime_str("image/png")
            .unwrap();
        client
            .post(app.url(path))
            .multipart(multipart.part("picture", picture))
    } else if path == "/setup/users/import" {
        // The import's upload: a multipart form, the token first, and a CSV file.
        let mut multipart = reqwest::multipart::Form::new();
        for (name, value) in fields {
            multipart = multipart.text(name.to_owned(), value.to_owned());
        }
        let file = reqwest::multipart::Part::bytes(
            b"First Name,Last Name,Email\nUna,Upload,una.upload@example.com\n".to_vec(),
        )
        .file_name("people.csv")
        .mime_str("text/csv")
        .unwrap();
        client
            .post(app.url(path))
            .multipart(multipart.part("file", file))
    } else {
        client.post(app.url(path)).form(&fields)
    };
    if !headers.iter().any(|(name, _)| *name == "origin") {
        request = request.header("origin", &app.address);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Reply::of(request.send().await.expect("POST is answered")).await
}

/// Extra request headers.
type Headers = &'static [(&'static str, &'static str)];

/// One forged POST: how it is forged, the token it carries, its headers.
type Case<'a> = (&'static str, Option<&'a str>, Headers);

/// Ways a page of another site (or a sibling subdomain) posts with the victim's own valid token.
const CROSS_SITE: [(&str, Headers); 4] = [
    ("from another origin", &[("origin", "https://evil.example")]),
    (
        "marked cross-site by the browser",
        &[("sec-fetch-site", "cross-site")],
    ),
    (
        "marked same-site (a sibling subdomain) by the browser",
        &[("sec-fetch-site", "same-site")],
    ),
    ("from an opaque (null) origin", &[("origin", "null")]),
];

// ---------------------------------------------------------------------------------------------
// 1. Forged forms.

/// The positive controls, in the order they run: each proves that its route's plausible form
/// with a valid token does change the database, and leaves what the next one needs.
const CONTROLS: [&str; 32] = [
    "/first-steps",
    "/account",
    "/account/picture",
    "/account/picture/remove",
    "/setup/users/{user_id}/picture",
    "/setup/users/{user_id}/picture/remove",
    "/setup/users/new",
    "/setup/users/import",
    "/setup/users/import/{import_id}/start",
    "/setup/users/bulk",
    "/setup/users/{user_id}/edit",
    "/setup/users/{user_id}/actions",
    "/setup/profiles",
    "/setup/profiles/{profile_id}",
    "/setup/profiles/{profile_id}/two-step",
    "/setup/profiles/{profile_id}/delete",
    "/setup/roles",
    "/setup/roles/{role_id}",
    "/setup/roles/{role_id}/delete",
    "/setup/company",
    "/setup/api-tokens/new",
    "/setup/api-tokens/{token_id}/revoke",
    "/setup/scim",
    "/setup/terms",
    "/terms/accept",
    "/terms/decline",
    "/logout",
    "/password/forgot",
    "/join/request",
    "/password/reset",
    "/join",
    "/login",
];

/// POST routes without a positive control, and why.
const WITHOUT_CONTROL: [(&str, &str); 13] = [
    (
        "/setup/sso",
        "saving needs a real OpenID provider (tests/api/sso.rs)",
    ),
    (
        "/sso/start",
        "it needs a configured provider (tests/api/sso.rs)",
    ),
    (
        "/join/sso",
        "it needs a configured provider (tests/api/sso.rs)",
    ),
    (
        "/login/two-step/passkey/options",
        "it needs a pending session of a user with a passkey (tests/browser/passkeys.rs)",
    ),
    (
        "/login/two-step",
        "it needs a pending session and a code of its authenticator app (tests/api/two_step.rs)",
    ),
    (
        "/account/two-step/authenticator",
        "it needs the code of the secret its page sealed (tests/api/two_step.rs)",
    ),
    (
        "/account/two-step/methods",
        "it needs a method of the user's own (tests/api/two_step.rs)",
    ),
    (
        "/account/two-step/recovery-codes",
        "it needs a method of the user's own (tests/api/two_step.rs)",
    ),
    (
        "/account/two-step/passkeys/options",
        "a ceremony needs a host name and an authenticator (tests/api/passkeys.rs, tests/browser/passkeys.rs)",
    ),
    (
        "/account/two-step/passkeys",
        "a ceremony needs a host name and an authenticator (tests/browser/passkeys.rs)",
    ),
    (
        "/first-run",
        "it acts only while no company exists (tests/api/first_run.rs)",
    ),
    (
        "/setup/users/new/preview",
        "a preview writes nothing (tests/api/invitation_messages.rs checks that)",
    ),
    (
        "/setup/users/import/{import_id}/preview",
        "a preview writes nothing (tests/api/user_import.rs checks that)",
    ),
];

async fn every_state_changing_route_refuses_a_missing_a_foreign_and_a_cross_site_token(
    app: TestApp,
) {
    let hash = member_hash(&app).await;
    let company = company(&app, COMPANY, "ada", "a", &hash).await;
    let ids = company.ids();
    // Token routes take no cookies, so no form token either (tests/api/api_tokens.rs).
    let posts: Vec<RouteInfo> = route_table()
        .into_iter()
        .filter(|route| route.method.as_str() == "POST" && !route.access.is_token())
        .collect();
    let mut covered: Vec<&str> = CONTROLS.to_vec();
    covered.extend(WITHOUT_CONTROL.iter().map(|(route, _)| *route));
    covered.sort_unstable();
    let mut in_table: Vec<&str> = posts.iter().map(|route| route.path).collect();
    in_table.sort_unstable();
    assert_eq!(
        in_table, covered,
        "every POST route has a positive control (or a reason why not), and every control a route"
    );

    // The administrator, a second session of the company, and visitors before sign-in: one that
    // has opened the sign-in page, an invitation link and a reset link, another one, and one
    // whose browser refuses cookies.
    let mut admin = signed_in(&app, "ada", ADMIN_PASSWORD).await;
    let sam = signed_in(&app, &company.sam_username, MEMBER_PASSWORD).await;
    let guest = visitor(&app).await;
    let opened = guest.client.get(&company.ivy_link).send().await.unwrap();
    assert_eq!(location(&opened), "/join", "the invitation link opens");
    let opened = guest
        .client
        .get(&company.linus_reset_link)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&opened), "/password/reset", "the reset link opens");
    let other_guest = visitor(&app).await;
    let no_cookies = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let snapshot = Snapshot::plan(&app, Scope::Everything).await;
    let before = snapshot.take(&app).await;
    for table in [
        "organizations",
        "users",
        "sessions",
        "profiles",
        "roles",
        "role_first_steps",
        "terms_versions",
        "terms_acceptances",
        "invitations",
        "outbox",
        "password_resets",
        "audit_events",
    ] {
        assert!(
            before
                .iter()
                .any(|row| row.starts_with(&format!("{table}: "))),
            "the snapshot reads the rows of {table}"
        );
    }
    for route in &posts {
        let path = concrete(route.path, &ids);
        let form = plausible_form(&app, &company, route.path).await;
        let admin_cases: Vec<Case> = [
            ("without a token", None, &[][..]),
            (
                "with another session's token",
                Some(sam.token.as_str()),
                &[][..],
            ),
        ]
        .into_iter()
        .chain(
            CROSS_SITE
                .iter()
                .map(|(how, headers)| (*how, Some(admin.token.as_str()), *headers)),
        )
        .collect();
        for (how, token, headers) in admin_cases {
            let reply = post(&app, &admin.client, &path, token, &form, headers).await;
            reply.assert_page(
                403,
                FORM_EXPIRED,
                &format!("the administrator's POST {path} {how}"),
            );
        }
        if route.access == Access::Public {
            // Before sign-in the token is the one in the browser's form cookie.
            let guest_cases: Vec<Case> = [
                ("without a token", None, &[][..]),
                (
                    "with another browser's token",
                    Some(other_guest.token.as_str()),
                    &[][..],
                ),
                (
                    "with the administrator's session token",
                    Some(admin.token.as_str()),
                    &[][..],
                ),
            ]
            .into_iter()
            .chain(
                CROSS_SITE
                    .iter()
                    .map(|(how, headers)| (*how, Some(guest.token.as_str()), *headers)),
            )
            .collect();
            for (how, token, headers) in guest_cases {
                let reply = post(&app, &guest.client, &path, token, &form, headers).await;
                reply.assert_page(403, FORM_EXPIRED, &format!("a visitor's POST {path} {how}"));
            }
            // A browser that keeps no cookie is told to turn them on, token or not.
            for (how, token) in [
                ("without a token", None),
                ("with a token it was shown", Some(guest.token.as_str())),
            ] {
                let reply = post(&app, &no_cookies, &path, token, &form, &[]).await;
                reply.assert_page(
                    400,
                    COOKIES_DISABLED,
                    &format!("a cookieless POST {path} {how}"),
                );
            }
        }
        assert_unchanged(
            &before,
            &snapshot.take(&app).await,
            &format!("a refused POST {path}"),
        );
    }

    // Positive controls: the same forms with a valid token do change the database.
    for route in CONTROLS {
        let path = concrete(route, &ids);
        let form = plausible_form(&app, &company, route).await;
        let public = posts
            .iter()
            .find(|info| info.path == route)
            .is_some_and(|info| info.access == Access::Public);
        let before = snapshot.take(&app).await;
        let reply = if route == "/login" {
            let fresh = visitor(&app).await;
            post(&app, &fresh.client, &path, Some(&fresh.token), &form, &[]).await
        } else if public {
            post(&app, &guest.client, &path, Some(&guest.token), &form, &[]).await
        } else {
            post(&app, &admin.client, &path, Some(&admin.token), &form, &[]).await
        };
        reply.assert_answer(
            allowed_answer(route),
            &format!("POST {path} with a valid token"),
        );
        // "Forgot password" answers at once and looks the account up in the background.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut after = snapshot.take(&app).await;
        while after == before && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
            after = snapshot.take(&app).await;
        }
        assert_ne!(
            after, before,
            "POST {path} with a valid token changes the database, so its refusals above prove something"
        );
        if route == "/terms/decline" {
            admin = signed_in(&app, "ada", ADMIN_PASSWORD).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Every kind of visitor.

/// The visitors of one permission `p`'s Setup routes.
struct PermissionVisitors {
    permission: Permission,
    /// A custom profile with exactly View Setup and `p`.
    allowed: Browser,
    /// A custom profile with every permission but `p`.
    all_but: Browser,
    /// A custom profile with `p` but not View Setup (none when `p` is View Setup).
    without_view_setup: Option<Browser>,
}

async fn every_setup_route_answers_each_kind_of_visitor_as_its_rule_says(app: TestApp) {
    let hash = member_hash(&app).await;
    let company = company(&app, COMPANY, "ada", "a", &hash).await;
    let ids = company.ids();
    // Token routes have their own rule and test (tests/api/api_tokens.rs).
    let table: Vec<RouteInfo> = route_table()
        .into_iter()
        .filter(|route| !route.access.is_token())
        .collect();
    let anonymous = app.new_client();
    // Signed in with the built-in Standard profile; also the signed-in user of SignedIn routes.
    let mut standard = signed_in(&app, &company.sam_username, MEMBER_PASSWORD).await;

    let mut permissions: Vec<Permission> = Vec::new();
    for route in &table {
        if let Access::Setup(permission) = route.access
            && !permissions.contains(&permission)
        {
            permissions.push(permission);
        }
    }
    assert!(
        permissions.contains(&Permission::ViewSetup),
        "the table has Setup routes: {table:?}"
    );
    let mut visitors = Vec::new();
    for (index, permission) in permissions.iter().copied().enumerate() {
        let label = permission.label();
        let member = |profile_name: String, holds: Vec<Permission>, username: String| {
            let app = &app;
            let company = &company;
            let hash = &hash;
            async move {
                let profile = add_profile(app, &company.org_id, &profile_name, &holds).await;
                let user = add_member(
                    app,
                    &company.org_id,
                    "ceo",
                    ("Visitor", format!("Number{index}").as_str()),
                    &username,
                    hash,
                )
                .await;
                app.set_user_profile(&user, &profile).await;
                signed_in(app, &username, MEMBER_PASSWORD).await
            }
        };
        let allowed = member(
            format!("Only {label}"),
            vec![Permission::ViewSetup, permission],
            format!("allowed{index}"),
        )
        .await;
        let all_but = member(
            format!("All but {label}"),
            Permission::ALL
                .into_iter()
                .filter(|other| *other != permission)
                .collect(),
            format!("allbut{index}"),
        )
        .await;
        let without_view_setup = if permission == Permission::ViewSetup {
            None
        } else {
            Some(
                member(
                    format!("{label} without View Setup"),
                    vec![permission],
                    format!("nosetup{index}"),
                )
                .await,
            )
        };
        visitors.push(PermissionVisitors {
            permission,
            allowed,
            all_but,
            without_view_setup,
        });
    }
    let visitors_of = |permission: Permission| {
        visitors
            .iter()
            .find(|visitors| visitors.permission == permission)
            .expect("visitors for every permission of the table")
    };

    let snapshot = Snapshot::plan(&app, Scope::Everything).await;

    // GET: Setup and signed-in pages change nothing, whoever asks (but a download of users is
    // on record: the allowed one adds its audit event, and nothing else).
    let mut before = snapshot.take(&app).await;
    for route in table.iter().filter(|route| route.method.as_str() == "GET") {
        if route.access == Access::Public {
            continue;
        }
        let path = concrete(route.path, &ids);
        let anonymous_reply = get(&app, &anonymous, &path).await;
        match route.access {
            Access::Setup(permission) => {
                assert_eq!(anonymous_reply.status, 303, "anonymous GET {path}");
                assert_eq!(
                    anonymous_reply.location,
                    sign_in_first(&path),
                    "anonymous GET {path}"
                );
                get(&app, &standard.client, &path).await.assert_page(
                    403,
                    NOT_ALLOWED,
                    &format!("Standard profile: GET {path}"),
                );
                let mine = visitors_of(permission);
                get(&app, &mine.all_but.client, &path).await.assert_page(
                    403,
                    NOT_ALLOWED,
                    &format!("every permission but {permission:?}: GET {path}"),
                );
                if let Some(browser) = &mine.without_view_setup {
                    get(&app, &browser.client, &path).await.assert_page(
                        403,
                        NOT_ALLOWED,
                        &format!("{permission:?} without View Setup: GET {path}"),
                    );
                }
                let audited = AUDITED_DOWNLOADS.contains(&route.path);
                if audited {
                    assert_unchanged(
                        &before,
                        &snapshot.take(&app).await,
                        &format!("a refused GET {path}"),
                    );
                }
                let exports_before = exports(&app).await;
                let reply = get(&app, &mine.allowed.client, &path).await;
                assert_eq!(
                    reply.status, 200,
                    "View Setup and {permission:?}: GET {path}: {}",
                    reply.body
                );
                if audited {
                    assert_eq!(
                        exports(&app).await,
                        exports_before + 1,
                        "GET {path} is audited"
                    );
                    before = snapshot.take(&app).await;
                }
            }
            Access::SignedIn => {
                assert_eq!(anonymous_reply.status, 303, "anonymous GET {path}");
                assert_eq!(
                    anonymous_reply.location,
                    sign_in_first(&path),
                    "anonymous GET {path}"
                );
                let reply = get(&app, &standard.client, &path).await;
                assert_eq!(reply.status, 200, "signed in: GET {path}: {}", reply.body);
            }
            Access::SecondStep => {
                // Only a session that owes its second step stays (tests/api/two_step_gate.rs).
                for (who, reply) in [
                    ("anonymous", anonymous_reply),
                    ("signed in", get(&app, &standard.client, &path).await),
                ] {
                    reply.assert_answer(Answer::Redirect("/login"), &format!("{who} GET {path}"));
                }
            }
            Access::MetricsToken => {
                // The test server has no metrics token: /metrics is not there, for anyone.
                assert_eq!(anonymous_reply.status, 404, "anonymous GET {path}");
                for browser in [&standard, &visitors_of(Permission::ManageUsers).allowed] {
                    let reply = get(&app, &browser.client, &path).await;
                    assert_eq!(reply.status, 404, "signed in: GET {path}: {}", reply.body);
                }
            }
            Access::Public => unreachable!("public pages are tried below"),
            Access::ApiToken(_) | Access::ScimToken => unreachable!("token routes are left out"),
        }
        assert_unchanged(&before, &snapshot.take(&app).await, &format!("GET {path}"));
    }
    // Public pages: open to anyone (some record a guessed link in a throttle counter).
    for route in table
        .iter()
        .filter(|route| route.method.as_str() == "GET" && route.access == Access::Public)
    {
        let path = concrete(route.path, &ids);
        let reply = get(&app, &app.new_client(), &path).await;
        assert!(
            reply.status < 500 && !(reply.status == 303 && reply.location.starts_with("/login")),
            "anonymous GET {path} is answered without sending them to sign in: {} {}",
            reply.status,
            reply.location
        );
    }

    // POST: refused visitors change nothing; the allowed one gets the handler's answer.
    let mut terms_version = current_terms_version(&app, &company.org_id).await;
    for route in table.iter().filter(|route| route.method.as_str() == "POST") {
        let path = concrete(route.path, &ids);
        let form = plausible_form(&app, &company, route.path).await;
        let before = snapshot.take(&app).await;
        let anonymous_reply = post(&app, &anonymous, &path, None, &form, &[]).await;
        match route.access {
            Access::Setup(permission) => {
                anonymous_reply.assert_answer(
                    Answer::Redirect("/login"),
                    &format!("anonymous POST {path}"),
                );
                let mine = visitors_of(permission);
                let mut refused = vec![
                    ("Standard profile".to_owned(), &standard),
                    (
                        format!("every permission but {permission:?}"),
                        &mine.all_but,
                    ),
                ];
                if let Some(browser) = &mine.without_view_setup {
                    refused.push((format!("{permission:?} without View Setup"), browser));
                }
                for (who, browser) in refused {
                    post(
                        &app,
                        &browser.client,
                        &path,
                        Some(&browser.token),
                        &form,
                        &[],
                    )
                    .await
                    .assert_page(
                        403,
                        NOT_ALLOWED,
                        &format!("{who}: POST {path}"),
                    );
                }
                assert_unchanged(
                    &before,
                    &snapshot.take(&app).await,
                    &format!("a refused POST {path}"),
                );
                let allowed = &mine.allowed;
                post(
                    &app,
                    &allowed.client,
                    &path,
                    Some(&allowed.token),
                    &form,
                    &[],
                )
                .await
                .assert_answer(
                    allowed_answer(route.path),
                    &format!("View Setup and {permission:?}: POST {path}"),
                );
            }
            Access::SignedIn => {
                anonymous_reply.assert_answer(
                    Answer::Redirect("/login"),
                    &format!("anonymous POST {path}"),
                );
                assert_unchanged(
                    &before,
                    &snapshot.take(&app).await,
                    &format!("an anonymous POST {path}"),
                );
                post(
                    &app,
                    &standard.client,
                    &path,
                    Some(&standard.token),
                    &form,
                    &[],
                )
                .await
                .assert_answer(
                    allowed_answer(route.path),
                    &format!("signed in: POST {path}"),
                );
                if get(&app, &standard.client, "/").await.location == "/login" {
                    // Signing out and declining the Terms end the session.
                    standard = signed_in(&app, &company.sam_username, MEMBER_PASSWORD).await;
                }
            }
            Access::SecondStep => {
                // The form token first (a cookieless browser is told to turn cookies on), then
                // the session: a complete one has nothing to do here.
                anonymous_reply.assert_page(
                    400,
                    COOKIES_DISABLED,
                    &format!("anonymous POST {path}"),
                );
                post(
                    &app,
                    &standard.client,
                    &path,
                    Some(&standard.token),
                    &form,
                    &[],
                )
                .await
                .assert_answer(Answer::Redirect("/"), &format!("signed in: POST {path}"));
                assert_unchanged(
                    &before,
                    &snapshot.take(&app).await,
                    &format!("a POST {path} without a pending session"),
                );
            }
            Access::MetricsToken => panic!("POST {path}: /metrics is read, never posted to"),
            Access::Public => {
                // A browser that has never been here has no cookie: it is told to turn them on.
                anonymous_reply.assert_page(
                    400,
                    COOKIES_DISABLED,
                    &format!("anonymous POST {path}"),
                );
                assert_unchanged(
                    &before,
                    &snapshot.take(&app).await,
                    &format!("an anonymous POST {path}"),
                );
            }
            Access::ApiToken(_) | Access::ScimToken => unreachable!("token routes are left out"),
        }
        // New Terms: everyone agrees again before going on.
        let version = current_terms_version(&app, &company.org_id).await;
        if version != terms_version {
            terms_version = version;
            let mut everyone = vec![&standard.client];
            for mine in &visitors {
                everyone.push(&mine.allowed.client);
                everyone.push(&mine.all_but.client);
                everyone.extend(
                    mine.without_view_setup
                        .as_ref()
                        .map(|browser| &browser.client),
                );
            }
            for client in everyone {
                assert_eq!(location(&app.agree_with(client).await), "/");
            }
        }
    }
}

/// GET routes whose allowed answer records an audit event (a download of personal data).
const AUDITED_DOWNLOADS: &[&str] = &["/setup/users/export.csv"];

async fn exports(app: &TestApp) -> i64 {
    app.number_value(
        "SELECT COUNT(*) FROM audit_events WHERE action = $1",
        "users_exported",
    )
    .await
}

async fn current_terms_version(app: &TestApp, org_id: &str) -> i64 {
    app.number_value(
        "SELECT MAX(version) FROM terms_versions WHERE org_id = $1",
        org_id,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// 3. Another company.

async fn another_companys_administrator_gets_404_on_every_id_route_and_changes_nothing(
    app: TestApp,
) {
    let hash = member_hash(&app).await;
    let a = company(&app, "Alpha Install", "ada", "a", &hash).await;
    let b = company(&app, "Beta Install", "bob", "b", &hash).await;
    let intruder = signed_in(&app, "bob", ADMIN_PASSWORD).await;
    let table = route_table();
    let id_routes: Vec<&RouteInfo> = table
        .iter()
        .filter(|route| names_a_row(route.path) && !route.access.is_token())
        .collect();
    assert!(
        id_routes.len() >= 10,
        "the table has routes naming users, profiles and roles: {id_routes:?}"
    );
    let snapshot = Snapshot::plan(&app, Scope::Organization(&a.org_id)).await;
    let before = snapshot.take(&app).await;
    let holds = |id: &str| before.iter().any(|row| row.contains(id));
    assert!(
        holds(&a.grace) && holds(&a.custom_profile) && holds(&a.installer_role),
        "the snapshot holds the victim's rows"
    );
    assert!(
        !holds(&b.grace) && !holds(&b.org_id),
        "and none of the intruder's"
    );
    let reveals_nothing = |reply: &Reply, what: &str| {
        for name in a.last_names.iter().chain([&a.company_name]) {
            assert!(
                !reply.body.contains(name.as_str()),
                "{what} reveals {name}: {}",
                reply.body
            );
        }
    };

    for ids in a.id_sets() {
        for route in &id_routes {
            let path = concrete(route.path, &ids);
            match route.method.as_str() {
                "GET" => {
                    let reply = get(&app, &intruder.client, &path).await;
                    reply.assert_page(
                        404,
                        NOT_FOUND,
                        &format!("another company's administrator: GET {path}"),
                    );
                    reveals_nothing(&reply, &format!("GET {path}"));
                }
                "POST" => {
                    // Forms naming the other company's rows throughout, and forms naming the
                    // intruder's own profiles and roles.
                    for (whose, source) in [("the victim's", &a), ("their own", &b)] {
                        let form = plausible_form(&app, source, route.path).await;
                        let forms: Vec<Form> = if form.iter().any(|(name, _)| *name == "action") {
                            USER_ACTIONS
                                .iter()
                                .map(|action| {
                                    form.iter()
                                        .map(|(name, value)| {
                                            let value = if *name == "action" {
                                                (*action).to_owned()
                                            } else {
                                                value.clone()
                                            };
                                            (*name, value)
                                        })
                                        .collect()
                                })
                                .collect()
                        } else {
                            vec![form]
                        };
                        for form in forms {
                            let what = format!(
                                "another company's administrator: POST {path} with {whose} choices {form:?}"
                            );
                            let reply = post(
                                &app,
                                &intruder.client,
                                &path,
                                Some(&intruder.token),
                                &form,
                                &[],
                            )
                            .await;
                            reply.assert_page(404, NOT_FOUND, &what);
                            reveals_nothing(&reply, &what);
                        }
                    }
                }
                other => panic!("{other} {path}: a method this test does not know"),
            }
            assert_unchanged(
                &before,
                &snapshot.take(&app).await,
                &format!("another company's administrator at {} {path}", route.method),
            );
        }
    }

    // The bulk actions take ids in the form: the other company's are dropped without a word.
    let bulk = table
        .iter()
        .find(|route| route.path == "/setup/users/bulk" && route.method.as_str() == "POST")
        .expect("the Users page's bulk actions are in the table");
    assert_eq!(bulk.access, Access::Setup(Permission::ManageUsers));
    for action in USER_ACTIONS {
        let mut form: Form = vec![
            ("action", action.to_owned()),
            ("confirmed", "1".to_owned()),
            ("back", "view=all".to_owned()),
        ];
        form.extend(a.users().into_iter().map(|id| ("ids", id)));
        let what = format!("another company's administrator: bulk {action} of its users");
        let reply = post(
            &app,
            &intruder.client,
            bulk.path,
            Some(&intruder.token),
            &form,
            &[],
        )
        .await;
        reply.assert_page(303, " 0 users.", &what);
        reveals_nothing(&reply, &what);
        assert_unchanged(&before, &snapshot.take(&app).await, &what);
    }
}
