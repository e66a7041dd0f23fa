-- SCIM 2.0 provisioning at /scim/v2 (identity providers such as Okta and Microsoft Entra ID).
--
-- external_id: the identity provider's own id for the user (SCIM `externalId`), unique within a
-- company (NULLs do not collide, so users never provisioned by SCIM need none).
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_org_external_id_key ON users (org_id, external_id);

-- When a SCIM DELETE detached a user who had joined: they stay in 1Stop, deactivated, but SCIM
-- no longer sees them (a later GET answers 404). NULL for every other user.
ALTER TABLE users ADD COLUMN scim_detached_at BIGINT;

-- The profile and role given to users that SCIM creates without naming theirs (Setup > SCIM
-- provisioning). No foreign keys: deleting a profile or role must not fail because of them; a
-- default that no longer exists is treated as unset.
ALTER TABLE organizations ADD COLUMN scim_profile_id TEXT;
ALTER TABLE organizations ADD COLUMN scim_role_id TEXT;
