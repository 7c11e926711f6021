-- +goose Up
-- Messages sent through SendMail, SmartReply and SmartForward, by the
-- client's ClientId (MS-ASCMD 2.2.3.28.1), so that a request re-sent after
-- its answer was lost does not send the message again. Keyed per device:
-- ClientIds are the client's own message ids (often a counter), so two
-- phones of one user may well use the same ones.
-- state 'sent': accepted by the SMTP server, the Sent copy or the flag on
-- the original may still be missing; 'done': nothing left to do.
-- Rows older than 30 days are removed as new ones are written.
CREATE TABLE sent_mail (
    device_id   bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    client_id   text NOT NULL,
    state       text NOT NULL CHECK (state IN ('sent', 'done')),
    message_id  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, client_id)
);
