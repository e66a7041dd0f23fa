//! How long a refused sign-in takes must not tell what was wrong with it.

use crate::helpers::{MEMBER_PASSWORD, TestApp, csrf_token_in, invite_crew, on_both_databases};
use onestop_domain::{Password, UserStatus};
use std::time::{Duration, Instant};

on_both_databases!(
    sign_in_timing_does_not_tell_unknown_unconfirmed_or_deactivated_from_a_wrong_password,
);

/// Measured rounds, each trying every kind once in a random order; the first `WARM_UP` rounds
/// (connections, caches, the allocator settling) are not counted.
const ROUNDS: usize = 40;
const WARM_UP: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UnknownLogin,
    UnconfirmedUser,
    DeactivatedUser,
    WrongPassword,
    /// Not a sign-in: one argon2 verification of a real hash, timed directly, in the same rounds
    /// (so under the same load) as the sign-ins.
    OneVerification,
}

const SIGN_INS: [Kind; 4] = [
    Kind::UnknownLogin,
    Kind::UnconfirmedUser,
    Kind::DeactivatedUser,
    Kind::WrongPassword,
];

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// Fisher-Yates with the operating system's randomness.
fn shuffle<T>(items: &mut [T]) {
    for last in (1..items.len()).rev() {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("randomness");
        let pick = usize::try_from(u32::from_le_bytes(bytes)).unwrap() % (last + 1);
        items.swap(last, pick);
    }
}

/// Whatever the login names (nobody, an Unconfirmed user's email, a Deactivated user, an Active
/// user), a refused sign-in answers in about the same time: every path verifies one argon2 hash
/// (a dummy one when there is no usable account) and writes the same counters.
///
/// The margin: each kind's median must lie within 35% of the wrong-password median, or within
/// 5 ms of it if that is more. Medians of interleaved samples (every round tries each kind once,
/// in a random order) cancel the load of a shared two-core machine, which slows all kinds alike,
/// and 35% absorbs what is left of it (under load the medians were seen up to 7 ms apart at about
/// 30 ms; idle, within 1 ms). The floor is 5 ms and no more, because one argon2 verification
/// takes only about 12 ms on an idle machine here (debug build, argon2 optimised): a path that
/// skipped the hash would differ by that much, and a 15 ms floor would let it pass. The test
/// checks this every time: the margin must be smaller than one verification timed in the same
/// rounds.
async fn sign_in_timing_does_not_tell_unknown_unconfirmed_or_deactivated_from_a_wrong_password(
    app: TestApp,
) {
    let organization = app.create_organization().await;
    invite_crew(&app, &organization, 1).await;
    let linus = app
        .add_active_user(
            &organization.org_id,
            "standard",
            "manager",
            ("Linus", "Torvalds"),
            "linus",
            MEMBER_PASSWORD,
        )
        .await;
    app.store
        .set_user_status(&organization.org_id, &linus, UserStatus::Deactivated)
        .await
        .unwrap();
    app.add_active_user(
        &organization.org_id,
        "standard",
        "manager",
        ("Grace", "Hopper"),
        "grace",
        MEMBER_PASSWORD,
    )
    .await;
    let login = |kind: Kind| match kind {
        Kind::UnknownLogin => "nobody@example.com",
        Kind::UnconfirmedUser => "crew0@example.com",
        Kind::DeactivatedUser => "linus",
        Kind::WrongPassword | Kind::OneVerification => "grace",
    };
    let wrong = "not the password at all";
    let password = Password::for_sign_in(wrong).unwrap();
    let stored = app.services.hasher.hash(&password).await.unwrap();

    let page = app.get_text("/login").await;
    let token = csrf_token_in(&page);
    let mut samples: Vec<(Kind, Duration)> = Vec::new();
    for round in 0..WARM_UP + ROUNDS {
        // A new window for every counter (per account, per address): no attempt is throttled.
        app.clock.advance(Duration::from_secs(15 * 60 + 1));
        let mut order = [
            Kind::UnknownLogin,
            Kind::UnconfirmedUser,
            Kind::DeactivatedUser,
            Kind::WrongPassword,
            Kind::OneVerification,
        ];
        shuffle(&mut order);
        for kind in order {
            let started = Instant::now();
            if kind == Kind::OneVerification {
                let verified = app.services.hasher.verify(&password, Some(&stored)).await;
                assert!(verified.unwrap(), "the password matches its own hash");
            } else {
                let response = app
                    .post_form(
                        "/login",
                        &[
                            ("csrf_token", token.as_str()),
                            ("username", login(kind)),
                            ("password", wrong),
                            ("next", ""),
                        ],
                    )
                    .await;
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                assert_eq!(status, 401, "{kind:?} is refused: {body}");
                assert!(
                    body.contains("The username or password is incorrect."),
                    "{kind:?} gets the one message"
                );
            }
            if round >= WARM_UP {
                samples.push((kind, started.elapsed()));
            }
        }
    }

    let median_of = |kind: Kind| {
        let durations: Vec<Duration> = samples
            .iter()
            .filter(|(sampled, _)| *sampled == kind)
            .map(|(_, duration)| *duration)
            .collect();
        assert_eq!(durations.len(), ROUNDS);
        median(&durations)
    };
    let reference = median_of(Kind::WrongPassword);
    let margin = reference.mul_f64(0.35).max(Duration::from_millis(5));
    let hash = median_of(Kind::OneVerification);
    let medians: Vec<(Kind, Duration)> = SIGN_INS
        .iter()
        .map(|kind| (*kind, median_of(*kind)))
        .collect();
    eprintln!(
        "sign-in medians: {medians:?}; one argon2 verification: {hash:?}; margin: {margin:?}"
    );
    assert!(
        margin < hash,
        "the margin ({margin:?}) must be smaller than one verification ({hash:?}), so that a path skipping the hash would show"
    );
    for (kind, median) in medians {
        let difference = median.abs_diff(reference);
        assert!(
            difference <= margin,
            "{kind:?}: median {median:?} against {reference:?} for a wrong password (margin {margin:?})"
        );
    }
}
