use crate::helpers::{TestApp, csrf_token_in, location, on_both_databases};
use onestop_server::usecases::first_run::issue_first_run_code;

on_both_databases!(
    the_first_run_link_creates_the_company_then_the_terms_then_the_homepage,
    the_first_run_link_dies_once_a_company_exists,
    first_run_input_errors_name_each_field_and_write_nothing,
    a_malformed_first_run_code_gets_the_invalid_link_page,
);

const PASSWORD: &str = "seven green lanterns glow";

fn filled_form<'a>(token: &'a str, code: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("csrf_token", token),
        ("code", code),
        ("company_name", "Hopper Heating"),
        ("account_name", ""),
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("email", "grace@hopper.example"),
        ("username", "grace"),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ]
}

async fn the_first_run_link_creates_the_company_then_the_terms_then_the_homepage(app: TestApp) {
    let code = issue_first_run_code(&app.services)
        .await
        .unwrap()
        .expect("a code while no company exists");
    let path = format!("/first-run/{}", code.expose());
    let response = app.get(&path).await;
    assert_eq!(
        response.headers()["referrer-policy"],
        "no-referrer",
        "the code never leaves as a Referer"
    );
    let page = response.text().await.unwrap();
    for label in [
        "Company Name",
        "Account Name",
        "First Name",
        "Last Name",
        "Email",
        "Username",
        "Password",
        "Confirm Password",
        "Create Account",
    ] {
        assert!(page.contains(label), "the form has {label}");
    }
    let token = csrf_token_in(&page);
    let response = app
        .post_form("/first-run", &filled_form(&token, code.expose()))
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(location(&app.get("/").await), "/terms");
    app.agree_to_terms().await;
    let home = app.get_text("/").await;
    assert!(home.contains("Welcome, <bdi>Grace</bdi>"), "{home}");
    assert!(
        home.contains("Hopper Heating"),
        "the account name defaults to the company name"
    );

    assert_eq!(app.count("organizations").await, 1);
    assert_eq!(
        app.get(&path).await.status().as_u16(),
        404,
        "the link works once, and the first run is over for good"
    );
    assert!(
        issue_first_run_code(&app.services).await.unwrap().is_none(),
        "no new codes once a company exists"
    );
}

async fn the_first_run_link_dies_once_a_company_exists(app: TestApp) {
    let code = issue_first_run_code(&app.services).await.unwrap().unwrap();
    let path = format!("/first-run/{}", code.expose());
    let token = csrf_token_in(&app.get_text(&path).await);
    app.create_organization().await;
    let response = app
        .post_form("/first-run", &filled_form(&token, code.expose()))
        .await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        app.count("organizations").await,
        1,
        "a stranger with an old link cannot claim the server"
    );
    assert_eq!(app.count("users").await, 1);
}

async fn first_run_input_errors_name_each_field_and_write_nothing(app: TestApp) {
    let code = issue_first_run_code(&app.services).await.unwrap().unwrap();
    let token = csrf_token_in(&app.get_text(&format!("/first-run/{}", code.expose())).await);
    let response = app
        .post_form(
            "/first-run",
            &[
                ("csrf_token", token.as_str()),
                ("code", code.expose()),
                ("company_name", "  "),
                ("first_name", "Grace"),
                ("last_name", ""),
                ("email", "grace.hopper.example"),
                ("username", "root"),
                ("password", "short"),
                ("password_confirmation", "different"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    for message in [
        "Enter the company name.",
        "Enter the last name.",
        "Enter one email address, like name@example.com, with a single @.",
        "&#34;root&#34; is reserved; choose another username.",
        "Use at least 15 characters; this password has 5.",
    ] {
        assert!(page.contains(message), "missing {message:?} in {page}");
    }
    assert!(page.contains("value=\"Grace\""), "typed values are kept");
    assert_eq!(app.count("organizations").await, 0);
    assert_eq!(app.count("users").await, 0);

    let mismatch = filled_form(&token, code.expose())
        .into_iter()
        .map(|(name, value)| {
            if name == "password_confirmation" {
                (name, "seven green lanterns dim")
            } else {
                (name, value)
            }
        })
        .collect::<Vec<_>>();
    let response = app.post_form("/first-run", &mismatch).await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The passwords do not match.")
    );
    assert_eq!(app.count("organizations").await, 0);
}

async fn a_malformed_first_run_code_gets_the_invalid_link_page(app: TestApp) {
    issue_first_run_code(&app.services).await.unwrap();
    for code in ["abc", &"A".repeat(43), &"x".repeat(10_000)] {
        let response = app.get(&format!("/first-run/{code}")).await;
        assert_eq!(response.status().as_u16(), 400);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("This set-up link is not valid.")
        );
    }
}
