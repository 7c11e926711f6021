-- +goose Up
-- Address books: one row per PIM contacts folder (EAS types 9 and 14) that
-- has ever been written, created by the first write so that the folder
-- hierarchy code need not know about contacts. ctag is the book's change
-- counter: every write of a card bumps it in the writing transaction, and
-- the card's version is the value it was bumped to. A no-change Sync, a
-- Ping, GetItemEstimate and (later) a CardDAV sync token compare it and
-- read no card.
--
-- The row hangs off the folder itself, not only the user: deleting the
-- folder (FolderDelete, a hierarchy reconcile) deletes the book and its
-- cards with it, so no code path can leave cards of a folder that is gone.
CREATE TABLE address_books (
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    folder_id text   NOT NULL,               -- EAS folder id (folders.server_id)
    ctag      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, folder_id),
    FOREIGN KEY (user_id, folder_id) REFERENCES folders (user_id, server_id) ON DELETE CASCADE
);

-- Card ids come from one sequence for all users: an id is never reused,
-- so a ServerId ("<folder>:<id>") a phone still holds can never name
-- another contact, even after a delete or a move.
CREATE SEQUENCE contacts_id_seq;

CREATE TABLE contacts (
    user_id     bigint NOT NULL,
    folder_id   text   NOT NULL,
    id          bigint NOT NULL DEFAULT nextval('contacts_id_seq'),
    uid         text   NOT NULL,             -- vCard UID: the future CardDAV resource name
    version     bigint NOT NULL,             -- the book's ctag when the card was last written
    vcard       text   NOT NULL,             -- the whole vCard 4.0 document, picture included
    -- Indexed copies of what searches and listings need, derived from
    -- vcard on every write; vcard stays the truth.
    file_as     text   NOT NULL DEFAULT '',
    given_name  text   NOT NULL DEFAULT '',
    family_name text   NOT NULL DEFAULT '',
    emails      text[] NOT NULL DEFAULT '{}',
    phones      text[] NOT NULL DEFAULT '{}',
    updated     timestamptz NOT NULL DEFAULT now(),
    -- Lookups by ServerId (Sync Change/Delete/Fetch, ItemOperations) know
    -- the user and the id; the folder is checked as a filter.
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, folder_id) REFERENCES address_books (user_id, folder_id) ON DELETE CASCADE,
    -- One index serves everything that walks a book: the UID rule (and
    -- the import's lookup by UID), the Sync diff (id and version of every
    -- card, read from the index alone thanks to INCLUDE, never touching
    -- the wide vcard column), counting, and the cascade from the book.
    -- A second index on (user_id, folder_id) would only cost writes.
    CONSTRAINT contacts_book_uid UNIQUE (user_id, folder_id, uid) INCLUDE (id, version)
);
