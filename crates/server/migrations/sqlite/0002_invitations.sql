-- Invitations, the outbox that delivers their emails, and the First Steps of role homepages.

-- One row per invitation link. Only the SHA-256 of the token is stored. A reinvite supersedes the
-- live invitation; joining consumes it. At most one invitation of a user is live at a time.
CREATE TABLE invitations (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    sent_by        TEXT REFERENCES users (id),
    consumed_at    BIGINT,
    superseded_at  BIGINT,
    revoked_at     BIGINT
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
CREATE INDEX invitations_user ON invitations (user_id, created_at);

-- Emails waiting to be sent, written in the same transaction as the change that causes them.
-- The token-bearing parts (bodies and action_url) are wiped once the message is handed to the
-- mail server. state: queued -> sending (leased) -> sent | retrying | failed.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    org_id           TEXT REFERENCES organizations (id),
    kind             TEXT NOT NULL,
    invitation_id    TEXT REFERENCES invitations (id) ON DELETE SET NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    action_url       TEXT,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_invitation ON outbox (invitation_id);

-- The First Steps checklist of each role's homepage, and each user's ticks.
CREATE TABLE role_first_steps (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    role_id      TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    title        TEXT NOT NULL,
    href         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX role_first_steps_role ON role_first_steps (role_id, position);

CREATE TABLE checklist_progress (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id  TEXT NOT NULL REFERENCES role_first_steps (id) ON DELETE CASCADE,
    done_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, item_id)
);

-- Organizations created before this migration get the default First Steps of their built-in
-- roles (the same as defaults.rs gives new ones).
INSERT INTO role_first_steps (id, org_id, role_id, position, title, href, description)
SELECT id || '-step-1', org_id, id, 1, 'Invite your team', '/setup/users/new',
       'Add the people who work with you; each gets an email with a Join Now link.'
  FROM roles WHERE builtin = 'ceo';
INSERT INTO role_first_steps (id, org_id, role_id, position, title, href, description)
SELECT id || '-step-2', org_id, id, 2, 'Learn about Profiles and Roles', '/help/profiles-and-roles',
       'Decide what each person may do and where they sit in the company.'
  FROM roles WHERE builtin = 'ceo';
INSERT INTO role_first_steps (id, org_id, role_id, position, title, href, description)
SELECT id || '-step-3', org_id, id, 3, 'Read Your First Steps after Logging In', '/help/first-steps',
       'A short tour of 1Stop.'
  FROM roles WHERE builtin IN ('ceo', 'manager');
INSERT INTO role_first_steps (id, org_id, role_id, position, title, href, description)
SELECT id || '-step-1', org_id, id, 1, 'Read how invitations work', '/help/inviting-users',
       'How your team joins 1Stop, and what to do if an invitation does not arrive.'
  FROM roles WHERE builtin = 'manager';
