//! Organizations of a given size, made by `onestop org seed`, and what the benchmark needs to know
//! of their people.

use crate::processes::ServerSetup;
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, Instant};

/// The password of every seeded administrator and Active user.
pub const PASSWORD: &str = "purple tractor lemonade";

pub struct SeededOrganization {
    pub size: usize,
    pub admin_username: String,
    /// Usernames of Active users.
    pub active: Vec<String>,
    /// Unconfirmed users: (user id, Join Now link).
    pub unconfirmed: Vec<(String, String)>,
    pub took: Duration,
}

/// Seeds an organization of `size` users (plus its administrator) through the command line.
pub fn seed(setup: &ServerSetup, work: &Path, size: usize) -> anyhow::Result<SeededOrganization> {
    let admin_username = format!("bench{size}admin");
    let users_file = work.join(format!("users-{size}.tsv"));
    let started = Instant::now();
    setup.run(
        &[
            "org",
            "seed",
            "--users",
            &size.to_string(),
            "--company-name",
            &format!("Bench {size}"),
            "--admin-email",
            &format!("admin{size}@bench.example"),
            "--admin-username",
            &admin_username,
            "--admin-password-stdin",
            "--users-file",
            &users_file.display().to_string(),
        ],
        &format!("{PASSWORD}\n"),
    )?;
    let took = started.elapsed();
    let listing = std::fs::read_to_string(&users_file).context("reading the seeded users")?;
    let mut organization = SeededOrganization {
        size,
        admin_username,
        active: Vec::new(),
        unconfirmed: Vec::new(),
        took,
    };
    for line in listing.lines() {
        let mut fields = line.split('\t');
        let (Some(id), Some(status), Some(login)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        match status {
            "active" => organization.active.push(login.to_owned()),
            "unconfirmed" => organization
                .unconfirmed
                .push((id.to_owned(), login.to_owned())),
            _ => {}
        }
    }
    Ok(organization)
}

impl SeededOrganization {
    /// Join Now links as seen through `base` (the seeded links name the seeding run's address).
    pub fn join_links(&self, base: &str, range: std::ops::Range<usize>) -> Vec<String> {
        self.unconfirmed[range]
            .iter()
            .filter_map(|(_, link)| link.split_once("/join/"))
            .map(|(_, token)| format!("{base}/join/{token}"))
            .collect()
    }
}
