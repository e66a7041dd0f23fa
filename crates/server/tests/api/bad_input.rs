use crate::helpers::{
    ADMIN_PASSWORD, Backend, COMPANY, Organization, TestApp, csrf_token_in, html_escaped, location,
    on_both_backends, on_both_databases, save_new_user, spawn_app_with_mail,
};
use crate::invitations::{GRACE_PASSWORD, open_join_link, submit_join};
use crate::smtp::RealSmtpServer;
use onestop_server::usecases::create_organization::{
    CreateError, OrganizationInput, create_organization,
};
use std::time::Duration;

on_both_databases!(
    a_malformed_or_mistyped_body_gets_a_400_page_not_a_500,
    an_oversized_body_is_refused_before_any_work,
    a_one_mebibyte_password_or_an_over_long_chunked_body_is_refused_at_once_without_hashing,
    an_email_used_in_another_organization_is_refused_and_nothing_is_written,
    a_username_taken_in_any_case_is_refused,
    names_with_markup_quotes_cjk_and_direction_overrides_are_stored_as_typed_and_shown_escaped,
    over_long_names_are_refused_with_their_limit_and_nothing_is_written,
    empty_sign_in_fields_are_named,
    invalid_emails_on_new_user_get_their_field_message_and_write_nothing,
    a_line_break_in_a_name_is_refused_and_queues_nothing,
    password_length_edges_and_the_username_are_checked_on_the_join_form,
    passphrases_with_emoji_or_cyrillic_are_accepted_and_sign_in,
    a_password_chosen_in_nfc_signs_in_typed_in_nfd_and_the_other_way_round,
    bad_usernames_on_the_join_form_are_refused_and_the_invitation_stays_live,
    duplicate_missing_and_mistyped_fields_get_exact_statuses_and_no_internals,
    malformed_ids_in_paths_are_404_and_show_no_internals,
);

on_both_backends!(header_looking_text_in_a_name_adds_no_header_and_no_recipient);

/// What no error page may show: traces of the database layer, panics, source paths, SQL.
fn assert_no_internals(context: &str, page: &str) {
    for internal in [
        "sqlx",
        "panicked",
        "src/",
        "SELECT",
        "syntax error",
        "thread '",
    ] {
        assert!(
            !page.contains(internal),
            "{context}: the page shows {internal:?}: {page}"
        );
    }
    assert!(
        !page.to_lowercase().contains("sqlx"),
        "{context}: the page names sqlx: {page}"
    );
}

async fn a_malformed_or_mistyped_body_gets_a_400_page_not_a_500(app: TestApp) {
    app.get("/login").await;
    let cases: [(&str, &[u8]); 3] = [
        (
            "application/x-www-form-urlencoded",
            b"csrf_token=%%%&username",
        ),
        ("application/json", b"{\"username\":\"ada\"}"),
        (
            "application/x-www-form-urlencoded",
            b"username=\xff\xfe&password=x",
        ),
    ];
    for (content_type, body) in cases {
        let response = app
            .client
            .post(app.url("/login"))
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert_eq!(status, 400, "{content_type} {body:?}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains("The form was incomplete or malformed."),
            "{text}"
        );
        assert_no_internals(content_type, &text);
    }
}

/// The sign-in form's cookie (`name=value`) and CSRF token, as a browser has them before it
/// posts `/login`.
async fn sign_in_form(app: &TestApp) -> (String, String) {
    let response = reqwest::Client::new()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("the sign-in form sets its cookie")
        .to_owned();
    let token = csrf_token_in(&response.text().await.unwrap());
    (cookie, token)
}

/// A POST to `/login` as a browser sends it (form cookie, same origin), up to the blank line;
/// `framing` is its Content-Length or Transfer-Encoding header.
fn login_head(app: &TestApp, cookie: &str, framing: &str) -> String {
    let host = app.address.trim_start_matches("http://");
    format!(
        "POST /login HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n{framing}",
        origin = app.address
    )
}

/// After a refused body: nothing is being hashed, nothing was written, and the server answers.
async fn assert_refused_before_any_work(
    app: &TestApp,
    organization: &Organization,
    before: &[(&'static str, i64)],
) {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    assert_eq!(
        app.services.hasher.available_permits(),
        cores,
        "no password is being hashed"
    );
    assert_eq!(app.written_rows().await, before, "nothing was written");
    assert_eq!(
        app.count("throttle_counters").await,
        0,
        "no sign-in attempt was even counted"
    );
    assert_eq!(app.count("sessions").await, 0, "no session");
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    assert!(
        !actions.iter().any(|action| action.starts_with("sign")),
        "no sign-in audit event: {actions:?}"
    );
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 200, "the server still answers");
}

/// A 3 MiB body is refused from its declared length, before the server reads it: the request
/// sends only its first kilobyte, so a server that read on before refusing would wait for the
/// rest and never answer (this fails after 10 s then). The answer is read whole, so a
/// connection reset cannot pass for a refusal.
async fn an_oversized_body_is_refused_before_any_work(app: TestApp) {
    let organization = app.create_organization().await;
    let (cookie, token) = sign_in_form(&app).await;
    let before = app.written_rows().await;
    let declared = 3 * 1024 * 1024;
    let mut prefix = format!("csrf_token={token}&username=ada&password=").into_bytes();
    prefix.resize(1024, b'a');
    let response = app
        .raw_request(
            &login_head(&app, &cookie, &format!("Content-Length: {declared}")),
            &prefix,
        )
        .await;
    assert_eq!(response.status, 413, "{}", response.text);
    assert!(
        response
            .text
            .contains("This form sent far more data than any field accepts."),
        "{}",
        response.text
    );
    assert!(
        response.elapsed < Duration::from_millis(500),
        "refused at once: {:?}",
        response.elapsed
    );
    assert_no_internals("3 MiB body", &response.text);
    assert_refused_before_any_work(&app, &organization, &before).await;
}

async fn a_one_mebibyte_password_or_an_over_long_chunked_body_is_refused_at_once_without_hashing(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    let (cookie, token) = sign_in_form(&app).await;
    let before = app.written_rows().await;

    // A 1 MiB password in an otherwise ordinary sign-in form, declared whole, first 4 KiB sent.
    let start = format!("csrf_token={token}&username=ada&password=");
    let declared = start.len() + 1024 * 1024;
    let mut prefix = start.clone().into_bytes();
    prefix.resize(4096, b'a');
    let response = app
        .raw_request(
            &login_head(&app, &cookie, &format!("Content-Length: {declared}")),
            &prefix,
        )
        .await;
    assert_eq!(response.status, 413, "{}", response.text);
    assert!(
        response.elapsed < Duration::from_millis(500),
        "refused at once: {:?}",
        response.elapsed
    );
    assert_refused_before_any_work(&app, &organization, &before).await;

    // Without a declared length (chunked), the limit is met while reading: a password of 65
    // chunks of 1 KiB, and no last chunk. The server must stop at the limit, not wait for more.
    let mut body = Vec::new();
    let mut chunk = |data: &[u8]| {
        body.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    chunk(start.as_bytes());
    for _ in 0..65 {
        chunk(&[b'a'; 1024]);
    }
    let response = app
        .raw_request(
            &login_head(&app, &cookie, "Transfer-Encoding: chunked"),
            &body,
        )
        .await;
    assert_eq!(response.status, 413, "{}", response.text);
    assert!(
        response.elapsed < Duration::from_millis(500),
        "refused at once: {:?}",
        response.elapsed
    );
    assert_no_internals("chunked body", &response.text);
    assert_refused_before_any_work(&app, &organization, &before).await;

    // The same form with an ordinary password signs in: the size was the only reason.
    let response = app.sign_in("ada", ADMIN_PASSWORD).await;
    assert_eq!(location(&response), "/");
}

fn organization_input(company: &str, email: &str, username: &str) -> OrganizationInput {
    OrganizationInput {
        company_name: company.into(),
        last_name: "Lovelace".into(),
        email: email.into(),
        username: username.into(),
        password: ADMIN_PASSWORD.into(),
        ..OrganizationInput::default()
    }
}

async fn an_email_used_in_another_organization_is_refused_and_nothing_is_written(app: TestApp) {
    app.create_organization().await;
    let result = create_organization(
        &app.services,
        &organization_input("Other Co", "  ADA@example.COM ", "ada2"),
        None,
        None,
    )
    .await;
    let Err(CreateError::Invalid(errors)) = result else {
        panic!("expected a field error, got {result:?}")
    };
    assert_eq!(
        errors.get("email"),
        Some("A user with this email address already exists; use another address.")
    );
    assert_eq!(
        app.count("organizations").await,
        1,
        "the whole organization was rolled back"
    );
    assert_eq!(app.count("profiles").await, 2);
    assert_eq!(app.count("users").await, 1);
}

async fn a_username_taken_in_any_case_is_refused(app: TestApp) {
    app.create_organization().await;
    let result = create_organization(
        &app.services,
        &organization_input("Other Co", "other@example.com", "ADA"),
        None,
        None,
    )
    .await;
    let Err(CreateError::Invalid(errors)) = result else {
        panic!("expected a field error, got {result:?}")
    };
    assert_eq!(
        errors.get("username"),
        Some("This username is taken; choose another.")
    );
    assert_eq!(app.count("organizations").await, 1);
}

/// The organization of these tests, made as `onestop org create` makes it, with `admin` as the
/// administrator's first and last name and `company` as the company name.
async fn organization_with(app: &TestApp, admin: (&str, &str), company: &str) -> Organization {
    let input = OrganizationInput {
        first_name: admin.0.into(),
        last_name: admin.1.into(),
        ..organization_input(company, "ada@example.com", "ada")
    };
    let summary = create_organization(&app.services, &input, None, None)
        .await
        .unwrap();
    Organization {
        scope: onestop_server::tenancy::OrganizationScope::operator(summary.org_id.clone()),
        org_id: summary.org_id.to_string(),
        admin_id: summary.administrator_id.to_string(),
        admin_username: "ada",
    }
}

/// The first and last name stored for the user with this email address.
async fn stored_name(app: &TestApp, email: &str) -> (Option<String>, Option<String>) {
    (
        app.text_value(
            "SELECT first_name FROM users WHERE email_normalized = $1",
            email,
        )
        .await,
        app.text_value(
            "SELECT last_name FROM users WHERE email_normalized = $1",
            email,
        )
        .await,
    )
}

async fn names_with_markup_quotes_cjk_and_direction_overrides_are_stored_as_typed_and_shown_escaped(
    app: TestApp,
) {
    // The administrator's name is markup and quotes, the company's SQL metacharacters.
    let admin = ("<script>alert('admin')</script>", "O'Neil \"Ops\" & Co");
    let company = "Robert'); DROP TABLE users;--";
    let organization = organization_with(&app, admin, company).await;
    let admin_full = format!("{} {}", admin.0, admin.1);
    app.sign_in_as_admin(&organization).await;
    // (first name, last name, email, username)
    let invitees = [
        (
            "<b>Grace</b> \"Amazing\" <img src=x onerror=alert(1)>",
            "Hopper & O'Hara",
            "grace@example.com",
            "grace",
        ),
        ("王小明", "欧阳", "wang@example.com", "wang"),
        // A right-to-left override: "Hopper\u{202E}gpj.exe" displays as "Hopperexe.jpg".
        (
            "\u{202E}Eve",
            "Hopper\u{202E}gpj.exe",
            "eve@example.com",
            "eve.override",
        ),
        // Hebrew in a right-to-left isolate, and in an embedding.
        (
            "\u{2067}שלום\u{2069}",
            "\u{202B}כהן\u{202C}",
            "shalom@example.com",
            "shalom",
        ),
    ];
    let mut links = Vec::new();
    for (first, last, email, _) in invitees {
        links.push(app.invite(first, last, email).await);
    }

    // Stored as typed.
    assert_eq!(
        stored_name(&app, "ada@example.com").await,
        (Some(admin.0.to_owned()), Some(admin.1.to_owned()))
    );
    assert_eq!(
        app.text_value(
            "SELECT company_name FROM organizations WHERE id = $1",
            &organization.org_id
        )
        .await
        .as_deref(),
        Some(company),
        "the users table is still there, and the company name is stored literally"
    );
    for (first, last, email, _) in invitees {
        assert_eq!(
            stored_name(&app, email).await,
            (Some(first.to_owned()), Some(last.to_owned())),
            "{email}"
        );
    }

    // The Users page shows each name escaped, in an isolate of its own.
    let users = app.get_text("/setup/users").await;
    for (first, last, _, _) in invitees {
        let shown = format!("<bdi>{}</bdi>", html_escaped(&format!("{first} {last}")));
        assert!(users.contains(&shown), "{shown} in {users}");
    }
    for raw in ["<script>alert", "<b>Grace", "<img src=x"] {
        assert!(
            !users.contains(raw),
            "{raw} reached the Users page unescaped"
        );
    }

    // The administrator's homepage: the greeting, the header and the company.
    let home = app.get_text("/").await;
    for shown in [
        format!("Welcome, <bdi>{}</bdi>", html_escaped(admin.0)),
        format!(
            "<span class=\"user-name\"><bdi>{}</bdi></span>",
            html_escaped(&admin_full)
        ),
        format!("Your role at <bdi>{}</bdi>", html_escaped(company)),
    ] {
        assert!(home.contains(&shown), "{shown} in {home}");
    }
    assert!(!home.contains("<script>alert"), "{home}");

    // Both parts of each delivered email (.eml files). The HTML part escapes and isolates each
    // name; the text part holds the names as typed, since plain text has no markup to escape
    // and no element to isolate with: a direction override in it reorders the rest of its line
    // in a mail client, which is why the HTML part is what most clients show.
    assert_eq!(app.deliver_emails().await, invitees.len());
    let delivered = app.delivered_emails();
    for (first, _, email, _) in invitees {
        let message = delivered
            .iter()
            .find(|message| message.to == email)
            .unwrap_or_else(|| panic!("an email to {email}"));
        assert_eq!(
            message.subject,
            format!("You are invited to join {company}'s {company} account.")
        );
        assert!(
            message.text.contains(&format!("Hello {first},"))
                && message
                    .text
                    .contains(&format!("{admin_full} has invited you to join {company}'s")),
            "{}",
            message.text
        );
        for shown in [
            format!("Hello <bdi>{}</bdi>,", html_escaped(first)),
            format!("<bdi>{}</bdi> has invited you", html_escaped(&admin_full)),
            format!(
                "<strong><bdi>{0}</bdi>'s <bdi>{0}</bdi></strong>",
                html_escaped(company)
            ),
        ] {
            assert!(message.html.contains(&shown), "{shown} in {}", message.html);
        }
        for raw in ["<script>alert", "<b>Grace", "<img src=x"] {
            assert!(!message.html.contains(raw), "{raw} in {}", message.html);
        }
    }

    // Each invitee joins: their own homepage greets them escaped and isolated.
    for ((first, last, _, username), link) in invitees.iter().zip(&links) {
        let (browser, page) = open_join_link(&app, link).await;
        let response = submit_join(&app, &browser, &page, username, GRACE_PASSWORD).await;
        assert_eq!(location(&response), "/", "{username} joins");
        assert_eq!(location(&app.agree_with(&browser).await), "/");
        let home = browser
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for shown in [
            format!("Welcome, <bdi>{}</bdi>", html_escaped(first)),
            format!(
                "<span class=\"user-name\"><bdi>{}</bdi></span>",
                html_escaped(&format!("{first} {last}"))
            ),
        ] {
            assert!(home.contains(&shown), "{shown} in {home}");
        }
        for raw in ["<b>Grace", "<img src=x"] {
            assert!(!home.contains(raw), "{raw} in {home}");
        }
    }
    assert_eq!(app.count("users").await, 5, "the users table is intact");
}

async fn over_long_names_are_refused_with_their_limit_and_nothing_is_written(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let before = app.written_rows().await;
    // Counted in characters, not bytes: 81 CJK characters are 243 bytes.
    let long_first = "王".repeat(81);
    let long_last = "é".repeat(81);
    let response = save_new_user(
        &app,
        &long_first,
        &long_last,
        "grace@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    for message in [
        "The first name can be at most 80 characters; this one has 81.",
        "The last name can be at most 80 characters; this one has 81.",
        "Nothing was saved.",
    ] {
        assert!(page.contains(message), "{message} in {page}");
    }
    assert_eq!(app.written_rows().await, before, "New User wrote nothing");

    // The company's two names, on the Company page.
    let form = app.get_text("/setup/company").await;
    let lifetime_marker = "name=\"invitation_lifetime_hours\" type=\"text\" value=\"";
    let lifetime = form
        [form.find(lifetime_marker).expect("the lifetime field") + lifetime_marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let long_company = "x".repeat(101);
    let response = app
        .post_form(
            "/setup/company",
            &[
                ("csrf_token", &csrf_token_in(&form)),
                ("company_name", &long_company),
                ("account_name", &long_company),
                ("invitation_lifetime_hours", &lifetime),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    for message in [
        "The company name can be at most 100 characters; this one has 101.",
        "The account name can be at most 100 characters; this one has 101.",
    ] {
        assert!(page.contains(message), "{message} in {page}");
    }
    assert_eq!(
        app.text_value(
            "SELECT company_name || '/' || account_name FROM organizations WHERE id = $1",
            &organization.org_id
        )
        .await
        .as_deref(),
        Some(format!("{COMPANY}/{COMPANY}").as_str())
    );
    assert_eq!(
        app.written_rows().await,
        before,
        "the Company page wrote nothing"
    );

    // At the limits, all is accepted and stored whole.
    let at_limit = ("王".repeat(80), "é".repeat(80));
    app.invite(&at_limit.0, &at_limit.1, "grace@example.com")
        .await;
    assert_eq!(
        stored_name(&app, "grace@example.com").await,
        (Some(at_limit.0), Some(at_limit.1))
    );
}

async fn empty_sign_in_fields_are_named(app: TestApp) {
    let token = csrf_token_in(&app.get_text("/login").await);
    let response = app
        .post_form(
            "/login",
            &[("csrf_token", &token), ("username", " "), ("password", "")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Enter your username or email address.")
            && page.contains("Enter your password."),
        "{page}"
    );
}

async fn invalid_emails_on_new_user_get_their_field_message_and_write_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let before = app.written_rows().await;
    // 255 characters: a 64-character local part and a domain of 63-character-or-shorter labels.
    let too_long = format!(
        "{}@{}.{}.{}.com",
        "a".repeat(64),
        "b".repeat(62),
        "c".repeat(61),
        "d".repeat(61)
    );
    assert_eq!(too_long.chars().count(), 255);
    let one_at = "Enter one email address, like name@example.com, with a single @.";
    let no_spaces = "An email address cannot contain spaces or control characters.";
    let cases: [(&str, &str, &str); 6] = [
        ("no @", "grace.example.com", one_at),
        ("two @", "grace@hopper@example.com", one_at),
        ("an inner space", "grace hopper@example.com", no_spaces),
        (
            "a header after CR LF",
            "grace@example.com\r\nBcc: x@evil.example",
            no_spaces,
        ),
        ("a tab", "grace\t@example.com", no_spaces),
        (
            "255 characters",
            &too_long,
            "An email address can be at most 254 characters; this one has 255.",
        ),
    ];
    for (what, email, message) in cases {
        let response = save_new_user(&app, "Grace", "Hopper", email, "Standard", "Manager").await;
        assert_eq!(response.status().as_u16(), 422, "{what}");
        let page = response.text().await.unwrap();
        let field_error = format!("<p class=\"field-error\" id=\"email-error\">{message}</p>");
        assert!(
            page.contains(&field_error),
            "{what}: {field_error} in {page}"
        );
        assert!(page.contains("Nothing was saved."), "{what}");
        assert_no_internals(what, &page);
        assert_eq!(app.written_rows().await, before, "{what}: nothing written");
    }
    assert!(app.emails_to("x@evil.example").await.is_empty());
}

async fn a_line_break_in_a_name_is_refused_and_queues_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let before = app.written_rows().await;
    for (field, message, name) in [
        (
            "last",
            "The last name cannot contain line breaks or control characters.",
            "Hopper\r\nBcc: eve@evil.example",
        ),
        (
            "last",
            "The last name cannot contain line breaks or control characters.",
            "Hopper\nBcc: eve@evil.example",
        ),
        (
            "first",
            "The first name cannot contain line breaks or control characters.",
            "Grace\rBcc: eve@evil.example",
        ),
        (
            "first",
            "The first name cannot contain line breaks or control characters.",
            "Grace\u{2028}Bcc: eve@evil.example",
        ),
    ] {
        let (first, last) = if field == "first" {
            (name, "Hopper")
        } else {
            ("Grace", name)
        };
        let response = save_new_user(
            &app,
            first,
            last,
            "grace@example.com",
            "Standard",
            "Manager",
        )
        .await;
        assert_eq!(response.status().as_u16(), 422, "{name:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "{name:?}: {page}");
        assert_eq!(
            app.written_rows().await,
            before,
            "{name:?}: nothing written"
        );
    }
    assert_eq!(app.count("outbox").await, 0, "nothing is queued");
    assert!(app.emails_to("eve@evil.example").await.is_empty());
}

/// The headers of a raw message, unfolded, one a line.
fn headers_of(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let head = text.split("\n\n").next().unwrap_or_default();
    let mut headers: Vec<String> = Vec::new();
    for line in head.lines() {
        match (line.starts_with([' ', '\t']), headers.last_mut()) {
            (true, Some(last)) => last.push_str(line),
            _ => headers.push(line.to_owned()),
        }
    }
    headers
}

async fn header_looking_text_in_a_name_adds_no_header_and_no_recipient(backend: Backend) {
    let Some(smtp) = RealSmtpServer::start().await else {
        return;
    };
    let Some(app) = spawn_app_with_mail(backend, None, Some(smtp.url())).await else {
        return;
    };
    // No line break, so allowed: header-looking text in the inviter's name and the company's,
    // which reach the body and the Subject.
    let admin_first = "Ada Bcc: eve@evil.example";
    let company = "Acme Bcc: mallory@evil.example";
    let organization = organization_with(&app, (admin_first, "Lovelace"), company).await;
    app.sign_in_as_admin(&organization).await;
    app.invite(
        "Grace",
        "Hopper To: trent@evil.example",
        "grace@example.com",
    )
    .await;
    assert_eq!(app.deliver_emails().await, 1);
    let messages = smtp.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let raw = smtp.raw_messages();
    assert_eq!(raw.len(), 1, "exactly one message: {messages:?}");
    let headers = headers_of(&raw[0]);
    let named = |name: &str| -> Vec<String> {
        headers
            .iter()
            .filter(|header| {
                header
                    .split(':')
                    .next()
                    .is_some_and(|key| key.eq_ignore_ascii_case(name))
            })
            .cloned()
            .collect()
    };
    assert_eq!(
        named("X-RcptTo"),
        ["X-RcptTo: grace@example.com"],
        "the envelope has exactly one recipient: {headers:?}"
    );
    assert_eq!(named("To").len(), 1, "{headers:?}");
    assert!(named("To")[0].contains("grace@example.com"), "{headers:?}");
    for absent in ["Bcc", "Cc"] {
        assert!(named(absent).is_empty(), "no {absent} header: {headers:?}");
    }
    assert!(
        !headers
            .iter()
            .any(|header| header.contains("evil.example") && !header.starts_with("Subject:")),
        "the header-looking text is in no header but the (encoded) Subject: {headers:?}"
    );
    let email = &messages[0];
    assert_eq!(
        email.subject,
        format!("You are invited to join {company}'s {company} account.")
    );
    assert!(
        email
            .text
            .contains(&format!("{admin_first} Lovelace has invited you")),
        "{}",
        email.text
    );
}

/// Characters of a passphrase with accents, taken `count` code points long (more bytes).
fn accented_password(count: usize) -> String {
    "é mülé zebra ".chars().cycle().take(count).collect()
}

/// Whether `password` signs `username` in from a fresh browser.
async fn signs_in(app: &TestApp, username: &str, password: &str) -> bool {
    let response = app
        .sign_in_with(&app.new_client(), username, password)
        .await;
    match response.status().as_u16() {
        303 => location(&response) == "/",
        401 => false,
        other => panic!("sign-in answered {other}"),
    }
}

/// The status of the user with this email address, and how many live invitations they have.
async fn invitation_state(app: &TestApp, email: &str) -> (String, i64) {
    let status = app
        .text_value(
            "SELECT status FROM users WHERE email_normalized = $1",
            email,
        )
        .await
        .unwrap_or_default();
    let live = app
        .number_value(
            "SELECT COUNT(*) FROM invitations i JOIN users u ON u.id = i.user_id \
             WHERE u.email_normalized = $1 AND i.consumed_at IS NULL \
             AND i.superseded_at IS NULL AND i.revoked_at IS NULL",
            email,
        )
        .await;
    (status, live)
}

async fn password_length_edges_and_the_username_are_checked_on_the_join_form(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let link = app.invite("Grace", "Hopper", "grace@example.com").await;
    let (browser, page) = open_join_link(&app, &link).await;
    let fourteen = accented_password(14);
    let over = accented_password(129);
    assert!(fourteen.len() > 15, "more bytes than code points");
    for (username, password, reason) in [
        (
            "grace",
            fourteen.as_str(),
            "Use at least 15 characters; this password has 14. A few unrelated words make a strong one.",
        ),
        (
            "grace",
            over.as_str(),
            "Use at most 128 characters; this password has 129.",
        ),
        (
            "lighthouse",
            "the LIGHTHOUSE keeper sings at dawn",
            "This password contains your username; choose one that does not.",
        ),
    ] {
        let response = submit_join(&app, &browser, &page, username, password).await;
        assert_eq!(response.status().as_u16(), 422, "{reason}");
        let text = response.text().await.unwrap();
        assert!(text.contains(reason), "{reason} in {text}");
        assert_eq!(
            invitation_state(&app, "grace@example.com").await,
            ("unconfirmed".to_owned(), 1)
        );
    }
    assert_eq!(app.count("sessions").await, 1, "the administrator's only");

    // 15 code points for Grace, 128 for Katherine: both join and sign in with them.
    let fifteen = accented_password(15);
    let at_limit = accented_password(128);
    let response = submit_join(&app, &browser, &page, "grace", &fifteen).await;
    assert_eq!(location(&response), "/");
    let link = app
        .invite("Katherine", "Johnson", "katherine@example.com")
        .await;
    let (browser, page) = open_join_link(&app, &link).await;
    let response = submit_join(&app, &browser, &page, "katherine", &at_limit).await;
    assert_eq!(location(&response), "/");
    assert!(signs_in(&app, "grace", &fifteen).await);
    assert!(signs_in(&app, "katherine", &at_limit).await);
    assert!(
        !signs_in(&app, "katherine", &at_limit[..at_limit.len() - 1]).await,
        "never truncated: one character less is another password"
    );
}

async fn passphrases_with_emoji_or_cyrillic_are_accepted_and_sign_in(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    for (first, email, username, password) in [
        (
            "Ferris",
            "ferris@example.com",
            "ferris",
            "🦀 crabs dance at dawn 🌅",
        ),
        ("Ivan", "ivan@example.com", "ivan", "пароль из слов рыба"),
    ] {
        let link = app.invite(first, "Tester", email).await;
        let (browser, page) = open_join_link(&app, &link).await;
        let response = submit_join(&app, &browser, &page, username, password).await;
        assert_eq!(location(&response), "/", "{password} is accepted");
        assert_eq!(
            invitation_state(&app, email).await,
            ("active".to_owned(), 0)
        );
        assert!(signs_in(&app, username, password).await, "{password}");
    }
}

async fn a_password_chosen_in_nfc_signs_in_typed_in_nfd_and_the_other_way_round(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let composed = "cr\u{e8}me br\u{fb}l\u{e9}e d\u{e9}j\u{e0} vu";
    let decomposed = "cre\u{300}me bru\u{302}le\u{301}e de\u{301}ja\u{300} vu";
    assert_ne!(composed, decomposed);
    for (username, chosen, typed) in [
        ("nfc.user", composed, decomposed),
        ("nfd.user", decomposed, composed),
    ] {
        let email = format!("{username}@example.com");
        let link = app.invite("Unicode", "Tester", &email).await;
        let (browser, page) = open_join_link(&app, &link).await;
        let response = submit_join(&app, &browser, &page, username, chosen).await;
        assert_eq!(location(&response), "/", "{username} joins");
        assert!(
            signs_in(&app, username, typed).await,
            "{username} typed the other form"
        );
        assert!(
            signs_in(&app, username, chosen).await,
            "{username} typed the same form"
        );
    }
}

async fn bad_usernames_on_the_join_form_are_refused_and_the_invitation_stays_live(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let link = app.invite("Grace", "Hopper", "grace@example.com").await;
    let (browser, page) = open_join_link(&app, &link).await;
    let too_long = "g".repeat(33);
    let only_ascii = |shown: &str| {
        format!(
            "Use only letters a-z, digits, dots, underscores and hyphens; {shown} is not allowed."
        )
    };
    let cases = [
        ("empty", String::new(), "Choose a username.".to_owned()),
        (
            "spaces only",
            "   ".to_owned(),
            "Choose a username.".to_owned(),
        ),
        (
            "too short",
            "gh".to_owned(),
            "A username needs at least 3 characters.".to_owned(),
        ),
        (
            "too long",
            too_long,
            "A username can be at most 32 characters.".to_owned(),
        ),
        (
            "reserved admin",
            "admin".to_owned(),
            "\"admin\" is reserved; choose another username.".to_owned(),
        ),
        (
            "reserved Root",
            "Root".to_owned(),
            "\"Root\" is reserved; choose another username.".to_owned(),
        ),
        (
            "confusable (Cyrillic а)",
            "\u{430}dmin".to_owned(),
            only_ascii("'\u{430}'"),
        ),
        ("a slash", "grace/hopper".to_owned(), only_ascii("'/'")),
        (
            "leading ..",
            "..grace".to_owned(),
            "Start the username with a letter or a digit.".to_owned(),
        ),
        (
            "inner ..",
            "grace..hopper".to_owned(),
            "Do not put two of . _ - next to each other.".to_owned(),
        ),
        ("a bell", "grace\u{7}x".to_owned(), only_ascii("'\\u{7}'")),
        ("CR LF", "grace\r\nx".to_owned(), only_ascii("'\\r'")),
    ];
    for (what, username, message) in &cases {
        let response = submit_join(&app, &browser, &page, username, GRACE_PASSWORD).await;
        assert_eq!(response.status().as_u16(), 422, "{what}");
        let text = response.text().await.unwrap();
        let shown = html_escaped(message);
        assert!(text.contains(&shown), "{what}: {shown} in {text}");
        assert_no_internals(what, &text);
        assert_eq!(
            invitation_state(&app, "grace@example.com").await,
            ("unconfirmed".to_owned(), 1),
            "{what}: still Unconfirmed, with a live invitation"
        );
        assert!(
            app.text_value(
                "SELECT password_hash FROM users WHERE email_normalized = $1",
                "grace@example.com"
            )
            .await
            .is_none(),
            "{what}: no password"
        );
    }
    let response = submit_join(&app, &browser, &page, "grace", GRACE_PASSWORD).await;
    assert_eq!(location(&response), "/", "the same invitation still works");
}

async fn duplicate_missing_and_mistyped_fields_get_exact_statuses_and_no_internals(app: TestApp) {
    let organization = app.create_organization().await;
    let (cookie, token) = sign_in_form(&app).await;
    let before = app.written_rows().await;
    let anonymous = reqwest::Client::new();
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, u16, &str, Vec<u8>)> = vec![
        (
            "two usernames",
            400,
            form,
            format!("csrf_token={token}&username=ada&username=grace&password=x").into_bytes(),
        ),
        (
            "two passwords",
            400,
            form,
            format!("csrf_token={token}&username=ada&password=a&password=b").into_bytes(),
        ),
        (
            "JSON",
            400,
            "application/json",
            format!("{{\"csrf_token\":\"{token}\",\"username\":\"ada\",\"password\":\"x\"}}")
                .into_bytes(),
        ),
        (
            "plain text",
            400,
            "text/plain",
            format!("csrf_token={token}&username=ada&password=x").into_bytes(),
        ),
        (
            "multipart",
            400,
            "multipart/form-data; boundary=X",
            b"--X\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nada\r\n--X--\r\n"
                .to_vec(),
        ),
        (
            "invalid UTF-8",
            400,
            form,
            [
                format!("csrf_token={token}&username=").as_bytes(),
                b"\xff\xfe",
                b"&password=x",
            ]
            .concat(),
        ),
        (
            "percent-encoded invalid UTF-8",
            400,
            form,
            format!("csrf_token={token}&username=%FF%FE&password=x").into_bytes(),
        ),
    ];
    for (what, status, content_type, body) in cases {
        let response = anonymous
            .post(app.url("/login"))
            .header("origin", &app.address)
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("The form was incomplete or malformed."),
            "{what}: {page}"
        );
        assert_no_internals(what, &page);
        assert_eq!(app.written_rows().await, before, "{what}: nothing written");
    }
    // A missing password is an empty one: the form says which field to fill in (422), and
    // nothing is checked or counted.
    let response = anonymous
        .post(app.url("/login"))
        .header("origin", &app.address)
        .header("cookie", &cookie)
        .header("content-type", form)
        .body(format!("csrf_token={token}&username=ada"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422, "no password field");
    let page = response.text().await.unwrap();
    assert!(page.contains("Enter your password."), "{page}");
    assert_no_internals("no password field", &page);
    assert_eq!(
        app.written_rows().await,
        before,
        "no password field: nothing written"
    );

    // Signed in, New User with two email fields.
    app.sign_in_as_admin(&organization).await;
    let before = app.written_rows().await;
    let form_page = app.get_text("/setup/users/new").await;
    let response = app
        .post_form(
            "/setup/users/new",
            &[
                ("csrf_token", csrf_token_in(&form_page).as_str()),
                ("first_name", "Grace"),
                ("last_name", "Hopper"),
                ("email", "grace@example.com"),
                ("email", "eve@evil.example"),
                (
                    "profile_id",
                    &crate::helpers::option_value(&form_page, "Standard"),
                ),
                (
                    "role_id",
                    &crate::helpers::option_value(&form_page, "Manager"),
                ),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 400, "two email fields");
    assert_no_internals("two email fields", &response.text().await.unwrap());
    assert_eq!(
        app.written_rows().await,
        before,
        "two email fields: nothing written"
    );
}

async fn malformed_ids_in_paths_are_404_and_show_no_internals(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let token = csrf_token_in(&app.get_text("/setup/users").await);
    let before = app.written_rows().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let mut paths = Vec::new();
    for id in [
        "123",
        "x",
        "%00",
        "-1",
        "1'%20OR%20'1'='1",
        "..%2F..%2Fetc%2Fpasswd",
        "%E2%80%AE",
        unknown.as_str(),
    ] {
        paths.push(("GET", format!("/setup/users/{id}")));
        paths.push(("GET", format!("/setup/users/{id}/edit")));
        paths.push(("POST", format!("/setup/users/{id}/edit")));
        paths.push(("POST", format!("/setup/users/{id}/actions")));
        paths.push(("GET", format!("/setup/roles/{id}")));
        paths.push(("POST", format!("/setup/roles/{id}")));
        paths.push(("POST", format!("/setup/roles/{id}/delete")));
        paths.push(("GET", format!("/setup/profiles/{id}")));
        paths.push(("POST", format!("/setup/profiles/{id}")));
        paths.push(("GET", format!("/setup/profiles/{id}/clone")));
        paths.push(("POST", format!("/setup/profiles/{id}/delete")));
    }
    for (method, path) in paths {
        let response = if method == "GET" {
            app.get(&path).await
        } else {
            app.post_form(
                &path,
                &[
                    ("csrf_token", token.as_str()),
                    ("first_name", "Eve"),
                    ("last_name", "Mallory"),
                    ("name", "Eve"),
                    ("action", "deactivate"),
                ],
            )
            .await
        };
        assert_eq!(response.status().as_u16(), 404, "{method} {path}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("There is no page at this address."),
            "{method} {path}: {page}"
        );
        assert_no_internals(&path, &page);
    }
    assert_eq!(app.written_rows().await, before, "nothing was written");
}
