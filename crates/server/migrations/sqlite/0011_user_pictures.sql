-- Profile pictures: one per user, kept in the database with the rest of the account, so a backup
-- of the database is a backup of the pictures and several instances serve the same ones.
-- migrations/postgres/0011_user_pictures.sql is the same table with BYTEA.
--
-- What is stored is never what was uploaded: the server decodes the upload (PNG, JPEG or WebP,
-- within a size and pixel limit), crops it to a square and re-encodes it as a small PNG, which
-- carries no EXIF or other metadata. A few kilobytes a user.
CREATE TABLE user_pictures (
    -- Deleting the user deletes the picture.
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The user's organization, so every read can be scoped to the session's company.
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- The re-encoded image.
    image         BLOB NOT NULL,
    -- Its media type (image/png).
    content_type  TEXT NOT NULL,
    -- SHA-256 of `image` in hex: the ETag, and the version in the picture's links.
    digest        TEXT NOT NULL,
    -- Unix milliseconds of the upload.
    updated_at    BIGINT NOT NULL
);
