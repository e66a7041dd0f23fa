-- Import Users: a CSV file brought in as a background job (Setup > Users > Import Users, and
-- `onestop users import`). migrations/postgres/0013_user_imports.sql is the same.
--
-- A job is written when the file is uploaded (state 'uploaded', holding the file while the
-- administrator maps its columns and previews its rows; no user is written yet). Confirming the
-- preview writes one row per line of the file and makes the job 'queued'; a runner (started by
-- `serve`) claims it with a lease, invites its rows a chunk at a time ('running'), each chunk in
-- one transaction with the rows' outcomes and the job's counts, and ends it ('done'). A runner
-- that stops mid-import leaves the rows of the chunks it did not commit 'pending', and the next
-- runner to claim the job once the lease has run out carries on from there: no row twice.
CREATE TABLE user_imports (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- The administrator who uploaded (then who confirmed); NULL for the command line.
    created_by            TEXT REFERENCES users (id) ON DELETE SET NULL,
    -- 'uploaded', 'queued', 'running', 'done'.
    state                 TEXT NOT NULL,
    -- The uploaded file (UTF-8 text) while the job is 'uploaded'; emptied when it starts.
    file_text             TEXT NOT NULL,
    -- Rows of the file with an error in the preview: never imported.
    skipped_rows          BIGINT NOT NULL DEFAULT 0,
    -- Rows confirmed for import, and what became of them so far.
    total_rows            BIGINT NOT NULL DEFAULT 0,
    invited_rows          BIGINT NOT NULL DEFAULT 0,
    failed_rows           BIGINT NOT NULL DEFAULT 0,
    -- The emails' schedule, fixed when the import starts: the first `first_hour_emails` are due
    -- at `emails_from`, then `hourly_emails` in each following hour (the hourly caps).
    emails_from           BIGINT,
    first_hour_emails     BIGINT NOT NULL DEFAULT 0,
    hourly_emails         BIGINT NOT NULL DEFAULT 0,
    -- The client address of the confirmation, for the audit events.
    ip                    TEXT,
    -- The runner holding the job, and until when (unix milliseconds).
    claim                 TEXT,
    lease_until           BIGINT,
    created_at            BIGINT NOT NULL,
    started_at            BIGINT,
    finished_at           BIGINT
);

-- Runners look for jobs to claim by state.
CREATE INDEX user_imports_state ON user_imports (state, created_at);
CREATE INDEX user_imports_org ON user_imports (org_id, created_at);
-- Deleting a user looks up the imports they made (created_by is set to NULL).
CREATE INDEX user_imports_created_by ON user_imports (created_by);

-- One row per data line of the file, written when the import is confirmed.
CREATE TABLE user_import_rows (
    import_id     TEXT NOT NULL REFERENCES user_imports (id) ON DELETE CASCADE,
    -- The line of the file the row starts on (the header is line 1), as a spreadsheet counts.
    row_number    BIGINT NOT NULL,
    -- As typed in the file (the result file names the row by it).
    email         TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT NOT NULL,
    -- Resolved from the file's names or the chosen defaults; NULL for a skipped row.
    profile_id    TEXT,
    role_id       TEXT,
    -- The row's place among the rows to import (0, 1, ...): its email's place in the schedule.
    ordinal       BIGINT,
    -- 'pending', 'invited', 'failed' (at import), 'skipped' (an error in the preview).
    outcome       TEXT NOT NULL,
    -- Why a row was skipped or failed.
    message       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, row_number)
);

-- The next chunk of a job: its pending rows in file order.
CREATE INDEX user_import_rows_outcome ON user_import_rows (import_id, outcome, row_number);
