//! Real headless Chromium, driven through chromedriver, against the real application.

// A failing test is meant to panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! These run on SQLite; the HTTP-level suite covers both databases.

#[allow(dead_code, unused_macros, unused_imports)]
#[path = "../api/helpers.rs"]
mod helpers;

mod chromium;

use chromium::Browser;
use helpers::{ADMIN_PASSWORD, Backend, spawn_app};
use onestop_server::usecases::first_run::issue_first_run_code;

#[tokio::test]
async fn an_administrator_signs_in_agrees_opens_setup_through_the_gear_and_signs_out() {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_organization().await;

    browser.open(&app.url("/")).await;
    browser.fill("Username", "ada").await;
    browser.fill("Password", ADMIN_PASSWORD).await;
    browser.click_button("Sign In").await;
    browser.wait_for_text("I Agree").await;
    assert!(browser.current_path().await.starts_with("/terms"));
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Ada").await;

    browser.click_css("a[aria-label='Setup']").await;
    browser.wait_for_text("Users and Control").await;
    assert_eq!(browser.current_path().await, "/setup");

    browser.click_button("Sign Out").await;
    browser.wait_for_text("You have signed out.").await;
    browser.open(&app.url("/setup")).await;
    browser.wait_for_text("Sign in to 1Stop").await;
    browser.close().await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_generic_message() {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_organization().await;

    browser.open(&app.url("/login")).await;
    browser.fill("Username", "ada").await;
    browser.fill("Password", "this is not the password").await;
    browser.click_button("Sign In").await;
    browser
        .wait_for_text("The username or password is incorrect.")
        .await;
    assert_eq!(app.count("sessions").await, 0);
    browser.close().await;
}

#[tokio::test]
async fn the_first_run_link_leads_through_the_terms_to_the_homepage() {
    let Some(browser) = Browser::start(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let code = issue_first_run_code(&app.services).await.unwrap().unwrap();

    browser
        .open(&app.url(&format!("/first-run/{}", code.expose())))
        .await;
    for (label, value) in [
        ("Company Name", "Hopper Heating"),
        ("First Name", "Grace"),
        ("Last Name", "Hopper"),
        ("Email", "grace@hopper.example"),
        ("Username", "grace"),
        ("Password", "seven green lanterns glow"),
        ("Confirm Password", "seven green lanterns glow"),
    ] {
        browser.fill(label, value).await;
    }
    browser.click_button("Create Account").await;
    browser.wait_for_text("I Agree").await;
    browser.click_button("I Agree").await;
    browser.wait_for_text("Welcome, Grace").await;
    assert_eq!(app.count("organizations").await, 1);
    browser.close().await;
}

#[tokio::test]
async fn a_browser_that_refuses_cookies_is_told_to_enable_them() {
    let Some(browser) = Browser::start(false).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_organization().await;

    browser.open(&app.url("/login")).await;
    browser.fill("Username", "ada").await;
    browser.fill("Password", ADMIN_PASSWORD).await;
    browser.click_button("Sign In").await;
    browser
        .wait_for_text("Cookie is disabled in your browser. Please enable the Cookie to continue.")
        .await;
    assert_eq!(app.count("sessions").await, 0);
    browser.close().await;
}
