//! Sessions and cookies: a session whose user is no longer Active reaches nothing, a session id
//! planted in a browser never survives joining, and every cookie carries its flags.

use crate::helpers::{
    Backend, MEMBER_PASSWORD, Scope, Snapshot, TestApp, assert_unchanged, cookie_value,
    csrf_token_in, hidden_field, location, on_both_backends, on_both_databases, option_value,
    set_cookie_value, spawn_app_with,
};
use crate::invitations::{
    GRACE_PASSWORD, invite_grace, queued_join_link, save_new_user, submit_join,
};
use onestop_domain::SecretToken;
use std::collections::BTreeMap;

on_both_databases!(
    an_unconfirmed_or_deactivated_users_old_session_reaches_nothing,
    a_planted_session_id_is_replaced_at_join,
);

on_both_backends!(
    every_cookie_is_http_only_lax_and_path_root_and_over_https_secure_with_the_host_prefix
);

/// GET `path` with nothing but the session cookie `session`.
async fn get_with_session(app: &TestApp, path: &str, session: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", format!("onestop_session={session}"))
        .send()
        .await
        .unwrap()
}

/// An Administrator signs in and opens the homepage and New User; then their status becomes
/// Unconfirmed (or Deactivated) by a plain SQL UPDATE, bypassing the code that ends sessions, so
/// the session row survives. With the old cookie and the forms' tokens, every POST (First Steps,
/// New User, Decline, Sign Out) and every GET is sent to sign in, and no row changes but the dead
/// session's own, which is deleted on sight.
async fn an_unconfirmed_or_deactivated_users_old_session_reaches_nothing(app: TestApp) {
    let organization = app.create_organization().await;
    for status in ["unconfirmed", "deactivated"] {
        let username = format!("bob{status}");
        let user_id = app
            .add_active_user(
                &organization.org_id,
                "administrator",
                "ceo",
                ("Bob", "Babbage"),
                &username,
                MEMBER_PASSWORD,
            )
            .await;
        let browser = app.new_client();
        assert_eq!(
            location(&app.sign_in_with(&browser, &username, MEMBER_PASSWORD).await),
            "/"
        );
        assert_eq!(location(&app.agree_with(&browser).await), "/");
        let home = browser
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(home.contains("Welcome, <bdi>Bob</bdi>"), "{home}");
        let token = csrf_token_in(&home);
        let item = hidden_field(&home, "item_id");
        let new_user = browser
            .get(app.url("/setup/users/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let profile = option_value(&new_user, "Administrator");
        let role = option_value(&new_user, "CEO");

        app.execute(&format!(
            "UPDATE users SET status = '{status}' WHERE id = '{user_id}'"
        ))
        .await;
        assert_eq!(
            app.store.session_count(&user_id).await.unwrap(),
            1,
            "the session row survived"
        );
        let snapshot = Snapshot::plan(&app, Scope::Everything).await;
        let before = snapshot.take(&app).await;

        // POSTs first, while the row is still there.
        let (token, item) = (token.as_str(), item.as_str());
        let posts: [(&str, Vec<(&str, &str)>); 4] = [
            (
                "/first-steps",
                vec![("csrf_token", token), ("item_id", item), ("done", "1")],
            ),
            (
                "/setup/users/new",
                vec![
                    ("csrf_token", token),
                    ("first_name", "Eve"),
                    ("last_name", "Intruder"),
                    ("email", "eve@example.com"),
                    ("profile_id", profile.as_str()),
                    ("role_id", role.as_str()),
                ],
            ),
            ("/terms/decline", vec![("csrf_token", token)]),
            ("/logout", vec![("csrf_token", token)]),
        ];
        for (path, form) in &posts {
            let response = browser
                .post(app.url(path))
                .header("origin", &app.address)
                .form(form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 303, "{status}: POST {path}");
            assert_eq!(location(&response), "/login", "{status}: POST {path}");
        }
        for (path, target) in [
            ("/", "/login"),
            ("/terms", "/login?next=%2Fterms"),
            ("/setup/users", "/login?next=%2Fsetup%2Fusers"),
        ] {
            let response = browser.get(app.url(path)).send().await.unwrap();
            assert_eq!(location(&response), target, "{status}: GET {path}");
        }

        // Every row as it was, but the dead session's own.
        let others = |rows: Vec<String>| -> Vec<String> {
            let own = format!("user_id={user_id},");
            rows.into_iter()
                .filter(|row| !(row.starts_with("sessions: ") && row.contains(&own)))
                .collect()
        };
        assert_unchanged(
            &others(before),
            &others(snapshot.take(&app).await),
            &format!("an {status} user's old session"),
        );
        assert_eq!(
            app.store.session_count(&user_id).await.unwrap(),
            0,
            "{status}: the dead session is deleted on sight"
        );
        assert_eq!(
            app.number_value(
                "SELECT COUNT(*) FROM users WHERE email_normalized = $1",
                "eve@example.com"
            )
            .await,
            0
        );
        assert_eq!(
            app.text_value("SELECT status FROM users WHERE id = $1", &user_id)
                .await
                .as_deref(),
            Some(status)
        );
    }
}

/// A session id planted in the invitee's browser before they open the link never becomes theirs:
/// a random one is ignored and a fresh id is issued at join; a real session of someone else (Sam)
/// must be signed out of first, which ends it, and again the join issues a fresh id. Afterwards
/// the planted values resolve to nothing.
async fn a_planted_session_id_is_replaced_at_join(app: TestApp) {
    let (organization, grace_link) = invite_grace(&app).await;
    let saved = save_new_user(
        &app,
        "Alan",
        "Turing",
        "alan@example.com",
        "Standard",
        "Manager",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    let alan_link = queued_join_link(&app, "alan@example.com").await;
    let sam = app.add_sam(&organization.org_id).await;
    let sessions_with_hash = |value: &str| {
        let hash = SecretToken::parse(value).unwrap().hash();
        let app = &app;
        async move {
            app.number_value(
                "SELECT COUNT(*) FROM sessions WHERE id_hash = $1",
                hash.as_str(),
            )
            .await
        }
    };

    // 1. A random id, planted before Grace opens her link.
    let planted = SecretToken::generate().expose().to_owned();
    let (browser, jar) = app.client_with_jar();
    app.plant_cookie(&jar, "onestop_session", &planted);
    let opened = browser.get(&grace_link).send().await.unwrap();
    assert_eq!(location(&opened), "/join");
    let form = browser
        .get(app.url("/join"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("Confirm Password"), "{form}");
    let joined = submit_join(&app, &browser, &form, "grace", GRACE_PASSWORD).await;
    assert_eq!(location(&joined), "/");
    let issued = set_cookie_value(&joined, "onestop_session").expect("a session cookie at join");
    assert_ne!(issued, planted, "a fresh session id");
    assert_eq!(
        cookie_value(&app.cookie_header(&jar), "onestop_session").as_deref(),
        Some(issued.as_str()),
        "the browser now holds the fresh id"
    );
    assert_eq!(
        location(&get_with_session(&app, "/", &planted).await),
        "/login",
        "the planted id resolves to nothing"
    );
    assert_eq!(sessions_with_hash(&planted).await, 0);
    assert_eq!(
        location(&get_with_session(&app, "/", &issued).await),
        "/terms",
        "the fresh id is Grace's"
    );
    let grace = app
        .text_value(
            "SELECT id FROM users WHERE email_normalized = $1",
            "grace@example.com",
        )
        .await
        .unwrap();
    assert_eq!(app.store.session_count(&grace).await.unwrap(), 1);

    // 2. Sam's real session, planted into Alan's browser.
    let (sams_browser, sams_jar) = app.client_with_jar();
    assert_eq!(
        location(
            &app.sign_in_with(&sams_browser, "sam", MEMBER_PASSWORD)
                .await
        ),
        "/"
    );
    let planted = cookie_value(&app.cookie_header(&sams_jar), "onestop_session").unwrap();
    let (browser, jar) = app.client_with_jar();
    app.plant_cookie(&jar, "onestop_session", &planted);
    let opened = browser.get(&alan_link).send().await.unwrap();
    assert_eq!(opened.status().as_u16(), 409);
    let page = opened.text().await.unwrap();
    assert!(
        page.contains("You are signed in as Sam Standard. Sign out to accept this invitation."),
        "{page}"
    );
    let signed_out = browser
        .post(app.url("/logout"))
        .header("origin", &app.address)
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("next", "/join"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&signed_out), "/join");
    let form = browser
        .get(app.url("/join"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("value=\"alan@example.com\" readonly"),
        "{form}"
    );
    let joined = submit_join(&app, &browser, &form, "alan", GRACE_PASSWORD).await;
    assert_eq!(location(&joined), "/");
    let issued = set_cookie_value(&joined, "onestop_session").expect("a session cookie at join");
    assert_ne!(issued, planted, "a fresh session id");
    assert_eq!(
        location(&get_with_session(&app, "/", &planted).await),
        "/login",
        "the planted id resolves to nothing"
    );
    assert_eq!(sessions_with_hash(&planted).await, 0);
    assert_eq!(app.store.session_count(&sam).await.unwrap(), 0);
    assert_eq!(
        location(&get_with_session(&app, "/", &issued).await),
        "/terms",
        "the fresh id is Alan's"
    );
}

/// One cookie a response set, as the browser would read it.
#[derive(Debug)]
struct Issued {
    /// What the browser was doing.
    step: &'static str,
    name: String,
    removal: bool,
    http_only: bool,
    secure: bool,
    same_site_lax: bool,
    path: Option<String>,
    domain: Option<String>,
}

/// A browser that keeps its cookies by hand and sends them whatever their flags say (the test
/// client would keep `Secure` cookies from a plain-HTTP test server), recording every cookie it
/// is given.
struct HandBrowser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    issued: Vec<Issued>,
}

/// What came back: the status, where it redirects, and the page.
struct Reply {
    status: u16,
    location: String,
    body: String,
}

impl<'a> HandBrowser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            issued: Vec::new(),
        }
    }

    /// A path, or a link from an email (whose host is the public URL's): this server's address.
    fn url(&self, path_or_link: &str) -> String {
        if path_or_link.starts_with('/') {
            self.app.url(path_or_link)
        } else {
            let link = reqwest::Url::parse(path_or_link).unwrap();
            self.app.url(link.path())
        }
    }

    async fn send(&mut self, step: &'static str, request: reqwest::RequestBuilder) -> Reply {
        let header = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if header.is_empty() {
            request
        } else {
            request.header("cookie", header)
        };
        let response = request.send().await.unwrap();
        for cookie in response.cookies() {
            let removal =
                cookie.value().is_empty() || cookie.max_age() == Some(std::time::Duration::ZERO);
            if removal {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
            self.issued.push(Issued {
                step,
                name: cookie.name().to_owned(),
                removal,
                http_only: cookie.http_only(),
                secure: cookie.secure(),
                same_site_lax: cookie.same_site_lax(),
                path: cookie.path().map(str::to_owned),
                domain: cookie.domain().map(str::to_owned),
            });
        }
        Reply {
            status: response.status().as_u16(),
            location: location(&response),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, step: &'static str, path_or_link: &str) -> Reply {
        let request = self.client.get(self.url(path_or_link));
        self.send(step, request).await
    }

    async fn post(&mut self, step: &'static str, path: &str, form: &[(&str, &str)]) -> Reply {
        let request = self.client.post(self.url(path)).form(form);
        self.send(step, request).await
    }
}

const FIRST_RUN_PASSWORD: &str = "seven green lanterns glow";
const RESET_PASSWORD: &str = "granite harbour sunrise";

/// A first run (which then invites Alan and signs out), a sign-in, Alan's join and a password
/// reset, each in a browser of its own: every cookie any of them was given.
async fn cookies_of_every_flow(app: &TestApp) -> Vec<Issued> {
    use onestop_server::usecases::first_run::issue_first_run_code;
    let mut issued = Vec::new();

    let mut first = HandBrowser::new(app);
    let code = issue_first_run_code(&app.services).await.unwrap().unwrap();
    let page = first
        .get("first-run page", &format!("/first-run/{}", code.expose()))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let token = csrf_token_in(&page.body);
    let created = first
        .post(
            "first run",
            "/first-run",
            &[
                ("csrf_token", &token),
                ("code", code.expose()),
                ("company_name", "Hopper Heating"),
                ("account_name", ""),
                ("first_name", "Grace"),
                ("last_name", "Hopper"),
                ("email", "grace@hopper.example"),
                ("username", "grace"),
                ("password", FIRST_RUN_PASSWORD),
                ("password_confirmation", FIRST_RUN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let terms = first.get("terms", "/terms").await;
    let agreed = first
        .post(
            "agree",
            "/terms/accept",
            &[
                ("csrf_token", &csrf_token_in(&terms.body)),
                ("version_id", &hidden_field(&terms.body, "version_id")),
            ],
        )
        .await;
    assert_eq!(agreed.location, "/");
    let form = first.get("new user form", "/setup/users/new").await;
    let invited = first
        .post(
            "new user",
            "/setup/users/new",
            &[
                ("csrf_token", &csrf_token_in(&form.body)),
                ("first_name", "Alan"),
                ("last_name", "Turing"),
                ("email", "alan@example.com"),
                ("profile_id", &option_value(&form.body, "Standard")),
                ("role_id", &option_value(&form.body, "Manager")),
            ],
        )
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let signed_out = first
        .post(
            "sign out",
            "/logout",
            &[("csrf_token", &csrf_token_in(&form.body))],
        )
        .await;
    assert_eq!(signed_out.location, "/login?signed_out=1");
    issued.append(&mut first.issued);

    let mut signing_in = HandBrowser::new(app);
    let page = signing_in.get("sign-in page", "/login").await;
    let signed_in = signing_in
        .post(
            "sign in",
            "/login",
            &[
                ("csrf_token", &csrf_token_in(&page.body)),
                ("username", "grace"),
                ("password", FIRST_RUN_PASSWORD),
                ("next", ""),
            ],
        )
        .await;
    assert_eq!(signed_in.location, "/");
    issued.append(&mut signing_in.issued);

    let mut joining = HandBrowser::new(app);
    let link = queued_join_link(app, "alan@example.com").await;
    assert_eq!(joining.get("join link", &link).await.location, "/join");
    let form = joining.get("join form", "/join").await;
    let joined = joining
        .post(
            "join",
            "/join",
            &[
                ("csrf_token", &csrf_token_in(&form.body)),
                ("username", "alan"),
                ("password", GRACE_PASSWORD),
                ("password_confirmation", GRACE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(joined.location, "/", "{}", joined.body);
    issued.append(&mut joining.issued);

    let mut resetting = HandBrowser::new(app);
    let form = resetting.get("forgot page", "/password/forgot").await;
    resetting
        .post(
            "forgot",
            "/password/forgot",
            &[
                ("csrf_token", &csrf_token_in(&form.body)),
                ("username", "grace"),
            ],
        )
        .await;
    app.background_work_done().await;
    let link = app
        .emails_to("grace@hopper.example")
        .await
        .last()
        .and_then(|email| email.action_url.clone())
        .expect("a reset email");
    assert_eq!(
        resetting.get("reset link", &link).await.location,
        "/password/reset"
    );
    let form = resetting.get("reset form", "/password/reset").await;
    let reset = resetting
        .post(
            "reset",
            "/password/reset",
            &[
                ("csrf_token", &csrf_token_in(&form.body)),
                ("password", RESET_PASSWORD),
                ("password_confirmation", RESET_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        reset.location, "/login?password_changed=1",
        "{}",
        reset.body
    );
    issued.append(&mut resetting.issued);
    issued
}

/// The session cookie issued at sign-in, at join and at first run, the form cookie, the join
/// cookie and the reset cookie, and the removals of each: `HttpOnly`, `SameSite=Lax`, `Path=/`
/// and no `Domain`; over plain HTTP neither `Secure` nor the prefix, over an https public URL
/// `Secure` and the `__Host-` prefix.
async fn every_cookie_is_http_only_lax_and_path_root_and_over_https_secure_with_the_host_prefix(
    backend: Backend,
) {
    for https in [false, true] {
        let public_url = https.then_some("https://1stop.example.test");
        let Some(app) = spawn_app_with(backend, public_url).await else {
            return;
        };
        let issued = cookies_of_every_flow(&app).await;
        let prefix = if https { "__Host-" } else { "" };
        for cookie in &issued {
            let what = format!("{backend:?}, https {https}: {cookie:?}");
            assert!(cookie.name.starts_with(prefix), "{what}");
            assert!(
                https || !cookie.name.starts_with("__Host-"),
                "{what}: no prefix without HTTPS"
            );
            assert!(cookie.http_only, "{what}: HttpOnly");
            assert!(cookie.same_site_lax, "{what}: SameSite=Lax");
            assert_eq!(cookie.path.as_deref(), Some("/"), "{what}: Path=/");
            assert_eq!(cookie.domain, None, "{what}: no Domain");
            assert_eq!(cookie.secure, https, "{what}: Secure exactly over HTTPS");
        }
        let given = |step: &str, base: &str, removal: bool| {
            issued.iter().any(|cookie| {
                cookie.step == step
                    && cookie.name == format!("{prefix}{base}")
                    && cookie.removal == removal
            })
        };
        for (step, base) in [
            ("first-run page", "onestop_form"),
            ("first run", "onestop_session"),
            ("sign-in page", "onestop_form"),
            ("sign in", "onestop_session"),
            ("join link", "onestop_join"),
            ("join form", "onestop_form"),
            ("join", "onestop_session"),
            ("forgot page", "onestop_form"),
            ("reset link", "onestop_reset"),
        ] {
            assert!(
                given(step, base, false),
                "{backend:?}, https {https}: {step} sets {prefix}{base}: {issued:#?}"
            );
        }
        for (step, base) in [
            ("sign out", "onestop_session"),
            ("join", "onestop_join"),
            ("reset", "onestop_reset"),
        ] {
            assert!(
                given(step, base, true),
                "{backend:?}, https {https}: {step} removes {prefix}{base}: {issued:#?}"
            );
        }
    }
}
