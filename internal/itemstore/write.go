package itemstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The writes of an item that read the same for every store served over
// DAV: each statement bumps the folder's ctag, stamps the item's version
// with it and (on removal) leaves the item's tombstone, so no path can
// write an item without the counter or the DAV clients learning of it.
// The store's own columns come in as SQL fragments.

// bumpSQL is a CTE bumping the ctag of the folder named by parameter
// folder ("$2", "$3") when CTE gone has a row.
func (it Items) bumpSQL(folder string) string {
	return `UPDATE ` + it.table + ` SET ctag = ctag + 1
			WHERE user_id = $1 AND folder_id = ` + folder + ` AND EXISTS (SELECT 1 FROM gone)
			RETURNING ctag`
}

// tombSQL records the items of CTE gone (their href) as removed from
// folder $2 at the version of CTE src (the bumped ctag). A name removed
// before and reused since gets the newer version.
func (it Items) tombSQL() string {
	return `INSERT INTO ` + it.Tombstones + ` (user_id, folder_id, href, version)
			SELECT $1, $2, gone.href, src.ctag FROM gone, src
			ON CONFLICT (user_id, folder_id, href) DO UPDATE SET version = EXCLUDED.version, deleted = now()`
}

// Lookup returns the id and UID of the item sid of folderID, what an
// update keeps; NotFound when there is none. The UID of a stored item
// never changes, so reading it outside the folder's lock is safe.
func (it Items) Lookup(ctx context.Context, q Querier, userID int64, folderID, sid string) (int64, string, error) {
	id, ok := ParseServerID(folderID, sid)
	if !ok {
		return 0, "", it.NotFound
	}
	var uid string
	err := q.QueryRow(ctx, `SELECT uid FROM `+it.Table+` WHERE user_id = $1 AND folder_id = $2 AND id = $3`,
		userID, folderID, id).Scan(&uid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", it.NotFound
	}
	if err != nil {
		return 0, "", fmt.Errorf("%s: update %s: %w", it.pkg, sid, err)
	}
	return id, uid, nil
}

// UpdateItem writes item id of folderID: set assigns the store's own columns
// from parameter $4 on (args). It bumps the folder's ctag, stamps the
// version, and announces the folder; it returns the new version, the
// time of the write and the item's href. NotFound when there is no such
// item (any more).
func (it Items) UpdateItem(ctx context.Context, q Querier, userID int64, folderID string, id int64, set string, args ...any) (int64, time.Time, string, error) {
	var version int64
	var updated time.Time
	var href string
	// The folder's row lock orders this write among the folder's others.
	// Only a delete racing with it can make the bump land without the
	// update, and then there is no row to return.
	err := q.QueryRow(ctx, `WITH src AS (
			UPDATE `+it.table+` SET ctag = ctag + 1
			WHERE user_id = $1 AND folder_id = $2
				AND EXISTS (SELECT 1 FROM `+it.Table+` WHERE user_id = $1 AND folder_id = $2 AND id = $3)
			RETURNING ctag)
		UPDATE `+it.Table+` i SET version = src.ctag, updated = now(), `+set+`
		FROM src WHERE i.user_id = $1 AND i.folder_id = $2 AND i.id = $3
		RETURNING i.version, i.updated, i.href`,
		append([]any{userID, folderID, id}, args...)...).Scan(&version, &updated, &href)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, "", it.NotFound
	}
	if err != nil {
		return 0, time.Time{}, "", fmt.Errorf("%s: update %s: %w", it.pkg, ServerID(folderID, id), err)
	}
	if err := it.Notify(ctx, q, userID, folderID); err != nil {
		return 0, time.Time{}, "", err
	}
	return version, updated, href, nil
}

// DeleteItem removes the item sid of folderID, leaving its tombstone (its
// name and the version of the removal) for DAV sync reports, and
// announces the folder. NotFound when there is no such item.
func (it Items) DeleteItem(ctx context.Context, q Querier, userID int64, folderID, sid string) error {
	id, ok := ParseServerID(folderID, sid)
	if !ok {
		return it.NotFound
	}
	var ctag int64
	err := q.QueryRow(ctx, `WITH gone AS (
			DELETE FROM `+it.Table+` WHERE user_id = $1 AND folder_id = $2 AND id = $3 RETURNING href),
		src AS (`+it.bumpSQL("$2")+`),
		tomb AS (`+it.tombSQL()+`)
		SELECT ctag FROM src`, userID, folderID, id).Scan(&ctag)
	if errors.Is(err, pgx.ErrNoRows) {
		return it.NotFound
	}
	if err != nil {
		return fmt.Errorf("%s: delete %s: %w", it.pkg, sid, err)
	}
	return it.Notify(ctx, q, userID, folderID)
}

// DeleteItems removes all the items of folderID, leaving a tombstone for
// each, and announces the folder when it held any. The folder's row and
// so its ctag stay: a counter that started again from 1 would make sync
// tokens handed out before look valid.
func (it Items) DeleteItems(ctx context.Context, q Querier, userID int64, folderID string) error {
	tag, err := q.Exec(ctx, `WITH gone AS (
			DELETE FROM `+it.Table+` WHERE user_id = $1 AND folder_id = $2 RETURNING href),
		src AS (`+it.bumpSQL("$2")+`)
		`+it.tombSQL(), userID, folderID)
	if err != nil {
		return fmt.Errorf("%s: delete %s %q: %w", it.pkg, it.noun, folderID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil // empty or never written: nothing changed, nobody to wake
	}
	return it.Notify(ctx, q, userID, folderID)
}

// MoveItem moves the item sid from folder src to dst of the same user in
// one statement, after locking both folders' rows (LockPair). gone is
// the body of CTE "gone", which picks (or deletes) item $4 of folder $2
// and returns at least its href; final is the statement that puts it in
// folder $3, reading CTEs gone and dst (whose ctag is the destination's
// bumped counter) and returning the row scan reads. The source's ctag is
// bumped and the item's name left as a tombstone there; both folders are
// announced.
//
// When final returns no row: uidExists when the item is still in src
// (dst holds its UID; nil: UIDs cannot clash), else NotFound.
func (it Items) MoveItem(ctx context.Context, q Querier, userID int64, src, dst, sid string, sameFolder, uidExists error,
	gone, final string, scan func(pgx.Row) error) error {
	id, ok := ParseServerID(src, sid)
	if !ok {
		return it.NotFound
	}
	if src == dst {
		return sameFolder
	}
	if err := it.LockPair(ctx, q, userID, src, dst); err != nil {
		return fmt.Errorf("%s: move %s: %w", it.pkg, sid, err)
	}
	err := scan(q.QueryRow(ctx, `WITH gone AS (`+gone+`),
		src AS (`+it.bumpSQL("$2")+`),
		tomb AS (`+it.tombSQL()+`),
		dst AS (`+it.bumpSQL("$3")+`)
		`+final, userID, src, dst, id))
	if errors.Is(err, pgx.ErrNoRows) {
		if uidExists == nil {
			return it.NotFound
		}
		var exists bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+it.Table+` WHERE user_id = $1 AND folder_id = $2 AND id = $3)`,
			userID, src, id).Scan(&exists); err != nil {
			return fmt.Errorf("%s: move %s: %w", it.pkg, sid, err)
		}
		if exists {
			return uidExists
		}
		return it.NotFound
	}
	if err != nil {
		return fmt.Errorf("%s: move %s: %w", it.pkg, sid, err)
	}
	return it.Notify(ctx, q, userID, src, dst)
}

// IsUniqueViolation reports whether err is a violation of the named
// unique constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}
