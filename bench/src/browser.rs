//! A person's way through the pages, over HTTP with a cookie jar: signing in, joining, reading
//! the hidden fields a form needs. Used where a flow spans several requests (wrk sends one).

use anyhow::{Context, bail};
use reqwest::cookie::CookieStore;
use std::sync::Arc;

pub struct Browser {
    client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    base: String,
}

/// Where a request ended (after redirects), and what it showed.
pub struct Page {
    pub path: String,
    pub status: u16,
    pub body: String,
}

impl Browser {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()?;
        Ok(Self {
            client,
            jar,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Page> {
        let response = self.client.get(self.url(path)).send().await?;
        page(response).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        let response = self.client.post(self.url(path)).form(fields).send().await?;
        page(response).await
    }

    /// The `Cookie` header this browser sends to the server.
    pub fn cookie_header(&self) -> anyhow::Result<String> {
        let url = reqwest::Url::parse(&self.base)?;
        let header = self.jar.cookies(&url).context("no cookies yet")?;
        Ok(header.to_str()?.to_owned())
    }

    /// Signs in and, when the Terms gate asks, agrees; ends on the homepage.
    pub async fn sign_in(&self, username: &str, password: &str) -> anyhow::Result<Page> {
        let form = self.get("/login").await?;
        let csrf = hidden(&form.body, "csrf_token")?;
        let after = self
            .post(
                "/login",
                &[
                    ("csrf_token", &csrf),
                    ("next", "/"),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await?;
        self.through_terms(after).await
    }

    /// The article's flow from the Join Now link: the form, Update, I Agree, the homepage.
    pub async fn join(&self, link: &str, username: &str, password: &str) -> anyhow::Result<Page> {
        let form = self.get(link).await?;
        let csrf = hidden(&form.body, "csrf_token")?;
        let after = self
            .post(
                "/join",
                &[
                    ("csrf_token", &csrf),
                    ("username", username),
                    ("password", password),
                    ("password_confirmation", password),
                ],
            )
            .await?;
        self.through_terms(after).await
    }

    async fn through_terms(&self, page: Page) -> anyhow::Result<Page> {
        let home = if page.path == "/terms" {
            let csrf = hidden(&page.body, "csrf_token")?;
            let version = hidden(&page.body, "version_id")?;
            self.post(
                "/terms/accept",
                &[("csrf_token", &csrf), ("version_id", &version)],
            )
            .await?
        } else {
            page
        };
        if home.path != "/" || home.status != 200 {
            bail!(
                "expected the homepage, got {} {}: {}",
                home.status,
                home.path,
                excerpt(&home.body)
            );
        }
        Ok(home)
    }
}

async fn page(response: reqwest::Response) -> anyhow::Result<Page> {
    let path = response.url().path().to_owned();
    let status = response.status().as_u16();
    let body = response.text().await?;
    Ok(Page { path, status, body })
}

/// The value of the hidden (or any) input named `name`.
pub fn hidden(html: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .with_context(|| format!("no {name} field on the page: {}", excerpt(html)))?
        + marker.len();
    let end = html[start..].find('"').context("unterminated value")? + start;
    Ok(html[start..end].to_owned())
}

/// The value of the `<option>` labelled `label` in the select whose id is `select`.
pub fn option_value(html: &str, select: &str, label: &str) -> anyhow::Result<String> {
    let start = html
        .find(&format!("<select id=\"{select}\""))
        .with_context(|| format!("no {select} select on the page"))?;
    let end = html[start..]
        .find("</select>")
        .context("unterminated select")?
        + start;
    html[start..end]
        .split("<option value=\"")
        .skip(1)
        .find_map(|option| {
            let (value, rest) = option.split_once('"')?;
            let text = rest.split_once('>')?.1.split('<').next()?;
            // Role pickers indent each level of the tree with no-break spaces.
            (text.trim_start_matches('\u{a0}') == label).then(|| value.to_owned())
        })
        .with_context(|| format!("no option {label} in {select}"))
}

fn excerpt(html: &str) -> String {
    html.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hidden_fields_and_options() {
        let html = r#"<input type="hidden" name="csrf_token" value="abc">
            <select id="role_id" name="role_id"><option value="r1">CEO</option>
            <option value="r2" selected>   Manager</option></select>"#;
        assert_eq!(hidden(html, "csrf_token").unwrap(), "abc");
        assert_eq!(option_value(html, "role_id", "Manager").unwrap(), "r2");
        assert!(option_value(html, "role_id", "Intern").is_err());
    }
}
