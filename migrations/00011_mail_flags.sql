-- +goose Up
-- Follow-up flag details a phone set on a message: IMAP keeps only
-- \Flagged, so the flag's type, dates, reminder and completion live here,
-- per user (every device of the user sees the same flag). A row names
-- its message by folder id, UIDVALIDITY and UID: a UID never names
-- another message while the mailbox keeps its UIDVALIDITY, so a row can
-- never be shown on the wrong message, and rows left by a message that
-- is gone (expunged elsewhere, a recreated mailbox) are harmless; easd
-- drops them when it notices. Whether a message is flagged is always
-- IMAP's word: the row only adds to a state it agrees with (active
-- details on a \Flagged message, completed ones on an unflagged one).
-- updated_at is the database clock when the row was written, after the
-- IMAP change it goes with: a reader whose IMAP view is older leaves it be.
CREATE TABLE mail_flags (
    user_id          bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    folder_id        text   NOT NULL,   -- EAS folder id of the mailbox
    uid              bigint NOT NULL,   -- IMAP UID in that mailbox
    uidvalidity      bigint NOT NULL,   -- of the mailbox when the UID was valid
    status           smallint NOT NULL CHECK (status IN (1, 2)),   -- 1 complete, 2 active
    flag_type        text,
    start_date       timestamptz,
    utc_start_date   timestamptz,
    due_date         timestamptz,
    utc_due_date     timestamptz,
    reminder_set     boolean,
    reminder_time    timestamptz,
    ordinal_date     timestamptz,
    sub_ordinal_date text,              -- a string in MS-ASEMAIL, not a date
    complete_time    timestamptz,       -- status 1 only
    date_completed   timestamptz,       -- status 1 only
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- uid before uidvalidity: lookups by message (MoveItems,
    -- ItemOperations) do not know the UIDVALIDITY before they find a row.
    PRIMARY KEY (user_id, folder_id, uid, uidvalidity)
);
