package syncstate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier runs SQL: a *pgxpool.Pool, or a pgx.Tx such as Tx.PGTx() when a
// reset belongs to another request's transaction (FolderSync key 0,
// FolderDelete).
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Collection is one collection a device has synced.
type Collection struct {
	ID      string // collection id, or HierarchyID
	Key     string // current key
	Updated time.Time
}

// Collections lists the collections deviceID holds a key for, by id.
func Collections(ctx context.Context, q Querier, deviceID int64) ([]Collection, error) {
	rows, err := q.Query(ctx, `SELECT collection_id, cur_key, updated_at FROM sync_collections
		WHERE device_id = $1 AND cur_key <> '' ORDER BY collection_id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("syncstate: list collections of device %d: %w", deviceID, err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Collection, error) {
		var c Collection
		err := r.Scan(&c.ID, &c.Key, &c.Updated)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("syncstate: list collections of device %d: %w", deviceID, err)
	}
	return cs, nil
}

// Reset forgets the state of the given collections of deviceID (all of
// them when none is given): every key the device holds for them becomes
// unknown, so its next request gets Status 3 (9 for the hierarchy) and the
// client starts over with key 0. Use it when the store cannot compute changes
// any more (an IMAP UIDVALIDITY change). Inside a Tx, do not reset the
// Tx's own collection: its Commit would fail with ErrStateGone.
func Reset(ctx context.Context, q Querier, deviceID int64, collectionIDs ...string) error {
	var err error
	if len(collectionIDs) == 0 {
		_, err = q.Exec(ctx, `DELETE FROM sync_collections WHERE device_id = $1`, deviceID)
	} else {
		_, err = q.Exec(ctx, `DELETE FROM sync_collections
			WHERE device_id = $1 AND collection_id = ANY($2::text[])`, deviceID, collectionIDs)
	}
	if err != nil {
		return fmt.Errorf("syncstate: reset device %d: %w", deviceID, err)
	}
	return nil
}

// DeleteCollection forgets a collection for every device of userID, when
// the folder itself is gone.
func DeleteCollection(ctx context.Context, q Querier, userID int64, collectionID string) error {
	_, err := q.Exec(ctx, `DELETE FROM sync_collections s USING devices d
		WHERE s.device_id = d.id AND d.user_id = $1 AND s.collection_id = $2`, userID, collectionID)
	if err != nil {
		return fmt.Errorf("syncstate: delete collection %q of user %d: %w", collectionID, userID, err)
	}
	return nil
}

// Collections lists deviceID's collections; see the package function.
func (e *Engine) Collections(ctx context.Context, deviceID int64) ([]Collection, error) {
	return Collections(ctx, e.pool, deviceID)
}

// Reset forgets collections of deviceID in its own transaction; see the
// package function.
func (e *Engine) Reset(ctx context.Context, deviceID int64, collectionIDs ...string) error {
	return Reset(ctx, e.pool, deviceID, collectionIDs...)
}

// DeleteCollection forgets a collection for all devices of userID in its own
// transaction; see the package function.
func (e *Engine) DeleteCollection(ctx context.Context, userID int64, collectionID string) error {
	return DeleteCollection(ctx, e.pool, userID, collectionID)
}
