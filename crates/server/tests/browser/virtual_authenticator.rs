//! Chromium's virtual authenticator, through WebDriver's WebAuthn extension
//! (`/session/{id}/webauthn/authenticator`, which chromedriver implements): a passkey device
//! that says yes to every ceremony, so that the tests can register and use real passkeys.

use crate::chromium::Browser;
use fantoccini::wd::WebDriverCompatibleCommand;

/// One command of the WebAuthn extension, under `/session/{id}/webauthn/`.
#[derive(Debug)]
struct WebAuthnCommand {
    method: reqwest::Method,
    path: String,
    body: Option<serde_json::Value>,
}

impl WebDriverCompatibleCommand for WebAuthnCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (reqwest::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(serde_json::Value::to_string),
        )
    }
}

/// A platform authenticator (CTAP2, internal, resident keys, user verification that passes).
pub struct VirtualAuthenticator {
    id: String,
}

impl VirtualAuthenticator {
    /// Adds one to the browser; it answers the page's passkey ceremonies from now on.
    pub async fn add(browser: &Browser) -> Self {
        let answer = run(
            browser,
            WebAuthnCommand {
                method: reqwest::Method::POST,
                path: "authenticator".into(),
                body: Some(serde_json::json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserConsenting": true,
                    "isUserVerified": true,
                })),
            },
        )
        .await;
        let id = answer
            .as_str()
            .unwrap_or_else(|| panic!("an authenticator id: {answer}"))
            .to_owned();
        Self { id }
    }

    /// The credentials it holds (WebDriver's JSON: credentialId, rpId, signCount, ...).
    pub async fn credentials(&self, browser: &Browser) -> Vec<serde_json::Value> {
        let answer = run(
            browser,
            WebAuthnCommand {
                method: reqwest::Method::GET,
                path: format!("authenticator/{}/credentials", self.id),
                body: None,
            },
        )
        .await;
        answer.as_array().cloned().unwrap_or_default()
    }

    /// Takes it out of the browser, as when a security key is lost.
    pub async fn remove(self, browser: &Browser) {
        run(
            browser,
            WebAuthnCommand {
                method: reqwest::Method::DELETE,
                path: format!("authenticator/{}", self.id),
                body: None,
            },
        )
        .await;
    }
}

async fn run(browser: &Browser, command: WebAuthnCommand) -> serde_json::Value {
    let what = format!("{} webauthn/{}", command.method, command.path);
    browser
        .webdriver()
        .issue_cmd(command)
        .await
        .unwrap_or_else(|error| panic!("WebDriver {what}: {error}"))
}
