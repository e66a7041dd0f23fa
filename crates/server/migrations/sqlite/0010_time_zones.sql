-- Time zones (issue 10): every time on a page or in an email is shown in its reader's zone.
-- IANA names ("Asia/Tokyo"), checked against the time-zone database bundled into the binary
-- before they are stored.

-- The company's zone: the default for its users, and the zone its invitation emails state
-- their expiry in. Existing companies start in UTC, which is what they were shown until now.
ALTER TABLE organizations ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- The user's own zone, chosen at join (the browser's guess is offered) or on My Account.
-- NULL: the company's zone (users invited before this change, and those not yet joined).
ALTER TABLE users ADD COLUMN time_zone TEXT;
