-- The hourly invitation caps read per-minute counts kept by a trigger, instead of counting the
-- invitations of the last hour (thousands of index entries, twice, on every New User).
-- migrations/postgres/0007_invitation_counts.sql keeps the same counts with a statement trigger.

-- How many invitations were created in each minute (created_at / 60000) by each sender
-- ('sender:' || sent_by) and in each organization ('org:' || org_id). A cap sums at most 61 rows
-- of one scope through the primary key. Deleting an invitation (with its user) does not give its
-- count back: the email was sent all the same, and invite, delete, invite must not pass the cap.
-- The outbox worker deletes rows older than two hours (Store::purge_old_invitation_counts).
-- WITHOUT ROWID keeps each row in the primary key's own B-tree: one lookup, not two.
CREATE TABLE invitation_counts (
    scope   TEXT NOT NULL,
    minute  BIGINT NOT NULL,
    sent    BIGINT NOT NULL,
    PRIMARY KEY (scope, minute)
) WITHOUT ROWID;

-- The invitations the caps can still see: those of the last two hours by the database's clock
-- (an hour of margin for a server whose clock differs). Older ones would only be purged.
INSERT INTO invitation_counts (scope, minute, sent)
SELECT scope, minute, COUNT(*)
  FROM (SELECT 'org:' || org_id AS scope, created_at / 60000 AS minute
          FROM invitations
         WHERE created_at > (CAST(strftime('%s', 'now') AS INTEGER) - 2 * 60 * 60) * 1000
        UNION ALL
        SELECT 'sender:' || sent_by, created_at / 60000
          FROM invitations
         WHERE sent_by IS NOT NULL
           AND created_at > (CAST(strftime('%s', 'now') AS INTEGER) - 2 * 60 * 60) * 1000)
 GROUP BY scope, minute;

-- Every writer of invitations (New User, Reinvite, Edit User, organization creation,
-- `onestop org seed` with its backdated rows) is counted, inside its own transaction. Invitations
-- of the first run and of the command line have no sender and count for the organization only.
CREATE TRIGGER invitations_count_insert AFTER INSERT ON invitations
BEGIN
    INSERT INTO invitation_counts (scope, minute, sent)
    VALUES ('org:' || NEW.org_id, NEW.created_at / 60000, 1)
    ON CONFLICT (scope, minute) DO UPDATE SET sent = sent + 1;
    INSERT INTO invitation_counts (scope, minute, sent)
    SELECT 'sender:' || NEW.sent_by, NEW.created_at / 60000, 1
     WHERE NEW.sent_by IS NOT NULL
    ON CONFLICT (scope, minute) DO UPDATE SET sent = sent + 1;
END;
