-- +goose Up
-- What CalDAV needs of the tasks store, as migration 00033 did for the
-- calendar store: a resource name per task, a DAV name per task list made
-- by MKCALENDAR, and tombstones for sync-collection.
--
-- A CalDAV client names each task by the last segment of the URL it PUT
-- it to; every later answer must give it back under that name. Tasks
-- written without one (by a phone, an import, or before this migration)
-- are named after their UID as events are (events_default_href of
-- 00033); a name taken falls back to a random one.
-- +goose StatementBegin
CREATE FUNCTION tasks_name_task() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.href IS NULL THEN
        NEW.href := events_default_href(NEW.uid);
        IF EXISTS (SELECT 1 FROM tasks
                WHERE user_id = NEW.user_id AND folder_id = NEW.folder_id AND href = NEW.href) THEN
            NEW.href := gen_random_uuid()::text || '.ics';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
ALTER TABLE tasks ADD COLUMN href text;
-- UIDs are unique per list, so the default names of one list are too (a
-- SHA-256 clash aside).
UPDATE tasks SET href = events_default_href(uid);
ALTER TABLE tasks ALTER COLUMN href SET NOT NULL;
ALTER TABLE tasks ADD CONSTRAINT tasks_list_href UNIQUE (user_id, folder_id, href);
-- sync-collection reads the tasks written since a version from this index
-- alone.
CREATE INDEX tasks_list_version ON tasks (user_id, folder_id, version) INCLUDE (id, href);
CREATE TRIGGER tasks_name BEFORE INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_name_task();

ALTER TABLE task_lists ADD COLUMN dav_name text;
CREATE UNIQUE INDEX task_lists_dav_name ON task_lists (user_id, dav_name) WHERE dav_name IS NOT NULL;

-- Tombstones of the tasks that left a list (deleted or moved away),
-- written by the removing statement itself (tasks.Store.Delete, Move).
-- version is the list's ctag the removal bumped it to. Pruned after the
-- retention; tomb_floor keeps the highest version pruned, and an older
-- token is answered with DAV:valid-sync-token.
CREATE TABLE task_tombstones (
    user_id   bigint NOT NULL,
    folder_id text   NOT NULL,
    href      text   NOT NULL,
    version   bigint NOT NULL,
    deleted   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, folder_id, href),
    FOREIGN KEY (user_id, folder_id) REFERENCES task_lists (user_id, folder_id) ON DELETE CASCADE
);
CREATE INDEX task_tombstones_version ON task_tombstones (user_id, folder_id, version);
ALTER TABLE task_lists ADD COLUMN tomb_floor bigint NOT NULL DEFAULT 0;
