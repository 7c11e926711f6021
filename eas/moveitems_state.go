package eas

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas/syncstate"
)

// moveLockWait bounds how long a MoveItems waits for a Sync of the same
// device on one of its folders; beyond it the Move answers 7 (locked).
const moveLockWait = 10 * time.Second

// moveTx is one Move's PostgreSQL transaction: it holds the device's
// collection rows of both folders (as syncstate.Engine.Begin does, so a
// Sync of the same device on either folder waits for the Move), amends
// their states and records the move.
type moveTx struct {
	tx  pgx.Tx
	dev int64
}

// beginMoveTx locks the device's collection rows of the given folders, in
// sorted order so that two Moves in opposite directions cannot deadlock.
// A folder the device never synced has no row and needs none.
func beginMoveTx(ctx context.Context, pool *pgxpool.Pool, dev int64, collections ...string) (*moveTx, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("moveitems: begin: %w", err)
	}
	t := &moveTx{tx: tx, dev: dev}
	if err := syncstate.SetLockTimeout(ctx, tx, moveLockWait); err != nil {
		t.rollback(ctx)
		return nil, fmt.Errorf("moveitems: %w", err)
	}
	if err := syncstate.LockCollections(ctx, tx, dev, collections...); err != nil {
		t.rollback(ctx)
		return nil, fmt.Errorf("moveitems: %w", err)
	}
	return t, nil
}

// amend applies change to every valid state (current and previous key)
// of the device's collection: whichever key the client sends next, it
// must not hear of the move again.
func (t *moveTx) amend(ctx context.Context, collection string, change func(*mailState)) error {
	if err := amendMailStates(ctx, t.tx, []int64{t.dev}, collection, change); err != nil {
		return fmt.Errorf("moveitems: %w", err)
	}
	return nil
}

// amendMailStates applies change to every stored mail state of
// collection of the devices, whose collection rows tx holds locked.
func amendMailStates(ctx context.Context, tx pgx.Tx, devs []int64, collection string, change func(*mailState)) error {
	return syncstate.AmendStates(ctx, tx, devs, collection, func(raw []byte) ([]byte, bool) {
		st, err := decodeMailState(raw)
		if err == nil {
			err = st.decodeItems()
		}
		if err != nil {
			return nil, false
		}
		change(&st)
		return st.encode(), true
	})
}

// amendItemStates is amendMailStates for the states of a store class
// (sync_items.go).
func amendItemStates(ctx context.Context, tx pgx.Tx, devs []int64, collection string, change func(*itemState)) error {
	return syncstate.AmendStates(ctx, tx, devs, collection, func(raw []byte) ([]byte, bool) {
		st, err := decodeItemState(raw)
		if err != nil {
			return nil, false
		}
		change(&st)
		return st.encode(), true
	})
}

// record remembers the move for a re-sent request, and prunes this
// device's records that no retry will ask for any more.
func (t *moveTx) record(ctx context.Context, srcID, dstFolder, dstID string) error {
	return recordMove(ctx, t.tx, t.dev, srcID, dstFolder, dstID)
}

// lookup finds the recorded move of srcID to dstFolder by this device.
func (t *moveTx) lookup(ctx context.Context, srcID, dstFolder string) (string, bool, error) {
	return lookupMove(ctx, t.tx, t.dev, srcID, dstFolder)
}

// recordMove remembers that dev's srcID went to dstID (in dstFolder):
// MoveItems and MeetingResponse (which files an answered request in
// Deleted Items) answer a re-sent request from it. Rows older than a
// week are pruned: a retry comes within minutes.
func recordMove(ctx context.Context, db interface {
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}, dev int64, srcID, dstFolder, dstID string) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO mail_moves (device_id, src_id, dst_folder, dst_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (device_id, src_id) DO UPDATE SET dst_folder = EXCLUDED.dst_folder,
		dst_id = EXCLUDED.dst_id, moved_at = now()`, dev, srcID, dstFolder, dstID)
	b.Queue(`DELETE FROM mail_moves WHERE device_id = $1 AND moved_at < now() - interval '7 days'`, dev)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record move: %w", err)
	}
	return nil
}

// lookupMove finds the recorded move of dev's srcID, to dstFolder or, with
// "", to any folder.
func lookupMove(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, dev int64, srcID, dstFolder string) (string, bool, error) {
	var dstID string
	err := db.QueryRow(ctx, `SELECT dst_id FROM mail_moves
		WHERE device_id = $1 AND src_id = $2 AND ($3 = '' OR dst_folder = $3)`, dev, srcID, dstFolder).Scan(&dstID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up move: %w", err)
	}
	return dstID, true, nil
}

func (t *moveTx) commit(ctx context.Context) error {
	if err := t.tx.Commit(ctx); err != nil {
		return fmt.Errorf("moveitems: commit: %w", err)
	}
	return nil
}

func (t *moveTx) rollback(ctx context.Context) { _ = t.tx.Rollback(ctx) }
