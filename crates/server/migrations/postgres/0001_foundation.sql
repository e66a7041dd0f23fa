-- The foundation: organizations with their profiles, roles and terms; users; sessions; the audit
-- trail; first-run codes; sign-in throttling.
--
-- Portable conventions shared with migrations/postgres: ids are TEXT (UUID v7), times are BIGINT
-- unix milliseconds in UTC, flags and counters are BIGINT. Secrets are stored only as SHA-256 hex.

CREATE TABLE organizations (
    id                      TEXT PRIMARY KEY,
    company_name            TEXT NOT NULL,
    account_name            TEXT NOT NULL,
    invitation_lifetime_ms  BIGINT NOT NULL,
    created_at              BIGINT NOT NULL
);

-- A Profile is a set of permissions (space-separated keys). builtin is 'administrator' or
-- 'standard' for the two that every organization has, NULL for custom ones.
CREATE TABLE profiles (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    builtin      TEXT CHECK (builtin IN ('administrator', 'standard')),
    permissions  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, builtin)
);

-- A Role is a node of the company hierarchy; the root (CEO) has no parent. headline and
-- introduction are shown on the homepage of the role's users.
CREATE TABLE roles (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    name          TEXT NOT NULL,
    parent_id     TEXT REFERENCES roles (id),
    description   TEXT NOT NULL DEFAULT '',
    builtin       TEXT CHECK (builtin IN ('ceo', 'manager')),
    headline      TEXT NOT NULL DEFAULT '',
    introduction  TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, builtin)
);

-- Email and username are unique across the whole deployment, compared in their normalized forms.
-- Unconfirmed users have neither username nor password.
CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES organizations (id),
    first_name           TEXT,
    last_name            TEXT NOT NULL,
    email                TEXT NOT NULL,
    email_normalized     TEXT NOT NULL,
    username             TEXT,
    username_normalized  TEXT,
    password_hash        TEXT,
    profile_id           TEXT NOT NULL REFERENCES profiles (id),
    role_id              TEXT NOT NULL REFERENCES roles (id),
    status               TEXT NOT NULL CHECK (status IN ('unconfirmed', 'active', 'deactivated')),
    invited_by           TEXT REFERENCES users (id),
    created_at           BIGINT NOT NULL,
    joined_at            BIGINT,
    last_sign_in_at      BIGINT
);
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized);
CREATE UNIQUE INDEX users_username_normalized_key ON users (username_normalized);
CREATE INDEX users_org_status_name ON users (org_id, status, last_name, id);

-- Server-side sessions; the cookie holds a 256-bit token whose SHA-256 is id_hash.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Terms of Service versions; the highest version of an organization is the current one.
CREATE TABLE terms_versions (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    version       BIGINT NOT NULL,
    body          TEXT NOT NULL,
    body_sha256   TEXT NOT NULL,
    summary       TEXT NOT NULL DEFAULT '',
    published_at  BIGINT NOT NULL,
    published_by  TEXT REFERENCES users (id),
    UNIQUE (org_id, version)
);

CREATE TABLE terms_acceptances (
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    terms_version_id  TEXT NOT NULL REFERENCES terms_versions (id),
    org_id            TEXT NOT NULL REFERENCES organizations (id),
    accepted_at       BIGINT NOT NULL,
    ip                TEXT NOT NULL,
    user_agent        TEXT NOT NULL,
    PRIMARY KEY (user_id, terms_version_id)
);

-- Every administrative and security event. actor and target are kept as ids without foreign
-- keys so that the trail outlives the rows it speaks of.
CREATE TABLE audit_events (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    actor_user_id   TEXT,
    action          TEXT NOT NULL,
    target_user_id  TEXT,
    details         TEXT NOT NULL DEFAULT '',
    ip              TEXT,
    at              BIGINT NOT NULL
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);

-- One-time codes of the first-run link, valid only while no organization exists.
CREATE TABLE first_run_codes (
    code_hash   TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

-- Sign-in attempts per key ('account:<login>' or 'address:<ip>') in a fixed window.
CREATE TABLE sign_in_throttle (
    key                TEXT PRIMARY KEY,
    window_started_at  BIGINT NOT NULL,
    attempts           BIGINT NOT NULL
);
