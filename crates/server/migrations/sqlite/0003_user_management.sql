-- The Users page at scale, reinvite limits, and invitees asking for a new invitation.

-- "All Users" ordered by name within an organization.
CREATE INDEX users_org_name ON users (org_id, last_name, id);
-- The per-administrator hourly reinvite cap counts invitations by sender and time.
CREATE INDEX invitations_sender_time ON invitations (sent_by, created_at);
-- ...and the per-organization cap by organization and time.
CREATE INDEX invitations_org_time ON invitations (org_id, created_at);

-- An invitee whose link expired asked for a new one; administrators see it on their homepage
-- until someone reinvites them.
CREATE TABLE invitation_requests (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_at  BIGINT NOT NULL,
    ip            TEXT
);
CREATE INDEX invitation_requests_user ON invitation_requests (user_id, requested_at);
CREATE INDEX invitation_requests_org ON invitation_requests (org_id, requested_at);

-- Lower-cased "first last" for searching, folded in Rust (full Unicode) so that both databases
-- match the same way; SQLite's LOWER() folds only ASCII.
ALTER TABLE users ADD COLUMN name_search TEXT NOT NULL DEFAULT '';
UPDATE users SET name_search = LOWER(COALESCE(first_name, '') || ' ' || last_name);
