-- Single sign-on with the company's OpenID Connect provider (Setup > Single Sign-On).

-- One provider per company. The client secret is sealed with the server's key (see sealing.rs)
-- and never shown again.
CREATE TABLE sso_providers (
    org_id                TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    -- "Sign in with {display_name}".
    display_name          TEXT NOT NULL,
    -- Discovery reads {issuer_url}/.well-known/openid-configuration.
    issuer_url            TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    client_secret_sealed  TEXT NOT NULL,
    -- 1: for the provider's domains, password sign-in, password reset and joining with a
    -- password are refused.
    sso_only              INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds.
    updated_at            BIGINT NOT NULL
);

-- The email domains a provider covers (lower case). A domain belongs to one company, so the
-- sign-in page can choose the provider from an email address.
CREATE TABLE sso_domains (
    domain  TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES sso_providers (org_id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_by_org ON sso_domains (org_id);

-- Sign-ins (and joins) sent to the provider and not yet back: single use, ten minutes. Only
-- hashes of `state`, of the nonce and of the browser's cookie are kept; the PKCE verifier, which
-- must be sent to the provider as it is, is sealed.
CREATE TABLE sso_attempts (
    state_hash             TEXT PRIMARY KEY,
    org_id                 TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    browser_hash           TEXT NOT NULL,
    nonce_hash             TEXT NOT NULL,
    pkce_verifier_sealed   TEXT NOT NULL,
    -- Joining: the hash of the invitation's token; NULL when signing in.
    invitation_token_hash  TEXT,
    expires_at             BIGINT NOT NULL
);
CREATE INDEX sso_attempts_by_expiry ON sso_attempts (expires_at);

-- The provider's `sub` for the user, stored at their first single sign-on; later sign-ins must
-- carry the same one.
ALTER TABLE users ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX users_org_sso_subject_key ON users (org_id, sso_subject);
