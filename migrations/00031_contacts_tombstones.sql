-- +goose Up
-- What CardDAV needs of the contacts store beside the cards themselves.
--
-- A DAV client names each card by a resource name (the last segment of its
-- URL) that it chose when it created the card, which need not be the UID:
-- vdirsyncer, for one, names a card after a hash of a UID it finds unsafe
-- in a path. A sync-collection report (RFC 6578) and every later request
-- must give the card back under that same name, or the client sees one
-- card deleted and another created. So each card keeps its name.
--
-- A card written without one (by a phone, an import, or before this
-- migration) is named after its UID by the trigger below, so no INSERT of
-- the store needs to know the rule: "urn:uuid:X" gives "X.vcf", a UID
-- safe in a path gives "UID.vcf", any other the hex SHA-256 of the UID.
-- A name already taken in the book falls back to a random one.
-- +goose StatementBegin
CREATE FUNCTION contacts_default_href(uid text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN uid ~ '^urn:uuid:[A-Za-z0-9._~@+=-]{1,200}$' THEN substr(uid, 10) || '.vcf'
        WHEN uid ~ '^[A-Za-z0-9._~@+=-]{1,200}$' AND uid NOT IN ('.', '..') THEN uid || '.vcf'
        ELSE encode(sha256(convert_to(uid, 'UTF8')), 'hex') || '.vcf'
    END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION contacts_name_card() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.href IS NULL THEN
        NEW.href := contacts_default_href(NEW.uid);
        IF EXISTS (SELECT 1 FROM contacts
                WHERE user_id = NEW.user_id AND folder_id = NEW.folder_id AND href = NEW.href) THEN
            NEW.href := gen_random_uuid()::text || '.vcf';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
ALTER TABLE contacts ADD COLUMN href text;
UPDATE contacts SET href = contacts_default_href(uid);
-- Two UIDs of one book that give the same name ("urn:uuid:x" and "x"):
-- the later card takes a random one.
UPDATE contacts c SET href = gen_random_uuid()::text || '.vcf'
WHERE EXISTS (SELECT 1 FROM contacts o WHERE o.user_id = c.user_id AND o.folder_id = c.folder_id
    AND o.href = c.href AND o.id < c.id);
ALTER TABLE contacts ALTER COLUMN href SET NOT NULL;
ALTER TABLE contacts ADD CONSTRAINT contacts_book_href UNIQUE (user_id, folder_id, href);
-- A sync report asks for the cards written since a version: this index
-- answers from its own pages, reading as many entries as there are
-- changes instead of walking the whole book (5,000 cards: ~19 ms -> see
-- docs/benchmarks.md).
CREATE INDEX contacts_book_version ON contacts (user_id, folder_id, version) INCLUDE (id, href);
CREATE TRIGGER contacts_name BEFORE INSERT ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_name_card();

-- A DAV collection is named by the path segment the client gave MKCOL;
-- address books made otherwise (by a phone, by default) are named by
-- their folder id. Unique per user, so a name finds one book.
ALTER TABLE address_books ADD COLUMN dav_name text;
CREATE UNIQUE INDEX address_books_dav_name ON address_books (user_id, dav_name) WHERE dav_name IS NOT NULL;

-- Tombstones: the cards that left a book (deleted, or moved to another
-- one), so that a sync-collection report can tell a client which names
-- are gone since its token. version is the book's ctag the removal bumped
-- it to, like a card's version. Written by the removing statement itself
-- (contacts.Store.Delete, Move, DeleteBook), so no path can delete a
-- card without its tombstone.
--
-- Tombstones older than the retention are pruned; tomb_floor then keeps
-- the highest version pruned, and a token older than it can no longer be
-- answered exactly: the client is told so (DAV:valid-sync-token) and
-- starts over with a full listing.
CREATE TABLE contact_tombstones (
    user_id   bigint NOT NULL,
    folder_id text   NOT NULL,
    href      text   NOT NULL,
    version   bigint NOT NULL,
    deleted   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, folder_id, href),
    FOREIGN KEY (user_id, folder_id) REFERENCES address_books (user_id, folder_id) ON DELETE CASCADE
);
CREATE INDEX contact_tombstones_version ON contact_tombstones (user_id, folder_id, version);
ALTER TABLE address_books ADD COLUMN tomb_floor bigint NOT NULL DEFAULT 0;

