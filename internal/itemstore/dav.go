package itemstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// What a DAV server reads of a store whose items have resource names
// (href) and leave tombstones when removed: the index of a folder, items
// by name, the changes since a sync token and the pruning of old
// tombstones. The store names its tables; the SQL reads the same for
// every store.

// Resource is an item as a DAV listing shows it.
type Resource struct {
	ServerID string
	Href     string
	Version  int64
}

// Changes are what happened to a folder since a sync token.
type Changes struct {
	CTag    int64      // the folder's ctag now: the next token
	Changed []Resource // items written since
	Removed []Resource // names removed since (Version: of the removal)
}

// Items is a store's items table with resource names and its tombstones
// table, next to its folder table (Folders). Errors are the store's own.
type Items struct {
	Folders
	// Table holds the items (id, user_id, folder_id, href, version, ...);
	// Tombstones the names removed (user_id, folder_id, href, version,
	// deleted).
	Table, Tombstones string
	// NotFound: no such item. TokenTooOld: ChangesSince cannot tell.
	NotFound, TokenTooOld error
}

// Resources lists the folder's items by name and version without reading
// an item (PROPFIND Depth 1, a full sync report), ordered by name.
func (it Items) Resources(ctx context.Context, q Querier, userID int64, folderID string) ([]Resource, error) {
	return it.ResourcesWhere(ctx, q, userID, folderID, `TRUE ORDER BY href`)
}

// ResourcesWhere lists the folder's items that cond (SQL after WHERE
// user_id = $1 AND folder_id = $2 AND, may end in ORDER BY) selects; args
// are $3 on.
func (it Items) ResourcesWhere(ctx context.Context, q Querier, userID int64, folderID, cond string, args ...any) ([]Resource, error) {
	rows, err := q.Query(ctx, `SELECT id, href, version FROM `+it.Table+`
		WHERE user_id = $1 AND folder_id = $2 AND `+cond, append([]any{userID, folderID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: resources of %q: %w", it.pkg, folderID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Resource, error) {
		var res Resource
		var id int64
		err := r.Scan(&id, &res.Href, &res.Version)
		res.ServerID = ServerID(folderID, id)
		return res, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: resources of %q: %w", it.pkg, folderID, err)
	}
	return out, nil
}

// LockHref returns the item named href with its row locked until q's
// transaction ends, so that a conditional write (If-Match) compares the
// version it then overwrites. NotFound when there is none.
func (it Items) LockHref(ctx context.Context, q Querier, userID int64, folderID, href string) (Resource, error) {
	var r Resource
	var id int64
	err := q.QueryRow(ctx, `SELECT id, href, version FROM `+it.Table+`
		WHERE user_id = $1 AND folder_id = $2 AND href = $3 FOR UPDATE`, userID, folderID, href).Scan(&id, &r.Href, &r.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return Resource{}, it.NotFound
	}
	if err != nil {
		return Resource{}, fmt.Errorf("%s: lock %q: %w", it.pkg, href, err)
	}
	r.ServerID = ServerID(folderID, id)
	return r, nil
}

// ChangesSince returns the folder's changes after version since (a ctag
// handed out earlier); since 0 lists every item. Run it in one snapshot
// (a REPEATABLE READ transaction) so that CTag and the lists agree. A
// token older than the pruned tombstones, or newer than the folder, is
// TokenTooOld.
//
// listedAt, when not 0, says since is the resume point of a listing of
// the whole folder cut short at ctag listedAt: the client never had an
// item removed before listedAt, so tombstones pruned up to there are not
// missed.
func (it Items) ChangesSince(ctx context.Context, q Querier, userID int64, folderID string, since, listedAt int64) (Changes, error) {
	var ch Changes
	var floor int64
	err := q.QueryRow(ctx, `SELECT ctag, tomb_floor FROM `+it.table+` WHERE user_id = $1 AND folder_id = $2`,
		userID, folderID).Scan(&ch.CTag, &floor)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Changes{}, fmt.Errorf("%s: changes of %q: %w", it.pkg, folderID, err)
	}
	if since < 0 || since > ch.CTag || listedAt > ch.CTag || (since > 0 && max(since, listedAt) < floor) {
		return Changes{}, it.TokenTooOld
	}
	if since == ch.CTag {
		return ch, nil // the usual case of a client polling: nothing read
	}
	if ch.Changed, err = it.ResourcesWhere(ctx, q, userID, folderID, `version > $3 ORDER BY version`, since); err != nil {
		return Changes{}, err
	}
	if since == 0 {
		return ch, nil
	}
	// A name removed and then used again is a change, not a removal.
	rows, err := q.Query(ctx, `SELECT t.href, t.version FROM `+it.Tombstones+` t
		WHERE t.user_id = $1 AND t.folder_id = $2 AND t.version > $3
			AND NOT EXISTS (SELECT 1 FROM `+it.Table+` x
				WHERE x.user_id = $1 AND x.folder_id = $2 AND x.href = t.href)
		ORDER BY t.version`, userID, folderID, since)
	if err != nil {
		return Changes{}, fmt.Errorf("%s: removals from %q: %w", it.pkg, folderID, err)
	}
	ch.Removed, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Resource, error) {
		var res Resource
		err := r.Scan(&res.Href, &res.Version)
		return res, err
	})
	if err != nil {
		return Changes{}, fmt.Errorf("%s: removals from %q: %w", it.pkg, folderID, err)
	}
	return ch, nil
}

// PruneTombstones forgets the names removed from the folder before
// `before`, raising the folder's floor of answerable tokens to the newest
// version it forgets.
func (it Items) PruneTombstones(ctx context.Context, q Querier, userID int64, folderID string, before time.Time) error {
	_, err := q.Exec(ctx, `WITH pruned AS (
			DELETE FROM `+it.Tombstones+` WHERE user_id = $1 AND folder_id = $2 AND deleted < $3
			RETURNING version)
		UPDATE `+it.table+` SET tomb_floor = greatest(tomb_floor, (SELECT max(version) FROM pruned))
		WHERE user_id = $1 AND folder_id = $2 AND EXISTS (SELECT 1 FROM pruned)`, userID, folderID, before)
	if err != nil {
		return fmt.Errorf("%s: prune tombstones of %q: %w", it.pkg, folderID, err)
	}
	return nil
}

// DAVNames returns the DAV collection names given to the user's folders
// (MKCOL, MKCALENDAR), by folder id. Folders without one are left out.
func (f Folders) DAVNames(ctx context.Context, q Querier, userID int64) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT folder_id, dav_name FROM `+f.table+`
		WHERE user_id = $1 AND dav_name IS NOT NULL`, userID)
	if err != nil {
		return nil, fmt.Errorf("%s: %s names: %w", f.pkg, f.noun, err)
	}
	out := map[string]string{}
	var id, n string
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		out[id] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %s names: %w", f.pkg, f.noun, err)
	}
	return out, nil
}

// SetDAVName creates the (empty) folder row of folderID under the DAV
// collection name name, in q's transaction with the folder's creation.
func (f Folders) SetDAVName(ctx context.Context, q Querier, userID int64, folderID, name string) error {
	if _, err := q.Exec(ctx, `INSERT INTO `+f.table+` (user_id, folder_id, dav_name) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, folder_id) DO UPDATE SET dav_name = EXCLUDED.dav_name`, userID, folderID, name); err != nil {
		return fmt.Errorf("%s: name %s %q: %w", f.pkg, f.noun, folderID, err)
	}
	return nil
}
