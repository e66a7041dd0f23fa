//! Profile pictures: uploads become small square PNGs without metadata; what is not a PNG, JPEG
//! or WebP, what is over 5 MB and what would decode to too many pixels is refused with a message
//! and stores nothing; pictures are served to their own company only; administrators change
//! only the pictures of users they may manage; the Users page shows the picture or the initials.

use crate::helpers::{
    MEMBER_PASSWORD, TestApp, csrf_token_in, decompression_bomb, encoded_image, location,
    on_both_databases, png, upload_picture,
};
use image::{GenericImageView, ImageFormat};
use onestop_domain::Permission;
use std::time::{Duration, Instant};

on_both_databases!(
    a_png_a_jpeg_and_a_webp_are_each_stored_as_a_small_square_png,
    a_jpeg_with_a_gps_position_in_its_exif_is_stored_without_any_metadata,
    a_text_file_a_gif_and_a_gif_named_png_are_refused_with_the_message_and_nothing_is_stored,
    a_picture_over_5_mb_is_refused_with_the_message_and_nothing_is_stored,
    an_upload_declared_far_over_the_limit_is_refused_at_once_without_reading_it,
    a_decompression_bomb_is_refused_at_once_with_the_message_and_nothing_is_stored,
    an_upload_without_the_forms_token_is_refused_and_nothing_is_stored,
    a_picture_is_served_to_its_company_with_safe_headers_and_is_404_to_another,
    only_administrators_who_may_manage_a_user_change_their_picture,
    removing_a_picture_brings_back_the_initials_and_is_audited,
    the_users_page_shows_each_users_picture_or_initials,
);

const TOO_MANY_PIXELS: &str = "The image is too large to process (max 8000×8000 pixels).";
const TOO_LARGE: &str = "The picture is larger than 5 MB.";
const NOT_AN_IMAGE: &str = "The picture must be a PNG, JPEG or WebP image";
/// A 1×1 GIF: a real image, of a format not accepted.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// The administrator, signed in; their id and the token of their forms.
async fn signed_in_admin(app: &TestApp) -> (crate::helpers::Organization, String) {
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let page = app.get_text("/account").await;
    (organization, csrf_token_in(&page))
}

/// Uploads `file` as the administrator's own picture.
async fn upload_own(app: &TestApp, token: &str, file: (Vec<u8>, &str, &str)) -> reqwest::Response {
    upload_picture(app, &app.client, "/account/picture", Some(token), file).await
}

async fn stored_picture(app: &TestApp, user_id: &str) -> Option<Vec<u8>> {
    let hex = app
        .text_value(
            "SELECT digest FROM user_pictures WHERE user_id = $1",
            user_id,
        )
        .await?;
    assert_eq!(hex.len(), 64, "a SHA-256 digest");
    let response = app.get(&format!("/users/{user_id}/picture")).await;
    assert_eq!(response.status().as_u16(), 200);
    Some(response.bytes().await.unwrap().to_vec())
}

/// The chunk types of a PNG, in order.
fn png_chunks(bytes: &[u8]) -> Vec<String> {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let mut chunks = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        chunks.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        at += 12 + length;
    }
    chunks
}

fn assert_small_square_png(bytes: &[u8], what: &str) {
    let chunks = png_chunks(bytes);
    assert!(
        chunks
            .iter()
            .all(|chunk| ["IHDR", "IDAT", "IEND"].contains(&chunk.as_str())),
        "{what}: pixels only, no metadata chunk: {chunks:?}"
    );
    let decoded = image::load_from_memory_with_format(bytes, ImageFormat::Png).unwrap();
    assert_eq!(decoded.dimensions(), (128, 128), "{what}");
    // The centre square of a half red, half blue picture.
    let left = decoded.get_pixel(4, 64);
    let right = decoded.get_pixel(123, 64);
    assert!(
        left[0] > 150 && left[2] < 90,
        "{what}: red on the left: {left:?}"
    );
    assert!(
        right[2] > 150 && right[0] < 90,
        "{what}: blue on the right: {right:?}"
    );
}

async fn a_png_a_jpeg_and_a_webp_are_each_stored_as_a_small_square_png(app: TestApp) {
    let (organization, token) = signed_in_admin(&app).await;
    for (format, name, content_type) in [
        (ImageFormat::Png, "me.png", "image/png"),
        (ImageFormat::Jpeg, "me.jpg", "image/jpeg"),
        (ImageFormat::WebP, "me.webp", "image/webp"),
    ] {
        let upload = encoded_image(600, 400, format);
        let response = upload_own(&app, &token, (upload.clone(), name, content_type)).await;
        assert_eq!(response.status().as_u16(), 303, "{name}");
        assert_eq!(location(&response), "/account?picture=saved");
        let stored = stored_picture(&app, &organization.admin_id).await.unwrap();
        assert_ne!(stored, upload, "{name} is re-encoded");
        assert_small_square_png(&stored, name);
        let page = app.get_text("/account?picture=saved").await;
        assert!(page.contains("Picture saved."), "{page}");
        assert!(
            page.contains(&format!(
                "src=\"/users/{}/picture?v=",
                organization.admin_id
            )) && page.contains("alt=\"Profile picture of Ada Lovelace\""),
            "{page}"
        );
    }
    // The bytes decide, not the name or the type the browser gives.
    let response = upload_own(&app, &token, (png(300, 300), "holiday.gif", "image/gif")).await;
    assert_eq!(response.status().as_u16(), 303, "a PNG named .gif is a PNG");
    assert_eq!(app.count("user_pictures").await, 1, "one picture a user");
    let changes = app
        .number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'picture_changed' AND actor_user_id = $1 AND target_user_id = actor_user_id",
            &organization.admin_id,
        )
        .await;
    assert_eq!(changes, 4, "every upload is audited");
}

/// A JPEG with an EXIF segment (APP1) holding a description and a GPS latitude, inserted right
/// after the start of image, as cameras write them.
fn jpeg_with_gps_exif() -> Vec<u8> {
    let jpeg = encoded_image(400, 300, ImageFormat::Jpeg);
    let secret = b"Home 51.5007N 0.1246W\0";
    // TIFF header (big-endian), IFD0 at 8 with two entries, then the GPS IFD, then the text.
    let mut tiff: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    let ifd0_end = 8 + 2 + 2 * 12 + 4;
    let gps_ifd = ifd0_end;
    let gps_end = gps_ifd + 2 + 12 + 4;
    let text_at = gps_end;
    tiff.extend_from_slice(&2u16.to_be_bytes());
    // ImageDescription, ASCII, pointing at the text.
    tiff.extend_from_slice(&0x010Eu16.to_be_bytes());
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&(secret.len() as u32).to_be_bytes());
    tiff.extend_from_slice(&(text_at as u32).to_be_bytes());
    // GPSInfo IFD pointer.
    tiff.extend_from_slice(&0x8825u16.to_be_bytes());
    tiff.extend_from_slice(&4u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&(gps_ifd as u32).to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD: GPSLatitudeRef "N".
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0001u16.to_be_bytes());
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&2u32.to_be_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(secret);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend_from_slice(&[0xFF, 0xE1]);
    with_exif.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    with_exif.extend_from_slice(&segment);
    with_exif.extend_from_slice(&jpeg[2..]);
    with_exif
}

async fn a_jpeg_with_a_gps_position_in_its_exif_is_stored_without_any_metadata(app: TestApp) {
    let (organization, token) = signed_in_admin(&app).await;
    let upload = jpeg_with_gps_exif();
    assert!(
        upload.windows(4).any(|window| window == b"Exif"),
        "the upload carries EXIF"
    );
    image::load_from_memory(&upload).expect("the upload is a valid JPEG");
    let response = upload_own(&app, &token, (upload, "camera.jpg", "image/jpeg")).await;
    assert_eq!(response.status().as_u16(), 303);
    let stored = stored_picture(&app, &organization.admin_id).await.unwrap();
    assert_small_square_png(&stored, "the camera's JPEG");
    for trace in [&b"Exif"[..], b"51.5007", b"MM\0\x2a"] {
        assert!(
            !stored.windows(trace.len()).any(|window| window == trace),
            "no trace of the EXIF ({:?}) in what is stored",
            String::from_utf8_lossy(trace)
        );
    }
}

/// Nothing of a refused upload is stored or recorded, and the page says why.
async fn assert_refused(app: &TestApp, response: reqwest::Response, status: u16, message: &str) {
    assert_eq!(response.status().as_u16(), status);
    let page = response.text().await.unwrap();
    assert!(page.contains(message), "the page says {message:?}: {page}");
    assert!(
        page.contains("aria-invalid=\"true\"") && page.contains("id=\"picture-error\""),
        "the message is tied to the file field: {page}"
    );
    assert!(
        page.contains("Upload picture"),
        "the form is shown again: {page}"
    );
    assert_eq!(app.count("user_pictures").await, 0, "nothing is stored");
    assert_eq!(
        app.number("SELECT COUNT(*) FROM audit_events WHERE action = 'picture_changed'")
            .await,
        0,
        "nothing is recorded"
    );
}

async fn a_text_file_a_gif_and_a_gif_named_png_are_refused_with_the_message_and_nothing_is_stored(
    app: TestApp,
) {
    let (_, token) = signed_in_admin(&app).await;
    assert!(
        image::load_from_memory(GIF).is_err(),
        "no GIF support is compiled in"
    );
    for file in [
        (
            b"Just some notes, not a picture.".to_vec(),
            "notes.txt",
            "text/plain",
        ),
        (GIF.to_vec(), "smile.gif", "image/gif"),
        (GIF.to_vec(), "smile.png", "image/png"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            "logo.png",
            "image/png",
        ),
    ] {
        let response = upload_own(&app, &token, file).await;
        assert_refused(&app, response, 422, NOT_AN_IMAGE).await;
    }
    // Nothing chosen: the browser sends an empty file.
    let response = upload_own(&app, &token, (Vec::new(), "", "application/octet-stream")).await;
    assert_refused(&app, response, 422, "Choose a picture to upload first.").await;
    // A PNG cut short.
    let mut truncated = png(300, 300);
    truncated.truncate(truncated.len() / 2);
    let response = upload_own(&app, &token, (truncated, "cut.png", "image/png")).await;
    assert_refused(&app, response, 422, "The picture could not be read").await;
}

async fn a_picture_over_5_mb_is_refused_with_the_message_and_nothing_is_stored(app: TestApp) {
    let (_, token) = signed_in_admin(&app).await;
    // A valid PNG padded after its end to just over 5 MB: within the body limit, so the
    // file's own size is what is refused.
    let mut padded = png(200, 200);
    padded.resize(5 * 1024 * 1024 + 1, 0);
    let response = upload_own(&app, &token, (padded, "big.png", "image/png")).await;
    assert_refused(&app, response, 413, TOO_LARGE).await;
    // 6 MB: over the body limit; the body is read to its end and the page still answers.
    let mut larger = png(200, 200);
    larger.resize(6 * 1024 * 1024, 0);
    let response = upload_own(&app, &token, (larger, "bigger.png", "image/png")).await;
    assert_refused(&app, response, 413, TOO_LARGE).await;
    // Exactly 5 MB is still accepted.
    let mut at_limit = png(200, 200);
    at_limit.resize(5 * 1024 * 1024, 0);
    let response = upload_own(&app, &token, (at_limit, "limit.png", "image/png")).await;
    assert_eq!(response.status().as_u16(), 303, "5 MB is allowed");
    assert_eq!(app.count("user_pictures").await, 1);
}

/// A body declared at 100 MB is not read at all: the request sends its first kilobyte only, so
/// a server that waited for the rest would not answer (and `raw_request` fails after 10 s).
async fn an_upload_declared_far_over_the_limit_is_refused_at_once_without_reading_it(app: TestApp) {
    app.create_organization().await;
    let (browser, jar) = app.client_with_jar();
    app.sign_in_with(&browser, "ada", crate::helpers::ADMIN_PASSWORD)
        .await;
    app.agree_with(&browser).await;
    let head = format!(
        "POST /account/picture HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary=picture-boundary\r\nConnection: close\r\n\
         Content-Length: {length}",
        host = app.address.trim_start_matches("http://"),
        origin = app.address,
        cookie = app.cookie_header(&jar),
        length = 100 * 1024 * 1024,
    );
    let mut start = b"--picture-boundary\r\nContent-Disposition: form-data; name=\"picture\"; filename=\"huge.png\"\r\n\r\n".to_vec();
    start.resize(1024, 0);
    let response = app.raw_request(&head, &start).await;
    assert_eq!(response.status, 413, "{}", response.text);
    assert!(response.text.contains(TOO_LARGE), "{}", response.text);
    assert!(
        response.elapsed < Duration::from_millis(500),
        "refused at once: {:?}",
        response.elapsed
    );
    assert_eq!(app.count("user_pictures").await, 0);
}

async fn a_decompression_bomb_is_refused_at_once_with_the_message_and_nothing_is_stored(
    app: TestApp,
) {
    let (_, token) = signed_in_admin(&app).await;
    let bomb = decompression_bomb();
    assert!(bomb.len() < 1024, "a small file: {} bytes", bomb.len());
    let started = Instant::now();
    let response = upload_own(&app, &token, (bomb, "tiny.png", "image/png")).await;
    let elapsed = started.elapsed();
    assert_refused(&app, response, 422, TOO_MANY_PIXELS).await;
    assert!(
        elapsed < Duration::from_secs(2),
        "refused from the header, before decoding: {elapsed:?}"
    );
    // Within the file size limit and the memory limit, but wider than 8000 pixels.
    let wide = png(8001, 2);
    let response = upload_own(&app, &token, (wide, "banner.png", "image/png")).await;
    assert_refused(&app, response, 422, TOO_MANY_PIXELS).await;
}

async fn an_upload_without_the_forms_token_is_refused_and_nothing_is_stored(app: TestApp) {
    let (organization, _) = signed_in_admin(&app).await;
    let other = app.new_client();
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Grace", "Hopper"),
        "grace",
        MEMBER_PASSWORD,
    )
    .await;
    app.sign_in_with(&other, "grace", MEMBER_PASSWORD).await;
    app.agree_with(&other).await;
    let graces_page = other
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let graces_token = csrf_token_in(&graces_page);
    for (what, token) in [
        ("no token", None),
        ("another session's token", Some(graces_token.as_str())),
    ] {
        let response = upload_picture(
            &app,
            &app.client,
            "/account/picture",
            token,
            (png(64, 64), "me.png", "image/png"),
        )
        .await;
        assert_eq!(response.status().as_u16(), 403, "{what}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("This form has expired"),
            "{what}"
        );
    }
    assert_eq!(app.count("user_pictures").await, 0);
}

async fn a_picture_is_served_to_its_company_with_safe_headers_and_is_404_to_another(app: TestApp) {
    let (organization, token) = signed_in_admin(&app).await;
    upload_own(&app, &token, (png(64, 64), "me.png", "image/png")).await;
    let path = format!("/users/{}/picture", organization.admin_id);
    let response = app.get(&path).await;
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "image/png");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-security-policy").contains("default-src 'none'"));
    assert!(header("content-security-policy").contains("sandbox"));
    assert!(
        header("cache-control").starts_with("private"),
        "{}",
        header("cache-control")
    );
    let etag = header("etag");
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    let again = app
        .client
        .get(app.url(&path))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304, "unchanged: not sent again");
    assert!(again.bytes().await.unwrap().is_empty());

    // Signed out: sign in first. Another company's administrator: not found, like a wrong id.
    let anonymous = app.new_client();
    let reply = anonymous.get(app.url(&path)).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 303);
    let other = app
        .create_organization_named("Other Install", "olga", "olga@example.org")
        .await;
    let intruder = app.new_client();
    app.sign_in_with(&intruder, "olga", crate::helpers::ADMIN_PASSWORD)
        .await;
    app.agree_with(&intruder).await;
    let reply = intruder.get(app.url(&path)).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 404);
    let body = reply.text().await.unwrap();
    assert!(body.contains("There is no page at this address."), "{body}");
    let own_without_picture = intruder
        .get(app.url(&format!("/users/{}/picture", other.admin_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        own_without_picture.status().as_u16(),
        404,
        "no picture: 404"
    );
    let malformed = intruder
        .get(app.url("/users/not-an-id/picture"))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 404);
}

async fn only_administrators_who_may_manage_a_user_change_their_picture(app: TestApp) {
    let (organization, admin_token) = signed_in_admin(&app).await;
    let org_id = &organization.org_id;
    let grace = app
        .add_active_user(
            org_id,
            "standard",
            "manager",
            ("Grace", "Hopper"),
            "grace",
            MEMBER_PASSWORD,
        )
        .await;
    // A user manager below the administrator, and a colleague without the right.
    let (_, manager) = app
        .add_user_with_profile(
            org_id,
            "User Managers",
            &[Permission::ViewSetup, Permission::ManageUsers],
            "ceo",
            ("Mia", "Manager"),
            "mia",
        )
        .await;
    let mia = app.new_client();
    app.sign_in_with(&mia, "mia", MEMBER_PASSWORD).await;
    app.agree_with(&mia).await;
    let linus = app.new_client();
    app.add_active_user(
        org_id,
        "standard",
        "manager",
        ("Linus", "Standard"),
        "linus",
        MEMBER_PASSWORD,
    )
    .await;
    app.sign_in_with(&linus, "linus", MEMBER_PASSWORD).await;
    app.agree_with(&linus).await;
    let token_of = |client: &reqwest::Client| {
        let client = client.clone();
        let url = app.url("/account");
        async move { csrf_token_in(&client.get(url).send().await.unwrap().text().await.unwrap()) }
    };
    let linus_token = token_of(&linus).await;
    let mia_token = token_of(&mia).await;

    // Without Manage Users: not allowed, for the upload and the removal.
    let path = format!("/setup/users/{grace}/picture");
    let response = upload_picture(
        &app,
        &linus,
        &path,
        Some(&linus_token),
        (png(64, 64), "x.png", "image/png"),
    )
    .await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Your profile does not allow this.")
    );
    // A user manager, for the administrator (a profile above theirs): not found.
    let response = upload_picture(
        &app,
        &mia,
        &format!("/setup/users/{}/picture", organization.admin_id),
        Some(&mia_token),
        (png(64, 64), "x.png", "image/png"),
    )
    .await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(app.count("user_pictures").await, 0, "nothing stored");

    // The administrator changes Grace's: stored, audited with who did it to whom.
    let response = upload_picture(
        &app,
        &app.client,
        &path,
        Some(&admin_token),
        (png(300, 200), "grace.png", "image/png"),
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        location(&response),
        format!("/setup/users/{grace}?picture=saved#profile-picture")
    );
    assert!(stored_picture(&app, &grace).await.is_some());
    let actor = app
        .text_value(
            "SELECT actor_user_id FROM audit_events WHERE action = 'picture_changed' AND target_user_id = $1",
            &grace,
        )
        .await;
    assert_eq!(actor.as_deref(), Some(organization.admin_id.as_str()));
    let page = app
        .get_text(&format!("/setup/users/{grace}?picture=saved"))
        .await;
    assert!(
        page.contains("Picture saved.") && page.contains("Remove picture"),
        "{page}"
    );
    // A refused upload on the user's page shows their page with the message.
    let response = upload_picture(
        &app,
        &app.client,
        &path,
        Some(&admin_token),
        (GIF.to_vec(), "x.gif", "image/gif"),
    )
    .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Invitations") && page.contains(NOT_AN_IMAGE),
        "{page}"
    );

    // Without Manage Users, removing is not allowed either; the picture stays.
    let response = linus
        .post(app.url(&format!("{path}/remove")))
        .header("origin", &app.address)
        .form(&[("csrf_token", linus_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    // The user manager may manage Grace (Standard, Manager role).
    let response = mia
        .post(app.url(&format!("{path}/remove")))
        .header("origin", &app.address)
        .form(&[("csrf_token", mia_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.count("user_pictures").await, 0);
    let remover = app
        .text_value(
            "SELECT actor_user_id FROM audit_events WHERE action = 'picture_removed' AND target_user_id = $1",
            &grace,
        )
        .await;
    assert_eq!(remover.as_deref(), Some(manager.as_str()));
}

async fn removing_a_picture_brings_back_the_initials_and_is_audited(app: TestApp) {
    let (organization, token) = signed_in_admin(&app).await;
    upload_own(&app, &token, (png(64, 64), "me.png", "image/png")).await;
    let page = app.get_text("/account").await;
    assert!(page.contains("Remove picture"), "{page}");
    let response = app
        .post_form("/account/picture/remove", &[("csrf_token", &token)])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/account?picture=removed");
    assert_eq!(app.count("user_pictures").await, 0);
    let page = app.get_text("/account?picture=removed").await;
    assert!(page.contains("Picture removed."), "{page}");
    assert!(
        !page.contains("Remove picture"),
        "nothing left to remove: {page}"
    );
    assert!(page.contains(">AL</span>"), "the initials: {page}");
    let removals = app
        .number_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'picture_removed' AND target_user_id = $1",
            &organization.admin_id,
        )
        .await;
    assert_eq!(removals, 1);
    let gone = app
        .get(&format!("/users/{}/picture", organization.admin_id))
        .await;
    assert_eq!(gone.status().as_u16(), 404);
    // Removing again changes nothing and records nothing.
    app.post_form("/account/picture/remove", &[("csrf_token", &token)])
        .await;
    let removals_after = app
        .number("SELECT COUNT(*) FROM audit_events WHERE action = 'picture_removed'")
        .await;
    assert_eq!(removals_after, 1);
}

async fn the_users_page_shows_each_users_picture_or_initials(app: TestApp) {
    let (organization, token) = signed_in_admin(&app).await;
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Grace", "Hopper"),
        "grace",
        MEMBER_PASSWORD,
    )
    .await;
    let page = app.get_text("/setup/users").await;
    assert!(
        page.contains(">AL</span>") && page.contains(">GH</span>"),
        "{page}"
    );
    upload_own(&app, &token, (png(64, 64), "me.png", "image/png")).await;
    let page = app.get_text("/setup/users").await;
    let digest = app
        .text_value(
            "SELECT digest FROM user_pictures WHERE user_id = $1",
            &organization.admin_id,
        )
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "<img class=\"avatar\" src=\"/users/{}/picture?v={}\" alt=\"Picture of Ada Lovelace\"",
            organization.admin_id,
            &digest[..16]
        )),
        "Ada's picture beside her check box: {page}"
    );
    assert!(
        !page.contains(">AL</span>"),
        "instead of her initials: {page}"
    );
    assert!(
        page.contains(">GH</span>"),
        "Grace still has her initials: {page}"
    );
    // The header leads every signed-in user to My Account, where their picture is.
    assert!(page.contains("href=\"/account\""), "{page}");
}
