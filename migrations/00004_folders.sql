-- +goose Up
-- The folder hierarchy a user's devices see: IMAP mailboxes, easd's own
-- PIM folders, and the Outbox. Ids are per user (all devices share them),
-- short, and never reused, so a device that starts over with FolderSync
-- key 0 gets the same ids and need not download its mail again.
ALTER TABLE users ADD COLUMN next_folder_id bigint NOT NULL DEFAULT 1;

CREATE TABLE folders (
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    server_id    text NOT NULL,
    parent_id    text NOT NULL DEFAULT '0',   -- '0': top level
    display_name text NOT NULL,
    type         int  NOT NULL,               -- EAS folder type (MS-ASCMD 2.2.3.186.3)
    source       text NOT NULL CHECK (source IN ('imap', 'pim', 'virtual')),
    imap_name    text,                        -- source 'imap' only
    uidvalidity  bigint NOT NULL DEFAULT 0,   -- recognises renames made by other clients
    PRIMARY KEY (user_id, server_id),
    UNIQUE (user_id, imap_name)
);
