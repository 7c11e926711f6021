// Package itemstore holds the mechanics that every PostgreSQL item store
// (contacts, calendar, notes, tasks) shares and that are not about the
// items themselves: the "<folder>:<id>" ServerId, the per-folder row with
// its change counter (ctag), locking two folders for a move, and
// announcing a changed folder; and for the stores served over DAV, whose
// items have resource names and leave tombstones, the DAV reads (dav.go).
//
// Each store owns its schema: it names its own folder table (address_books,
// calendars, note_folders, task_lists) and keeps the SQL of its items table
// next to its code. Only statements that touch the folder table alone, and
// so read the same for every store, live here. A store's write statements
// bump the counter themselves, in the statement that writes the item, so
// the bump and the write can never be split; see the stores' Create and
// Items' UpdateItem, DeleteItem and MoveItem (write.go), which take the
// store's own columns as SQL fragments.
package itemstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/easd/easd/internal/pgnotify"
)

// Querier runs SQL: a pgx.Tx (the caller's transaction, e.g. the EAS
// Sync's syncstate.Tx.PGTx, so that items and the new sync state commit
// together) or a *pgxpool.Pool for a write of its own.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// NotifyFunc announces that folderID of userID changed. A store calls it
// inside the writing transaction (db is the Querier of the write), so the
// announcement goes out at commit and never on rollback. The application
// passes eas.NotifyFolderChanged; the stores do not import package eas.
type NotifyFunc func(ctx context.Context, db pgnotify.Execer, userID int64, folderID string) error

// ServerID returns the EAS ServerId of item id in folderID. It names the
// folder so that the id is unique within the user, as EAS wants; it
// changes when the item moves.
func ServerID(folderID string, id int64) string {
	return folderID + ":" + strconv.FormatInt(id, 10)
}

// ParseServerID returns the item id that sid names in folderID. Anything
// else (another folder, a malformed or non-canonical id such as "7:01" or
// "7:+1") names no item: a phone can only hold ids a store made, so no
// alias of a valid id needs accepting.
func ParseServerID(folderID, sid string) (int64, bool) {
	f, num, ok := strings.Cut(sid, ":")
	if !ok || f != folderID || num == "" || len(num) > 19 || num[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, false
	}
	return id, true
}

// ParseServerIDs returns the ids of the ServerIds that name items of
// folderID, in their order, leaving out the others (a Get answers only
// what exists).
func ParseServerIDs(folderID string, serverIDs []string) []int64 {
	ids := make([]int64, 0, len(serverIDs))
	for _, sid := range serverIDs {
		if id, ok := ParseServerID(folderID, sid); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// InOrder returns the items of byKey in the order of keys (ids or
// ServerIds), leaving out keys it lacks: SQL returns rows in any order, a
// Get answers in the caller's.
func InOrder[K comparable, T any](keys []K, byKey map[K]T) []T {
	out := make([]T, 0, len(byKey))
	for _, k := range keys {
		if v, ok := byKey[k]; ok {
			out = append(out, v)
		}
	}
	return out
}

// QueryVersions runs query, which selects (id, version) of folderID's
// items, and returns ServerId -> version, what a Sync computes its changes
// from. Each store writes its own query (its table, its filters); reading
// the answer is the same for all.
func QueryVersions(ctx context.Context, q Querier, folderID, query string, args ...any) (map[string]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	var id, version int64
	for rows.Next() {
		if err := rows.Scan(&id, &version); err != nil {
			return nil, err
		}
		out[ServerID(folderID, id)] = version
	}
	return out, rows.Err()
}

// Folder is one folder row of a store: a folder that was ever written and
// its change counter.
type Folder struct {
	FolderID string
	CTag     int64
}

// Folders is a store's folder table: one row per (user_id, folder_id)
// with the folder's ctag, created on the folder's first write and
// removed with the folder. Errors name the store (pkg) and its word for
// a folder (noun: "book", "calendar", ...), as the store's own did.
type Folders struct {
	pkg, table, noun string
	notify           NotifyFunc
}

// NewFolders returns the folder table named table of the store pkg;
// notify may be nil (nothing waits).
func NewFolders(pkg, table, noun string, notify NotifyFunc) Folders {
	if notify == nil {
		notify = func(context.Context, pgnotify.Execer, int64, string) error { return nil }
	}
	return Folders{pkg: pkg, table: table, noun: noun, notify: notify}
}

// CTag returns the folder's change counter, 0 when it was never written.
func (f Folders) CTag(ctx context.Context, q Querier, userID int64, folderID string) (int64, error) {
	var ctag int64
	err := q.QueryRow(ctx, `SELECT ctag FROM `+f.table+` WHERE user_id = $1 AND folder_id = $2`,
		userID, folderID).Scan(&ctag)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%s: ctag of %q: %w", f.pkg, folderID, err)
	}
	return ctag, nil
}

// List returns the user's folders that were ever written, in folder id
// order (shorter ids first, so "9" comes before "10").
func (f Folders) List(ctx context.Context, q Querier, userID int64) ([]Folder, error) {
	rows, err := q.Query(ctx, `SELECT folder_id, ctag FROM `+f.table+` WHERE user_id = $1
		ORDER BY length(folder_id), folder_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("%s: %ss: %w", f.pkg, f.noun, err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Folder])
	if err != nil {
		return nil, fmt.Errorf("%s: %ss: %w", f.pkg, f.noun, err)
	}
	return list, nil
}

// LockPair locks the rows of folders src and dst for a move, creating
// them on first use. The rows are locked in one order whatever the
// direction, so two moves between the same folders in opposite
// directions cannot deadlock.
func (f Folders) LockPair(ctx context.Context, q Querier, userID int64, src, dst string) error {
	if _, err := q.Exec(ctx, `INSERT INTO `+f.table+` AS t (user_id, folder_id)
		SELECT $1, x FROM unnest($2::text[]) AS x ORDER BY x
		ON CONFLICT (user_id, folder_id) DO UPDATE SET ctag = t.ctag`,
		userID, []string{src, dst}); err != nil {
		return fmt.Errorf("lock %ss: %w", f.noun, err)
	}
	return nil
}

// Delete removes the folder's row, and through the schema its items, and
// announces the folder. Deleting the folder itself does the same; this
// serves a caller that keeps the folder row a while longer (FolderDelete
// in its own transaction) or empties a folder on purpose.
func (f Folders) Delete(ctx context.Context, q Querier, userID int64, folderID string) error {
	tag, err := q.Exec(ctx, `DELETE FROM `+f.table+` WHERE user_id = $1 AND folder_id = $2`, userID, folderID)
	if err != nil {
		return fmt.Errorf("%s: delete %s %q: %w", f.pkg, f.noun, folderID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil // never written: nothing changed, nobody to wake
	}
	return f.Notify(ctx, q, userID, folderID)
}

// Notify announces that the folders changed, in q's transaction.
func (f Folders) Notify(ctx context.Context, q Querier, userID int64, folderIDs ...string) error {
	for _, id := range folderIDs {
		if err := f.notify(ctx, q, userID, id); err != nil {
			return fmt.Errorf("%s: notify: %w", f.pkg, err)
		}
	}
	return nil
}
