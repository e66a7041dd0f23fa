-- API and SCIM tokens (Setup > API Tokens, and `onestop api-token create`).
--
-- A token acts for the user who created it, with at most the permissions chosen for it: at each
-- use they are intersected with the creator's current profile, and a creator who is no longer
-- Active makes the token stop working. Only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Deleting the creator (only Unconfirmed users can be deleted, and they cannot create
    -- tokens) would delete their tokens.
    created_by    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- 'api' opens /api/v1; 'scim' opens /scim/v2 only.
    kind          TEXT NOT NULL CHECK (kind IN ('api', 'scim')),
    -- SHA-256 of the whole token in hex.
    token_hash    TEXT NOT NULL UNIQUE,
    -- The permissions chosen for it, in the stored form of profiles.permissions.
    permissions   TEXT NOT NULL,
    -- Unix milliseconds. Every token expires (at most a year and a day after it was made).
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    -- The client address of the last use.
    last_used_ip  TEXT
);

-- Setup > API Tokens lists a company's tokens, newest first.
CREATE INDEX api_tokens_by_org ON api_tokens (org_id, created_at);
-- Deleting a user checks for their tokens.
CREATE INDEX api_tokens_by_creator ON api_tokens (created_by);
