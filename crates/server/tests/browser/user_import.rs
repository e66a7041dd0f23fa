//! Import Users through the real pages: upload a CSV file, check the guessed columns, preview
//! every row, import, watch the progress page reload itself (no JavaScript needed) until the
//! import is done, and find the result file's link.

use crate::chromium::Browser;
use crate::helpers::{ADMIN_PASSWORD, Backend, spawn_app};
use onestop_server::usecases::user_import::runner::{ImportRunner, Step};

crate::helpers::on_both_backends!(an_administrator_imports_users_from_a_csv_file_through_the_pages,);

async fn an_administrator_imports_users_from_a_csv_file_through_the_pages(backend: Backend) {
    let Some(browser) = Browser::start_with(true, false).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.create_organization().await;
    let files = tempfile::tempdir().unwrap();
    let people = files.path().join("people.csv");
    std::fs::write(
        &people,
        "\u{feff}Given Name;Surname;E-Mail;Role\r\n\
         Grace;Hopper;grace@example.com;CEO\r\n\
         \"Ken\";\"Thompson, Jr.\";ken@example.com;\r\n\
         Bad;Address;not-an-address;\r\n",
    )
    .unwrap();
    let not_csv = files.path().join("photo.csv");
    std::fs::write(&not_csv, crate::helpers::png(8, 8)).unwrap();

    crate::sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;
    browser.open(&app.url("/setup/users")).await;
    browser.click_link("Import Users").await;
    browser.wait_for_text("Upload the file").await;

    // A file that is not CSV text is refused with what to do instead.
    browser.choose_file("CSV file", &not_csv).await;
    browser.click_button("Upload").await;
    browser
        .wait_for_text("The file is not a CSV text file")
        .await;

    browser.choose_file("CSV file", &people).await;
    browser.click_button("Upload").await;
    browser.wait_for_text("The file has 3 rows.").await;
    for (id, expected) in [
        ("first_name_column", "0"),
        ("last_name_column", "1"),
        ("email_column", "2"),
        ("profile_column", ""),
        ("role_column", "3"),
    ] {
        assert_eq!(browser.value_of(id).await, expected, "the guess for {id}");
    }
    browser.click_button("Preview").await;
    browser
        .wait_for_text("2 rows are ready, 1 with errors.")
        .await;
    let preview = browser.page_text().await;
    assert!(preview.contains("Thompson, Jr."), "{preview}");
    assert!(
        preview.contains("Email: Enter one email address"),
        "{preview}"
    );
    assert_eq!(
        app.count("user_import_rows").await,
        0,
        "nothing is written yet"
    );

    browser.click_button("Import 2 users").await;
    browser.wait_for_text("0 of 2 rows").await;
    let mut runner = ImportRunner::new(app.services.clone());
    while runner.step(None).await.unwrap() != Step::Idle {}
    // The page reloads itself and shows the end.
    browser.wait_for_text("The import is done: 2 invited").await;
    assert_eq!(
        browser.attributes("a[download]", "href").await,
        [format!(
            "/setup/users/import/{}/result.csv",
            app.text_value("SELECT id FROM user_imports WHERE state = $1", "done")
                .await
                .unwrap()
        )]
    );
    assert_eq!(app.emails_to("grace@example.com").await.len(), 1);
    browser.open(&app.url("/setup/users/import")).await;
    browser
        .wait_for_text("2 invited, 0 failed, 1 left out")
        .await;
    browser
        .open(&app.url("/setup/users?view=unconfirmed"))
        .await;
    browser.wait_for_text("Thompson, Jr.").await;
    browser.close().await;
}
