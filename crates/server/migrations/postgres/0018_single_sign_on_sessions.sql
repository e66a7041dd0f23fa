-- 1 for a session started through the company's identity provider (single sign-on). The
-- provider answers for the second factor of such a sign-in, so the session never owes the
-- two-step setup that a profile requires of password sign-ins.
ALTER TABLE sessions ADD COLUMN single_sign_on INTEGER NOT NULL DEFAULT 0;
