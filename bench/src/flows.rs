//! Flows that span several requests, driven at a fixed concurrency: joining, signing in, and the
//! bulk Reinvite of many selected users.

use crate::browser::{Browser, hidden};
use crate::seeding::PASSWORD;
use anyhow::bail;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Runs `work(item)` for every item, `concurrency` at a time; returns completions a second.
/// Any failure fails the measurement.
async fn at_concurrency<F, Fut>(
    items: Vec<String>,
    concurrency: usize,
    work: F,
) -> anyhow::Result<f64>
where
    F: Fn(usize, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let count = items.len();
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (items, next, work) = (items.clone(), next.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else {
                    return Ok::<(), anyhow::Error>(());
                };
                work(index, item.clone()).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// The article's join flow for each link (open the link, the form, Update with a username and
/// password, I Agree, the homepage), four at a time. Returns joins a second.
pub async fn joins(base: &str, links: Vec<String>, label: &str) -> anyhow::Result<f64> {
    let (base, label) = (base.to_owned(), label.to_owned());
    at_concurrency(links, 4, move |index, link| {
        let (base, username) = (base.clone(), format!("{label}j{index}"));
        async move {
            let browser = Browser::new(&base)?;
            browser
                .join(&link, &username, "correct horse battery staple 1")
                .await?;
            Ok(())
        }
    })
    .await
}

/// Signing in (the form, the password, the homepage) as each user, four at a time.
pub async fn sign_ins(base: &str, usernames: Vec<String>) -> anyhow::Result<f64> {
    let base = base.to_owned();
    at_concurrency(usernames, 4, move |_, username| {
        let base = base.clone();
        async move {
            let browser = Browser::new(&base)?;
            browser.sign_in(&username, PASSWORD).await?;
            Ok(())
        }
    })
    .await
}

/// One bulk Reinvite of `user_ids` by a signed-in administrator; returns how long it took.
pub async fn bulk_reinvite(admin: &Browser, user_ids: &[String]) -> anyhow::Result<Duration> {
    let page = admin.get("/setup/users?view=unconfirmed").await?;
    let csrf = hidden(&page.body, "csrf_token")?;
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("view", "unconfirmed"),
        ("q", ""),
        ("action", "reinvite"),
    ];
    fields.extend(user_ids.iter().map(|id| ("ids", id.as_str())));
    let started = Instant::now();
    let outcome = admin.post("/setup/users/bulk", &fields).await?;
    let took = started.elapsed();
    if outcome.status != 200
        || !outcome.body.contains("Invitation resent to")
        || outcome.body.contains("was not reinvited")
    {
        bail!(
            "the bulk Reinvite did not report {} users reinvited: {} {}",
            user_ids.len(),
            outcome.status,
            outcome.body.chars().take(400).collect::<String>()
        );
    }
    Ok(took)
}
