//! The accessibility and HTML-validity checks every page a browser test visits goes through.
//!
//! After every navigation the [`Browser`](crate::chromium::Browser) helpers notice a new document
//! and audit it once: axe-core (npm `axe-core`) is injected and run in the page as the test sees
//! it (signed in or not, error states), with every rule in the light color scheme and the color
//! rules again in the dark one (`prefers-color-scheme` emulated through the DevTools protocol),
//! and the document's *served* HTML is recorded. The served HTML comes from Chromium itself through the DevTools protocol
//! (`Page.getResourceContent` of the main frame): the bytes the server sent, also for the answer to
//! a POST, without a second request that could change state (a join link works once) and without
//! the parser's repairs that `outerHTML` would show. When the test closes the browser, the Nu HTML
//! Checker (npm `vnu-jar`, on Java) validates all recorded pages in one JVM start, and the test
//! fails on any axe violation of impact serious or critical, or any HTML error, listing each with
//! its page. Documents that are not HTML served over HTTP (a CSV download, Chromium's own pages)
//! are left out.
//!
//! The tools live in `.tools/node_modules` at the workspace root (not committed; `scripts/test`
//! installs them, pinned) or in the directory `WEB_TOOLS_DIR` names. Missing tools fail in CI and
//! skip loudly elsewhere.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// Where axe-core's script and the Nu HTML Checker's jar are.
pub struct Tools {
    axe_source: String,
    vnu_jar: PathBuf,
    java: PathBuf,
}

impl Tools {
    /// The tools, or `None` with a loud message outside CI; in CI, missing tools fail the test.
    pub fn find() -> Option<Self> {
        let base = std::env::var_os("WEB_TOOLS_DIR").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools"),
            PathBuf::from,
        );
        let modules = base.join("node_modules");
        let axe = modules.join("axe-core/axe.min.js");
        let vnu_jar = modules.join("vnu-jar/build/dist/vnu.jar");
        let java = PathBuf::from("/usr/bin/java");
        let missing: Vec<String> = [&axe, &vnu_jar, &java]
            .iter()
            .filter(|path| !path.exists())
            .map(|path| path.display().to_string())
            .collect();
        if !missing.is_empty() {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "the page checks need {}; scripts/test installs them (npm axe-core and \
                     vnu-jar into .tools, Java from default-jre-headless)",
                    missing.join(", ")
                );
            }
            eprintln!(
                "\n*** SKIPPED: accessibility (axe-core) and HTML (vnu) checks of the pages; \
                 missing {}; run scripts/test once to install them ***\n",
                missing.join(", ")
            );
            return None;
        }
        let axe_source = std::fs::read_to_string(&axe).expect("axe-core's script reads");
        Some(Self {
            axe_source,
            vnu_jar,
            java,
        })
    }

    /// The script that defines `axe` in the page.
    pub fn axe_source(&self) -> &str {
        &self.axe_source
    }
}

/// What the audit of one document found.
pub struct AuditedPage {
    /// The address and the color scheme it was seen in, to name the page in failures.
    pub name: String,
    /// The HTML the server sent, or why Chromium could not give it.
    pub served_html: Result<String, String>,
    /// axe-core's serious and critical violations, one readable paragraph each.
    pub violations: Vec<String>,
}

/// The script run with `execute_async` and the options below: axe over the whole document,
/// answering the serious and critical violations as `[{id, impact, help, helpUrl, targets: [..]}]`.
/// It first makes sure the page shows the color scheme asked for.
pub const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
const { dark, options } = arguments[0];
if (matchMedia("(prefers-color-scheme: dark)").matches !== dark) {
  done([{ id: "color-scheme", impact: "critical", help: "Chromium did not emulate the color scheme asked for", helpUrl: "", targets: [] }]);
  return;
}
axe.run(document, Object.assign({ resultTypes: ["violations"] }, options)).then(
  (results) => done(results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => n.target.join(" ") + "  " + (n.failureSummary || "").replace(/\s+/g, " ")),
    }))),
  (error) => done([{ id: "axe-error", impact: "critical", help: String(error), helpUrl: "", targets: [] }]),
);
"#;

/// Every rule axe-core runs by default (WCAG 2.x A and AA, and best practices).
pub fn every_rule(dark: bool) -> serde_json::Value {
    serde_json::json!({ "dark": dark, "options": {} })
}

/// Only the rules that depend on colors, for the second color scheme.
pub fn color_rules(dark: bool) -> serde_json::Value {
    serde_json::json!({
        "dark": dark,
        "options": { "runOnly": { "type": "rule", "values": ["color-contrast", "link-in-text-block"] } },
    })
}

/// Turns axe's answer into one paragraph per violation.
pub fn describe_violations(answer: &serde_json::Value) -> Vec<String> {
    let Some(list) = answer.as_array() else {
        return vec![format!("axe answered something unexpected: {answer}")];
    };
    list.iter()
        .map(|violation| {
            let text = |key: &str| violation[key].as_str().unwrap_or_default().to_owned();
            let mut paragraph = format!(
                "  [{}] {}: {} ({})",
                text("impact"),
                text("id"),
                text("help"),
                text("helpUrl")
            );
            for target in violation["targets"].as_array().into_iter().flatten() {
                let _ = write!(
                    paragraph,
                    "\n      at {}",
                    target.as_str().unwrap_or_default()
                );
            }
            paragraph
        })
        .collect()
}

/// Validates the served HTML of all pages in one run of the Nu HTML Checker; one readable line per
/// error, naming the page.
pub fn validate_html(tools: &Tools, pages: &[(String, String)]) -> Vec<String> {
    if pages.is_empty() {
        return Vec::new();
    }
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut files = Vec::new();
    for (index, (_, html)) in pages.iter().enumerate() {
        let file = directory.path().join(format!("page-{index:03}.html"));
        std::fs::write(&file, html).expect("the page is written");
        files.push(file);
    }
    // The checker needs a deep stack; the client compiler alone and the serial collector start
    // the JVM in a third of the time, which is most of a run over a test's few pages.
    let output = Command::new(&tools.java)
        .args(["-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"])
        .arg("-jar")
        .arg(&tools.vnu_jar)
        .args(["--errors-only", "--format", "json"])
        .args(&files)
        .output()
        .expect("java runs the Nu HTML Checker");
    // vnu writes its report to standard error.
    let report: serde_json::Value = match serde_json::from_slice(&output.stderr) {
        Ok(report) => report,
        Err(_) => {
            return vec![format!(
                "the Nu HTML Checker did not answer JSON (exit {}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )];
        }
    };
    let mut errors = Vec::new();
    for message in report["messages"].as_array().into_iter().flatten() {
        if message["type"].as_str() == Some("info") {
            continue;
        }
        let file = message["url"].as_str().unwrap_or_default();
        let page = files
            .iter()
            .position(|path| file.ends_with(&*path.to_string_lossy()))
            .map_or_else(|| file.to_owned(), |index| pages[index].0.clone());
        let line = message["lastLine"].as_u64().unwrap_or_default();
        errors.push(format!(
            "  {page}, line {line}: {}\n      in: {}",
            message["message"].as_str().unwrap_or_default(),
            message["extract"]
                .as_str()
                .unwrap_or_default()
                .replace('\n', " ")
                .trim()
        ));
    }
    errors
}
