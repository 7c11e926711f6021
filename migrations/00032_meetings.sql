-- +goose Up
-- iMIP messages (RFC 6047) easd sends for its users: invitations and
-- cancellations of meetings they organise on the phone, and replies to
-- meetings they answer. A row is written in the transaction that changes
-- the calendar, and sent after that transaction commits (never before:
-- a rolled back Sync must not have invited anyone). The unique key makes
-- the send happen once: a replayed Sync or a re-sent MeetingResponse
-- writes the same key, which is already there. variant tells apart
-- messages of one (UID, SEQUENCE, method, recipient) that must each go
-- out: an occurrence's RECURRENCE-ID, a reply's answer.
CREATE TABLE meeting_outbox (
    id        bigserial PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    uid       text   NOT NULL,
    sequence  int    NOT NULL,
    method    text   NOT NULL,               -- REQUEST, CANCEL, REPLY, COUNTER
    recipient text   NOT NULL,               -- lower case address
    variant   text   NOT NULL DEFAULT '',
    sender    text   NOT NULL,
    message   bytea  NOT NULL,               -- the whole RFC 5322 message
    created   timestamptz NOT NULL DEFAULT now(),
    sent_at   timestamptz,
    UNIQUE (user_id, uid, sequence, method, recipient, variant)
);

-- The sender's walk: what is still to send for one user.
CREATE INDEX meeting_outbox_pending ON meeting_outbox (user_id, id) WHERE sent_at IS NULL;

-- Invitations filed in a user's calendar, by UID with the highest
-- SEQUENCE filed: a meeting the user declined or deleted does not come
-- back when its mail is synced again (another device, a resync); a newer
-- invitation from the organizer does.
CREATE TABLE meeting_filed (
    user_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    uid      text   NOT NULL,
    sequence int    NOT NULL,
    PRIMARY KEY (user_id, uid)
);
