//! Many requests at once on one organization: nobody gets a 500, and whoever loses a race gets
//! the page that says what happened.

use crate::helpers::{
    ADMIN_PASSWORD, MEMBER_PASSWORD, TestApp, bulk_outcome_in, csrf_token_in, invite_crew,
    location, on_both_databases,
};
use crate::invitations::{GRACE_PASSWORD, open_join_link, queued_join_link, submit_join};
use onestop_domain::UserStatus;
use std::time::Duration;

on_both_databases!(
    parallel_joins_reinvites_bulk_actions_and_sign_ins_never_500,
    two_administrators_demoting_or_deactivating_each_other_at_once_leave_one,
    two_administrators_inviting_one_email_at_once_make_one_user_and_one_409,
);

const ALREADY_ACCEPTED: &str = "This invitation has already been accepted.";
const NOT_VALID: &str = "This invitation link is not valid.";
const TAKEN: &str = "This username is taken; choose another.";

/// What came back: the status, where it redirects, and the page.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: String,
    body: String,
}

/// A bulk action's answer is a redirect: its body is then the outcome it carries to the list.
async fn answer(response: reqwest::Response) -> Answer {
    let outcome = bulk_outcome_in(&response);
    Answer {
        status: response.status().as_u16(),
        location: location(&response),
        body: match outcome {
            Some(outcome) => outcome,
            None => response.text().await.unwrap(),
        },
    }
}

/// What one request in the crowd was for.
#[derive(Debug, Clone)]
enum Task {
    /// An invitee joins through their own link.
    Join(usize),
    /// One of two invitees who chose the same username.
    SameUsername(usize),
    /// One of 50 submissions of the same invitation's form.
    Accept,
    /// The invitee who joins while the administrator reinvites her.
    JoinWhileReinvited,
    /// One of two clicks on Reinvite for the same users.
    Reinvite,
    Deactivate,
    Activate,
    /// Someone signs in (while being deactivated or activated, for some).
    SignIn(&'static str),
}

/// The id of crew member `index` (crew{index}@example.com).
async fn crew_id(app: &TestApp, index: usize) -> String {
    app.text_value(
        "SELECT id FROM users WHERE email_normalized = $1",
        &format!("crew{index}@example.com"),
    )
    .await
    .expect("a crew member")
}

async fn status_of(app: &TestApp, user_id: &str) -> String {
    app.text_value("SELECT status FROM users WHERE id = $1", user_id)
        .await
        .unwrap_or_default()
}

/// The reinvite outcome on a Users page: how many were sent, and the lines naming who was not.
fn reinvite_outcome(page: &str) -> (usize, Vec<String>) {
    let start = page
        .find("Invitation resent to ")
        .unwrap_or_else(|| panic!("a reinvite outcome: {page}"))
        + "Invitation resent to ".len();
    let sent = page[start..]
        .split(' ')
        .next()
        .and_then(|count| count.parse().ok())
        .expect("a count");
    let skipped = match page.find("<ul class=\"skipped\">") {
        Some(list) => page[list..page[list..].find("</ul>").unwrap() + list]
            .split("<li>")
            .skip(1)
            .map(|item| item.split("</li>").next().unwrap_or_default().to_owned())
            .collect(),
        None => Vec::new(),
    };
    (sent, skipped)
}

/// About twenty browsers at once (and 50 submissions of one form): six invitees join, two race for
/// one username, one joins while the administrator reinvites her, the administrator clicks
/// Reinvite twice, deactivates two users and activates a third while all three sign in, and Ada
/// signs in from three more browsers. Nothing answers 500, and every loser sees their page:
/// "already accepted", "username is taken", "not valid" for a superseded link, and a Users page
/// that accounts for every selected user.
async fn parallel_joins_reinvites_bulk_actions_and_sign_ins_never_500(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    // crew0-5 join, crew6 and crew7 want one username, crew8's form is sent 50 times, crew9 joins
    // while being reinvited with crew10-15.
    invite_crew(&app, &organization, 16).await;
    let mut active = Vec::new();
    for (first, username) in [("Dora", "dora"), ("Dave", "dave"), ("Abel", "abel")] {
        active.push(
            app.add_active_user(
                &organization.org_id,
                "standard",
                "manager",
                (first, "Member"),
                username,
                MEMBER_PASSWORD,
            )
            .await,
        );
    }
    let (dora, dave, abel) = (active[0].clone(), active[1].clone(), active[2].clone());
    app.store
        .set_user_status(
            &organization.scope,
            &onestop_domain::UserId::parse(&abel).unwrap(),
            UserStatus::Deactivated,
        )
        .await
        .unwrap();
    // Past the reinvite cooldown.
    app.clock.advance(Duration::from_secs(120));

    let mut links = Vec::new();
    for index in 0..16 {
        links.push(queued_join_link(&app, &format!("crew{index}@example.com")).await);
    }
    let mut crew_ids = Vec::new();
    for index in 0..16 {
        crew_ids.push(crew_id(&app, index).await);
    }
    let mut join_forms = Vec::new();
    for link in &links[..10] {
        join_forms.push(open_join_link(&app, link).await);
    }
    // The 50 submissions of crew8's form carry the same cookies, as a browser clicking Update
    // again and again would.
    let accept_csrf = csrf_token_in(&join_forms[8].1);
    let accept_cookie = format!(
        "onestop_join={}; onestop_form={accept_csrf}",
        links[8].rsplit('/').next().unwrap()
    );
    let users_page = app.get_text("/setup/users?view=unconfirmed").await;
    let admin_csrf = csrf_token_in(&users_page);
    let mut sign_in_forms = Vec::new();
    for login in ["ada", "ada", "ada", "dora", "dave", "abel"] {
        let browser = app.new_client();
        let page = browser
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        sign_in_forms.push((login, browser, csrf_token_in(&page)));
    }

    let reinvited: Vec<String> = crew_ids[9..16].to_vec();
    let mut crowd = tokio::task::JoinSet::new();
    let mut spawn = |task: Task, request: reqwest::RequestBuilder| {
        crowd.spawn(async move {
            let response = request.send().await.expect("an answer");
            (task, answer(response).await)
        });
    };
    for index in (0..6).chain([9]) {
        let username = format!("joiner{index}");
        let (browser, page) = &join_forms[index];
        let request = browser
            .post(app.url("/join"))
            .header("origin", &app.address)
            .form(&[
                ("csrf_token", csrf_token_in(page)),
                ("username", username),
                ("password", GRACE_PASSWORD.to_owned()),
                ("password_confirmation", GRACE_PASSWORD.to_owned()),
            ]);
        let task = if index == 9 {
            Task::JoinWhileReinvited
        } else {
            Task::Join(index)
        };
        spawn(task, request);
    }
    for index in [6, 7] {
        let (browser, page) = &join_forms[index];
        let request = browser.post(app.url("/join")).form(&[
            ("csrf_token", csrf_token_in(page)),
            ("username", "same.name".to_owned()),
            ("password", GRACE_PASSWORD.to_owned()),
            ("password_confirmation", GRACE_PASSWORD.to_owned()),
        ]);
        spawn(Task::SameUsername(index), request);
    }
    let no_cookie_store = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..50 {
        let request = no_cookie_store
            .post(app.url("/join"))
            .header(reqwest::header::COOKIE, &accept_cookie)
            .form(&[
                ("csrf_token", accept_csrf.as_str()),
                ("username", "crew.eight"),
                ("password", GRACE_PASSWORD),
                ("password_confirmation", GRACE_PASSWORD),
            ]);
        spawn(Task::Accept, request);
    }
    let bulk = |action: &str, ids: &[String]| {
        let mut form = vec![
            ("csrf_token".to_owned(), admin_csrf.clone()),
            ("view".to_owned(), "all".to_owned()),
            ("action".to_owned(), action.to_owned()),
            ("confirmed".to_owned(), "1".to_owned()),
        ];
        form.extend(ids.iter().map(|id| ("ids".to_owned(), id.clone())));
        app.client
            .post(app.url("/setup/users/bulk"))
            .header("origin", &app.address)
            .form(&form)
    };
    spawn(Task::Reinvite, bulk("reinvite", &reinvited));
    spawn(Task::Reinvite, bulk("reinvite", &reinvited));
    spawn(
        Task::Deactivate,
        bulk("deactivate", &[dora.clone(), dave.clone()]),
    );
    spawn(
        Task::Activate,
        bulk("activate", std::slice::from_ref(&abel)),
    );
    for (login, browser, csrf) in &sign_in_forms {
        let password = if *login == "ada" {
            ADMIN_PASSWORD
        } else {
            MEMBER_PASSWORD
        };
        let request = browser.post(app.url("/login")).form(&[
            ("csrf_token", csrf.as_str()),
            ("username", login),
            ("password", password),
        ]);
        spawn(Task::SignIn(login), request);
    }
    let mut answers = Vec::new();
    while let Some(done) = crowd.join_next().await {
        answers.push(done.unwrap());
    }
    assert_eq!(answers.len(), 7 + 2 + 50 + 2 + 2 + 6);
    for (task, answer) in &answers {
        assert!(answer.status < 500, "{task:?} answered {answer:?}");
    }

    // Each invitee with a link of their own joins.
    for (task, answer) in &answers {
        if let Task::Join(index) = task {
            assert_eq!(answer.location, "/", "crew{index} joins: {answer:?}");
            assert_eq!(status_of(&app, &crew_ids[*index]).await, "active");
        }
    }
    // Two invitees, one username: one joins, the other is asked for another, and can.
    let same: Vec<&(Task, Answer)> = answers
        .iter()
        .filter(|(task, _)| matches!(task, Task::SameUsername(_)))
        .collect();
    let winners = same
        .iter()
        .filter(|(_, answer)| answer.location == "/")
        .count();
    assert_eq!(winners, 1, "one of them gets the username: {same:?}");
    for (task, answer) in &same {
        let Task::SameUsername(index) = task else {
            unreachable!()
        };
        if answer.location != "/" {
            assert_eq!(answer.status, 422, "{answer:?}");
            assert!(answer.body.contains(TAKEN), "{}", answer.body);
            assert_eq!(status_of(&app, &crew_ids[*index]).await, "unconfirmed");
            let (browser, page) = &join_forms[*index];
            let retry = submit_join(&app, browser, page, "other.name", GRACE_PASSWORD).await;
            assert_eq!(location(&retry), "/", "the invitation stayed valid");
        }
    }
    // Fifty submissions of one form: one account; the rest are told it is already accepted.
    let accepts: Vec<&Answer> = answers
        .iter()
        .filter(|(task, _)| matches!(task, Task::Accept))
        .map(|(_, answer)| answer)
        .collect();
    assert_eq!(
        accepts
            .iter()
            .filter(|answer| answer.location == "/")
            .count(),
        1,
        "exactly one submission joins"
    );
    for answer in accepts.iter().filter(|answer| answer.location != "/") {
        assert_eq!(
            (answer.status, answer.body.contains(ALREADY_ACCEPTED)),
            (200, true),
            "a late submission is told the invitation is already accepted: {answer:?}"
        );
    }
    assert_eq!(status_of(&app, &crew_ids[8]).await, "active");
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'joined' AND target_user_id = $1",
            &crew_ids[8]
        )
        .await,
        1
    );

    // Two clicks on Reinvite: the seven get one new invitation each, and both pages account for
    // all seven (sent, or named with the reason). crew9 joined first, or was reinvited first.
    let joined_first = status_of(&app, &crew_ids[9]).await == "active";
    let join_answer = &answers
        .iter()
        .find(|(task, _)| matches!(task, Task::JoinWhileReinvited))
        .unwrap()
        .1;
    if joined_first {
        assert_eq!(join_answer.location, "/", "{join_answer:?}");
    } else {
        assert_eq!(
            (join_answer.status, join_answer.body.contains(NOT_VALID)),
            (404, true),
            "the superseded link is not valid: {join_answer:?}"
        );
    }
    let mut sent_in_total = 0;
    for (task, answer) in &answers {
        if let Task::Reinvite = task {
            eprintln!(
                "crew9 was {} first; a Reinvite page: {:?}",
                if joined_first { "joined" } else { "reinvited" },
                reinvite_outcome(&answer.body)
            );
            assert_eq!(answer.status, 303, "{answer:?}");
            let (sent, skipped) = reinvite_outcome(&answer.body);
            assert_eq!(
                sent + skipped.len(),
                reinvited.len(),
                "every selected user is accounted for: sent {sent}, skipped {skipped:?}"
            );
            sent_in_total += sent;
        }
    }
    let expected_sent = if joined_first { 6 } else { 7 };
    assert_eq!(sent_in_total, expected_sent, "one click counts");
    for (offset, user_id) in reinvited.iter().enumerate() {
        let invitations = app
            .number_value(
                "SELECT COUNT(*) FROM invitations WHERE user_id = $1",
                user_id,
            )
            .await;
        let expected = if offset == 0 && joined_first { 1 } else { 2 };
        assert_eq!(invitations, expected, "crew{}", offset + 9);
    }
    assert_eq!(
        app.number(
            "SELECT COUNT(*) FROM invitations i JOIN users u ON u.id = i.user_id \
              WHERE u.status = 'active' AND i.consumed_at IS NULL \
                AND i.superseded_at IS NULL AND i.revoked_at IS NULL"
        )
        .await,
        0,
        "no Active user keeps a live link"
    );

    // Deactivated while signing in: they end deactivated, and whatever session they got is dead.
    for (task, answer) in &answers {
        match task {
            Task::Deactivate => assert!(answer.body.contains("Deactivated 2 users."), "{answer:?}"),
            Task::Activate => assert!(answer.body.contains("Activated 1 user."), "{answer:?}"),
            Task::SignIn("ada") => assert_eq!(answer.location, "/", "{answer:?}"),
            Task::SignIn(login) => assert!(
                answer.location == "/" || answer.status == 401,
                "{login}: {answer:?}"
            ),
            _ => {}
        }
    }
    assert_eq!(status_of(&app, &dora).await, "deactivated");
    assert_eq!(status_of(&app, &dave).await, "deactivated");
    assert_eq!(status_of(&app, &abel).await, "active");
    for (login, browser, _) in &sign_in_forms {
        if *login == "dora" || *login == "dave" {
            let home = browser.get(app.url("/")).send().await.unwrap();
            assert_eq!(location(&home), "/login", "{login} is not signed in");
        }
    }
}

/// Two Administrators, twenty rounds: in even rounds each deactivates the other at the same
/// moment, in odd rounds each demotes the other to Standard through Edit User. Every round leaves
/// exactly one active Administrator, and the other's page says why nothing happened (or they are
/// no longer allowed, or no longer signed in).
async fn two_administrators_demoting_or_deactivating_each_other_at_once_leave_one(app: TestApp) {
    let organization = app.create_organization().await;
    let ada = organization.admin_id.clone();
    let bob = app
        .add_active_user(
            &organization.org_id,
            "administrator",
            "ceo",
            ("Bob", "Babbage"),
            "bob",
            MEMBER_PASSWORD,
        )
        .await;
    let administrator = app.profile_id(&organization.org_id, "Administrator").await;
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    let ceo = app.role_id(&organization.org_id, "CEO").await;
    let people = [
        (ada.clone(), "ada", ADMIN_PASSWORD, ("Ada", "Lovelace")),
        (bob.clone(), "bob", MEMBER_PASSWORD, ("Bob", "Babbage")),
    ];
    for round in 0..20 {
        // A new sign-in window each round; both are Active Administrators again.
        app.clock.advance(Duration::from_secs(16 * 60));
        for (user_id, ..) in &people {
            app.store
                .set_user_status(
                    &organization.scope,
                    &onestop_domain::UserId::parse(user_id).unwrap(),
                    UserStatus::Active,
                )
                .await
                .unwrap();
            app.set_user_profile(user_id, &administrator).await;
        }
        let mut browsers = Vec::new();
        for (_, username, password, _) in &people {
            let browser = app.new_client();
            let signed_in = app.sign_in_with(&browser, username, password).await;
            assert_eq!(location(&signed_in), "/", "{username} signs in");
            if round == 0 {
                app.agree_with(&browser).await;
            }
            let page = browser
                .get(app.url("/setup/users"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            browsers.push((browser, csrf_token_in(&page)));
        }
        let deactivating = round % 2 == 0;
        let request = |me: usize| {
            let (browser, csrf) = &browsers[me];
            let (other, _, _, (first, last)) = &people[1 - me];
            if deactivating {
                browser
                    .post(app.url(&format!("/setup/users/{other}/actions")))
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("action", "deactivate"),
                        ("confirmed", "1"),
                    ])
                    .send()
            } else {
                browser
                    .post(app.url(&format!("/setup/users/{other}/edit")))
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("first_name", first),
                        ("last_name", last),
                        ("email", ""),
                        ("profile_id", standard.as_str()),
                        ("role_id", ceo.as_str()),
                    ])
                    .send()
            }
        };
        let (first, second) = futures::join!(request(0), request(1));
        let mut answers = [answer(first.unwrap()).await, answer(second.unwrap()).await];
        // Each action redirects to the user's page, which says what happened.
        for (me, reply) in answers.iter_mut().enumerate() {
            if reply.status == 303 && reply.location.starts_with("/setup/users/") {
                let (browser, _) = &browsers[me];
                let page = browser.get(app.url(&reply.location)).send().await.unwrap();
                *reply = answer(page).await;
            }
        }
        let administrators = app
            .store
            .active_administrator_count(&organization.scope)
            .await
            .unwrap();
        assert_eq!(
            administrators, 1,
            "round {round}: exactly one active Administrator is left: {answers:?}"
        );
        for answer in &answers {
            let done = if deactivating {
                answer.status == 200 && answer.body.contains("Deactivated 1 user.")
            } else {
                answer.status == 200 && answer.body.contains("Changes saved.")
            };
            let refused = if deactivating {
                answer.status == 200
                    && answer.body.contains("Deactivated 0 users.")
                    && (answer.body.contains("is the last active administrator")
                        || answer
                            .body
                            .contains("No change was made: it would leave no active administrator"))
            } else {
                (answer.status == 422
                    && answer
                        .body
                        .contains("This is the last active administrator; make someone else an administrator first."))
                    || answer.status == 403
            };
            let signed_out =
                deactivating && answer.status == 303 && answer.location.starts_with("/login");
            assert!(
                done || refused || signed_out,
                "round {round}: each page says what happened: {answer:?}"
            );
        }
        let done = answers
            .iter()
            .filter(|answer| {
                answer.body.contains("Changes saved.")
                    || answer.body.contains("Deactivated 1 user.")
            })
            .count();
        assert_eq!(
            done, 1,
            "round {round}: one change went through: {answers:?}"
        );
    }
}

/// Two Administrators, each in their own browser, save New User for the same person at the same
/// moment, typing the address in different case: five rounds. Each round makes exactly one
/// user, one invitation, one email and one pair of audit events; one administrator is sent on
/// (303), the other gets 409 Conflict and New User again, with "already exists" on the email
/// field and what they typed; and no row anywhere names a user or invitation that does not exist.
async fn two_administrators_inviting_one_email_at_once_make_one_user_and_one_409(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_active_user(
        &organization.org_id,
        "administrator",
        "ceo",
        ("Bob", "Babbage"),
        "bob",
        MEMBER_PASSWORD,
    )
    .await;
    app.sign_in_as_admin(&organization).await;
    let bob = app.new_client();
    assert_eq!(
        location(&app.sign_in_with(&bob, "bob", MEMBER_PASSWORD).await),
        "/"
    );
    assert_eq!(location(&app.agree_with(&bob).await), "/");
    let administrators = [&app.client, &bob];

    for round in 0..5 {
        let addresses = [
            format!("grace{round}@example.com"),
            format!("  GRACE{round}@Example.COM "),
        ];
        let normalized = format!("grace{round}@example.com");
        let users = app.count("users").await;
        let invitations = app.count("invitations").await;
        let outbox = app.count("outbox").await;
        let audit = app.count("audit_events").await;
        let mut forms = Vec::new();
        for browser in administrators {
            let form = browser
                .get(app.url("/setup/users/new"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            forms.push(vec![
                ("csrf_token", csrf_token_in(&form)),
                ("first_name", "Grace".to_owned()),
                ("last_name", "Hopper".to_owned()),
                (
                    "profile_id",
                    crate::helpers::option_value(&form, "Standard"),
                ),
                ("role_id", crate::helpers::option_value(&form, "Manager")),
            ]);
        }
        let saves =
            administrators
                .iter()
                .zip(forms)
                .zip(&addresses)
                .map(|((browser, mut form), email)| {
                    form.push(("email", email.clone()));
                    let request = browser
                        .post(app.url("/setup/users/new"))
                        .header("origin", &app.address)
                        .form(&form);
                    async move { answer(request.send().await.unwrap()).await }
                });
        let answers = futures::future::join_all(saves).await;

        let saved: Vec<&Answer> = answers
            .iter()
            .filter(|answer| answer.status == 303)
            .collect();
        assert_eq!(saved.len(), 1, "round {round}: one is saved: {answers:?}");
        assert!(
            saved[0].location.starts_with("/setup/users?invited="),
            "{answers:?}"
        );
        let refused: Vec<(usize, &Answer)> = answers
            .iter()
            .enumerate()
            .filter(|(_, answer)| answer.status != 303)
            .collect();
        assert_eq!(refused.len(), 1, "round {round}: {answers:?}");
        let (loser, refused) = refused[0];
        assert_eq!(refused.status, 409, "round {round}: {refused:?}");
        assert!(
            refused
                .body
                .contains("A user with this email address already exists; use another address."),
            "round {round}: {}",
            refused.body
        );
        assert!(
            refused.body.contains("<h1>New User</h1>")
                && refused.body.contains("id=\"email-error\"")
                && refused
                    .body
                    .contains(&format!("value=\"{}\"", addresses[loser])),
            "round {round}: New User again, the message on the email field, what was typed: {}",
            refused.body
        );

        let user_id = app
            .text_value(
                "SELECT id FROM users WHERE email_normalized = $1",
                &normalized,
            )
            .await
            .expect("the user");
        assert_eq!(
            app.number_value(
                "SELECT COUNT(*) FROM users WHERE LOWER(TRIM(email)) = $1",
                &normalized
            )
            .await,
            1,
            "round {round}: one user"
        );
        assert_eq!(app.count("users").await, users + 1, "round {round}");
        assert_eq!(
            app.number_value(
                "SELECT COUNT(*) FROM invitations WHERE user_id = $1",
                &user_id
            )
            .await,
            1,
            "round {round}: one invitation"
        );
        assert_eq!(app.count("invitations").await, invitations + 1);
        assert_eq!(
            app.number_value(
                "SELECT COUNT(*) FROM outbox o JOIN invitations i ON i.id = o.invitation_id WHERE i.user_id = $1",
                &user_id
            )
            .await,
            1,
            "round {round}: one email"
        );
        assert_eq!(app.count("outbox").await, outbox + 1);
        assert_eq!(
            app.count("audit_events").await,
            audit + 2,
            "round {round}: user_created and invitation_queued, once"
        );
    }
    // No orphans: every invitation, email and audit event names rows that exist.
    for (what, sql) in [
        (
            "invitations without their user",
            "SELECT COUNT(*) FROM invitations i WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = i.user_id)",
        ),
        (
            "emails without their invitation",
            "SELECT COUNT(*) FROM outbox o WHERE o.invitation_id IS NULL OR NOT EXISTS (SELECT 1 FROM invitations i WHERE i.id = o.invitation_id)",
        ),
        (
            "audit events about users who do not exist",
            "SELECT COUNT(*) FROM audit_events a WHERE a.target_user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.target_user_id)",
        ),
        (
            "users without an invitation",
            "SELECT COUNT(*) FROM users u WHERE u.status = 'unconfirmed' AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = u.id)",
        ),
    ] {
        assert_eq!(app.number(sql).await, 0, "{what}");
    }
}
