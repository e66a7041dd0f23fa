-- Idempotency keys of the JSON API (`Idempotency-Key` on POST /api/v1/users and
-- POST /api/v1/users/reinvite): a script that retries a request with the same key gets the first
-- answer again, and nobody is invited twice.
--
-- One row per token and key. The first request claims the key (a row without a response); the
-- primary key makes a second request with the same key, sent at the same moment, find the claim
-- and answer "in progress" instead of inviting too. When the first request has its answer, the
-- row keeps it (status and body). Keys live 24 hours; an expired row is replaced by a new claim.
CREATE TABLE api_idempotency_keys (
    token_id        TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 (hex) of the method, path and body: the same key with another request is refused.
    request_hash    TEXT NOT NULL,
    -- The answer, once there is one; NULL while the first request is still running.
    response_status BIGINT,
    response_body   TEXT,
    -- The Location header of a 201, if any.
    response_location TEXT,
    -- Unix milliseconds.
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (token_id, idempotency_key)
);

-- Expired keys are removed in passing by the next claim of the same token.
CREATE INDEX api_idempotency_keys_by_expiry ON api_idempotency_keys (token_id, expires_at);
