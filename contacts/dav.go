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
type Resource = itemstore.Resource

// Resources lists the book's cards by name and version without reading
// a vCard (PROPFIND Depth 1 of a book, a full sync report).
func (s *Store) Resources(ctx context.Context, q Querier, userID int64, folderID string) ([]Resource, error) {
	return s.items.Resources(ctx, q, userID, folderID)
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
	return s.items.LockHref(ctx, q, userID, folderID, href)
}

// AllCards returns every card of the book (addressbook-query, which
// filters on any property), ordered by name.
func (s *Store) AllCards(ctx context.Context, q Querier, userID int64, folderID string) ([]Card, error) {
	return s.query(ctx, q, userID, folderID, `TRUE ORDER BY href`)
}

// Changes are what happened to a book since a sync token.
type Changes = itemstore.Changes

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
	return s.items.ChangesSince(ctx, q, userID, folderID, since, listedAt)
}

// PruneTombstones forgets the names removed from the book before
// `before`, raising the book's floor of answerable tokens to the newest
// version it forgets.
func (s *Store) PruneTombstones(ctx context.Context, q Querier, userID int64, folderID string, before time.Time) error {
	return s.items.PruneTombstones(ctx, q, userID, folderID, before)
}

// BookNames returns the DAV collection names given to the user's books
// by MKCOL, by folder id. Books without one are named by their folder id.
func (s *Store) BookNames(ctx context.Context, q Querier, userID int64) (map[string]string, error) {
	return s.items.DAVNames(ctx, q, userID)
}

// NameBook creates the (empty) book of folderID under the DAV collection
// name name, in q's transaction with the folder's creation.
func (s *Store) NameBook(ctx context.Context, q Querier, userID int64, folderID, name string) error {
	return s.items.SetDAVName(ctx, q, userID, folderID, name)
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
