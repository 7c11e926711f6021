-- +goose Up
-- Out-of-office settings per user (Settings Oof, MS-ASCMD 2.2.1.18). easd
-- only stores them here; the mail side applies them.
CREATE TABLE oof_settings (
    user_id     bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- 0 disabled, 1 global (on until switched off), 2 time-based
    state       smallint NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
    start_time  timestamptz,
    end_time    timestamptz,
    CHECK (state <> 2 OR (start_time IS NOT NULL AND end_time IS NOT NULL AND start_time < end_time)),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The reply for each audience: internal senders, external senders known to
-- the user (in the contacts), and all other external senders.
CREATE TABLE oof_messages (
    user_id     bigint NOT NULL REFERENCES oof_settings(user_id) ON DELETE CASCADE,
    audience    text NOT NULL CHECK (audience IN ('internal', 'external_known', 'external_unknown')),
    enabled     boolean NOT NULL DEFAULT false,
    body_type   text NOT NULL DEFAULT 'Text' CHECK (body_type IN ('Text', 'HTML')),
    reply       text NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, audience)
);
