-- The hourly invitation caps read per-minute counts kept by a trigger, instead of counting the
-- invitations of the last hour (thousands of index entries, twice, on every New User).
-- migrations/sqlite/0007_invitation_counts.sql keeps the same counts with a row trigger.

-- How many invitations were created in each minute (created_at / 60000) by each sender
-- ('sender:' || sent_by) and in each organization ('org:' || org_id). A cap sums at most 61 rows
-- of one scope through the primary key. Deleting an invitation (with its user) does not give its
-- count back: the email was sent all the same, and invite, delete, invite must not pass the cap.
-- The outbox worker deletes rows older than two hours (Store::purge_old_invitation_counts).
CREATE TABLE invitation_counts (
    scope   TEXT NOT NULL,
    minute  BIGINT NOT NULL,
    sent    BIGINT NOT NULL,
    PRIMARY KEY (scope, minute)
);

-- The invitations the caps can still see: those of the last two hours by the database's clock
-- (an hour of margin for a server whose clock differs). Older ones would only be purged.
INSERT INTO invitation_counts (scope, minute, sent)
SELECT scope, minute, COUNT(*)
  FROM (SELECT 'org:' || org_id AS scope, created_at / 60000 AS minute
          FROM invitations
         WHERE created_at > (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) - 2 * 60 * 60) * 1000
        UNION ALL
        SELECT 'sender:' || sent_by, created_at / 60000
          FROM invitations
         WHERE sent_by IS NOT NULL
           AND created_at > (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) - 2 * 60 * 60) * 1000
       ) recent
 GROUP BY scope, minute;

-- Every writer of invitations (New User, Reinvite, Edit User, organization creation,
-- `onestop org seed` with its backdated rows) is counted, inside its own transaction. Invitations
-- of the first run and of the command line have no sender and count for the organization only.
-- Once per statement: a Reinvite of 400 users upserts one row for its organization and one for
-- its sender, not 800. The rows are written in key order, so two statements that touch the
-- same rows wait for each other instead of deadlocking.
CREATE FUNCTION invitation_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO invitation_counts AS c (scope, minute, sent)
    SELECT added_count.scope, added_count.minute, COUNT(*)
      FROM (SELECT 'org:' || org_id AS scope, created_at / 60000 AS minute
              FROM added
            UNION ALL
            SELECT 'sender:' || sent_by, created_at / 60000
              FROM added
             WHERE sent_by IS NOT NULL) added_count
     GROUP BY added_count.scope, added_count.minute
     ORDER BY added_count.scope, added_count.minute
    ON CONFLICT (scope, minute) DO UPDATE SET sent = c.sent + EXCLUDED.sent;
    RETURN NULL;
END
$$;

CREATE TRIGGER invitations_count_insert AFTER INSERT ON invitations
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION invitation_counts_after_insert();
