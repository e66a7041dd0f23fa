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
-- migrations/postgres/0009_users_sorting.sql does the same with a BEFORE row trigger.

ALTER TABLE users ADD COLUMN role_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN profile_name TEXT NOT NULL DEFAULT '';
-- VIRTUAL: computed when read, stored only in the indexes that hold it.
ALTER TABLE users ADD COLUMN sign_in_order BIGINT GENERATED ALWAYS AS (COALESCE(last_sign_in_at, 0)) VIRTUAL;

UPDATE users
   SET role_name = (SELECT r.name FROM roles r WHERE r.id = users.role_id),
       profile_name = (SELECT p.name FROM profiles p WHERE p.id = users.profile_id);

-- A new user's names, and a changed role's or profile's (the UPDATE below changes neither
-- role_id nor profile_id, so it starts no trigger of its own).
CREATE TRIGGER users_sort_names_insert AFTER INSERT ON users
BEGIN
    UPDATE users
       SET role_name = (SELECT r.name FROM roles r WHERE r.id = NEW.role_id),
           profile_name = (SELECT p.name FROM profiles p WHERE p.id = NEW.profile_id)
     WHERE id = NEW.id;
END;

CREATE TRIGGER users_sort_role_name AFTER UPDATE OF role_id ON users
    WHEN OLD.role_id IS NOT NEW.role_id
BEGIN
    UPDATE users SET role_name = (SELECT r.name FROM roles r WHERE r.id = NEW.role_id)
     WHERE id = NEW.id;
END;

CREATE TRIGGER users_sort_profile_name AFTER UPDATE OF profile_id ON users
    WHEN OLD.profile_id IS NOT NEW.profile_id
BEGIN
    UPDATE users SET profile_name = (SELECT p.name FROM profiles p WHERE p.id = NEW.profile_id)
     WHERE id = NEW.id;
END;

-- A renamed role or profile: its users, found by the (org_id, role_id ...) and
-- (org_id, profile_id ...) indexes below.
CREATE TRIGGER roles_sort_name AFTER UPDATE OF name ON roles
    WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE users SET role_name = NEW.name WHERE org_id = NEW.org_id AND role_id = NEW.id;
END;

CREATE TRIGGER profiles_sort_name AFTER UPDATE OF name ON profiles
    WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE users SET profile_name = NEW.name WHERE org_id = NEW.org_id AND profile_id = NEW.id;
END;

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
