package syncstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Peek returns the state behind deviceID's current key for each of the
// given collections, by collection id; a collection the device holds no
// key for is absent. It takes no lock and writes nothing: a waiting Ping
// uses it to compare the stored state with the store, and must neither
// wait for nor block the device's Sync of the same collection. One
// statement, so the states are a consistent snapshot.
func (e *Engine) Peek(ctx context.Context, deviceID int64, collectionIDs ...string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(collectionIDs))
	if len(collectionIDs) == 0 {
		return out, nil
	}
	rows, err := e.pool.Query(ctx, `SELECT c.collection_id, s.state FROM sync_collections c
		JOIN sync_states s ON s.device_id = c.device_id AND s.collection_id = c.collection_id
			AND s.sync_key = c.cur_key
		WHERE c.device_id = $1 AND c.collection_id = ANY($2::text[]) AND c.cur_key <> ''`,
		deviceID, collectionIDs)
	if err != nil {
		return nil, fmt.Errorf("syncstate: peek device %d: %w", deviceID, err)
	}
	var id string
	var state []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &state}, func() error {
		out[id] = append([]byte(nil), state...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("syncstate: peek device %d: %w", deviceID, err)
	}
	return out, nil
}

// PeekHead returns deviceID's current key of a collection and the first n
// bytes of the state behind it; ok is false when the device holds no key.
// Like Peek it takes no lock and writes nothing. A store whose state
// starts with a summary (a CTag) answers a Sync that finds nothing
// changed from it, without a transaction and without reading or
// decoding the whole state: the request then costs two statements.
func (e *Engine) PeekHead(ctx context.Context, deviceID int64, collectionID string, n int) (key string, head []byte, ok bool, err error) {
	err = e.pool.QueryRow(ctx, `SELECT c.cur_key, substring(s.state from 1 for $3) FROM sync_collections c
		JOIN sync_states s ON s.device_id = c.device_id AND s.collection_id = c.collection_id
			AND s.sync_key = c.cur_key
		WHERE c.device_id = $1 AND c.collection_id = $2 AND c.cur_key <> ''`,
		deviceID, collectionID, n).Scan(&key, &head)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("syncstate: peek device %d collection %q: %w", deviceID, collectionID, err)
	}
	return key, head, true, nil
}

// WrittenAt returns when deviceID's current key of a collection was
// written, by the database clock; ok is false when the device holds no
// key. The time is taken as the key is written (Commit), after the
// request read what it sends: a change the database clock places before
// it was seen by that request, or made by it. A waiting Ping compares it
// with a hierarchy change's time.
//
// Unlike Peek it waits for a request of the device that holds the
// collection (a FolderCreate, whose change is announced before its key is
// written) and reads the key that request leaves. The weakest row lock
// does it, for this statement only: it holds up no other reader.
func (e *Engine) WrittenAt(ctx context.Context, deviceID int64, collectionID string) (at time.Time, ok bool, err error) {
	err = e.pool.QueryRow(ctx, `SELECT updated_at FROM sync_collections
		WHERE device_id = $1 AND collection_id = $2 AND cur_key <> '' FOR KEY SHARE`, deviceID, collectionID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("syncstate: written at, device %d collection %q: %w", deviceID, collectionID, err)
	}
	return at, true, nil
}
