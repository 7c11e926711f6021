// Package contacts keeps users' address books in PostgreSQL: each contact
// is one whole vCard 4.0 document plus indexed copies of the properties
// listings and searches need. EAS Sync, vCard import/export and (later)
// CardDAV all go through the Store, so a property one protocol does not
// carry survives the other's edit.
//
// Every address book is an EAS contacts folder (types 9 and 14) with a
// change counter, the ctag: each write bumps it in the writing
// transaction, stamps the card's version with the new value and publishes
// a folder notification, so a reader compares one number to learn whether
// anything changed and a waiting Ping wakes on every instance.
package contacts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/itemstore"
)

// MaxCardSize bounds one encoded card, picture included. EAS allows a
// contact picture of up to 48 KB (MS-ASCNTC 2.2.2.58) and desktop address
// books rarely embed more than a few hundred; a larger card is an error,
// not something to keep in a row every Sync may read.
const MaxCardSize = 1 << 20

// Errors.
var (
	ErrNotFound  = errors.New("contacts: no such card")
	ErrUIDExists = errors.New("contacts: a card with this UID is already in the address book")
	ErrTooLarge  = fmt.Errorf("contacts: card larger than %d bytes", MaxCardSize)
	ErrSameBook  = errors.New("contacts: source and destination are the same address book")
	// ErrHrefExists: a DAV client named a new card by a name the book
	// already holds.
	ErrHrefExists = errors.New("contacts: a card with this name is already in the address book")
)

// Querier runs SQL: the caller's transaction (e.g. the EAS Sync's, so
// that cards and the new sync state commit together) or the pool.
type Querier = itemstore.Querier

// NotifyFunc announces a changed address book inside the writing
// transaction; the application passes eas.NotifyFolderChanged.
type NotifyFunc = itemstore.NotifyFunc

// Store keeps address books and cards.
type Store struct {
	pool *pgxpool.Pool
	// items is the contacts table with its tombstones and the
	// address_books table (items.Folders).
	items itemstore.Items
}

// NewStore returns a Store on pool; notify may be nil (nothing waits).
func NewStore(pool *pgxpool.Pool, notify NotifyFunc) *Store {
	return &Store{pool: pool, items: itemstore.Items{
		Folders: itemstore.NewFolders("contacts", "address_books", "book", notify),
		Table:   "contacts", Tombstones: "contact_tombstones", NotFound: ErrNotFound, TokenTooOld: ErrTokenTooOld}}
}

// Card is one stored contact.
type Card struct {
	// ServerID names the card to EAS: "<folderID>:<id>". It is built and
	// parsed only in this package; it changes when the card moves.
	ServerID string
	// UID is the vCard UID, unique in the address book and kept for the
	// card's life there (the CardDAV resource name).
	UID string
	// Href is the card's resource name in the book (the last segment of
	// its CardDAV URL): what a DAV client named it, else derived from the
	// UID when the card was written (migration 00031).
	Href string
	// Version is the book's ctag as of the card's last write.
	Version int64
	Card    vcard.Card
	Updated time.Time
}

// Book is one address book of a user.
type Book = itemstore.Folder

// CTag returns the change counter of the book, 0 when it was never
// written.
func (s *Store) CTag(ctx context.Context, q Querier, userID int64, folderID string) (int64, error) {
	return s.items.CTag(ctx, q, userID, folderID)
}

// Versions returns the ServerId and version of every card in the book,
// what a Sync needs to compute its changes. It reads the book's index
// only, never a vCard.
func (s *Store) Versions(ctx context.Context, q Querier, userID int64, folderID string) (map[string]int64, error) {
	out, err := itemstore.QueryVersions(ctx, q, folderID,
		`SELECT id, version FROM contacts WHERE user_id = $1 AND folder_id = $2`, userID, folderID)
	if err != nil {
		return nil, fmt.Errorf("contacts: versions of %q: %w", folderID, err)
	}
	return out, nil
}

// Get returns the cards named by serverIDs, in that order; ids that name
// no card of the book are left out.
func (s *Store) Get(ctx context.Context, q Querier, userID int64, folderID string, serverIDs []string) ([]Card, error) {
	ids := itemstore.ParseServerIDs(folderID, serverIDs)
	if len(ids) == 0 {
		return nil, nil
	}
	got, err := s.query(ctx, q, userID, folderID, `id = ANY($3)`, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Card, len(got))
	for _, c := range got {
		byID[c.ServerID] = c
	}
	return itemstore.InOrder(serverIDs, byID), nil
}

// query returns the book's cards that cond (SQL after WHERE user_id = $1
// AND folder_id = $2 AND, may end in ORDER BY) selects, in the order SQL
// gives; args are $3 on.
func (s *Store) query(ctx context.Context, q Querier, userID int64, folderID, cond string, args ...any) ([]Card, error) {
	rows, err := q.Query(ctx, `SELECT id, uid, href, version, vcard, updated FROM contacts
		WHERE user_id = $1 AND folder_id = $2 AND `+cond, append([]any{userID, folderID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("contacts: get: %w", err)
	}
	defer rows.Close()
	var out []Card
	for rows.Next() {
		var id int64
		var text string
		var c Card
		if err := rows.Scan(&id, &c.UID, &c.Href, &c.Version, &text, &c.Updated); err != nil {
			return nil, fmt.Errorf("contacts: get: %w", err)
		}
		if c.Card, err = decodeCard(text); err != nil {
			return nil, fmt.Errorf("contacts: stored card %d: %w", id, err)
		}
		c.ServerID = itemstore.ServerID(folderID, id)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("contacts: get: %w", err)
	}
	return out, nil
}

// Count returns the number of cards in the book.
func (s *Store) Count(ctx context.Context, q Querier, userID int64, folderID string) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE user_id = $1 AND folder_id = $2`,
		userID, folderID).Scan(&n); err != nil {
		return 0, fmt.Errorf("contacts: count %q: %w", folderID, err)
	}
	return n, nil
}

// Books lists the user's address books that were ever written.
func (s *Store) Books(ctx context.Context, q Querier, userID int64) ([]Book, error) {
	return s.items.List(ctx, q, userID)
}

// prepared is a card made ready for storing.
type prepared struct {
	uid  string
	text string
	cols IndexColumns
	card vcard.Card
}

// prepare normalises a copy of card to vCard 4.0, gives it uid (when not
// empty) or else keeps or assigns one, and encodes it. The caller's card is
// not modified.
func prepare(card vcard.Card, uid string) (prepared, error) {
	c, err := Normalize(copyCard(card))
	if err != nil {
		return prepared{}, fmt.Errorf("contacts: %w", err)
	}
	c = canonical(c)
	if uid != "" {
		c.SetValue(vcard.FieldUID, uid)
	} else if c.Value(vcard.FieldUID) == "" {
		c.SetValue(vcard.FieldUID, "urn:uuid:"+uuid.NewString())
	}
	text, err := EncodeCard(c)
	if err != nil {
		return prepared{}, err
	}
	if len(text) > MaxCardSize {
		return prepared{}, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(text))
	}
	return prepared{uid: c.Value(vcard.FieldUID), text: string(text), cols: Columns(c), card: c}, nil
}

// columnsOf keeps the arrays non-nil: the columns are NOT NULL.
func columnsOf(p prepared) (emails, phones []string) {
	emails, phones = p.cols.Emails, p.cols.Phones
	if emails == nil {
		emails = []string{}
	}
	if phones == nil {
		phones = []string{}
	}
	return emails, phones
}

// Create adds card to the book, creating the book's row on its first
// write. A card without UID gets one; a UID already in the book is
// ErrUIDExists and changes nothing.
func (s *Store) Create(ctx context.Context, q Querier, userID int64, folderID string, card vcard.Card) (Card, error) {
	return s.CreateNamed(ctx, q, userID, folderID, "", card)
}

// CreateNamed is Create for a card a DAV client names href (empty: named
// after its UID). A name the book already holds is ErrHrefExists.
func (s *Store) CreateNamed(ctx context.Context, q Querier, userID int64, folderID, href string, card vcard.Card) (Card, error) {
	p, err := prepare(card, "")
	if err != nil {
		return Card{}, err
	}
	emails, phones := columnsOf(p)
	// One statement: the upsert of the book bumps the ctag and locks its
	// row, which serialises the writers of one book, so versions are
	// strictly increasing and no bump is lost. The bump is skipped when
	// the UID is taken; should a concurrent writer take it meanwhile, the
	// ON CONFLICT leaves the insert out (a harmless extra bump) instead of
	// aborting the caller's transaction.
	var id, version int64
	var updated time.Time
	var name *string // NULL: the schema names the card after its UID
	if href != "" {
		name = &href
	}
	err = q.QueryRow(ctx, `WITH book AS (
			INSERT INTO address_books AS b (user_id, folder_id, ctag) VALUES ($1, $2, 1)
			ON CONFLICT (user_id, folder_id) DO UPDATE SET ctag = b.ctag + 1
				WHERE NOT EXISTS (SELECT 1 FROM contacts
					WHERE user_id = $1 AND folder_id = $2 AND uid = $3)
			RETURNING ctag)
		INSERT INTO contacts (user_id, folder_id, uid, version, vcard, file_as, given_name, family_name, emails, phones, href)
		SELECT $1, $2, $3, book.ctag, $4, $5, $6, $7, $8, $9, $10 FROM book
		ON CONFLICT (user_id, folder_id, uid) DO NOTHING
		RETURNING id, version, updated, href`,
		userID, folderID, p.uid, p.text, p.cols.FileAs, p.cols.GivenName, p.cols.FamilyName, emails, phones, name,
	).Scan(&id, &version, &updated, &href)
	if errors.Is(err, pgx.ErrNoRows) {
		return Card{}, ErrUIDExists
	}
	if itemstore.IsUniqueViolation(err, "contacts_book_href") {
		return Card{}, ErrHrefExists
	}
	if err != nil {
		return Card{}, fmt.Errorf("contacts: create in %q: %w", folderID, err)
	}
	if err := s.items.Notify(ctx, q, userID, folderID); err != nil {
		return Card{}, err
	}
	return Card{ServerID: itemstore.ServerID(folderID, id), UID: p.uid, Href: href, Version: version, Card: p.card, Updated: updated}, nil
}

// Update replaces the card named by sid with card, keeping its UID
// whatever card says.
func (s *Store) Update(ctx context.Context, q Querier, userID int64, folderID, sid string, card vcard.Card) (Card, error) {
	id, uid, err := s.items.Lookup(ctx, q, userID, folderID, sid)
	if err != nil {
		return Card{}, err
	}
	p, err := prepare(card, uid)
	if err != nil {
		return Card{}, err
	}
	emails, phones := columnsOf(p)
	version, updated, href, err := s.items.UpdateItem(ctx, q, userID, folderID, id,
		`vcard = $4, file_as = $5, given_name = $6, family_name = $7, emails = $8, phones = $9`,
		p.text, p.cols.FileAs, p.cols.GivenName, p.cols.FamilyName, emails, phones)
	if err != nil {
		return Card{}, err
	}
	return Card{ServerID: sid, UID: p.uid, Href: href, Version: version, Card: p.card, Updated: updated}, nil
}

// Delete removes the card named by sid, leaving its tombstone (the name
// and the version of the removal) for CardDAV sync reports.
func (s *Store) Delete(ctx context.Context, q Querier, userID int64, folderID, sid string) error {
	return s.items.DeleteItem(ctx, q, userID, folderID, sid)
}

// Move moves the card named by sid from book src to book dst of the same
// user and returns it under its new ServerId. Both ctags are bumped and
// both books announced. A card whose UID dst already holds is
// ErrUIDExists and stays where it is.
func (s *Store) Move(ctx context.Context, q Querier, userID int64, src, dst, sid string) (Card, error) {
	var newID, version int64
	var uid, href, text string
	var updated time.Time
	err := s.items.MoveItem(ctx, q, userID, src, dst, sid, ErrSameBook, ErrUIDExists,
		`DELETE FROM contacts s WHERE s.user_id = $1 AND s.folder_id = $2 AND s.id = $4
				AND NOT EXISTS (SELECT 1 FROM contacts d
					WHERE d.user_id = $1 AND d.folder_id = $3 AND d.uid = s.uid)
			RETURNING s.uid, s.href, s.vcard, s.file_as, s.given_name, s.family_name, s.emails, s.phones`,
		`-- The card keeps its name unless the destination holds it already;
		-- NULL lets the schema name it (migration 00031).
		INSERT INTO contacts (user_id, folder_id, uid, version, vcard, file_as, given_name, family_name, emails, phones, href)
		SELECT $1, $3, m.uid, d.ctag, m.vcard, m.file_as, m.given_name, m.family_name, m.emails, m.phones,
			CASE WHEN EXISTS (SELECT 1 FROM contacts x WHERE x.user_id = $1 AND x.folder_id = $3 AND x.href = m.href)
				THEN NULL ELSE m.href END
		FROM gone m, dst d
		RETURNING id, uid, href, version, vcard, updated`,
		func(r pgx.Row) error { return r.Scan(&newID, &uid, &href, &version, &text, &updated) })
	if err != nil {
		return Card{}, err
	}
	card, err := decodeCard(text)
	if err != nil {
		return Card{}, fmt.Errorf("contacts: moved card %d: %w", newID, err)
	}
	return Card{ServerID: itemstore.ServerID(dst, newID), UID: uid, Href: href, Version: version, Card: card, Updated: updated}, nil
}

// DeleteBook removes all the cards of the book, leaving a tombstone for
// each. Deleting the folder itself removes book, cards and tombstones
// through the schema; this is for a caller that keeps the folder row a
// while longer or empties a book on purpose. The book's row and so its
// ctag stay: a counter that started again from 1 would make sync tokens
// handed out before look valid.
func (s *Store) DeleteBook(ctx context.Context, q Querier, userID int64, folderID string) error {
	return s.items.DeleteItems(ctx, q, userID, folderID)
}

// canonical returns c with property names and parameter names in upper
// case, merged in the order the encoder writes them. The decoder reads
// them so, and a card whose encoding decodes to itself is written
// again byte for byte: import -> export -> import changes nothing.
func canonical(c vcard.Card) vcard.Card {
	out := make(vcard.Card, len(c))
	for _, k := range slices.Sorted(maps.Keys(c)) {
		uk := strings.ToUpper(k)
		for _, f := range c[k] {
			if len(f.Params) > 0 {
				params := make(vcard.Params, len(f.Params))
				for _, pk := range slices.Sorted(maps.Keys(f.Params)) {
					upk := strings.ToUpper(pk)
					params[upk] = append(params[upk], f.Params[pk]...)
				}
				f.Params = params
			}
			out[uk] = append(out[uk], f)
		}
	}
	return out
}

func decodeCard(text string) (vcard.Card, error) {
	return vcard.NewDecoder(strings.NewReader(text)).Decode()
}

// copyCard returns a deep copy of c, so normalising never changes the
// caller's card.
func copyCard(c vcard.Card) vcard.Card {
	out := make(vcard.Card, len(c))
	for k, fields := range c {
		cp := make([]*vcard.Field, len(fields))
		for i, f := range fields {
			nf := &vcard.Field{Value: f.Value, Group: f.Group}
			if f.Params != nil {
				nf.Params = make(vcard.Params, len(f.Params))
				for pk, pv := range f.Params {
					nf.Params[pk] = append([]string(nil), pv...)
				}
			}
			cp[i] = nf
		}
		out[k] = cp
	}
	return out
}

// derivedUUID makes a UUID of version 8 (derived by other means, RFC
// 9562) from the first 16 bytes of sum.
func derivedUUID(sum []byte) string {
	u := uuid.UUID(sum[:16])
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// MoveBook gives the cards of address book fromFolder of user from to
// the (new, empty) folder intoFolder of user into, in tx, keeping their
// ids, UIDs and versions: for merging two users (folders.MovePIM). The
// folder rows of both exist while it runs; the old book's row goes.
func MoveBook(ctx context.Context, tx pgx.Tx, from int64, fromFolder string, into int64, intoFolder string) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO address_books (user_id, folder_id, ctag)
		SELECT $3, $4, ctag FROM address_books WHERE user_id = $1 AND folder_id = $2`, from, fromFolder, into, intoFolder)
	b.Queue(`UPDATE contacts SET user_id = $3, folder_id = $4 WHERE user_id = $1 AND folder_id = $2`,
		from, fromFolder, into, intoFolder)
	b.Queue(`DELETE FROM address_books WHERE user_id = $1 AND folder_id = $2`, from, fromFolder)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("contacts: move book %s of user %d: %w", fromFolder, from, err)
	}
	return nil
}
