//! A real OpenID Connect provider for the single sign-on tests (`scripts/oidc-provider.mjs`, the
//! certified `oidc-provider` package run with Node), and a browser-like walk through it.

use crate::helpers::{MEMBER_PASSWORD, Organization, TestApp, csrf_token_in, location};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const CLIENT_ID: &str = "onestop-test";
pub const CLIENT_SECRET: &str = "a client secret for the tests";
pub const PROVIDER_NAME: &str = "Test IdP";

/// One person the provider knows; `login` is what its sign-in form takes, and their `sub`.
pub struct Account<'a> {
    pub login: &'a str,
    pub email: &'a str,
    pub email_verified: bool,
}

/// The provider's process; stopped when dropped.
pub struct TestProvider {
    pub issuer: String,
    child: Child,
    /// Kept open: the provider writes to it now and then.
    _output: BufReader<std::process::ChildStdout>,
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestProvider {
    /// Makes the token endpoint tamper with the ID token: `none`, `audience` or `signature`.
    pub async fn tamper(&self, mode: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/__test/tamper?mode={mode}", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 204);
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Starts a provider that knows `accounts` and sends the browser back to `app`; `None` (loudly)
/// when Node or the package is missing outside CI; a failure in CI.
pub fn start_provider(
    app: &TestApp,
    accounts: &[Account<'_>],
    id_token_ttl_seconds: u64,
) -> Option<TestProvider> {
    let tools = std::env::var("ONESTOP_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join(".tools"));
    let package = tools.join("node_modules/oidc-provider/package.json");
    let node = Command::new("node").arg("--version").output();
    if node.is_err() || !package.exists() {
        let message = "SKIPPED: single sign-on tests need Node and oidc-provider in .tools \
                       (scripts/test installs them: npm install --prefix .tools oidc-provider)";
        if std::env::var_os("CI").is_some() {
            panic!("{message}");
        }
        eprintln!("{message}");
        return None;
    }
    let accounts: serde_json::Map<String, serde_json::Value> = accounts
        .iter()
        .map(|account| {
            (
                account.login.to_owned(),
                serde_json::json!({
                    "email": account.email,
                    "email_verified": account.email_verified,
                }),
            )
        })
        .collect();
    let settings = serde_json::json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": app.url("/sso/callback"),
        "accounts": accounts,
        "id_token_ttl": id_token_ttl_seconds,
    });
    let mut child = Command::new("node")
        .arg(workspace().join("scripts/oidc-provider.mjs"))
        .arg(settings.to_string())
        .env("ONESTOP_TOOLS_DIR", &tools)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts the provider");
    let mut line = String::new();
    let mut output = BufReader::new(child.stdout.take().expect("the provider's output"));
    output
        .read_line(&mut line)
        .expect("the provider says where it listens");
    let started: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("the provider started: {line:?}"));
    Some(TestProvider {
        issuer: started["issuer"].as_str().unwrap().to_owned(),
        child,
        _output: output,
    })
}

/// The reasons of the audited refusals, oldest first.
pub async fn refusals(app: &TestApp) -> Vec<String> {
    app.text_values("SELECT details FROM audit_events WHERE action = 'sso_refused' ORDER BY at")
        .await
}

/// Bob: an Active user of the company `org_id`, with the Standard profile; his id.
pub async fn adds_bob(app: &TestApp, org_id: &str) -> String {
    app.add_active_user(
        org_id,
        "standard",
        "manager",
        ("Bob", "Babbage"),
        "bob",
        MEMBER_PASSWORD,
    )
    .await
}

/// A company whose single sign-on goes to a provider that knows its user Bob.
pub struct BobsCompany {
    pub provider: TestProvider,
    pub organization: Organization,
    pub bob: String,
}

/// Bob's company, its administrator signed in on `app.client`, its single sign-on set up for
/// example.com with a provider that knows Bob as `bob-sub` (ID tokens valid
/// `id_token_ttl_seconds`), the clock at real time. `None` as [`start_provider`] says.
pub async fn bobs_company(app: &TestApp, id_token_ttl_seconds: u64) -> Option<BobsCompany> {
    set_clock_to_real_time(app);
    let provider = start_provider(
        app,
        &[Account {
            login: "bob-sub",
            email: "bob@example.com",
            email_verified: true,
        }],
        id_token_ttl_seconds,
    )?;
    let organization = app.create_organization().await;
    app.sign_in_as_admin(&organization).await;
    let bob = adds_bob(app, &organization.org_id).await;
    configure_sso(app, &provider, false).await;
    Some(BobsCompany {
        provider,
        organization,
        bob,
    })
}

/// ID tokens carry real times: the test clock moves to now (it starts days behind).
pub fn set_clock_to_real_time(app: &TestApp) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let behind = now - app.now().unix_millis();
    assert!(behind >= 0, "the test clock starts in the past");
    app.clock
        .advance(std::time::Duration::from_millis(behind as u64));
}

/// As the signed-in administrator (`app.client`), fills in Setup > Single Sign-On.
pub async fn save_sso_setup(
    app: &TestApp,
    issuer: &str,
    domains: &str,
    sso_only: bool,
) -> reqwest::Response {
    let page = app.get_text("/setup/sso").await;
    let token = csrf_token_in(&page);
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("display_name", PROVIDER_NAME),
        ("issuer_url", issuer),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("domains", domains),
    ];
    if sso_only {
        form.push(("sso_only", "on"));
    }
    app.post_form("/setup/sso", &form).await
}

/// Sets up the provider for example.com, and checks the page says so.
pub async fn configure_sso(app: &TestApp, provider: &TestProvider, sso_only: bool) {
    let response = save_sso_setup(app, &provider.issuer, "example.com", sso_only).await;
    let status = response.status().as_u16();
    let page = response.text().await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Single sign-on saved."), "{page}");
}

/// From the sign-in page's button through the provider's sign-in form as `login`, up to the
/// address the provider sends the browser back to (not opened yet).
pub async fn callback_url_for_sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    login: &str,
) -> String {
    let page = browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("Sign in with {PROVIDER_NAME}")),
        "{page}"
    );
    let response = browser
        .post(app.url("/sso/start"))
        .form(&[("csrf_token", csrf_token_in(&page))])
        .send()
        .await
        .unwrap();
    let authorization_url = continue_link(response).await;
    through_provider(app, browser, &authorization_url, login).await
}

/// The whole sign-in: returns 1Stop's answer to the provider's redirect.
pub async fn sign_in_through_provider(
    app: &TestApp,
    browser: &reqwest::Client,
    login: &str,
) -> reqwest::Response {
    let callback = callback_url_for_sign_in(app, browser, login).await;
    browser.get(callback).send().await.unwrap()
}

/// From the join page's "Join with ..." (`page` is the join form, `browser` holds its cookie)
/// through the provider as `login`: returns 1Stop's answer to the provider's redirect.
pub async fn join_through_provider(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    login: &str,
) -> reqwest::Response {
    assert!(
        page.contains(&format!("Join with {PROVIDER_NAME}")),
        "{page}"
    );
    let response = browser
        .post(app.url("/join/sso"))
        .form(&[("csrf_token", csrf_token_in(page))])
        .send()
        .await
        .unwrap();
    let authorization_url = continue_link(response).await;
    let callback = through_provider(app, browser, &authorization_url, login).await;
    browser.get(callback).send().await.unwrap()
}

/// The provider's address on the page between our form and the provider.
async fn continue_link(response: reqwest::Response) -> String {
    let status = response.status().as_u16();
    let page = response.text().await.unwrap();
    assert_eq!(status, 200, "{page}");
    let link = page
        .split("id=\"sso-continue\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a link to the provider: {page}"));
    assert!(
        page.contains(&format!("content=\"0;url={link}\"")),
        "the page moves on by itself: {page}"
    );
    link.replace("&amp;", "&").replace("&#38;", "&")
}

/// Follows the provider's redirects and fills in its development sign-in form, until it sends
/// the browser back to `app`.
async fn through_provider(
    app: &TestApp,
    browser: &reqwest::Client,
    start: &str,
    login: &str,
) -> String {
    let mut response = browser.get(start).send().await.unwrap();
    for _ in 0..12 {
        if response.status().is_redirection() {
            let next = response.url().join(&location(&response)).unwrap();
            if next.as_str().starts_with(&app.address) {
                return next.to_string();
            }
            response = browser.get(next).send().await.unwrap();
            continue;
        }
        let page_url = response.url().clone();
        let page = response.text().await.unwrap();
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("the provider shows a form: {page}"))
            .replace("&#x2F;", "/")
            .replace("&#x3A;", ":")
            .replace("&amp;", "&");
        response = browser
            .post(page_url.join(&action).unwrap())
            .form(&[
                ("prompt", "login"),
                ("login", login),
                ("password", "any password"),
            ])
            .send()
            .await
            .unwrap();
    }
    panic!("the provider never sent the browser back");
}
