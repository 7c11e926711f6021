-- +goose Up
-- Note folders: one row per PIM notes folder (EAS types 10 and 17) that has
-- ever been written, made by the first write so the folder hierarchy code
-- need not know about notes. ctag is the folder's change counter, bumped
-- in the writing transaction; a note's version is the value it was bumped
-- to. The row hangs off the folder: deleting the folder deletes its notes.
CREATE TABLE note_folders (
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    folder_id text   NOT NULL,
    ctag      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, folder_id),
    FOREIGN KEY (user_id, folder_id) REFERENCES folders (user_id, server_id) ON DELETE CASCADE
);

-- Ids come from one sequence and are never reused, so a ServerId
-- ("<folder>:<id>") a phone still holds never names another note.
CREATE SEQUENCE notes_id_seq;

-- One note per row: a note is small and flat (MS-ASNOTE has five
-- elements), so its columns are the truth; the VJOURNAL export is made
-- from them.
CREATE TABLE notes (
    user_id       bigint   NOT NULL,
    folder_id     text     NOT NULL,
    id            bigint   NOT NULL DEFAULT nextval('notes_id_seq'),
    uid           text     NOT NULL,            -- iCalendar UID of the VJOURNAL export
    version       bigint   NOT NULL,            -- the folder's ctag at the note's last write
    subject       text     NOT NULL DEFAULT '',
    body          text     NOT NULL DEFAULT '', -- as the client sent it, in body_type
    body_type     smallint NOT NULL DEFAULT 1 CHECK (body_type IN (1, 2)), -- AirSyncBase:Type: 1 plain, 2 HTML
    categories    text[]   NOT NULL DEFAULT '{}',
    message_class text     NOT NULL DEFAULT 'IPM.StickyNote',
    last_modified timestamptz NOT NULL DEFAULT now(),
    updated       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, folder_id) REFERENCES note_folders (user_id, folder_id) ON DELETE CASCADE,
    -- Serves the Sync diff (id and version from the index alone), counting
    -- and the cascade from the folder, as contacts_book_uid does.
    CONSTRAINT notes_folder_uid UNIQUE (user_id, folder_id, uid) INCLUDE (id, version)
);
