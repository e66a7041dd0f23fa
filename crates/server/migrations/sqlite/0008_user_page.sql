-- A user's own page (Setup > Users > a name): where they last signed in from, the address of each
-- of their sessions, and their audit events and password reset emails found without reading
-- the whole organization's trail or outbox.

-- The client address (resolved through the trusted proxies) of the user's last sign-in; NULL
-- until they next sign in.
ALTER TABLE users ADD COLUMN last_sign_in_ip TEXT;

-- The client address the session was started from; NULL for sessions older than this column.
ALTER TABLE sessions ADD COLUMN ip TEXT;

-- "Their audit events": what they did and what was done to them, newest first.
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, at);
CREATE INDEX audit_events_target ON audit_events (target_user_id, at);

-- Password reset emails name no invitation; the page finds them by recipient.
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
