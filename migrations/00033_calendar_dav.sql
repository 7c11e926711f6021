-- +goose Up
-- What CalDAV needs of the calendar store beside the events, as migration
-- 00031 did for address books: a resource name per event, a DAV name per
-- calendar made by MKCALENDAR, and tombstones for sync-collection.
--
-- A CalDAV client names each event by the last segment of the URL it
-- PUT it to, which need not be the UID; every later answer must give it
-- back under that name. Events written without one (by a phone, an
-- import, an invitation, or before this migration) are named after their
-- UID by the trigger below: a UID safe in a path gives "UID.ics", any
-- other the hex SHA-256 of the UID; a name taken falls back to a random one.
-- +goose StatementBegin
CREATE FUNCTION events_default_href(uid text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN uid ~ '^[A-Za-z0-9._~@+=-]{1,200}$' AND uid NOT IN ('.', '..') THEN uid || '.ics'
        ELSE encode(sha256(convert_to(uid, 'UTF8')), 'hex') || '.ics'
    END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION events_name_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.href IS NULL THEN
        NEW.href := events_default_href(NEW.uid);
        IF EXISTS (SELECT 1 FROM events
                WHERE user_id = NEW.user_id AND folder_id = NEW.folder_id AND href = NEW.href) THEN
            NEW.href := gen_random_uuid()::text || '.ics';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
ALTER TABLE events ADD COLUMN href text;
-- UIDs are unique per user, so the default names of one calendar are too
-- (a SHA-256 clash aside).
UPDATE events SET href = events_default_href(uid);
ALTER TABLE events ALTER COLUMN href SET NOT NULL;
ALTER TABLE events ADD CONSTRAINT events_calendar_href UNIQUE (user_id, folder_id, href);
-- sync-collection reads the events written since a version from this
-- index alone.
CREATE INDEX events_calendar_version ON events (user_id, folder_id, version) INCLUDE (id, href);
-- calendar-query with a time range: the candidates of one calendar by
-- their first start (last_end is checked on the rows found).
CREATE INDEX events_calendar_first ON events (user_id, folder_id, first_start) INCLUDE (last_end, id);
CREATE TRIGGER events_name BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_name_event();

ALTER TABLE calendars ADD COLUMN dav_name text;
CREATE UNIQUE INDEX calendars_dav_name ON calendars (user_id, dav_name) WHERE dav_name IS NOT NULL;

-- Tombstones of the events that left a calendar (deleted or moved away),
-- written by the removing statement itself (calendar.Store.Delete, Move).
-- version is the calendar's ctag the removal bumped it to. Pruned after
-- the retention; tomb_floor keeps the highest version pruned, and an
-- older token is answered with DAV:valid-sync-token.
CREATE TABLE event_tombstones (
    user_id   bigint NOT NULL,
    folder_id text   NOT NULL,
    href      text   NOT NULL,
    version   bigint NOT NULL,
    deleted   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, folder_id, href),
    FOREIGN KEY (user_id, folder_id) REFERENCES calendars (user_id, folder_id) ON DELETE CASCADE
);
CREATE INDEX event_tombstones_version ON event_tombstones (user_id, folder_id, version);
ALTER TABLE calendars ADD COLUMN tomb_floor bigint NOT NULL DEFAULT 0;
