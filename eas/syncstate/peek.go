package syncstate

import (
	"context"
	"fmt"

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
