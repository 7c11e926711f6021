package contacts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/easd/easd/internal/itemstore"
	"github.com/jackc/pgx/v5"
)

// What CardDAV reads of the store: cards by resource name, the index of a
// book without its vCards, and the changes since a sync token. The writes
// are the Store's own (CreateNamed, Update, Delete), so a DAV write bumps
// the ctag, stamps the version and notifies exactly as a phone's does.

// TombstoneRetention is how long the name of a removed card is kept for
// sync-collection reports. A client that last synced longer ago is told
// its token is too old and lists the book again.
const TombstoneRetention = 90 * 24 * time.Hour

// ErrTokenTooOld: the changes since a token can no longer be told, as
// tombstones that came after it were pruned (or the token is from the
// future, e.g. of a book that was deleted and made again).
var ErrTokenTooOld = errors.New("contacts: sync token too old")

// Resource is a card as a DAV listing shows it.
type Resource struct {
	ServerID string
	Href     string
	Version  int64
}

// Resources lists the book's cards by name and version without reading
// a vCard (PROPFIND Depth 1 of a book, a full sync report).
func (s *Store) Resources(ctx context.Context, q Querier, userID int64, folderID string) ([]Resource, error) {
	return s.resources(ctx, q, `SELECT id, href, version FROM contacts WHERE user_id = $1 AND folder_id = $2
		ORDER BY href`, userID, folderID)
}

func (s *Store) resources(ctx context.Context, q Querier, sql string, userID int64, folderID string, args ...any) ([]Resource, error) {
	rows, err := q.Query(ctx, sql, append([]any{userID, folderID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("contacts: resources of %q: %w", folderID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Resource, error) {
		var res Resource
		var id int64
		err := r.Scan(&id, &res.Href, &res.Version)
		res.ServerID = itemstore.ServerID(folderID, id)
		return res, err
	})
	if err != nil {
		return nil, fmt.Errorf("contacts: resources of %q: %w", folderID, err)
	}
	return out, nil
}

// ByHref returns the cards of the book named by hrefs, in the order of
// hrefs; names of no card are left out.
func (s *Store) ByHref(ctx context.Context, q Querier, userID int64, folderID string, hrefs []string) ([]Card, error) {
	got, err := s.query(ctx, q, userID, folderID, `href = ANY($3)`, hrefs)
	if err != nil {
		return nil, err
	}
	byHref := make(map[string]Card, len(got))
	for _, c := range got {
		byHref[c.Href] = c
	}
	return itemstore.InOrder(hrefs, byHref), nil
}

// LockHref returns the card named href with its row locked until q's
// transaction ends, so that a conditional write (If-Match) compares the
// version it then overwrites. ErrNotFound when there is none.
func (s *Store) LockHref(ctx context.Context, q Querier, userID int64, folderID, href string) (Resource, error) {
	var r Resource
	var id int64
	err := q.QueryRow(ctx, `SELECT id, href, version FROM contacts
		WHERE user_id = $1 AND folder_id = $2 AND href = $3 FOR UPDATE`, userID, folderID, href).Scan(&id, &r.Href, &r.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return Resource{}, ErrNotFound
	}
	if err != nil {
		return Resource{}, fmt.Errorf("contacts: lock %q: %w", href, err)
	}
	r.ServerID = itemstore.ServerID(folderID, id)
	return r, nil
}

// AllCards returns every card of the book (addressbook-query, which
// filters on any property), ordered by name.
func (s *Store) AllCards(ctx context.Context, q Querier, userID int64, folderID string) ([]Card, error) {
	return s.query(ctx, q, userID, folderID, `TRUE ORDER BY href`)
}

// Changes are what happened to a book since a sync token.
type Changes struct {
	CTag    int64      // the book's ctag now: the next token
	Changed []Resource // cards written since
	Removed []Resource // names removed since (Version: of the removal)
}

// ChangesSince returns the book's changes after version since (a ctag
// handed out earlier); since 0 lists every card. Run it in one snapshot
// (a REPEATABLE READ transaction) so that CTag and the lists agree.
// A token older than the pruned tombstones, or newer than the book, is
// ErrTokenTooOld.
//
// listedAt, when not 0, says since is the resume point of a listing of
// the whole book cut short at ctag listedAt: the client never had a card
// removed before listedAt, so tombstones pruned up to there are not
// missed.
func (s *Store) ChangesSince(ctx context.Context, q Querier, userID int64, folderID string, since, listedAt int64) (Changes, error) {
	var ch Changes
	var floor int64
	err := q.QueryRow(ctx, `SELECT ctag, tomb_floor FROM address_books WHERE user_id = $1 AND folder_id = $2`,
		userID, folderID).Scan(&ch.CTag, &floor)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Changes{}, fmt.Errorf("contacts: changes of %q: %w", folderID, err)
	}
	if since < 0 || since > ch.CTag || listedAt > ch.CTag || (since > 0 && max(since, listedAt) < floor) {
		return Changes{}, ErrTokenTooOld
	}
	if since == ch.CTag {
		return ch, nil // the usual case of a client polling: nothing read
	}
	if ch.Changed, err = s.resources(ctx, q, `SELECT id, href, version FROM contacts
		WHERE user_id = $1 AND folder_id = $2 AND version > $3 ORDER BY version`, userID, folderID, since); err != nil {
		return Changes{}, err
	}
	if since == 0 {
		return ch, nil
	}
	// A name removed and then used again is a change, not a removal.
	rows, err := q.Query(ctx, `SELECT t.href, t.version FROM contact_tombstones t
		WHERE t.user_id = $1 AND t.folder_id = $2 AND t.version > $3
			AND NOT EXISTS (SELECT 1 FROM contacts c
				WHERE c.user_id = $1 AND c.folder_id = $2 AND c.href = t.href)
		ORDER BY t.version`, userID, folderID, since)
	if err != nil {
		return Changes{}, fmt.Errorf("contacts: removals from %q: %w", folderID, err)
	}
	ch.Removed, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Resource, error) {
		var res Resource
		err := r.Scan(&res.Href, &res.Version)
		return res, err
	})
	if err != nil {
		return Changes{}, fmt.Errorf("contacts: removals from %q: %w", folderID, err)
	}
	return ch, nil
}

// PruneTombstones forgets the names removed from the book before
// `before`, raising the book's floor of answerable tokens to the newest
// version it forgets.
func (s *Store) PruneTombstones(ctx context.Context, q Querier, userID int64, folderID string, before time.Time) error {
	_, err := q.Exec(ctx, `WITH pruned AS (
			DELETE FROM contact_tombstones WHERE user_id = $1 AND folder_id = $2 AND deleted < $3
			RETURNING version)
		UPDATE address_books SET tomb_floor = greatest(tomb_floor, (SELECT max(version) FROM pruned))
		WHERE user_id = $1 AND folder_id = $2 AND EXISTS (SELECT 1 FROM pruned)`, userID, folderID, before)
	if err != nil {
		return fmt.Errorf("contacts: prune tombstones of %q: %w", folderID, err)
	}
	return nil
}

// BookNames returns the DAV collection names given to the user's books
// by MKCOL, by folder id. Books without one are named by their folder id.
func (s *Store) BookNames(ctx context.Context, q Querier, userID int64) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT folder_id, dav_name FROM address_books
		WHERE user_id = $1 AND dav_name IS NOT NULL`, userID)
	if err != nil {
		return nil, fmt.Errorf("contacts: book names: %w", err)
	}
	out := map[string]string{}
	var f, n string
	_, err = pgx.ForEachRow(rows, []any{&f, &n}, func() error {
		out[f] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("contacts: book names: %w", err)
	}
	return out, nil
}

// NameBook creates the (empty) book of folderID under the DAV collection
// name name, in q's transaction with the folder's creation.
func (s *Store) NameBook(ctx context.Context, q Querier, userID int64, folderID, name string) error {
	if _, err := q.Exec(ctx, `INSERT INTO address_books (user_id, folder_id, dav_name) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, folder_id) DO UPDATE SET dav_name = EXCLUDED.dav_name`, userID, folderID, name); err != nil {
		return fmt.Errorf("contacts: name book %q: %w", folderID, err)
	}
	return nil
}

// HrefOfUID returns the name of the book's card with the given UID, ""
// when there is none (for the no-uid-conflict precondition, which names
// the card already holding the UID).
func (s *Store) HrefOfUID(ctx context.Context, q Querier, userID int64, folderID, uid string) (string, error) {
	var href string
	err := q.QueryRow(ctx, `SELECT href FROM contacts WHERE user_id = $1 AND folder_id = $2 AND uid = $3`,
		userID, folderID, uid).Scan(&href)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("contacts: card of UID %q: %w", uid, err)
	}
	return href, nil
}
