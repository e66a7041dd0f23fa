-- Two-step verification: the methods a user has set up (authenticator apps and passkeys), their
-- recovery codes, the profile setting that requires a method, the company's "remember this
-- browser" option, and the second step a sign-in still owes.

-- Setup > Profiles: "Require two-step verification". A user of such a profile sets up a method
-- while joining (after Update, before I Agree) or, when already signed in, before anything else.
ALTER TABLE profiles ADD COLUMN require_two_step INTEGER NOT NULL DEFAULT 0;

-- Company Details: "Remember a browser for 30 days after its second step". Off by default.
ALTER TABLE organizations ADD COLUMN remember_two_step_browsers INTEGER NOT NULL DEFAULT 0;

-- 1 while a sign-in has checked the password but not yet the second step: such a session opens
-- the second-step page and Sign Out only, and it is replaced by a fresh session once the step
-- is done.
ALTER TABLE sessions ADD COLUMN second_step_pending INTEGER NOT NULL DEFAULT 0;

-- One row per method. Secrets are never shown again after enrolment.
CREATE TABLE two_step_methods (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'totp': an authenticator app (RFC 6238); 'passkey': a passkey or security key (WebAuthn).
    kind                TEXT NOT NULL CHECK (kind IN ('totp', 'passkey')),
    -- The user's own name for it ("Phone", "YubiKey").
    name                TEXT NOT NULL,
    -- totp: the shared secret, sealed with the server's key (see sealing.rs).
    totp_secret_sealed  TEXT,
    -- totp: the last time step accepted, so that one code is never accepted twice.
    totp_last_step      BIGINT,
    -- passkey: the credential id (base64url), and the credential as webauthn-rs stores it (JSON:
    -- public key, signature counter).
    credential_id       TEXT UNIQUE,
    passkey_json        TEXT,
    -- Unix milliseconds.
    created_at          BIGINT NOT NULL,
    last_used_at        BIGINT
);
CREATE INDEX two_step_methods_by_user ON two_step_methods (user_id);

-- Ten single-use recovery codes per user, stored as the SHA-256 (hex) of the normalized code;
-- regenerating replaces them all.
CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- Browsers remembered after a second step, when the company allows it: the cookie holds a random
-- token, the table its SHA-256. Resetting a user's two-step verification forgets them.
CREATE TABLE remembered_browsers (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX remembered_browsers_by_user ON remembered_browsers (user_id);

-- WebAuthn ceremonies in flight: the state webauthn-rs keeps between offering a challenge and
-- checking the browser's answer. Single use; expired rows are deleted on sight.
CREATE TABLE webauthn_ceremonies (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('register', 'authenticate')),
    state_json  TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_by_user ON webauthn_ceremonies (user_id);
