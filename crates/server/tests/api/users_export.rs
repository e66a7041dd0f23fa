//! Export Users: Setup > Users > "Export CSV" downloads exactly the users of the list as shown
//! (view, search, filters, sort; every page of it), with formula cells neutralized, audited, and
//! only to those who may manage users, never another company's; and `onestop users export`.

use crate::helpers::{
    BINARY, Backend, MEMBER_PASSWORD, TestApp, invite_crew, location, on_both_backends,
    on_both_databases, spawn_app,
};

on_both_databases!(
    the_export_lists_every_user_of_the_view_search_and_sort_the_page_shows,
    formula_cells_are_neutralized_and_the_export_is_audited,
    another_companys_users_never_appear_in_an_export,
    a_user_who_may_not_manage_users_cannot_export_them,
    the_command_line_exports_an_organization_to_standard_output_or_a_file,
);

on_both_backends!(an_export_imported_into_another_server_brings_back_the_same_people);

const HEADER: [&str; 9] = [
    "First Name",
    "Last Name",
    "Email",
    "Username",
    "Profile",
    "Role",
    "Status",
    "Invited",
    "Last sign-in",
];

/// The CSV's header and rows, read with the `csv` crate as a spreadsheet would.
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            record
                .expect("a well-formed row")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, rows)
}

/// The "Export CSV" link of a Users page, as its HTML carries it.
fn export_link(page: &str) -> String {
    let end = page
        .find("\" download>Export CSV")
        .expect("an Export CSV link");
    let start = page[..end].rfind("href=\"").expect("its href") + "href=\"".len();
    page[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

/// The emails a Users page lists, in its order.
fn emails_on(page: &str, domain: &str) -> Vec<String> {
    let mut emails: Vec<String> = Vec::new();
    for (at, _) in page.match_indices(domain) {
        let start = page[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .map_or(0, |index| index + 1);
        let email = format!("{}{domain}", &page[start..at]);
        if !emails.contains(&email) {
            emails.push(email);
        }
    }
    emails
}

async fn download(client: &reqwest::Client, url: String) -> (u16, String, String) {
    let response = client.get(url).send().await.expect("GET the export");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.expect("a body"))
}

async fn the_export_lists_every_user_of_the_view_search_and_sort_the_page_shows(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    // More than one chunk of the export (500 users), so that it must go on from a keyset.
    invite_crew(&app, &organization, 520).await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Grace", "Hopper"),
        "grace",
        MEMBER_PASSWORD,
    )
    .await;

    // The page: Unconfirmed users matching "member", by name, descending.
    let page = app
        .get_text("/setup/users?view=unconfirmed&q=member&sort=name&dir=desc")
        .await;
    let link = export_link(&page);
    assert!(
        link.starts_with("/setup/users/export.csv?")
            && link.contains("view=unconfirmed")
            && link.contains("q=member")
            && link.contains("dir=desc"),
        "the link carries the list's state: {link}"
    );
    let mut shown = emails_on(&page, "@example.com");
    shown.retain(|email| email.starts_with("crew"));
    assert_eq!(shown.len(), 50, "the page shows 50: {shown:?}");

    let (status, content_type, csv) = download(&app.client, app.url(&link)).await;
    assert_eq!(status, 200, "{csv}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let (header, rows) = read_csv(&csv);
    assert_eq!(header, HEADER);
    assert_eq!(rows.len(), 520, "every match, not one page");
    let emails: Vec<&str> = rows.iter().map(|row| row[2].as_str()).collect();
    assert_eq!(emails[..50], shown, "the export starts as the page does");
    assert_eq!(rows[0][1], "Member0519");
    assert_eq!(rows[519][1], "Member0000");
    assert!(
        rows.iter()
            .all(|row| row[0] == "Crew" && row[6] == "Unconfirmed"),
        "only the view's users"
    );
    assert!(!emails.contains(&"grace@example.com"), "Grace is Active");
    let invited = &rows[0][7];
    assert!(
        invited.len() == 20 && invited.ends_with('Z') && invited.contains('T'),
        "Invited in UTC ISO 8601: {invited}"
    );
    assert_eq!(rows[0][8], "", "never signed in");

    // A narrower search, sorted the other way.
    let (_, _, csv) = download(
        &app.client,
        app.url("/setup/users/export.csv?view=all&q=member000"),
    )
    .await;
    let (_, rows) = read_csv(&csv);
    let last_names: Vec<&str> = rows.iter().map(|row| row[1].as_str()).collect();
    let expected: Vec<String> = (0..10).map(|index| format!("Member{index:04}")).collect();
    assert_eq!(last_names, expected);

    // Active users: the administrator and Grace, with their sign-in.
    let (_, _, csv) = download(&app.client, app.url("/setup/users/export.csv?view=active")).await;
    let (_, rows) = read_csv(&csv);
    let people: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|row| {
            (
                row[1].as_str(),
                row[3].as_str(),
                row[4].as_str(),
                row[5].as_str(),
            )
        })
        .collect();
    assert_eq!(
        people,
        [
            ("Hopper", "grace", "Standard", "Manager"),
            ("Lovelace", "ada", "Administrator", "CEO"),
        ]
    );
    assert!(rows[1][8].ends_with('Z'), "Ada signed in: {:?}", rows[1]);
}

async fn formula_cells_are_neutralized_and_the_export_is_audited(app: TestApp) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("=HYPERLINK(\"http://evil.example/\",\"Click\")", "+Formula"),
        "mallory",
        MEMBER_PASSWORD,
    )
    .await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("@SUM(A1:A9)", "-Minus"),
        "trudy",
        MEMBER_PASSWORD,
    )
    .await;

    let (status, _, csv) =
        download(&app.client, app.url("/setup/users/export.csv?q=example")).await;
    assert_eq!(status, 200);
    let (_, rows) = read_csv(&csv);
    let mallory = rows
        .iter()
        .find(|row| row[3] == "mallory")
        .expect("Mallory is exported");
    assert_eq!(
        mallory[0],
        "'=HYPERLINK(\"http://evil.example/\",\"Click\")"
    );
    assert_eq!(mallory[1], "'+Formula");
    let trudy = rows
        .iter()
        .find(|row| row[3] == "trudy")
        .expect("Trudy is exported");
    assert_eq!(
        (trudy[0].as_str(), trudy[1].as_str()),
        ("'@SUM(A1:A9)", "'-Minus")
    );
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "no cell starts a formula: {row:?}"
            );
        }
    }

    let events = app
        .text_values(&format!(
            "SELECT details || '|' || COALESCE(actor_user_id, '') FROM audit_events \
             WHERE org_id = '{}' AND action = 'users_exported'",
            organization.org_id
        ))
        .await;
    assert_eq!(
        events,
        [format!(
            "3 users exported as CSV (search \"example\")|{}",
            organization.admin_id
        )]
    );
}

async fn another_companys_users_never_appear_in_an_export(app: TestApp) {
    let ours = app.create_organization().await;
    let theirs = app
        .create_organization_named("Other Install", "bob", "bob@other.example")
        .await;
    app.add_active_user(
        &theirs.org_id,
        "standard",
        "manager",
        ("Secret", "Outsider"),
        "outsider",
        MEMBER_PASSWORD,
    )
    .await;
    let their_profile = app.profile_id(&theirs.org_id, "Standard").await;
    let their_role = app.role_id(&theirs.org_id, "Manager").await;
    app.sign_in_as_admin(&ours).await;

    for query in [
        "view=all".to_owned(),
        "q=outsider".to_owned(),
        format!("profile={their_profile}"),
        format!("role={their_role}"),
        "view=admins".to_owned(),
    ] {
        let (status, _, csv) = download(
            &app.client,
            app.url(&format!("/setup/users/export.csv?{query}")),
        )
        .await;
        assert_eq!(status, 200, "{query}");
        assert!(
            !csv.contains("Outsider") && !csv.contains("bob@other.example"),
            "{query}: {csv}"
        );
    }
    let (_, _, csv) = download(&app.client, app.url("/setup/users/export.csv")).await;
    let (_, rows) = read_csv(&csv);
    assert_eq!(rows.len(), 1, "only Ada: {rows:?}");
}

async fn a_user_who_may_not_manage_users_cannot_export_them(app: TestApp) {
    let organization = app.create_organization().await;
    app.add_sam(&organization.org_id).await;
    let anonymous = app.new_client();
    let response = anonymous
        .get(app.url("/setup/users/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert!(location(&response).starts_with("/login"));

    let response = app.sign_in("sam", MEMBER_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    app.agree_to_terms().await;
    let (status, content_type, body) =
        download(&app.client, app.url("/setup/users/export.csv")).await;
    assert_eq!(status, 403, "{body}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(!body.contains("Lovelace") && !body.contains("ada@example.com"));
    assert_eq!(
        app.number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1",
            "users_exported"
        )
        .await,
        0,
        "a refused export is no export"
    );
}

/// `onestop users export ARGS` against the app's database: (exit code, stdout, stderr).
fn users_export(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(BINARY)
        .args(["users", "export"])
        .args(args)
        .env_clear()
        .env("ONESTOP_DATA_DIR", app.data_dir.path())
        .env("ONESTOP_DATABASE_URL", &app.database_url)
        .env("ONESTOP_LOG", "warn")
        .output()
        .expect("the onestop binary runs");
    (
        output.status.code(),
        String::from_utf8(output.stdout).expect("UTF-8"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn the_command_line_exports_an_organization_to_standard_output_or_a_file(app: TestApp) {
    let organization = app.create_organization().await;
    let other = app
        .create_organization_named("Other Install", "bob", "bob@other.example")
        .await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("=1+1", "Hopper"),
        "grace",
        MEMBER_PASSWORD,
    )
    .await;

    let (code, stdout, stderr) = users_export(&app, &["--org", &organization.org_id]);
    assert_eq!(code, Some(0), "{stderr}");
    let (header, rows) = read_csv(&stdout);
    assert_eq!(header, HEADER);
    let names: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|row| (row[0].as_str(), row[1].as_str(), row[2].as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("'=1+1", "Hopper", "grace@example.com"),
            ("Ada", "Lovelace", "ada@example.com"),
        ]
    );
    assert!(stderr.contains("Exported 2 users."), "{stderr}");

    let file = app.data_dir.path().join("export.csv");
    let (code, stdout, stderr) = users_export(
        &app,
        &["--org", &other.org_id, "--output", file.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty(), "the CSV went to the file: {stdout}");
    let (_, rows) = read_csv(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][2], "bob@other.example");

    let actors = app
        .text_values(
            "SELECT COALESCE(actor_user_id, 'operator') FROM audit_events \
             WHERE action = 'users_exported' ORDER BY at, id",
        )
        .await;
    assert_eq!(actors, ["operator", "operator"], "each export is audited");

    for (org, message) in [
        ("not-an-id", "is not an organization id"),
        (
            "00000000-0000-7000-8000-000000000000",
            "there is no organization with the id",
        ),
    ] {
        let (code, stdout, stderr) = users_export(&app, &["--org", org]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("--org") && stderr.contains(message),
            "{stderr}"
        );
    }
}

/// Each person of an organization: name, email, profile and role, sorted.
async fn people(app: &TestApp, org_id: &str) -> Vec<String> {
    let mut people = crate::helpers::texts(
        app,
        "SELECT COALESCE(u.first_name, '') || ' ' || u.last_name || ' <' || u.email || '> ' \
                || p.name || ' / ' || r.name \
           FROM users u JOIN profiles p ON p.id = u.profile_id JOIN roles r ON r.id = u.role_id \
          WHERE u.org_id = $1",
        Some(org_id),
    )
    .await;
    people.sort();
    people
}

/// `onestop users export` on one server, `onestop users import` of that file on another: the
/// same people come back with their names, addresses, profiles and roles (invited anew).
async fn an_export_imported_into_another_server_brings_back_the_same_people(backend: Backend) {
    let Some(source) = spawn_app(backend).await else {
        return;
    };
    let Some(target) = spawn_app(backend).await else {
        return;
    };
    let organization = source.create_organization().await;
    invite_crew(&source, &organization, 12).await;
    let file = target.data_dir.path().join("exported.csv");
    let (code, _, stderr) = users_export(
        &source,
        &[
            "--org",
            &organization.org_id,
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");

    let destination = target
        .create_organization_named("Other Install", "bob", "bob@other.example")
        .await;
    let output = std::process::Command::new(BINARY)
        .args(["users", "import"])
        .arg(&file)
        .args(["--org", &destination.org_id])
        .env_clear()
        .env("ONESTOP_DATA_DIR", target.data_dir.path())
        .env("ONESTOP_DATABASE_URL", &target.database_url)
        .env("ONESTOP_LOG", "warn")
        .output()
        .expect("the onestop binary runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("13 invited, 0 failed"), "{printed}");

    let exported = people(&source, &organization.org_id).await;
    let imported: Vec<String> = people(&target, &destination.org_id)
        .await
        .into_iter()
        .filter(|person| !person.contains("<bob@other.example>"))
        .collect();
    assert_eq!(exported.len(), 13, "the administrator and the crew");
    assert_eq!(imported, exported);
}
