-- 1 once a callback for this attempt came from a browser other than the one that started it.
-- That refusal is audited once per attempt: a leaked `state` replayed from elsewhere must not
-- fill the company's audit log.
ALTER TABLE sso_attempts ADD COLUMN other_browser_refused INTEGER NOT NULL DEFAULT 0;
