-- The Users page at 100,000 users: view counts kept by triggers instead of counted on each load,
-- an index for the Admin Users view, and indexes for the foreign keys that deleting a user checks.
-- migrations/postgres/0006_user_directory.sql keeps the same counts with statement triggers.

-- How many users each view of the Users page holds, one row per organization. The triggers below
-- keep it exact inside the transaction of every change to users, so the page reads five numbers
-- instead of counting the company. A user is an administrator when their profile is the built-in
-- Administrator profile; a profile's builtin never changes, so profiles need no trigger.
CREATE TABLE user_view_counts (
    org_id       TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    all_users    BIGINT NOT NULL DEFAULT 0,
    active       BIGINT NOT NULL DEFAULT 0,
    unconfirmed  BIGINT NOT NULL DEFAULT 0,
    deactivated  BIGINT NOT NULL DEFAULT 0,
    admins       BIGINT NOT NULL DEFAULT 0
);

INSERT INTO user_view_counts (org_id, all_users, active, unconfirmed, deactivated, admins)
SELECT o.id,
       COUNT(u.id),
       COALESCE(SUM(CASE WHEN u.status = 'active' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN u.status = 'unconfirmed' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN u.status = 'deactivated' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN p.builtin = 'administrator' THEN 1 ELSE 0 END), 0)
  FROM organizations o
  LEFT JOIN users u ON u.org_id = o.id
  LEFT JOIN profiles p ON p.id = u.profile_id
 GROUP BY o.id;

-- Every organization has its row from the start, so the user triggers only ever update.
CREATE TRIGGER organizations_user_view_counts AFTER INSERT ON organizations
BEGIN
    INSERT INTO user_view_counts (org_id) VALUES (NEW.id);
END;

-- In SQLite a comparison is 0 or 1, so each view adds or subtracts whether the user is in it.
CREATE TRIGGER users_view_counts_insert AFTER INSERT ON users
BEGIN
    UPDATE user_view_counts
       SET all_users = all_users + 1,
           active = active + (NEW.status = 'active'),
           unconfirmed = unconfirmed + (NEW.status = 'unconfirmed'),
           deactivated = deactivated + (NEW.status = 'deactivated'),
           admins = admins + EXISTS (SELECT 1 FROM profiles
                                      WHERE id = NEW.profile_id AND builtin = 'administrator')
     WHERE org_id = NEW.org_id;
END;

CREATE TRIGGER users_view_counts_delete AFTER DELETE ON users
BEGIN
    UPDATE user_view_counts
       SET all_users = all_users - 1,
           active = active - (OLD.status = 'active'),
           unconfirmed = unconfirmed - (OLD.status = 'unconfirmed'),
           deactivated = deactivated - (OLD.status = 'deactivated'),
           admins = admins - EXISTS (SELECT 1 FROM profiles
                                      WHERE id = OLD.profile_id AND builtin = 'administrator')
     WHERE org_id = OLD.org_id;
END;

-- Only a change of what decides the views touches the counts row (a sign-in, which updates
-- last_sign_in_at, does not).
CREATE TRIGGER users_view_counts_update AFTER UPDATE OF org_id, status, profile_id ON users
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.status IS NOT NEW.status
     OR OLD.profile_id IS NOT NEW.profile_id
BEGIN
    UPDATE user_view_counts
       SET all_users = all_users - 1,
           active = active - (OLD.status = 'active'),
           unconfirmed = unconfirmed - (OLD.status = 'unconfirmed'),
           deactivated = deactivated - (OLD.status = 'deactivated'),
           admins = admins - EXISTS (SELECT 1 FROM profiles
                                      WHERE id = OLD.profile_id AND builtin = 'administrator')
     WHERE org_id = OLD.org_id;
    UPDATE user_view_counts
       SET all_users = all_users + 1,
           active = active + (NEW.status = 'active'),
           unconfirmed = unconfirmed + (NEW.status = 'unconfirmed'),
           deactivated = deactivated + (NEW.status = 'deactivated'),
           admins = admins + EXISTS (SELECT 1 FROM profiles
                                      WHERE id = NEW.profile_id AND builtin = 'administrator')
     WHERE org_id = NEW.org_id;
END;

-- The Admin Users view walks the administrators of an organization in name order (the other
-- views use users_org_name and users_org_status_name).
CREATE INDEX users_org_profile_name ON users (org_id, profile_id, last_name, id);

-- Deleting a user looks for rows that still refer to them; without these it reads whole tables.
CREATE INDEX users_invited_by ON users (invited_by);
CREATE INDEX terms_versions_published_by ON terms_versions (published_by);
