//! What the hardware allows, measured in the same run: raw argon2 with the server's crate and
//! parameters on every core, and raw single-row commits through the server's own pool settings.

use onestop_server::store::{Store, connect};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// argon2id hashes (or verifies: the same computation, then a comparison) a second with one
/// thread a core, at the parameters the server uses (the crate's defaults: m = 19 MiB, t = 2,
/// p = 1), each call allocating its working memory as the plain API does.
pub fn argon2_per_second(verify: bool, duration: Duration) -> f64 {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let argon2 = argon2::Argon2::default();
    let password = b"correct horse battery staple";
    let salt = *b"sixteen byte salt";
    let mut expected = [0u8; 32];
    let _ = argon2.hash_password_into(password, &salt, &mut expected);
    let done = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while started.elapsed() < duration {
                    let mut output = [0u8; 32];
                    let hashed = argon2.hash_password_into(password, &salt, &mut output);
                    if verify && (hashed.is_err() || output != expected) {
                        continue;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    done.into_inner() as f64 / started.elapsed().as_secs_f64()
}

/// Single-row INSERTs, each its own transaction, from `connections` tasks at once through a pool
/// opened exactly as the server opens its own (same journal mode, synchronous setting, pool size).
pub async fn commits_per_second(
    database_url: &str,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let store = connect(database_url).await?;
    let create =
        "CREATE TABLE IF NOT EXISTS bench_commits (id TEXT PRIMARY KEY, at BIGINT NOT NULL)";
    match &store {
        Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
            sqlx::query(create).execute(pool).await.map(drop)?
        }
        Store::Postgres(pool) => sqlx::query(create).execute(pool).await.map(drop)?,
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut counter = 0u64;
            while !stop.load(Ordering::Relaxed) {
                counter += 1;
                let id = format!("{worker}-{counter}-{}", started.elapsed().as_nanos());
                let insert = "INSERT INTO bench_commits (id, at) VALUES ($1, $2)";
                let result = match &store {
                    Store::Sqlite(onestop_server::store::SqlitePools { writer: pool, .. }) => {
                        sqlx::query(insert)
                            .bind(&id)
                            .bind(1_i64)
                            .execute(pool)
                            .await
                            .map(drop)
                    }
                    Store::Postgres(pool) => sqlx::query(insert)
                        .bind(&id)
                        .bind(1_i64)
                        .execute(pool)
                        .await
                        .map(drop),
                };
                result?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), sqlx::Error>(())
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    Ok(rate)
}
