package syncstate

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Commands that change items outside a Sync (MoveItems, flag details
// shared with the user's other devices) amend the states of collections
// so that no device hears of the change twice. They lock the collections'
// rows as Engine.Begin does, so a Sync of the same device and collection
// waits for them and never sees half of the change, and then rewrite the
// states behind every valid key (current and previous): whichever key the
// client sends next, the state is right.

// LockCollections locks deviceID's rows of the given collections in tx,
// in sorted order, so that two requests locking in opposite orders cannot
// deadlock. A collection the device never synced has no row and needs
// none. Bound the wait with SetLockTimeout first; a timeout is ErrBusy.
func LockCollections(ctx context.Context, tx pgx.Tx, deviceID int64, collectionIDs ...string) error {
	sorted := slices.Clone(collectionIDs)
	slices.Sort(sorted)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM sync_collections WHERE device_id = $1
		AND collection_id = ANY($2::text[]) ORDER BY collection_id FOR UPDATE`, deviceID, sorted); err != nil {
		return LockError("lock sync state", err)
	}
	return nil
}

// LockOtherDevices locks the rows of collectionID of every device of
// userID but deviceID, in device order, and returns those devices.
func LockOtherDevices(ctx context.Context, tx pgx.Tx, userID, deviceID int64, collectionID string) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT c.device_id FROM sync_collections c JOIN devices d ON d.id = c.device_id
		WHERE d.user_id = $1 AND c.device_id <> $2 AND c.collection_id = $3
		ORDER BY c.device_id FOR UPDATE OF c`, userID, deviceID, collectionID)
	if err != nil {
		return nil, LockError("lock other devices' states", err)
	}
	devices, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, LockError("lock other devices' states", err)
	}
	return devices, nil
}

// AmendStates applies change to every stored state of collectionID of the
// devices, whose rows tx holds locked: one read and one batch of writes.
// change returns the new state, or false to leave a state as it is (one it
// cannot decode: the Sync answers Status 3 for it anyway).
func AmendStates(ctx context.Context, tx pgx.Tx, deviceIDs []int64, collectionID string, change func(state []byte) ([]byte, bool)) error {
	rows, err := tx.Query(ctx, `SELECT device_id, sync_key, state FROM sync_states
		WHERE device_id = ANY($1::bigint[]) AND collection_id = $2`, deviceIDs, collectionID)
	if err != nil {
		return fmt.Errorf("syncstate: read states of %q: %w", collectionID, err)
	}
	var dev int64
	var key string
	var raw []byte
	b := &pgx.Batch{}
	if _, err := pgx.ForEachRow(rows, []any{&dev, &key, &raw}, func() error {
		if st, ok := change(raw); ok {
			b.Queue(`UPDATE sync_states SET state = $4
				WHERE device_id = $1 AND collection_id = $2 AND sync_key = $3`, dev, collectionID, key, st)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("syncstate: read states of %q: %w", collectionID, err)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("syncstate: write states of %q: %w", collectionID, err)
	}
	return nil
}
