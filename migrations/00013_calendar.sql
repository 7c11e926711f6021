-- +goose Up
-- Calendars: one row per PIM calendar folder (EAS types 8 and 13) that has
-- ever been written, created by its first write. ctag is the calendar's
-- change counter, as address_books.ctag is for contacts: every write of an
-- event bumps it in the writing transaction, and the event's version is
-- the value it was bumped to. Deleting the folder deletes the calendar and
-- its events through the cascade.
CREATE TABLE calendars (
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    folder_id text   NOT NULL,               -- EAS folder id (folders.server_id)
    ctag      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, folder_id),
    FOREIGN KEY (user_id, folder_id) REFERENCES folders (user_id, server_id) ON DELETE CASCADE
);

-- Event ids come from one sequence for all users and are never reused, so
-- a ServerId ("<folder>:<id>") a phone still holds can never name another
-- event, even after a delete or a move (a move gives a new id).
CREATE SEQUENCE events_id_seq;

-- One row per series: the whole iCalendar object (VCALENDAR with the
-- master VEVENT, its RECURRENCE-ID overrides and the VTIMEZONEs they
-- name), plus indexed copies derived from it on every write.
CREATE TABLE events (
    user_id     bigint NOT NULL,
    folder_id   text   NOT NULL,
    id          bigint NOT NULL DEFAULT nextval('events_id_seq'),
    uid         text   NOT NULL,             -- iCalendar UID: the future CalDAV resource name
    version     bigint NOT NULL,             -- the calendar's ctag when the event was last written
    ical        text   NOT NULL,
    -- The series' first start and the end of its last occurrence
    -- (overrides included); NULL last_end: a series without end. A
    -- FilterType window ("events that end after T") reads these only.
    first_start timestamptz NOT NULL,
    last_end    timestamptz,
    updated     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, folder_id) REFERENCES calendars (user_id, folder_id) ON DELETE CASCADE,
    -- A UID names one event in all of a user's calendars: a retried Add,
    -- or iOS's "Add to calendar" of an invitation already there, finds the
    -- event instead of creating a second one.
    CONSTRAINT events_user_uid UNIQUE (user_id, uid)
);

-- Walks of one calendar (the Sync diff, with or without a window, the
-- cascade from the calendar) read id and version from this index alone.
CREATE INDEX events_calendar ON events (user_id, folder_id, last_end) INCLUDE (id, version);

