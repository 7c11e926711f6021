-- +goose Up
-- Task lists: one row per PIM tasks folder (EAS types 7 and 15) that has
-- ever been written, made by the first write. ctag is the list's change
-- counter, bumped in the writing transaction; a task's version is the
-- value it was bumped to. Deleting the folder deletes the list and its
-- tasks.
CREATE TABLE task_lists (
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    folder_id text   NOT NULL,
    ctag      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, folder_id),
    FOREIGN KEY (user_id, folder_id) REFERENCES folders (user_id, server_id) ON DELETE CASCADE
);

-- Ids are never reused, so a ServerId ("<folder>:<id>") a phone holds
-- never names another task.
CREATE SEQUENCE tasks_id_seq;

CREATE TABLE tasks (
    user_id   bigint NOT NULL,
    folder_id text   NOT NULL,
    id        bigint NOT NULL DEFAULT nextval('tasks_id_seq'),
    uid       text   NOT NULL,               -- the VTODO's UID (the future CalDAV name)
    version   bigint NOT NULL,               -- the list's ctag at the task's last write
    ical      text   NOT NULL,               -- the whole iCalendar object: one VTODO + its VTIMEZONEs
    -- Indexed copies, derived from ical on every write; ical is the truth.
    summary   text    NOT NULL DEFAULT '',
    complete  boolean NOT NULL DEFAULT false, -- STATUS:COMPLETED: FilterType 8 leaves these out
    due       date,                           -- the inclusive due day (UTC reading), NULL without DUE
    updated   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, folder_id) REFERENCES task_lists (user_id, folder_id) ON DELETE CASCADE,
    -- The UID rule, the Sync diff incl. FilterType 8 (id, version and the
    -- complete flag from the index alone), counting and the cascade.
    CONSTRAINT tasks_list_uid UNIQUE (user_id, folder_id, uid) INCLUDE (id, version, complete)
);
