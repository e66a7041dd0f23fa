//! Starting chromedriver and a headless Chromium, and the few actions the tests need, each
//! finding elements the way a person does: by label or visible text.

use crate::page_checks::{self, AuditedPage, Tools};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    /// axe-core and the Nu HTML Checker; `None` when they are missing outside CI.
    tools: Option<Tools>,
    /// Every document audited so far (see [`page_checks`]).
    audited: Mutex<Vec<AuditedPage>>,
    /// Whether [`Browser::close`] ran the checks; a test that forgets it fails.
    closed: bool,
    /// Whether the pages' own scripts run.
    javascript_enabled: bool,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let visited = self.audited.get_mut().is_ok_and(|pages| !pages.is_empty());
        if !self.closed && visited && !std::thread::panicking() {
            panic!(
                "a browser test ends with `browser.close().await`, which runs the accessibility \
                 and HTML checks of the pages it visited"
            );
        }
    }
}

/// A chromedriver command outside the W3C protocol: one DevTools protocol call.
#[derive(Debug)]
struct DevTools {
    method: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.method, "params": self.params });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// `None` (with a loud message) when Chromium is not installed outside CI; in CI, a failure.
    pub async fn start(cookies_enabled: bool) -> Option<Self> {
        Self::start_with(cookies_enabled, true).await
    }

    /// A browser with cookies and JavaScript each on or off.
    pub async fn start_with(cookies_enabled: bool, javascript_enabled: bool) -> Option<Self> {
        Self::launch(cookies_enabled, javascript_enabled, None).await
    }

    /// A browser whose system time zone is `time_zone` (`TZ`, which Chromium reads at start),
    /// as a person's computer in that zone.
    pub async fn start_in_time_zone(time_zone: &str, javascript_enabled: bool) -> Option<Self> {
        Self::launch(true, javascript_enabled, Some(time_zone)).await
    }

    async fn launch(
        cookies_enabled: bool,
        javascript_enabled: bool,
        time_zone: Option<&str>,
    ) -> Option<Self> {
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
        // Before chromedriver starts: in CI, missing tools fail here and leave no process behind.
        let tools = Tools::find();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(CHROMEDRIVER);
        if let Some(time_zone) = time_zone {
            driver.env("TZ", time_zone);
        }
        let driver = driver
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
        options["prefs"] = prefs.into();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session starts");
        let browser = Self {
            client,
            driver,
            _profile: profile,
            tools,
            audited: Mutex::new(Vec::new()),
            closed: false,
            javascript_enabled,
        };
        if !javascript_enabled {
            // Through DevTools rather than the content setting, so that the checks can run
            // axe-core for a moment in a page whose own scripts never ran.
            browser.disable_scripts(true).await;
        }
        browser
            .devtools("Network.enable", serde_json::json!({}))
            .await;
        Some(browser)
    }

    async fn devtools(&self, method: &'static str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(DevTools { method, params })
            .await
            .unwrap_or_else(|error| panic!("DevTools {method}: {error}"))
    }

    async fn disable_scripts(&self, disabled: bool) {
        self.devtools(
            "Emulation.setScriptExecutionDisabled",
            serde_json::json!({ "value": disabled }),
        )
        .await;
    }

    /// Shows the page in the dark (`true`) or the light color scheme (`prefers-color-scheme`).
    async fn emulate_dark_mode(&self, dark: bool) {
        let features = if dark {
            serde_json::json!([{ "name": "prefers-color-scheme", "value": "dark" }])
        } else {
            serde_json::json!([{ "name": "prefers-color-scheme", "value": "light" }])
        };
        self.devtools(
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "features": features }),
        )
        .await;
    }

    /// Audits the document shown now, once per document: axe-core in the page (every rule in the
    /// light color scheme, then the color rules again in the dark one), and its served HTML kept
    /// for the Nu HTML Checker at [`Browser::close`]. Every helper that finds something in a page
    /// calls this, so no visited page escapes the checks.
    pub async fn audit_page(&self) {
        let Some(tools) = &self.tools else {
            return;
        };
        let seen = self
            .client
            .execute(
                "if (!location.protocol.startsWith('http') || document.contentType !== 'text/html' \
                     || window.__pageAudited) return null; \
                 window.__pageAudited = true; return location.href;",
                vec![],
            )
            .await;
        let Ok(serde_json::Value::String(address)) = seen else {
            return;
        };
        let served_html = self.served_html().await;
        if !self.javascript_enabled {
            self.disable_scripts(false).await;
        }
        let has_axe = self
            .client
            .execute("return typeof window.axe === 'object';", vec![])
            .await
            .unwrap();
        if has_axe != serde_json::Value::Bool(true) {
            let install = format!("{}\n;window.axe = axe; return true;", tools.axe_source());
            self.client
                .execute(&install, vec![])
                .await
                .expect("axe-core loads into the page");
        }
        let light = self
            .client
            .execute_async(page_checks::RUN_AXE, vec![page_checks::every_rule(false)])
            .await
            .expect("axe-core runs");
        self.emulate_dark_mode(true).await;
        let dark = self
            .client
            .execute_async(page_checks::RUN_AXE, vec![page_checks::color_rules(true)])
            .await
            .expect("axe-core runs");
        self.emulate_dark_mode(false).await;
        if !self.javascript_enabled {
            self.disable_scripts(true).await;
        }
        let title = self.client.title().await.unwrap_or_default();
        let mut violations = page_checks::describe_violations(&light);
        violations.extend(
            page_checks::describe_violations(&dark)
                .into_iter()
                .map(|violation| format!("{violation}\n      (in the dark color scheme)")),
        );
        self.audited.lock().unwrap().push(AuditedPage {
            name: format!("{address} \"{title}\""),
            served_html,
            violations,
        });
    }

    /// The main frame's HTML as the server sent it, from Chromium's DevTools: the body of the
    /// document's own request (whose id is the frame's loader id), the last one after redirects.
    async fn served_html(&self) -> Result<String, String> {
        let tree = self
            .devtools("Page.getFrameTree", serde_json::json!({}))
            .await;
        let frame = &tree["frameTree"]["frame"];
        let content = self
            .client
            .issue_cmd(DevTools {
                method: "Network.getResponseBody",
                params: serde_json::json!({ "requestId": frame["loaderId"] }),
            })
            .await
            .map_err(|error| format!("Chromium no longer has the served HTML: {error}"))?;
        if content["base64Encoded"].as_bool() == Some(true) {
            return Err("the page is not text".to_owned());
        }
        content["body"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("Chromium answered no body: {content}"))
    }

    /// Finds an element, waiting up to 10 s for it to appear (pages load after clicks).
    async fn find(
        &self,
        locator: Locator<'_>,
    ) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(locator)
            .await;
        if element.is_ok() {
            self.audit_page().await;
        }
        element
    }

    /// The WebDriver session, for commands of an extension (see `passkeys::VirtualAuthenticator`).
    pub fn webdriver(&self) -> &Client {
        &self.client
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
        self.audit_page().await;
    }

    pub async fn current_path(&self) -> String {
        self.audit_page().await;
        self.client
            .current_url()
            .await
            .expect("a URL")
            .path()
            .to_owned()
    }

    /// The `<label>` reading `label` (a required field's label may add its " *" marker).
    async fn label(&self, label: &str, what: &str) -> fantoccini::elements::Element {
        self.find(Locator::XPath(&format!(
            "//label[normalize-space()='{label}' or normalize-space(text()[1])='{label}']"
        )))
        .await
        .unwrap_or_else(|_| panic!("a {what} labelled {label:?}"))
    }

    /// The id of the control that the label reading `label` names.
    async fn labelled_id(&self, label: &str, what: &str) -> String {
        self.label(label, what)
            .await
            .attr("for")
            .await
            .unwrap()
            .expect("the label names its control")
    }

    /// The control that the label reading `label` names.
    async fn labelled(&self, label: &str, what: &str) -> fantoccini::elements::Element {
        let id = self.labelled_id(label, what).await;
        self.client
            .find(Locator::Id(&id))
            .await
            .expect("the labelled control")
    }

    /// Types into the input whose label reads `label` (a required field's label may add its
    /// " *" marker).
    pub async fn fill(&self, label: &str, value: &str) {
        let input = self.labelled(label, "field").await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    /// Chooses the file at `path` in the file input whose label reads `label`.
    pub async fn choose_file(&self, label: &str, path: &std::path::Path) {
        self.labelled(label, "file field")
            .await
            .send_keys(path.to_str().expect("a UTF-8 path"))
            .await
            .unwrap();
    }

    /// The width in pixels of the image the `<img>` matching `selector` shows (0 when it did
    /// not load), once it has finished loading.
    pub async fn loaded_image_width(&self, selector: &str) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state = self
                .client
                .execute(
                    "const image = document.querySelector(arguments[0]); \
                     return image && image.complete ? image.naturalWidth : null;",
                    vec![serde_json::Value::from(selector)],
                )
                .await
                .expect("the script runs");
            if let Some(width) = state.as_u64() {
                return width;
            }
            assert!(
                Instant::now() < deadline,
                "no loaded image matches {selector:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
        self.label(label, "check box").await.click().await.unwrap();
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
        let id = self.labelled_id(label, "drop-down").await;
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

    /// Focuses the drop-down whose label reads `label` and presses `keys` in it.
    pub async fn press_keys_in(&self, label: &str, keys: &str) {
        self.labelled(label, "field")
            .await
            .send_keys(keys)
            .await
            .unwrap();
    }

    /// Whether the page shown now fits a window `width` pixels wide without scrolling sideways
    /// (wide tables scroll inside their own container); the window size is restored after.
    pub async fn fits_width(&self, width: u32) -> bool {
        self.client.set_window_size(width, 800).await.unwrap();
        let fits = self
            .client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        self.client.set_window_size(1280, 900).await.unwrap();
        fits == serde_json::Value::Bool(true)
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
        self.audit_page().await;
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

    /// The value of the form control with this id (a select's chosen option).
    pub async fn value_of(&self, id: &str) -> String {
        let element = self
            .find(Locator::Id(id))
            .await
            .expect("the control exists");
        element
            .prop("value")
            .await
            .expect("the control has a value")
            .unwrap_or_default()
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("a URL").to_string()
    }

    pub async fn click_css(&self, selector: &str) {
        self.audit_page().await;
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// On another site's form (an identity provider's sign-in page, not ours to audit): waits
    /// for the field named by each pair, types into it, and submits the form.
    pub async fn fill_in_elsewhere_and_submit(&self, fields: &[(&str, &str)]) {
        let mut last = None;
        for (name, value) in fields {
            let input = self
                .client
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css(&format!("input[name='{name}']")))
                .await
                .unwrap_or_else(|_| panic!("a field named {name:?} on the other site"));
            input.send_keys(value).await.unwrap();
            last = Some(input);
        }
        let input = last.expect("at least one field");
        input.send_keys("\u{E007}").await.unwrap();
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
        self.audit_page().await;
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
                self.audit_page().await;
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
        self.audit_page().await;
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("a body")
            .text()
            .await
            .unwrap_or_default()
    }

    /// The `attribute` of every element that `css` selects, in page order.
    pub async fn attributes(&self, css: &str, attribute: &str) -> Vec<String> {
        let mut values = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            values.extend(element.attr(attribute).await.unwrap());
        }
        values
    }

    /// Audits the last page, ends the Chromium session, and fails the test on any serious or
    /// critical axe-core violation or HTML error in the pages it visited, listing them all.
    pub async fn close(mut self) {
        self.audit_page().await;
        let _ = self.client.clone().close().await;
        self.closed = true;
        let Some(tools) = &self.tools else {
            return;
        };
        let audited = std::mem::take(&mut *self.audited.lock().unwrap());
        let audited_count = audited.len();
        let mut report = String::new();
        for page in &audited {
            if !page.violations.is_empty() {
                report.push_str(&format!(
                    "axe-core: {} serious or critical violation(s) on {}\n{}\n",
                    page.violations.len(),
                    page.name,
                    page.violations.join("\n")
                ));
            }
        }
        let mut served: Vec<(String, String)> = Vec::new();
        for page in audited {
            match page.served_html {
                Ok(html) => {
                    if !served.iter().any(|(_, seen)| *seen == html) {
                        served.push((page.name, html));
                    }
                }
                Err(error) => report.push_str(&format!(
                    "the served HTML of {} could not be validated: {error}\n",
                    page.name
                )),
            }
        }
        let errors = page_checks::validate_html(tools, &served);
        eprintln!(
            "page checks: axe-core audited {} page(s); the Nu HTML Checker validated {} served page(s)",
            audited_count,
            served.len()
        );
        if !errors.is_empty() {
            report.push_str(&format!(
                "Nu HTML Checker: {} error(s) in {} page(s)\n{}\n",
                errors.len(),
                served.len(),
                errors.join("\n")
            ));
        }
        assert!(
            report.is_empty(),
            "the pages this test visited are not accessible or not valid HTML:\n{report}"
        );
    }
}
