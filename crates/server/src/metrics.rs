//! Prometheus metrics (the `metrics` facade, rendered by `metrics-exporter-prometheus`): the
//! names, the one recorder of the process, and small functions the code calls where things
//! happen. `/metrics` (see `web::metrics_endpoint`) renders them, after refreshing the gauges
//! that are read from the database at scrape time.
//!
//! The recorder is global, so it is installed once per process ([`install`], idempotent): the
//! tests run several servers in one process, which then share their counters (tests compare a
//! counter before and after, never its exact value).

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Requests answered, by method, route pattern (never the concrete path) and status class.
pub const HTTP_REQUESTS: &str = "onestop_http_requests_total";
/// Time to answer (to the response head), by the same labels.
pub const HTTP_REQUEST_DURATION: &str = "onestop_http_request_duration_seconds";
/// Requests answered 429 Too Many Requests, by route pattern.
pub const THROTTLED_REQUESTS: &str = "onestop_throttled_requests_total";
/// Sign-in attempts by outcome.
pub const SIGN_INS: &str = "onestop_sign_ins_total";
/// "Update" on the Join Now page, by outcome.
pub const JOINS: &str = "onestop_joins_total";
/// Email delivery attempts by the outbox worker, by outcome (sent, retrying, failed, blocked).
pub const DELIVERIES: &str = "onestop_email_deliveries_total";
/// Emails waiting to be sent (queued, retrying, or being sent).
pub const OUTBOX_DEPTH: &str = "onestop_outbox_depth";
/// How long the oldest waiting email has waited, in seconds (0 when none waits).
pub const OUTBOX_OLDEST_AGE: &str = "onestop_outbox_oldest_age_seconds";
/// Sessions not yet expired (absolute or idle), every organization together.
pub const ACTIVE_SESSIONS: &str = "onestop_active_sessions";
/// How long a password hash waited for a free hashing slot (argon2 runs a few at a time).
pub const PASSWORD_HASH_WAIT: &str = "onestop_password_hash_queue_wait_seconds";

/// Histogram buckets in seconds: from a millisecond (a cached page) to half a minute (the
/// request timeout).
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histograms are drained into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder the first time (later calls return the same handle), and
/// starts a thread that keeps histograms from growing between scrapes.
pub fn install() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = match builder.set_buckets(&BUCKETS) {
            Ok(builder) => builder,
            // Only an empty list is refused; the list above is not empty.
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(error) = ::metrics::set_global_recorder(recorder) {
            tracing::warn!(%error, "another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        let upkeep = handle.clone();
        let started = std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = started {
            tracing::warn!(%error, "no metrics upkeep thread; histograms drain at each scrape");
        }
        handle
    })
}

fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "Requests answered, by method, route pattern and status class."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer a request, by method, route pattern and status class."
    );
    describe_counter!(
        THROTTLED_REQUESTS,
        "Requests answered 429 Too Many Requests, by route pattern."
    );
    describe_counter!(SIGN_INS, "Sign-in attempts, by outcome.");
    describe_counter!(JOINS, "Join Now submissions, by outcome.");
    describe_counter!(DELIVERIES, "Email delivery attempts, by outcome.");
    describe_gauge!(OUTBOX_DEPTH, "Emails waiting to be sent.");
    describe_gauge!(
        OUTBOX_OLDEST_AGE,
        Unit::Seconds,
        "How long the oldest waiting email has waited."
    );
    describe_gauge!(ACTIVE_SESSIONS, "Sessions that have not expired.");
    describe_histogram!(
        PASSWORD_HASH_WAIT,
        Unit::Seconds,
        "Time a password hash waited for a free hashing slot."
    );
}

/// The status class of an HTTP status: `2xx`, `4xx`, ...
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// One answered request.
pub fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method.to_owned(),
        _ => "other".to_owned(),
    };
    let labels = [
        ("method", method),
        ("route", route.to_owned()),
        ("status", status_class(status).to_owned()),
    ];
    ::metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    ::metrics::histogram!(HTTP_REQUEST_DURATION, &labels).record(elapsed.as_secs_f64());
    if status == 429 {
        ::metrics::counter!(THROTTLED_REQUESTS, "route" => route.to_owned()).increment(1);
    }
}

/// One sign-in attempt: `success`, `wrong_password`, `unknown_login`, `inactive_account`,
/// `throttled` or `error`.
pub fn record_sign_in(outcome: &'static str) {
    ::metrics::counter!(SIGN_INS, "outcome" => outcome).increment(1);
}

/// One Join Now submission: `joined`, `invalid_input`, `expired`, `already_accepted`,
/// `not_valid` or `error`.
pub fn record_join(outcome: &'static str) {
    ::metrics::counter!(JOINS, "outcome" => outcome).increment(1);
}

/// One delivery attempt: `sent`, `retrying`, `failed` or `blocked`.
pub fn record_delivery(outcome: &'static str) {
    ::metrics::counter!(DELIVERIES, "outcome" => outcome).increment(1);
}

/// How long a hash waited for its slot.
pub fn record_password_hash_wait(waited: Duration) {
    ::metrics::histogram!(PASSWORD_HASH_WAIT).record(waited.as_secs_f64());
}

/// The gauges read at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScrapeGauges {
    pub outbox_depth: i64,
    pub outbox_oldest_age: Duration,
    pub active_sessions: i64,
}

impl ScrapeGauges {
    /// Reads the gauges from the database, every organization together.
    pub async fn read(
        services: &crate::usecases::Services,
    ) -> Result<Self, crate::store::StoreError> {
        let now = services.clock.now();
        let (outbox_depth, oldest) = services.store.outbox_backlog().await?;
        let idle_cut_off = now.minus(crate::usecases::sessions::IDLE_TIMEOUT);
        let active_sessions = services.store.live_session_count(now, idle_cut_off).await?;
        let oldest_age = oldest.map_or(0, |created_at| (now.unix_millis() - created_at).max(0));
        Ok(Self {
            outbox_depth,
            outbox_oldest_age: Duration::from_millis(u64::try_from(oldest_age).unwrap_or(0)),
            active_sessions,
        })
    }
}

/// Sets the scrape-time gauges, then renders every metric in Prometheus's text format.
pub fn render(gauges: ScrapeGauges) -> String {
    let handle = install();
    // Counts of rows: far below 2^52, exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    {
        ::metrics::gauge!(OUTBOX_DEPTH).set(gauges.outbox_depth as f64);
        ::metrics::gauge!(ACTIVE_SESSIONS).set(gauges.active_sessions as f64);
    }
    ::metrics::gauge!(OUTBOX_OLDEST_AGE).set(gauges.outbox_oldest_age.as_secs_f64());
    handle.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installing_twice_gives_the_same_recorder_and_counters_move() {
        let first = install() as *const PrometheusHandle;
        let second = install() as *const PrometheusHandle;
        assert_eq!(first, second);
        record_sign_in("success");
        let text = render(ScrapeGauges {
            outbox_depth: 3,
            ..ScrapeGauges::default()
        });
        assert!(
            text.contains("onestop_sign_ins_total{outcome=\"success\"}"),
            "{text}"
        );
        assert!(text.contains("onestop_outbox_depth 3"), "{text}");
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(303), "3xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
