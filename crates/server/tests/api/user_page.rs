//! A user's page (Setup > Users > a name): what it shows, who may see it, its actions (each a
//! redirect back with what it did), Sign out everywhere, and the administrator-started password
//! reset; and the small dead ends of issue 10 (the expired invitation at `/join`, the help
//! article's invitation lifetime, the Audit Log's person search).

use crate::helpers::{
    ADMIN_PASSWORD, Backend, MEMBER_PASSWORD, Organization, TestApp, csrf_token_in, location,
    on_both_databases, spawn_app_with_mail,
};
use crate::invitations::{invite_grace, open_join_link, queued_join_link, save_new_user};
use crate::password_reset::{NEW_PASSWORD, choose, open_reset_link};
use crate::smtp::RealSmtpServer;
use onestop_domain::Permission;
use std::time::Duration;

on_both_databases!(
    a_users_page_shows_their_details_invitations_delivery_and_activity,
    an_active_users_page_shows_where_they_signed_in_and_their_sessions,
    other_companies_users_unknown_and_malformed_ids_are_not_found,
    each_action_redirects_back_with_what_it_did_once,
    sign_out_everywhere_ends_the_users_sessions_but_not_the_administrators_own,
    a_reset_link_goes_only_to_active_users_and_never_to_the_administrator,
    a_manager_sees_a_user_above_them_but_every_action_is_refused,
    an_invitation_that_expired_while_its_form_was_open_offers_the_button,
    the_help_article_states_the_companys_invitation_lifetime,
    the_audit_logs_person_filter_searches_everyone_by_name_email_or_username,
);

async fn user_id(app: &TestApp, email: &str) -> String {
    app.text_value("SELECT id FROM users WHERE email_normalized = $1", email)
        .await
        .expect("the user exists")
}

/// Presses a button of the user's page as the signed-in administrator; returns the answer.
async fn press(app: &TestApp, user: &str, action: &str) -> reqwest::Response {
    let page = app.get_text(&format!("/setup/users/{user}")).await;
    let token = csrf_token_in(&page);
    let path = format!("/setup/users/{user}/actions");
    let response = app
        .post_form(&path, &[("csrf_token", &token), ("action", action)])
        .await;
    if !matches!(action, "delete" | "deactivate") {
        return response;
    }
    // Delete and Deactivate first ask, naming who they change; Confirm posts again.
    assert_eq!(response.status().as_u16(), 200, "{action} asks first");
    let confirmation = response.text().await.unwrap();
    assert!(
        confirmation.contains("name=\"confirmed\"") && confirmation.contains("Cancel"),
        "{confirmation}"
    );
    app.post_form(
        &path,
        &[
            ("csrf_token", &token),
            ("action", action),
            ("confirmed", "1"),
        ],
    )
    .await
}

/// Presses a button and follows the redirect back to the user's page: returns that page.
async fn press_and_read(app: &TestApp, user: &str, action: &str) -> String {
    let response = press(app, user, action).await;
    assert_eq!(response.status().as_u16(), 303, "every action redirects");
    assert_eq!(location(&response), format!("/setup/users/{user}"));
    app.get_text(&location(&response)).await
}

/// Sam, an Active Standard user with a password, signed in (Terms accepted) in a browser of
/// their own.
async fn sam_signed_in(app: &TestApp, organization: &Organization) -> (String, reqwest::Client) {
    let sam = app.add_sam(&organization.org_id).await;
    (sam, signed_in_browser(app, "sam", MEMBER_PASSWORD).await)
}

async fn signed_in_browser(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let browser = app.new_client();
    let response = app.sign_in_with(&browser, username, password).await;
    assert_eq!(response.status().as_u16(), 303, "{username} signs in");
    if home_of(app, &browser).await == "/terms" {
        app.agree_with(&browser).await;
    }
    browser
}

/// Where `/` sends this browser: "" (the homepage itself) when it is signed in.
async fn home_of(app: &TestApp, browser: &reqwest::Client) -> String {
    location(&browser.get(app.url("/")).send().await.unwrap())
}

async fn a_users_page_shows_their_details_invitations_delivery_and_activity(app: TestApp) {
    let (_organization, link) = invite_grace(&app).await;
    app.deliver_emails().await;
    let grace = user_id(&app, "grace@example.com").await;
    let users = app.get_text("/setup/users").await;
    assert!(
        users.contains(&format!("href=\"/setup/users/{grace}\"")),
        "the name on the Users page links to the user's page"
    );
    let page = app.get_text(&format!("/setup/users/{grace}")).await;
    for expected in [
        "<h1><bdi>Grace Hopper</bdi></h1>",
        // No picture yet: her initials, and the form to give her one.
        ">GH</span>",
        &format!("action=\"/setup/users/{grace}/picture\""),
        "<dt>Status</dt><dd>Unconfirmed</dd>",
        "<dt>Profile</dt><dd>Standard</dd>",
        "<dt>Role</dt><dd>Manager</dd>",
        "<dt>Email</dt><dd>grace@example.com</dd>",
        "<dt>Username</dt><dd>Not chosen yet</dd>",
        "<dt>Invited</dt>",
        " by Ada Lovelace</dd>",
        "<dt>Joined</dt><dd>Not yet</dd>",
        "<dt>Last sign-in</dt><dd>Never</dd>",
        // The invitation and its email's delivery.
        "<td>Ada Lovelace</td>",
        "<td>Waiting to be accepted</td>",
        "<td>grace@example.com</td><td>Sent</td><td>1</td>",
        // Her audit events, with the way to all of them.
        "<td>User created</td>",
        "<td>Invitation queued</td>",
        &format!("href=\"/setup/audit?person={grace}\""),
        // The actions that fit an Unconfirmed user.
        "value=\"reinvite\"",
        "value=\"deactivate\"",
        "value=\"delete\"",
        &format!("href=\"/setup/users/{grace}/edit\""),
    ] {
        assert!(page.contains(expected), "the page shows {expected}: {page}");
    }
    assert!(
        !page.contains("value=\"password_reset\""),
        "not before she joins"
    );
    let token = link.rsplit('/').next().unwrap();
    assert!(!page.contains(token), "the page never shows the link");

    // A Reinvite adds the new invitation; the first is shown as replaced.
    app.clock.advance(Duration::from_secs(61));
    let page = press_and_read(&app, &grace, "reinvite").await;
    assert!(page.contains("Invitation resent to 1 user."), "{page}");
    assert!(
        page.contains("<td>Replaced by a newer invitation "),
        "{page}"
    );
    assert!(page.contains("<td>Queued</td><td>0</td>"), "{page}");
    assert!(page.contains("<td>Invitation resent</td>"), "{page}");
}

async fn an_active_users_page_shows_where_they_signed_in_and_their_sessions(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let (sam, _browser) = sam_signed_in(&app, &organization).await;
    let page = app.get_text(&format!("/setup/users/{sam}")).await;
    assert!(page.contains("<dt>Status</dt><dd>Active</dd>"), "{page}");
    assert!(page.contains("<dt>Username</dt><dd>sam</dd>"), "{page}");
    assert!(
        page.contains("<dt>Added</dt>") && !page.contains("<dt>Invited</dt>"),
        "nobody invited Sam: {page}"
    );
    assert!(
        page.contains(&format!(
            "<dt>Last sign-in</dt><dd>{} from 127.0.0.1</dd>",
            app.now()
        )),
        "{page}"
    );
    assert!(page.contains("<h2 id=\"sessions-heading\">Sessions</h2>"));
    assert!(page.contains("<td>127.0.0.1</td>"), "{page}");
    assert!(page.contains("value=\"sign_out_everywhere\""));
    assert!(page.contains("value=\"password_reset\""));
    assert!(!page.contains("value=\"reinvite\"") && !page.contains("value=\"delete\""));
    let stored = app
        .text_value("SELECT last_sign_in_ip FROM users WHERE id = $1", &sam)
        .await;
    assert_eq!(stored.as_deref(), Some("127.0.0.1"));
    // The administrator's own page marks the browser they are using.
    let own = app
        .get_text(&format!("/setup/users/{}", organization.admin_id))
        .await;
    assert!(own.contains("127.0.0.1 (this browser)"), "{own}");
    assert!(!own.contains("value=\"deactivate\""), "not oneself");
}

async fn other_companies_users_unknown_and_malformed_ids_are_not_found(app: TestApp) {
    let organization = app.create_organization().await;
    let other = app
        .create_organization_named("Other Co", "otto", "otto@other.example")
        .await;
    app.sign_in_as_admin(&organization).await;
    let token = csrf_token_in(&app.get_text("/setup/users").await);
    for id in [
        other.admin_id.as_str(),
        "0190a0b0-0000-7000-8000-000000000000",
        "not-an-id",
        "%27%20OR%201%3D1",
    ] {
        let page = app.get(&format!("/setup/users/{id}")).await;
        assert_eq!(page.status().as_u16(), 404, "GET {id}");
        let edit = app.get(&format!("/setup/users/{id}/edit")).await;
        assert_eq!(edit.status().as_u16(), 404, "GET {id}/edit");
        for action in ["deactivate", "sign_out_everywhere", "password_reset"] {
            let response = app
                .post_form(
                    &format!("/setup/users/{id}/actions"),
                    &[("csrf_token", &token), ("action", action)],
                )
                .await;
            assert_eq!(response.status().as_u16(), 404, "{action} {id}");
        }
    }
    let otto = app
        .text_value("SELECT status FROM users WHERE id = $1", &other.admin_id)
        .await;
    assert_eq!(otto.as_deref(), Some("active"));
    assert_eq!(app.store.session_count(&other.admin_id).await.unwrap(), 0);
}

async fn each_action_redirects_back_with_what_it_did_once(app: TestApp) {
    let (organization, _) = invite_grace(&app).await;
    let grace = user_id(&app, "grace@example.com").await;
    app.clock.advance(Duration::from_secs(61));

    let page = press_and_read(&app, &grace, "reinvite").await;
    assert!(page.contains("Invitation resent to 1 user."), "{page}");
    let again = app.get_text(&format!("/setup/users/{grace}")).await;
    assert!(
        !again.contains("Invitation resent to 1 user."),
        "reloading shows the page, not the message again"
    );
    // Pressed again at once: the use case's reason, on the page.
    let page = press_and_read(&app, &grace, "reinvite").await;
    assert!(
        page.contains("Grace Hopper was invited less than a minute ago"),
        "{page}"
    );

    let page = press_and_read(&app, &grace, "deactivate").await;
    assert!(page.contains("Deactivated 1 user."), "{page}");
    assert!(page.contains("<dt>Status</dt><dd>Deactivated</dd>"));
    assert!(page.contains("<td>Revoked "), "the live link died: {page}");
    assert!(page.contains("value=\"activate\"") && !page.contains("value=\"deactivate\""));

    let page = press_and_read(&app, &grace, "activate").await;
    assert!(page.contains("Activated 1 user."), "{page}");
    assert!(page.contains("<dt>Status</dt><dd>Unconfirmed</dd>"));

    // Edit, saved: back here with "Changes saved."
    let form = app.get_text(&format!("/setup/users/{grace}/edit")).await;
    assert!(form.contains(&format!("href=\"/setup/users/{grace}\">Cancel</a>")));
    let response = app
        .post_form(
            &format!("/setup/users/{grace}/edit"),
            &[
                ("csrf_token", &csrf_token_in(&form)),
                ("first_name", "Grace"),
                ("last_name", "Brewster Hopper"),
                ("email", "grace@example.com"),
                (
                    "profile_id",
                    &app.profile_id(&organization.org_id, "Standard").await,
                ),
                (
                    "role_id",
                    &app.role_id(&organization.org_id, "Manager").await,
                ),
            ],
        )
        .await;
    assert_eq!(location(&response), format!("/setup/users/{grace}"));
    let page = app.get_text(&location(&response)).await;
    assert!(page.contains("Changes saved."), "{page}");
    assert!(page.contains("<h1><bdi>Grace Brewster Hopper</bdi></h1>"));

    // Delete: her page is gone with her, so the Users page says it.
    let response = press(&app, &grace, "delete").await;
    assert_eq!(location(&response), "/setup/users");
    let users = app.get_text("/setup/users").await;
    assert!(users.contains("Deleted 1 user."), "{users}");
    assert!(
        !app.get_text("/setup/users")
            .await
            .contains("Deleted 1 user.")
    );
    let gone = app.get(&format!("/setup/users/{grace}")).await;
    assert_eq!(gone.status().as_u16(), 404);

    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    for action in [
        "invitation_resent",
        "user_deactivated",
        "user_activated",
        "user_updated",
        "user_deleted",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
    let unknown = press(&app, &organization.admin_id, "promote").await;
    assert_eq!(unknown.status().as_u16(), 400);
}

async fn sign_out_everywhere_ends_the_users_sessions_but_not_the_administrators_own(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let (sam, phone) = sam_signed_in(&app, &organization).await;
    let laptop = signed_in_browser(&app, "sam", MEMBER_PASSWORD).await;
    let admin_elsewhere = signed_in_browser(&app, "ada", ADMIN_PASSWORD).await;
    assert_eq!(home_of(&app, &phone).await, "");
    assert_eq!(app.store.session_count(&sam).await.unwrap(), 2);
    // A browser of Sam's remembered after a second step, and one of Ada's.
    for (user, token_hash) in [
        (sam.as_str(), "sam-remembered"),
        (organization.admin_id.as_str(), "ada-remembered"),
    ] {
        app.execute(&format!(
            "INSERT INTO remembered_browsers (token_hash, user_id, created_at, expires_at) \
             VALUES ('{token_hash}', '{user}', 0, 9999999999999)"
        ))
        .await;
    }

    let page = press_and_read(&app, &sam, "sign_out_everywhere").await;
    assert!(
        page.contains("Signed out everywhere: 2 sessions ended."),
        "{page}"
    );
    assert!(page.contains("Not signed in anywhere."), "{page}");
    for browser in [&phone, &laptop] {
        assert!(
            home_of(&app, browser).await.starts_with("/login"),
            "Sam's next request is signed out"
        );
    }
    assert_eq!(home_of(&app, &admin_elsewhere).await, "", "Ada's are not");
    let ended = app
        .number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'sessions_ended' AND target_user_id = $1",
            &sam,
        )
        .await;
    assert_eq!(ended, 1, "audited");
    assert_eq!(
        app.text_values("SELECT token_hash FROM remembered_browsers")
            .await,
        ["ada-remembered"],
        "Sam's remembered browser is forgotten, Ada's is not"
    );
    // Sam can sign in again.
    assert_eq!(
        app.sign_in_with(&phone, "sam", MEMBER_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );

    // On her own page: her other browser is signed out, this one stays.
    let page = press_and_read(&app, &organization.admin_id, "sign_out_everywhere").await;
    assert!(
        page.contains("1 session ended. This browser stays signed in."),
        "{page}"
    );
    assert!(home_of(&app, &admin_elsewhere).await.starts_with("/login"));
    assert_eq!(home_of(&app, &app.client).await, "");
}

async fn a_reset_link_goes_only_to_active_users_and_never_to_the_administrator(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let (sam, _) = sam_signed_in(&app, &organization).await;
    save_new_user(
        &app,
        "Grace",
        "Hopper",
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    let grace = user_id(&app, "grace@example.com").await;
    let refused = press_and_read(&app, &grace, "password_reset").await;
    assert!(
        refused.contains(
            "Grace Hopper is not active: only active users can be sent a password reset link."
        ),
        "{refused}"
    );

    let page = press_and_read(&app, &sam, "password_reset").await;
    assert!(
        page.contains("A password reset link is on its way to sam@example.com."),
        "{page}"
    );
    let emails = app.emails_to("sam@example.com").await;
    assert_eq!(emails.len(), 1);
    let link = emails[0].action_url.clone().unwrap();
    let token = link.rsplit('/').next().unwrap();
    assert!(
        !page.contains(token),
        "the administrator never sees the link"
    );
    assert!(page.contains("Password reset emails"), "{page}");
    assert!(page.contains("<td>Queued</td><td>0</td>"), "{page}");
    let requested = app
        .number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'password_reset_requested' \
             AND target_user_id = $1 AND actor_user_id = (SELECT id FROM users WHERE username = 'ada')",
            &sam,
        )
        .await;
    assert_eq!(requested, 1, "audited with the administrator as actor");

    // Three an hour, shared with "Forgot password?": the fourth is refused with the reason.
    press(&app, &sam, "password_reset").await;
    press(&app, &sam, "password_reset").await;
    let page = press_and_read(&app, &sam, "password_reset").await;
    assert!(
        page.contains("Sam Standard has been sent 3 password reset emails in the last hour"),
        "{page}"
    );
    assert_eq!(app.emails_to("sam@example.com").await.len(), 3);
}

async fn a_manager_sees_a_user_above_them_but_every_action_is_refused(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_user_with_profile(
        &organization.org_id,
        "Users Only",
        &[Permission::ViewSetup, Permission::ManageUsers],
        "ceo",
        ("Uma", "Usersonly"),
        "uma",
    )
    .await;
    let ada_browser = signed_in_browser(&app, "ada", ADMIN_PASSWORD).await;
    let uma = signed_in_browser(&app, "uma", MEMBER_PASSWORD).await;
    let ada = &organization.admin_id;
    let page = uma
        .get(app.url(&format!("/setup/users/{ada}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(
            "Their profile or role is above yours: you can see them, but not change them."
        ),
        "{page}"
    );
    for absent in [
        "value=\"deactivate\"",
        "value=\"sign_out_everywhere\"",
        "value=\"password_reset\"",
        "/edit\"",
        "Recent activity",
    ] {
        assert!(!page.contains(absent), "no {absent}: {page}");
    }
    let token = csrf_token_in(&page);
    for action in ["deactivate", "sign_out_everywhere", "password_reset"] {
        let response = uma
            .post(app.url(&format!("/setup/users/{ada}/actions")))
            .header("origin", &app.address)
            .form(&[("csrf_token", token.as_str()), ("action", action)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "{action}: as on Edit User");
    }
    assert_eq!(home_of(&app, &ada_browser).await, "", "Ada stays signed in");
    assert!(app.emails_to("ada@example.com").await.is_empty());
    let status = app
        .text_value("SELECT status FROM users WHERE id = $1", ada)
        .await;
    assert_eq!(status.as_deref(), Some("active"));
}

async fn an_invitation_that_expired_while_its_form_was_open_offers_the_button(app: TestApp) {
    let (_organization, link) = invite_grace(&app).await;
    let (browser, form) = open_join_link(&app, &link).await;
    assert!(form.contains("Update"));
    app.clock.advance(Duration::from_secs(8 * 24 * 60 * 60));
    let page = browser
        .get(app.url("/join"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("This invitation has expired."), "{page}");
    assert!(page.contains("use the button below"), "{page}");
    assert!(
        page.contains(">Ask for a new invitation</button>"),
        "the promised button is there: {page}"
    );
    let asked = browser
        .post(app.url("/join/request"))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", csrf_token_in(&page)),
            ("token", crate::helpers::hidden_field(&page, "token")),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        asked.contains("Your administrators have been asked to send you a new invitation."),
        "{asked}"
    );
    // Submitting the form that was open when it expired: the same page, with the button.
    let submitted = browser
        .post(app.url("/join"))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", csrf_token_in(&form).as_str()),
            ("username", "grace"),
            ("password", "a long enough pass phrase"),
            ("password_confirmation", "a long enough pass phrase"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        submitted.contains(">Ask for a new invitation</button>"),
        "{submitted}"
    );
    assert_eq!(queued_join_link(&app, "grace@example.com").await, link);
}

async fn the_help_article_states_the_companys_invitation_lifetime(app: TestApp) {
    let organization = app.create_organization().await;
    let signed_out = app.new_client();
    let article = signed_out
        .get(app.url("/help/inviting-users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        article.contains("An invitation is valid for 7 days"),
        "the default for a reader who is not signed in: {article}"
    );
    assert!(!article.contains("{invitation_lifetime}"));
    app.sign_in_as_admin(&organization).await;
    let form = app.get_text("/setup/company").await;
    let saved = app
        .post_form(
            "/setup/company",
            &[
                ("csrf_token", &csrf_token_in(&form)),
                ("company_name", "1Stop Install"),
                ("account_name", "1Stop Install"),
                ("invitation_lifetime_hours", "36"),
            ],
        )
        .await;
    assert!(saved.status().is_success() || saved.status().is_redirection());
    let article = app.get_text("/help/inviting-users").await;
    assert!(
        article.contains("An invitation is valid for 36 hours"),
        "{article}"
    );
}

async fn the_audit_logs_person_filter_searches_everyone_by_name_email_or_username(app: TestApp) {
    let organization = app.create_organization().await;
    // More people than the old drop-down listed (200).
    crate::helpers::invite_crew(&app, &organization, 205).await;
    app.sign_in_as_admin(&organization).await;
    let page = app.get_text("/setup/audit").await;
    assert!(
        page.contains("<input id=\"who\" name=\"who\" type=\"search\""),
        "a search field, not a list: {page}"
    );
    assert!(!page.contains("<select id=\"person\""));
    let first_crew = app
        .get_text("/setup/audit?who=Member0000&action=user_created")
        .await;
    assert!(
        first_crew.contains("<td>Crew Member0000</td>") && first_crew.contains("· 1 events"),
        "{first_crew}"
    );
    assert!(!first_crew.contains("Member0001"));
    let by_email = app
        .get_text("/setup/audit?who=CREW204@example&action=user_created")
        .await;
    assert!(
        by_email.contains("<td>Crew Member0204</td>") && by_email.contains("· 1 events"),
        "{by_email}"
    );
    let by_username = app.get_text("/setup/audit?who=ada&action=signed_in").await;
    assert!(by_username.contains("<td>Signed in</td>"), "{by_username}");
    let nobody = app.get_text("/setup/audit?who=nobody%25").await;
    assert!(nobody.contains("No events match."), "{nobody}");
    // The link from a user's page: only their events, and a way back to everyone's.
    let crew = user_id(&app, "crew3@example.com").await;
    let theirs = app.get_text(&format!("/setup/audit?person={crew}")).await;
    assert!(
        theirs.contains("Only the events of <bdi>Crew Member0003</bdi>."),
        "{theirs}"
    );
    assert!(!theirs.contains("<td>Crew Member0004</td>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_started_reset_email_arrives_and_its_link_works_for_an_hour() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(smtp) = RealSmtpServer::start().await else {
            return;
        };
        let Some(app) = spawn_app_with_mail(backend, None, Some(smtp.url())).await else {
            continue;
        };
        let organization = app.create_organization().await;
        app.sign_in_as_admin(&organization).await;
        let (sam, sams_browser) = sam_signed_in(&app, &organization).await;
        press_and_read(&app, &sam, "password_reset").await;
        assert_eq!(app.deliver_emails().await, 1);
        let messages = smtp.wait_for(1).await;
        assert_eq!(messages.len(), 1);
        let email = &messages[0];
        assert_eq!(email.to, "sam@example.com");
        assert_eq!(
            email.subject,
            "Reset your 1Stop password for the 1Stop Install account"
        );
        assert!(
            email
                .text
                .contains("Ada Lovelace, an administrator of 1Stop Install, sent you this link"),
            "{}",
            email.text
        );
        assert!(email.html.contains("an administrator of"), "{}", email.html);
        let expires = app.now().plus(Duration::from_secs(60 * 60));
        assert!(
            email.text.contains(&format!("until {expires}")),
            "one hour: {}",
            email.text
        );
        let link = email.link_after("Choose a new password: ");
        let page = app.get_text(&format!("/setup/users/{sam}")).await;
        assert!(
            page.contains("<td>Sent</td><td>1</td>"),
            "delivered: {page}"
        );
        assert!(!page.contains(&link));

        // The link works, and signs Sam out everywhere.
        let (browser, form) = open_reset_link(&app, &link).await;
        let changed = choose(&app, &browser, &form, NEW_PASSWORD).await;
        assert_eq!(location(&changed), "/login?password_changed=1");
        assert!(home_of(&app, &sams_browser).await.starts_with("/login"));
        assert_eq!(
            app.sign_in_with(&app.new_client(), "sam", NEW_PASSWORD)
                .await
                .status()
                .as_u16(),
            303
        );

        // A second link, one hour and a minute later, has expired.
        press_and_read(&app, &sam, "password_reset").await;
        app.deliver_emails().await;
        let messages = smtp.wait_for(2).await;
        let later = messages
            .iter()
            .map(|email| email.link_after("Choose a new password: "))
            .find(|other| *other != link)
            .expect("a second link");
        app.clock.advance(Duration::from_secs(59 * 60));
        let still = app.new_client().get(&later).send().await.unwrap();
        assert_eq!(location(&still), "/password/reset", "live for the hour");
        app.clock.advance(Duration::from_secs(2 * 60));
        let expired = app.new_client().get(&later).send().await.unwrap();
        assert_eq!(expired.status().as_u16(), 410);
        let expired = expired.text().await.unwrap();
        assert!(expired.contains("This link has expired"), "{expired}");
    }
}
