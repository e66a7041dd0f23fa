//! Starting chromedriver and a headless Chromium, and the few actions the tests need, each
//! finding elements the way a person does: by label or visible text.

use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// `None` (with a loud message) when Chromium is not installed outside CI; in CI, a failure.
    pub async fn start(cookies_enabled: bool) -> Option<Self> {
        Self::start_with(cookies_enabled, true).await
    }

    /// A browser with cookies and JavaScript each on or off.
    pub async fn start_with(cookies_enabled: bool, javascript_enabled: bool) -> Option<Self> {
        if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists()
        {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "chromium and chromedriver are not installed, and in CI the browser tests must run"
                );
            }
            eprintln!(
                "\n*** SKIPPED: browser test; install chromium and chromium-driver (see README) ***\n"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut options = serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        let mut prefs = serde_json::Map::new();
        if !cookies_enabled {
            prefs.insert(
                "profile.default_content_setting_values.cookies".into(),
                2.into(),
            );
        }
        if !javascript_enabled {
            prefs.insert(
                "profile.default_content_setting_values.javascript".into(),
                2.into(),
            );
        }
        options["prefs"] = prefs.into();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session starts");
        Some(Self {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Finds an element, waiting up to 10 s for it to appear (pages load after clicks).
    async fn find(
        &self,
        locator: Locator<'_>,
    ) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(locator)
            .await
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    pub async fn current_path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("a URL")
            .path()
            .to_owned()
    }

    /// Types into the input whose label reads `label`.
    pub async fn fill(&self, label: &str, value: &str) {
        let label_element = self
            .find(Locator::XPath(&format!(
                "//label[normalize-space()='{label}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("a field labelled {label:?}"));
        let id = label_element
            .attr("for")
            .await
            .unwrap()
            .expect("the label names its input");
        let input = self
            .client
            .find(Locator::Id(&id))
            .await
            .expect("the labelled input");
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    pub async fn click_button(&self, text: &str) {
        self.find(Locator::XPath(&format!(
            "//button[normalize-space()='{text}']"
        )))
        .await
        .unwrap_or_else(|_| panic!("a button {text:?}"))
        .click()
        .await
        .unwrap();
    }

    /// Ticks (or unticks) the check box whose label reads `label`.
    pub async fn check(&self, label: &str) {
        let label_element = self
            .find(Locator::XPath(&format!(
                "//label[normalize-space()='{label}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("a check box labelled {label:?}"));
        label_element.click().await.unwrap();
    }

    /// Clicks the element whose visible text is `text` (a `<summary>`, say).
    pub async fn click_text(&self, text: &str) {
        self.find(Locator::XPath(&format!("//*[normalize-space()='{text}']")))
            .await
            .unwrap_or_else(|_| panic!("something reading {text:?}"))
            .click()
            .await
            .unwrap();
    }

    /// Chooses `option` in the drop-down whose label reads `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let label_element = self
            .find(Locator::XPath(&format!(
                "//label[normalize-space()='{label}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("a drop-down labelled {label:?}"));
        let id = label_element
            .attr("for")
            .await
            .unwrap()
            .expect("the label names its select");
        // A role's option is indented by its level with no-break spaces, which XPath's
        // normalize-space() keeps.
        self.find(Locator::XPath(&format!(
            "//select[@id='{id}']/option[normalize-space(translate(., '\u{a0}', ' '))='{option}']"
        )))
        .await
        .unwrap_or_else(|_| panic!("an option {option:?} in {label:?}"))
        .click()
        .await
        .unwrap();
    }

    pub async fn click_link(&self, text: &str) {
        self.find(Locator::XPath(&format!("//a[normalize-space()='{text}']")))
            .await
            .unwrap_or_else(|_| panic!("a link {text:?}"))
            .click()
            .await
            .unwrap();
    }

    /// Whether the button with this text is shown (it may be in the page but hidden).
    pub async fn button_is_displayed(&self, text: &str) -> bool {
        self.client
            .find(Locator::XPath(&format!(
                "//button[normalize-space()='{text}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("a button {text:?}"))
            .is_displayed()
            .await
            .unwrap()
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("a URL").to_string()
    }

    pub async fn click_css(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Waits up to 10 s for the address to contain `part`.
    pub async fn wait_for_url_containing(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.current_url().await.contains(part) {
            assert!(
                Instant::now() < deadline,
                "the address never contained {part:?}: {}",
                self.current_url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to 10 s for `text` to appear in the page.
    pub async fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let body = self.client.find(Locator::Css("body")).await.ok();
            if let Some(body) = body
                && let Ok(shown) = body.text().await
                && shown.contains(text)
            {
                return;
            }
            if Instant::now() >= deadline {
                let source = self.client.source().await.unwrap_or_default();
                panic!("{text:?} did not appear; the page is:\n{source}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's markup now.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    /// The text the page shows now.
    pub async fn page_text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("a body")
            .text()
            .await
            .unwrap_or_default()
    }

    /// Ends the Chromium session; dropping the browser then stops chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}
