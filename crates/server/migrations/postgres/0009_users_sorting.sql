-- The Users page sorted by any column (name, status, role, profile, invited, last sign-in) and
-- filtered by profile and role, each page still one keyset seek on an index at 100,000 users.
--
-- A sort by role or profile name needs the name on the user's row for an index to hold it in
-- order: role_name and profile_name copy it, kept by triggers when a user's role or profile
-- changes and when a role or profile is renamed. A sort by last sign-in needs a value that is
-- never NULL (NULLs order differently on the two databases and cannot be compared in a keyset):
-- sign_in_order is 0 for users who never signed in.
--
-- Every page walks an index whose leading columns are the equalities of its view and filters and
-- whose next are the sort column, last name and id: one per sort for all users, for a status
-- view, for a profile (Admin Users and the profile filter) and for a role (the role filter). Two
-- filters together walk the index of one and check the other on the way.
-- migrations/sqlite/0009_users_sorting.sql does the same with AFTER row triggers.

ALTER TABLE users ADD COLUMN role_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN profile_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sign_in_order BIGINT GENERATED ALWAYS AS (COALESCE(last_sign_in_at, 0)) STORED;

UPDATE users u
   SET role_name = r.name, profile_name = p.name
  FROM roles r, profiles p
 WHERE r.id = u.role_id AND p.id = u.profile_id;

-- A new user's names, and a changed role's or profile's, set on the row before it is written.
CREATE FUNCTION users_sort_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.role_id IS DISTINCT FROM OLD.role_id THEN
        NEW.role_name := (SELECT r.name FROM roles r WHERE r.id = NEW.role_id);
    END IF;
    IF TG_OP = 'INSERT' OR NEW.profile_id IS DISTINCT FROM OLD.profile_id THEN
        NEW.profile_name := (SELECT p.name FROM profiles p WHERE p.id = NEW.profile_id);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_sort_names BEFORE INSERT OR UPDATE OF role_id, profile_id ON users
    FOR EACH ROW EXECUTE FUNCTION users_sort_names();

-- A renamed role or profile: its users, found by the (org_id, role_id ...) and
-- (org_id, profile_id ...) indexes below.
CREATE FUNCTION roles_sort_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET role_name = NEW.name WHERE org_id = NEW.org_id AND role_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER roles_sort_name AFTER UPDATE OF name ON roles
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION roles_sort_name();

CREATE FUNCTION profiles_sort_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET profile_name = NEW.name WHERE org_id = NEW.org_id AND profile_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER profiles_sort_name AFTER UPDATE OF name ON profiles
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION profiles_sort_name();

CREATE INDEX users_org_role_sort ON users (org_id, role_name, last_name, id);
CREATE INDEX users_org_profile_sort ON users (org_id, profile_name, last_name, id);
CREATE INDEX users_org_invited_sort ON users (org_id, created_at, last_name, id);
CREATE INDEX users_org_sign_in_sort ON users (org_id, sign_in_order, last_name, id);
CREATE INDEX users_org_status_role_sort ON users (org_id, status, role_name, last_name, id);
CREATE INDEX users_org_status_profile_sort ON users (org_id, status, profile_name, last_name, id);
CREATE INDEX users_org_status_invited_sort ON users (org_id, status, created_at, last_name, id);
CREATE INDEX users_org_status_sign_in_sort ON users (org_id, status, sign_in_order, last_name, id);
CREATE INDEX users_org_profile_status_sort ON users (org_id, profile_id, status, last_name, id);
CREATE INDEX users_org_profile_role_sort ON users (org_id, profile_id, role_name, last_name, id);
CREATE INDEX users_org_profile_profile_sort ON users (org_id, profile_id, profile_name, last_name, id);
CREATE INDEX users_org_profile_invited_sort ON users (org_id, profile_id, created_at, last_name, id);
CREATE INDEX users_org_profile_sign_in_sort ON users (org_id, profile_id, sign_in_order, last_name, id);
CREATE INDEX users_org_role_name ON users (org_id, role_id, last_name, id);
CREATE INDEX users_org_role_status_sort ON users (org_id, role_id, status, last_name, id);
CREATE INDEX users_org_role_role_sort ON users (org_id, role_id, role_name, last_name, id);
CREATE INDEX users_org_role_profile_sort ON users (org_id, role_id, profile_name, last_name, id);
CREATE INDEX users_org_role_invited_sort ON users (org_id, role_id, created_at, last_name, id);
CREATE INDEX users_org_role_sign_in_sort ON users (org_id, role_id, sign_in_order, last_name, id);
