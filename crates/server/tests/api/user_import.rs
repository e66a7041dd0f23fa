//! Import Users: upload, column mapping, the preview's errors row by row, the background job
//! (with its progress, a runner stopped mid-import, the hourly caps), the result file, the
//! command line, and another company's administrator.

use crate::helpers::{
    BINARY, Organization, TestApp, csrf_token_in, location, on_both_backends, on_both_databases,
    spawn_app_configured,
};
use onestop_domain::Permission;
use onestop_server::usecases::user_import::runner::{ImportRunner, LEASE, Step};
use std::time::Duration;

on_both_databases!(
    the_preview_shows_every_row_with_each_kind_of_error_and_writes_nothing,
    the_import_invites_the_ready_rows_with_their_emails_and_audit_events,
    a_runner_stopped_after_its_first_chunk_is_finished_by_the_next_without_duplicates,
    a_file_with_a_byte_order_mark_semicolons_and_quoted_fields_is_read_and_its_columns_guessed,
    a_file_over_10_mb_is_refused_with_a_message_on_the_form,
    a_file_that_is_not_csv_text_gets_a_message_naming_the_fix,
    another_companys_administrator_cannot_see_the_import,
    an_upload_never_confirmed_is_deleted_after_a_day,
    the_command_line_previews_with_dry_run_and_then_imports,
);

on_both_backends!(emails_beyond_the_hourly_cap_are_queued_for_the_following_hours);

/// Uploads `bytes` as the import form's file, as a same-origin browser would.
async fn upload(app: &TestApp, bytes: Vec<u8>) -> reqwest::Response {
    let page = app.get_text("/setup/users/import").await;
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("people.csv")
        .mime_str("text/csv")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf_token_in(&page))
        .part("file", part);
    app.client
        .post(app.url("/setup/users/import"))
        .header(reqwest::header::ORIGIN, &app.address)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Uploads a file that reads, and returns the job's id from the redirect to its mapping step.
async fn uploaded(app: &TestApp, csv: &str) -> String {
    let response = upload(app, csv.as_bytes().to_vec()).await;
    assert_eq!(response.status().as_u16(), 303, "the upload is taken");
    location(&response)
        .strip_prefix("/setup/users/import/")
        .expect("a redirect to the import's page")
        .to_owned()
}

/// The mapping form as the page offers it (its guesses and defaults), with `changes`.
async fn mapping(
    app: &TestApp,
    import_id: &str,
    changes: &[(&str, &str)],
) -> Vec<(String, String)> {
    let page = app
        .get_text(&format!("/setup/users/import/{import_id}"))
        .await;
    let mut fields = vec![("csrf_token".to_owned(), csrf_token_in(&page))];
    for name in [
        "first_name_column",
        "last_name_column",
        "email_column",
        "profile_column",
        "role_column",
        "default_profile_id",
        "default_role_id",
    ] {
        fields.push((name.to_owned(), selected(&page, name)));
    }
    for (name, value) in changes {
        for field in &mut fields {
            if field.0 == *name {
                field.1 = (*value).to_owned();
            }
        }
    }
    fields
}

/// The value of the selected option of the select `id` (empty when none is marked).
fn selected(page: &str, id: &str) -> String {
    let start = page
        .find(&format!("<select id=\"{id}\""))
        .unwrap_or_else(|| panic!("a select {id}"));
    let select = &page[start..start + page[start..].find("</select>").unwrap()];
    select
        .split("<option")
        .find(|option| option.contains(" selected"))
        .and_then(|option| option.split("value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

async fn post(app: &TestApp, path: &str, fields: &[(String, String)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(reqwest::header::ORIGIN, &app.address)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Runs import runners until none has anything left to do.
async fn run_imports(app: &TestApp) {
    let mut runner = ImportRunner::new(app.services.clone());
    while runner.step(None).await.expect("the import step runs") != Step::Idle {}
}

/// An administrator signed in to a fresh company.
async fn company(app: &TestApp) -> Organization {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    organization
}

async fn users_with_status(app: &TestApp, org_id: &str, status: &str) -> i64 {
    app.number(&format!(
        "SELECT COUNT(*) FROM users WHERE org_id = '{org_id}' AND status = '{status}'"
    ))
    .await
}

async fn the_preview_shows_every_row_with_each_kind_of_error_and_writes_nothing(app: TestApp) {
    // A user manager: may grant only profiles within their own permissions and roles below
    // their own (Manager), so Administrator and CEO are beyond them.
    let organization = app.create_organization().await;
    let manager_role = app.role_id(&organization.org_id, "Manager").await;
    app.store
        .create_role(
            onestop_server::store::Actor {
                scope: &organization.scope,
                user_id: &organization.admin_id,
                ip: None,
                now: app.now(),
            },
            "Installer",
            &onestop_domain::RoleId::from_trusted(manager_role),
            "",
        )
        .await
        .unwrap();
    app.add_user_with_profile(
        &organization.org_id,
        "User Managers",
        &[Permission::ViewSetup, Permission::ManageUsers],
        "manager",
        ("Mia", "Manager"),
        "mia",
    )
    .await;
    app.sign_in("mia", crate::helpers::MEMBER_PASSWORD).await;
    app.agree_to_terms().await;
    let csv = "First Name,Last Name,Email,Profile,Role\n\
               Ada,Byron,ada.byron@example.com,,\n\
               Bad,Email,not-an-address,,\n\
               Nora,,nolast@example.com,,\n\
               Uma,Unknown,uma@example.com,Wizards,\n\
               Ann,Admin,ann@example.com,Administrator,\n\
               Carl,Chief,carl@example.com,,CEO\n\
               Rob,Role,rob@example.com,,Astronaut\n\
               Ada,Again,ADA.BYRON@example.com,,\n\
               Ada,Lovelace,ada@example.com,,\n\
               Sam,Small,sam@example.com,standard,installer\n";
    let users_before = app.count("users").await;
    let import_id = uploaded(&app, csv).await;
    let fields = mapping(&app, &import_id, &[]).await;
    let response = post(
        &app,
        &format!("/setup/users/import/{import_id}/preview"),
        &fields,
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();

    assert!(
        page.contains("<strong>2</strong> rows are ready, <strong>8</strong> with errors"),
        "the counts: {page}"
    );
    for expected in [
        "Email: Enter one email address",
        "Enter the last name.",
        "There is no profile named \u{201c}Wizards\u{201d}",
        "You may not grant the profile \u{201c}Administrator\u{201d}",
        "You may not assign the role \u{201c}CEO\u{201d}",
        "There is no role named \u{201c}Astronaut\u{201d}",
        "The same email address is on row 2; only that row is imported.",
        "A user with this email address already exists",
        "rows with errors are left out",
    ] {
        assert!(
            page.contains(&crate::helpers::html_escaped(expected)),
            "the preview says {expected:?}: {page}"
        );
    }
    // Each row is shown, with its row number in the file.
    for row in 2..=11 {
        assert!(
            page.contains(&format!("<td>{row}</td>")),
            "row {row} is shown"
        );
    }
    assert_eq!(app.count("users").await, users_before, "no user is written");
    assert_eq!(app.count("user_import_rows").await, 0, "no row is written");
    assert_eq!(app.count("outbox").await, 0, "no email is queued");
}

async fn the_import_invites_the_ready_rows_with_their_emails_and_audit_events(app: TestApp) {
    let organization = company(&app).await;
    let csv = "First Name,Last Name,Email,Role\n\
               Grace,Hopper,grace@example.com,CEO\n\
               Ken,Thompson,ken@example.com,\n\
               ,Ritchie,dmr@example.com,\n\
               Eve,Formula,=HYPERLINK(\"x\"),\n";
    let import_id = uploaded(&app, csv).await;
    let fields = mapping(&app, &import_id, &[]).await;
    let response = post(
        &app,
        &format!("/setup/users/import/{import_id}/start"),
        &fields,
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        location(&response),
        format!("/setup/users/import/{import_id}")
    );

    // Nothing is invited until the runner works; the page says how far it is and reloads.
    assert_eq!(
        users_with_status(&app, &organization.org_id, "unconfirmed").await,
        0
    );
    let progress = app.get(&format!("/setup/users/import/{import_id}")).await;
    assert_eq!(
        progress
            .headers()
            .get("refresh")
            .and_then(|v| v.to_str().ok()),
        Some("3"),
        "the progress page reloads itself while the import runs"
    );
    let page = progress.text().await.unwrap();
    assert!(page.contains("<progress"), "{page}");
    assert!(page.contains("0 of 3 rows"), "{page}");

    run_imports(&app).await;

    assert_eq!(
        users_with_status(&app, &organization.org_id, "unconfirmed").await,
        3
    );
    let standard = app.profile_id(&organization.org_id, "Standard").await;
    let ceo = app.role_id(&organization.org_id, "CEO").await;
    let manager = app.role_id(&organization.org_id, "Manager").await;
    assert_eq!(
        app.text_value(
            "SELECT profile_id || ' ' || role_id FROM users WHERE email = $1",
            "grace@example.com"
        )
        .await,
        Some(format!("{standard} {ceo}")),
        "Grace has the default profile and the role her row names"
    );
    assert_eq!(
        app.text_value(
            "SELECT role_id FROM users WHERE email = $1",
            "ken@example.com"
        )
        .await,
        Some(manager),
        "an empty Role cell takes the default (the lowest role)"
    );
    for email in ["grace@example.com", "ken@example.com", "dmr@example.com"] {
        let emails = app.emails_to(email).await;
        assert_eq!(emails.len(), 1, "one invitation email to {email}");
        assert!(emails[0].subject.contains("invit"), "{}", emails[0].subject);
        assert!(
            emails[0]
                .action_url
                .as_deref()
                .unwrap_or_default()
                .contains("/join/"),
            "the email carries a Join Now link"
        );
        assert!(
            emails[0].body_text.contains("Ada Lovelace"),
            "the inviter is named"
        );
    }
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    let count = |action: &str| actions.iter().filter(|a| *a == action).count();
    // Besides the administrator's own, from when the company was made.
    assert_eq!(count("user_created"), 1 + 3);
    assert_eq!(count("invitation_queued"), 3);
    assert_eq!(count("users_imported"), 1);
    assert_eq!(
        app.text_value(
            "SELECT details FROM audit_events WHERE action = $1",
            "users_imported"
        )
        .await
        .as_deref(),
        Some("3 invited, 0 failed, 1 skipped for errors in the preview")
    );
    assert_eq!(
        app.text_value(
            "SELECT actor_user_id FROM audit_events WHERE action = $1",
            "users_imported"
        )
        .await,
        Some(organization.admin_id.clone()),
        "the administrator is the actor"
    );

    // The end: a summary, and the result of each row to download.
    let response = app.get(&format!("/setup/users/import/{import_id}")).await;
    assert!(
        response.headers().get("refresh").is_none(),
        "a finished import stops reloading"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("<strong>3</strong> invited"), "{page}");
    assert!(page.contains("<strong>1</strong> left out"), "{page}");
    // The upload page links it among the earlier imports.
    let page = app.get_text("/setup/users/import").await;
    assert!(
        page.contains(&format!("href=\"/setup/users/import/{import_id}\"")),
        "{page}"
    );
    assert!(page.contains("3 invited, 0 failed, 1 left out"), "{page}");
    let result = app
        .get(&format!("/setup/users/import/{import_id}/result.csv"))
        .await;
    assert_eq!(
        result.headers().get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let csv = result.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "row,email,outcome,message");
    assert_eq!(lines[1], "2,grace@example.com,invited,");
    assert_eq!(lines[3], "4,dmr@example.com,invited,");
    assert!(
        lines[4].starts_with("5,\"'=HYPERLINK(\"\"x\"\")\",skipped,")
            && lines[4].contains("Email:"),
        "a formula is kept as text: {}",
        lines[4]
    );
}

async fn a_runner_stopped_after_its_first_chunk_is_finished_by_the_next_without_duplicates(
    app: TestApp,
) {
    let organization = company(&app).await;
    let mut csv = String::from("First Name,Last Name,Email\n");
    for number in 0..1200 {
        csv.push_str(&format!(
            "Person,Number {number},person{number}@example.com\n"
        ));
    }
    let import_id = uploaded(&app, &csv).await;
    let fields = mapping(&app, &import_id, &[]).await;
    post(
        &app,
        &format!("/setup/users/import/{import_id}/start"),
        &fields,
    )
    .await;

    // The first runner invites one chunk, then stops (its process ends) holding the lease.
    let mut first = ImportRunner::new(app.services.clone());
    assert!(matches!(
        first.step(None).await.unwrap(),
        Step::Chunk { invited: 500, .. }
    ));
    let page = app
        .get_text(&format!("/setup/users/import/{import_id}"))
        .await;
    assert!(page.contains("500 of 1,200 rows"), "{page}");

    // Another runner leaves the job alone while the lease lasts...
    let mut second = ImportRunner::new(app.services.clone());
    assert_eq!(second.step(None).await.unwrap(), Step::Idle);
    // ...and takes it over once the lease has run out, carrying on where the first stopped.
    app.clock.advance(LEASE + Duration::from_secs(1));
    while second.step(None).await.unwrap() != Step::Idle {}
    // The first runner, back late, writes nothing.
    assert!(matches!(
        first.step(None).await.unwrap(),
        Step::LeaseLost { .. }
    ));

    assert_eq!(
        users_with_status(&app, &organization.org_id, "unconfirmed").await,
        1200
    );
    assert_eq!(
        app.number(
            "SELECT COUNT(DISTINCT email_normalized) FROM users WHERE status = 'unconfirmed'"
        )
        .await,
        1200
    );
    assert_eq!(app.count("invitations").await, 1200, "one invitation each");
    assert_eq!(
        app.number("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        1200,
        "one email each"
    );
    let actions = app.store.audit_actions(&organization.scope).await.unwrap();
    assert_eq!(actions.iter().filter(|a| *a == "users_imported").count(), 1);
    assert_eq!(
        actions.iter().filter(|a| *a == "user_created").count(),
        1 + 1200
    );
    let page = app
        .get_text(&format!("/setup/users/import/{import_id}"))
        .await;
    assert!(page.contains("<strong>1,200</strong> invited"), "{page}");
}

async fn a_file_with_a_byte_order_mark_semicolons_and_quoted_fields_is_read_and_its_columns_guessed(
    app: TestApp,
) {
    company(&app).await;
    let csv = "\u{feff}Vorname;Nachname;\"E-Mail\";Abteilung\r\n\
               \"Zo\u{eb}\";\"M\u{fc}ller; Jr.\";zoe@example.com;\"Sales, North\"\r\n";
    let import_id = uploaded(&app, csv).await;
    let page = app
        .get_text(&format!("/setup/users/import/{import_id}"))
        .await;
    assert_eq!(
        selected(&page, "first_name_column"),
        "0",
        "Vorname is the first name"
    );
    assert_eq!(
        selected(&page, "last_name_column"),
        "1",
        "Nachname is the last name"
    );
    assert_eq!(selected(&page, "email_column"), "2", "E-Mail is the email");
    assert_eq!(
        selected(&page, "profile_column"),
        "",
        "no column for the profile"
    );
    let fields = mapping(&app, &import_id, &[]).await;
    let page = post(
        &app,
        &format!("/setup/users/import/{import_id}/preview"),
        &fields,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("<strong>1</strong> row is ready"), "{page}");
    assert!(
        page.contains("M\u{fc}ller; Jr."),
        "the quoted field is one cell: {page}"
    );
    assert!(page.contains("Zo\u{eb}"), "{page}");
}

async fn a_file_over_10_mb_is_refused_with_a_message_on_the_form(app: TestApp) {
    company(&app).await;
    let mut csv = b"First Name,Last Name,Email\n".to_vec();
    csv.resize(10 * 1024 * 1024 + 1, b'a');
    let response = upload(&app, csv).await;
    assert_eq!(response.status().as_u16(), 413);
    let page = response.text().await.unwrap();
    assert!(page.contains("The file is larger than 10 MB."), "{page}");
    assert!(page.contains("id=\"file\""), "the form is shown again");
    assert_eq!(app.count("user_imports").await, 0, "nothing is kept");
}

async fn a_file_that_is_not_csv_text_gets_a_message_naming_the_fix(app: TestApp) {
    company(&app).await;
    for (bytes, message) in [
        (crate::helpers::png(4, 4), "The file is not a CSV text file"),
        (
            b"Nom,Pr\xe9nom,Email\nDupont,Ren\xe9,rene@example.com\n".to_vec(),
            "The file is not UTF-8 text.",
        ),
        (
            b"Dear team\nhere are the new people\n".to_vec(),
            "first line must name its columns",
        ),
        (
            b"First Name,Last Name,Email\n".to_vec(),
            "no rows below its header",
        ),
    ] {
        let response = upload(&app, bytes).await;
        assert_eq!(response.status().as_u16(), 422, "{message}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains(&crate::helpers::html_escaped(message)),
            "the page says {message:?}: {page}"
        );
    }
    let page = upload(&app, b"x\x00y".to_vec()).await.text().await.unwrap();
    assert!(
        page.contains("CSV UTF-8"),
        "the message says how to save a file that works"
    );
    assert_eq!(app.count("user_imports").await, 0, "nothing is kept");
}

async fn another_companys_administrator_cannot_see_the_import(app: TestApp) {
    company(&app).await;
    let import_id = uploaded(
        &app,
        "First Name,Last Name,Email\nAda,Byron,byron@example.com\n",
    )
    .await;
    let fields = mapping(&app, &import_id, &[]).await;

    let other = app
        .create_organization_named("Other Install", "olga", "olga@other.example")
        .await;
    let browser = app.new_client();
    app.sign_in_with(
        &browser,
        other.admin_username,
        crate::helpers::ADMIN_PASSWORD,
    )
    .await;
    app.agree_with(&browser).await;
    for path in [
        format!("/setup/users/import/{import_id}"),
        format!("/setup/users/import/{import_id}/result.csv"),
    ] {
        let response = browser.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "GET {path}");
    }
    let home = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut forged = fields.clone();
    forged[0].1 = csrf_token_in(&home);
    for action in ["preview", "start"] {
        let response = browser
            .post(app.url(&format!("/setup/users/import/{import_id}/{action}")))
            .header(reqwest::header::ORIGIN, &app.address)
            .form(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404, "POST {action}");
    }
    assert_eq!(
        app.count("user_import_rows").await,
        0,
        "nothing was started"
    );
}

async fn emails_beyond_the_hourly_cap_are_queued_for_the_following_hours(
    backend: crate::helpers::Backend,
) {
    let Some(app) = spawn_app_configured(backend, None, None, |services| {
        services.reinvite_limits.per_administrator_per_hour = 2;
        services.reinvite_limits.per_organization_per_hour = 2;
    })
    .await
    else {
        return;
    };
    let organization = company(&app).await;
    let mut csv = String::from("First Name,Last Name,Email\n");
    for number in 0..5 {
        csv.push_str(&format!(
            "Person,Number {number},capped{number}@example.com\n"
        ));
    }
    let import_id = uploaded(&app, &csv).await;
    let fields = mapping(&app, &import_id, &[]).await;
    post(
        &app,
        &format!("/setup/users/import/{import_id}/start"),
        &fields,
    )
    .await;
    run_imports(&app).await;

    // Every user and invitation is created at once...
    assert_eq!(
        users_with_status(&app, &organization.org_id, "unconfirmed").await,
        5
    );
    // ...and the emails are due two an hour.
    let now = app.now().unix_millis();
    let mut due: Vec<i64> = Vec::new();
    for number in 0..5 {
        let email = format!("capped{number}@example.com");
        let at = app
            .text_value(
                "SELECT CAST(next_attempt_at AS TEXT) FROM outbox WHERE recipient = $1",
                &email,
            )
            .await
            .unwrap();
        due.push((at.parse::<i64>().unwrap() - now) / 60_000);
    }
    assert_eq!(due, [0, 0, 61, 61, 122], "minutes until each email is due");
    assert_eq!(app.deliver_emails().await, 2, "two go out now");
    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(app.deliver_emails().await, 2, "two in the next hour");
}

async fn the_command_line_previews_with_dry_run_and_then_imports(app: TestApp) {
    let organization = app.create_organization().await;
    let file = app.data_dir.path().join("people.csv");
    std::fs::write(
        &file,
        "First Name;Last Name;Email;Profile\n\
         Grace;Hopper;grace@example.com;Administrator\n\
         Ken;Thompson;ken@example.com;\n\
         Bad;Row;not-an-address;\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut command = std::process::Command::new(BINARY);
        command
            .args(["users", "import"])
            .arg(&file)
            .args(["--org", &organization.org_id])
            .args(extra)
            .env_clear()
            .env("ONESTOP_DATA_DIR", app.data_dir.path())
            .env("ONESTOP_DATABASE_URL", &app.database_url)
            .env("ONESTOP_LOG", "warn");
        command.output().unwrap()
    };
    let users_before = app.count("users").await;

    let dry = run(&["--dry-run"]);
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        out.contains("row 4: Email: Enter one email address"),
        "{out}"
    );
    assert!(out.contains("2 rows ready, 1 with errors"), "{out}");
    assert!(out.contains("Dry run: nothing was written."), "{out}");
    assert_eq!(app.count("users").await, users_before);
    assert_eq!(app.count("user_imports").await, 0);

    let real = run(&["--role", "ceo"]);
    let out = String::from_utf8_lossy(&real.stdout);
    assert!(
        real.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&real.stderr)
    );
    assert!(out.contains("2 invited, 0 failed, 1 left out"), "{out}");
    assert_eq!(app.count("users").await, users_before + 2);
    let administrator = app.profile_id(&organization.org_id, "Administrator").await;
    assert_eq!(
        app.text_value(
            "SELECT profile_id FROM users WHERE email = $1",
            "grace@example.com"
        )
        .await,
        Some(administrator),
        "the operator grants what the built-in Administrator may"
    );
    assert_eq!(
        app.text_value(
            "SELECT role_id FROM users WHERE email = $1",
            "ken@example.com"
        )
        .await,
        Some(app.role_id(&organization.org_id, "CEO").await),
        "--role names the default role, whatever its capitals"
    );
    assert_eq!(app.emails_to("ken@example.com").await.len(), 1);
    assert_eq!(
        app.number(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'users_imported' AND actor_user_id IS NULL"
        )
        .await,
        1,
        "audited without an actor, as the command line's other changes"
    );
}

async fn an_upload_never_confirmed_is_deleted_after_a_day(app: TestApp) {
    let organization = company(&app).await;
    let file = "First Name,Last Name,Email\nAda,Byron,byron@example.com\n";
    let abandoned = uploaded(&app, file).await;
    app.clock.advance(Duration::from_secs(23 * 60 * 60));
    let recent = app
        .store
        .create_import_draft(&organization.scope, None, file, app.now())
        .await
        .unwrap();
    let runner = ImportRunner::new(app.services.clone());
    runner.purge_abandoned().await;
    assert_eq!(
        app.count("user_imports").await,
        2,
        "both are within the day"
    );
    app.clock.advance(Duration::from_secs(2 * 60 * 60));
    runner.purge_abandoned().await;
    assert_eq!(
        app.text_values("SELECT id FROM user_imports").await,
        [recent],
        "the upload of 25 hours ago is gone"
    );
    assert!(
        app.store
            .import_job(&organization.scope, &abandoned)
            .await
            .unwrap()
            .is_none()
    );
}
