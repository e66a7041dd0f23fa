-- Security hardening: fenced outbox claims, hashed and purgeable throttle counters.

-- Each claim of an outbox message gets a fresh token; every later update of the message names it,
-- so a worker whose lease ran out (and whose message another worker took over) changes nothing.
ALTER TABLE outbox ADD COLUMN claim TEXT;

-- Throttle counters are keyed by the SHA-256 of their key (the typed login is the attacker's
-- choice), carry the end of their window so expired ones are purged on an index, and note the
-- last failure. The old table's counts are short-lived and are not carried over.
DROP TABLE sign_in_throttle;
CREATE TABLE throttle_counters (
    key_hash         TEXT PRIMARY KEY,
    window_ends_at   BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    last_failure_at  BIGINT
);
CREATE INDEX throttle_counters_expiry ON throttle_counters (window_ends_at);
