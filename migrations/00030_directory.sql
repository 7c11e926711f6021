-- +goose Up
-- The directory (Global Address List): one row per person or resource a
-- phone can look up (Search Store=GAL, Find, ResolveRecipients). Users
-- who log in get a row of their own (user_id set) the first time a GAL
-- lookup runs after their first request; an administrator adds others
-- and edits any with `easd directory`. An entry added by hand with a
-- user's address becomes that user's entry.
CREATE TABLE directory_entries (
    id            bigserial PRIMARY KEY,
    user_id       bigint UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    kind          text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'resource')),
    display_name  text NOT NULL DEFAULT '',
    first_name    text NOT NULL DEFAULT '',
    last_name     text NOT NULL DEFAULT '',
    alias         text NOT NULL DEFAULT '',
    email         text NOT NULL CHECK (email <> '' AND email = lower(email)), -- primary SMTP address
    other_emails  text[] NOT NULL DEFAULT '{}',
    phone         text NOT NULL DEFAULT '',   -- office
    mobile_phone  text NOT NULL DEFAULT '',
    home_phone    text NOT NULL DEFAULT '',
    title         text NOT NULL DEFAULT '',
    company       text NOT NULL DEFAULT '',
    office        text NOT NULL DEFAULT '',
    department    text NOT NULL DEFAULT '',
    picture       bytea,                      -- JPEG (or what the phone shows), at most 100 KB
    certificates  bytea[] NOT NULL DEFAULT '{}', -- S/MIME certificates, DER
    hidden        boolean NOT NULL DEFAULT false, -- kept out of every lookup
    sort_key      text NOT NULL,              -- folded display name: results are listed by it
    updated       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX directory_entries_email ON directory_entries (email);

-- Search terms: the folded (lower case, no accents) words of the names and
-- the addresses of each entry, computed by easd on every write. A query
-- word matches a term by prefix; the "C" collation lets the primary key's
-- btree serve LIKE 'prefix%' directly.
CREATE TABLE directory_terms (
    term      text COLLATE "C" NOT NULL,
    entry_id  bigint NOT NULL REFERENCES directory_entries(id) ON DELETE CASCADE,
    PRIMARY KEY (term, entry_id)
);
CREATE INDEX directory_terms_entry ON directory_terms (entry_id);
