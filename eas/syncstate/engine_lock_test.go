package syncstate

import (
	"context"
	"errors"
	"testing"
	"time"
)

// beginAsync starts Begin in a goroutine and returns a channel with its
// outcome.
func beginAsync(f *fixture, dev int64, coll, k string) <-chan *Tx {
	ch := make(chan *Tx, 1)
	go func() {
		tx, err := f.eng.Begin(f.ctx, dev, coll, k)
		if err != nil {
			tx = nil
		}
		ch <- tx
	}()
	return ch
}

func TestSameCollectionSerializes(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, nil, NoChanges)
	first, err := f.eng.Begin(f.ctx, f.dev, "5", k1)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(f.ctx)

	second := beginAsync(f, f.dev, "5", k1)
	select {
	case tx := <-second:
		if tx != nil {
			tx.Rollback(f.ctx)
		}
		t.Fatal("second Begin on the same device and collection did not wait")
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := first.Commit(f.ctx, Items{"a": "1"}.Encode()); err != nil {
		t.Fatal(err)
	}
	select {
	case tx := <-second:
		if tx == nil {
			t.Fatal("second Begin failed")
		}
		defer tx.Rollback(f.ctx)
		// It saw the first request's commit: the same key is now previous.
		known, err := DecodeItems(tx.State())
		if tx.KeyStatus() != KeyPrevious || err != nil || len(known) != 0 {
			t.Errorf("second request: %v, state %v %v; want previous with the old state", tx.KeyStatus(), known, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second Begin still blocked after the first committed")
	}
}

func TestOthersDoNotBlock(t *testing.T) {
	f := newFixture(t)
	other := newDevice(t, f.pool, f.user)
	var keys = map[int64]string{}
	for _, d := range []int64{f.dev, other} {
		_, _, keys[d] = f.exchange(t, d, "5", InitialKey, nil, NoChanges)
	}
	_, _, k6 := f.exchange(t, f.dev, "6", InitialKey, nil, NoChanges)
	held, err := f.eng.Begin(f.ctx, f.dev, "5", keys[f.dev])
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback(f.ctx)

	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	for _, c := range []struct {
		dev       int64
		coll, key string
	}{{other, "5", keys[other]}, {f.dev, "6", k6}, {other, "7", InitialKey}} {
		start := time.Now()
		tx, err := f.eng.Begin(ctx, c.dev, c.coll, c.key)
		if err != nil {
			t.Fatalf("device %d collection %s: %v", c.dev, c.coll, err)
		}
		if _, err := tx.Commit(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("device %d collection %s took %v while another collection was held", c.dev, c.coll, d)
		}
	}
}

func TestLockWaitGivesErrBusy(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, nil, NoChanges)
	held, err := f.eng.Begin(f.ctx, f.dev, "5", k1)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback(f.ctx)
	impatient := New(f.pool, Options{LockWait: 100 * time.Millisecond})
	for _, k := range []string{k1, InitialKey} {
		if tx, err := impatient.Begin(f.ctx, f.dev, "5", k); !errors.Is(err, ErrBusy) {
			if tx != nil {
				tx.Rollback(f.ctx)
			}
			t.Errorf("Begin(%q) on a held collection: %v, want ErrBusy", k, err)
		}
	}
}

func TestRollbackLeavesStateUntouched(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, nil, NoChanges)
	_, _, k2 := f.exchange(t, f.dev, "5", k1, Items{"a": "1"}, 10)

	tx, err := f.eng.Begin(f.ctx, f.dev, "5", k2)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.RecordClientAdd("1", ClientAdd{ServerID: "b", Version: "1"}); err != nil {
		t.Fatal(err)
	}
	// The handler's own write in the same transaction.
	if _, err := tx.PGTx().Exec(f.ctx, `UPDATE devices SET model = 'changed' WHERE id = $1`, f.dev); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(f.ctx, nil); !errors.Is(err, ErrTxDone) {
		t.Errorf("Commit after Rollback: %v, want ErrTxDone", err)
	}

	tx, err = f.eng.Begin(f.ctx, f.dev, "5", k2)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx)
	known, _ := DecodeItems(tx.State())
	if tx.KeyStatus() != KeyCurrent || len(known) != 1 || known["a"] != "1" {
		t.Errorf("after rollback: %v %v", tx.KeyStatus(), known)
	}
	if _, ok, _ := tx.LookupClientAdd(f.ctx, "1"); ok {
		t.Error("ClientId record of a rolled back request survived")
	}
	var model string
	f.pool.QueryRow(f.ctx, `SELECT model FROM devices WHERE id = $1`, f.dev).Scan(&model)
	if model != "" {
		t.Errorf("handler write survived the rollback: model %q", model)
	}
}

func TestDeviceDeleteCascades(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, nil, NoChanges)
	tx, _ := f.eng.Begin(f.ctx, f.dev, "5", k1)
	tx.RecordClientAdd("1", ClientAdd{ServerID: "x", Version: "1"})
	if _, err := tx.Commit(f.ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(f.ctx, `DELETE FROM devices WHERE id = $1`, f.dev); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"sync_collections", "sync_states", "sync_client_adds"} {
		if n := f.count(t, table); n != 0 {
			t.Errorf("%d rows left in %s after the device was deleted", n, table)
		}
	}
}

func TestDeleteCollectionForAllDevicesOfUser(t *testing.T) {
	f := newFixture(t)
	second := newDevice(t, f.pool, f.user)
	stranger := newDevice(t, f.pool, newUser(t, f.pool))
	keys := map[int64]string{}
	for _, d := range []int64{f.dev, second, stranger} {
		_, _, keys[d] = f.exchange(t, d, "5", InitialKey, nil, NoChanges)
	}
	_, _, k6 := f.exchange(t, f.dev, "6", InitialKey, nil, NoChanges)
	if err := f.eng.DeleteCollection(f.ctx, f.user, "5"); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[int64]KeyStatus{f.dev: KeyUnknown, second: KeyUnknown, stranger: KeyCurrent} {
		if got := f.status(t, d, "5", keys[d]); got != want {
			t.Errorf("device %d: %v, want %v", d, got, want)
		}
	}
	if got := f.status(t, f.dev, "6", k6); got != KeyCurrent {
		t.Errorf("other collection: %v", got)
	}
}

func TestResetOwnCollectionInsideTx(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, nil, NoChanges)
	tx, err := f.eng.Begin(f.ctx, f.dev, "5", k1)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx)
	if err := Reset(f.ctx, tx.PGTx(), f.dev, "5"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(f.ctx, nil); !errors.Is(err, ErrStateGone) {
		t.Errorf("Commit after resetting the Tx's own collection: %v, want ErrStateGone", err)
	}
}
