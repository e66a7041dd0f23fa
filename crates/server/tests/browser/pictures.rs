//! Profile pictures through the real forms: an administrator uploads their own picture and sees
//! it on the Users page, is told why a hostile or oversized file is refused, removes it, and
//! uploads a picture for a colleague on their user's page.

use crate::chromium::Browser;
use crate::helpers::{ADMIN_PASSWORD, Backend, decompression_bomb, encoded_image, png, spawn_app};
use crate::sign_in;

crate::helpers::on_both_backends!(pictures_are_uploaded_refused_and_removed_through_the_forms,);

async fn pictures_are_uploaded_refused_and_removed_through_the_forms(backend: Backend) {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let organization = app.create_organization().await;
    let grace = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            "quiet orange bicycle",
        )
        .await;
    let files = tempfile::tempdir().unwrap();
    let file = |name: &str, bytes: Vec<u8>| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let photo = file(
        "photo.jpg",
        encoded_image(900, 600, image::ImageFormat::Jpeg),
    );
    let bomb = file("tiny.png", decompression_bomb());
    let mut oversized = png(100, 100);
    oversized.resize(6 * 1024 * 1024, 0);
    let oversized = file("huge.png", oversized);
    let gif_named_png = file("smile.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec());

    sign_in(&browser, &app, "ada", ADMIN_PASSWORD).await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    // From the header, to My Account: the initials until there is a picture.
    browser.click_link("My Account").await;
    browser.wait_for_text("is shown by their initials").await;
    for (hostile, message) in [
        (
            &bomb,
            "The image is too large to process (max 8000×8000 pixels).",
        ),
        (&oversized, "The picture is larger than 5 MB."),
        (
            &gif_named_png,
            "The picture must be a PNG, JPEG or WebP image",
        ),
    ] {
        browser.choose_file("New picture", hostile).await;
        browser.click_button("Upload picture").await;
        browser.wait_for_text(message).await;
        assert_eq!(app.count("user_pictures").await, 0, "{message}");
    }
    browser.choose_file("New picture", &photo).await;
    browser.click_button("Upload picture").await;
    browser.wait_for_text("Picture saved.").await;
    assert_eq!(
        browser
            .loaded_image_width("img[alt='Profile picture of Ada Lovelace']")
            .await,
        128,
        "the stored square is shown"
    );

    // On the Users page, beside the check box, instead of the initials.
    browser.open(&app.url("/setup/users")).await;
    browser.wait_for_text("Grace Hopper").await;
    assert_eq!(
        browser
            .loaded_image_width("img[alt='Picture of Ada Lovelace']")
            .await,
        128
    );
    assert!(browser.page_text().await.contains("GH"), "Grace's initials");

    // Remove it: the initials come back.
    browser.open(&app.url("/account")).await;
    browser.click_button("Remove picture").await;
    browser.wait_for_text("Picture removed.").await;
    browser.wait_for_text("is shown by their initials").await;
    assert_eq!(app.count("user_pictures").await, 0);

    // An administrator's upload for a colleague, on their page.
    browser
        .open(&app.url(&format!("/setup/users/{grace}")))
        .await;
    browser.wait_for_text("Invitations").await;
    browser.choose_file("New picture", &photo).await;
    browser.click_button("Upload picture").await;
    browser.wait_for_text("Picture saved.").await;
    assert_eq!(
        browser
            .loaded_image_width("img[alt='Profile picture of Grace Hopper']")
            .await,
        128
    );
    let stored_for = app
        .text_value(
            "SELECT user_id FROM user_pictures WHERE user_id = $1",
            &grace,
        )
        .await;
    assert_eq!(stored_for.as_deref(), Some(grace.as_str()));
    browser.close().await;
}
