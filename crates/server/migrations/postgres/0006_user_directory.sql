-- The Users page at 100,000 users: view counts kept by triggers instead of counted on each load,
-- an index for the Admin Users view, and indexes for the foreign keys that deleting a user checks.
-- migrations/sqlite/0006_user_directory.sql keeps the same counts with row triggers.

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
CREATE FUNCTION create_user_view_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_view_counts (org_id) VALUES (NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER organizations_user_view_counts AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION create_user_view_counts();

-- Adds each changed user, with its sign (1 entering a view, -1 leaving it), to the counts of
-- their organization: one UPDATE per organization and statement, so a bulk change of 1,000
-- users (or a 100,000-row import) updates the counts row once, not once per user.
CREATE FUNCTION apply_user_view_count_changes(
    org_ids TEXT[], statuses TEXT[], profile_ids TEXT[], signs BIGINT[]
) RETURNS void LANGUAGE sql AS $$
    UPDATE user_view_counts c
       SET all_users = c.all_users + d.all_users,
           active = c.active + d.active,
           unconfirmed = c.unconfirmed + d.unconfirmed,
           deactivated = c.deactivated + d.deactivated,
           admins = c.admins + d.admins
      FROM (SELECT change.org_id,
                   SUM(change.sign) AS all_users,
                   SUM(CASE WHEN change.status = 'active' THEN change.sign ELSE 0 END) AS active,
                   SUM(CASE WHEN change.status = 'unconfirmed' THEN change.sign ELSE 0 END) AS unconfirmed,
                   SUM(CASE WHEN change.status = 'deactivated' THEN change.sign ELSE 0 END) AS deactivated,
                   SUM(CASE WHEN p.builtin = 'administrator' THEN change.sign ELSE 0 END) AS admins
              FROM unnest(org_ids, statuses, profile_ids, signs)
                   AS change (org_id, status, profile_id, sign)
              LEFT JOIN profiles p ON p.id = change.profile_id
             GROUP BY change.org_id) d
     WHERE c.org_id = d.org_id
$$;

CREATE FUNCTION users_view_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_user_view_count_changes(
        array_agg(org_id), array_agg(status), array_agg(profile_id), array_agg(1::BIGINT))
       FROM new_rows;
    RETURN NULL;
END
$$;

CREATE FUNCTION users_view_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_user_view_count_changes(
        array_agg(org_id), array_agg(status), array_agg(profile_id), array_agg(-1::BIGINT))
       FROM old_rows;
    RETURN NULL;
END
$$;

-- Only users whose organization, status or profile changed count (a sign-in, which updates
-- last_sign_in_at, changes nothing here). Transition tables cannot be combined with
-- UPDATE OF column lists, hence the comparison.
CREATE FUNCTION users_view_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_user_view_count_changes(
        array_agg(change.org_id), array_agg(change.status), array_agg(change.profile_id),
        array_agg(change.sign))
       FROM (SELECT o.org_id, o.status, o.profile_id, -1::BIGINT AS sign
               FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE (o.org_id, o.status, o.profile_id) IS DISTINCT FROM (n.org_id, n.status, n.profile_id)
             UNION ALL
             SELECT n.org_id, n.status, n.profile_id, 1::BIGINT
               FROM old_rows o JOIN new_rows n ON n.id = o.id
              WHERE (o.org_id, o.status, o.profile_id) IS DISTINCT FROM (n.org_id, n.status, n.profile_id)
            ) change;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_view_counts_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION users_view_counts_after_insert();
CREATE TRIGGER users_view_counts_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION users_view_counts_after_delete();
CREATE TRIGGER users_view_counts_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION users_view_counts_after_update();

-- The Admin Users view walks the administrators of an organization in name order (the other
-- views use users_org_name and users_org_status_name).
CREATE INDEX users_org_profile_name ON users (org_id, profile_id, last_name, id);

-- Deleting a user looks for rows that still refer to them; without these it reads whole tables.
CREATE INDEX users_invited_by ON users (invited_by);
CREATE INDEX terms_versions_published_by ON terms_versions (published_by);
