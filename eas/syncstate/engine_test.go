package syncstate

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/testenv"
)

type fixture struct {
	ctx  context.Context
	pool *pgxpool.Pool
	eng  *Engine
	user int64
	dev  int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testenv.PG(t)
	f := &fixture{ctx: context.Background(), pool: db.Pool, eng: New(db.Pool, Options{})}
	f.user = newUser(t, db.Pool)
	f.dev = newDevice(t, db.Pool, f.user)
	return f
}

// exchange runs one request without client commands against now.
func (f *fixture) exchange(t *testing.T, dev int64, coll, k string, now Items, window int) (KeyStatus, Result, string) {
	t.Helper()
	tx, err := f.eng.Begin(f.ctx, dev, coll, k)
	if err != nil {
		t.Fatalf("Begin(%q): %v", k, err)
	}
	defer tx.Rollback(f.ctx)
	st := tx.KeyStatus()
	if st == KeyUnknown {
		return st, Result{}, ""
	}
	known, err := DecodeItems(tx.State())
	if err != nil {
		t.Fatal(err)
	}
	res := Exchange{Known: known, Now: now, Window: window}.Run()
	newKey, err := tx.Commit(f.ctx, res.State.Encode())
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return st, res, newKey
}

func (f *fixture) status(t *testing.T, dev int64, coll, k string) KeyStatus {
	t.Helper()
	tx, err := f.eng.Begin(f.ctx, dev, coll, k)
	if err != nil {
		t.Fatalf("Begin(%q): %v", k, err)
	}
	defer tx.Rollback(f.ctx)
	return tx.KeyStatus()
}

func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInitialKey(t *testing.T) {
	f := newFixture(t)
	st, res, k1 := f.exchange(t, f.dev, "5", InitialKey, Items{"a": "1"}, NoChanges)
	if st != KeyInitial || len(res.State) != 0 {
		t.Fatalf("status %v state %v, want initial and empty", st, res.State)
	}
	if _, ok := parseKey(k1); !ok {
		t.Fatalf("new key %q does not parse", k1)
	}
	if got := f.status(t, f.dev, "5", k1); got != KeyCurrent {
		t.Errorf("key %q is %v, want current", k1, got)
	}
	cs, err := f.eng.Collections(f.ctx, f.dev)
	if err != nil || len(cs) != 1 || cs[0].ID != "5" || cs[0].Key != k1 {
		t.Errorf("Collections = %+v, %v", cs, err)
	}
}

func TestPreviousKeyReplaysSameChanges(t *testing.T) {
	f := newFixture(t)
	now := Items{"a": "1", "b": "1", "c": "1", "d": "1"}
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, now, NoChanges)
	st, first, k2 := f.exchange(t, f.dev, "5", k1, now, 3)
	if st != KeyCurrent || len(first.Adds) != 3 || !first.MoreAvailable {
		t.Fatalf("first page: %v %+v", st, first)
	}
	// The response carrying k2 is lost: the client sends k1 again.
	st, again, k3 := f.exchange(t, f.dev, "5", k1, now, 3)
	if st != KeyPrevious {
		t.Fatalf("re-sent key is %v, want previous", st)
	}
	if !reflect.DeepEqual(first, again) {
		t.Errorf("replay sent %+v, first time %+v", again, first)
	}
	if k3 == k2 {
		t.Errorf("replay handed out the lost key %q again", k2)
	}
	// The lost key was never seen by the client and is dropped.
	if got := f.status(t, f.dev, "5", k2); got != KeyUnknown {
		t.Errorf("lost key is %v, want unknown", got)
	}
	// Moving on makes k3 previous and k1 unknown.
	st, last, k4 := f.exchange(t, f.dev, "5", k3, now, 3)
	if st != KeyCurrent || !reflect.DeepEqual(last.Adds, []string{"d"}) || last.MoreAvailable {
		t.Fatalf("second page: %v %+v", st, last)
	}
	for k, want := range map[string]KeyStatus{k1: KeyUnknown, k3: KeyPrevious, k4: KeyCurrent} {
		if got := f.status(t, f.dev, "5", k); got != want {
			t.Errorf("key %q is %v, want %v", k, got, want)
		}
	}
	if n := f.count(t, "sync_states"); n != 2 {
		t.Errorf("%d states stored, want 2 (current and previous)", n)
	}
}

func TestUnknownKeys(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, nil, NoChanges)
	other := newDevice(t, f.pool, f.user)
	gen, _ := newGeneration()
	cases := []struct {
		dev        int64
		coll, key  string
		wantStatus KeyStatus
	}{
		{f.dev, "5", "garbage", KeyUnknown},
		{f.dev, "5", "", KeyUnknown},
		{f.dev, "5", key{gen, 1}.String(), KeyUnknown},
		{f.dev, "6", k1, KeyUnknown}, // another collection
		{other, "5", k1, KeyUnknown}, // another device
		{f.dev, "5", k1, KeyCurrent},
	}
	for _, c := range cases {
		if got := f.status(t, c.dev, c.coll, c.key); got != c.wantStatus {
			t.Errorf("device %d collection %q key %q: %v, want %v", c.dev, c.coll, c.key, got, c.wantStatus)
		}
	}
	tx, err := f.eng.Begin(f.ctx, f.dev, "5", "garbage")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(f.ctx, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Commit of unknown key: %v, want ErrUnknownKey", err)
	}
	if err := tx.Rollback(f.ctx); err != nil {
		t.Errorf("Rollback after failed Commit: %v", err)
	}
}

func TestResetAndKeyZero(t *testing.T) {
	f := newFixture(t)
	now := Items{"a": "1"}
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, now, NoChanges)
	_, _, k2 := f.exchange(t, f.dev, "5", k1, now, 10)
	_, _, h1 := f.exchange(t, f.dev, HierarchyID, InitialKey, now, Unlimited)

	// Key 0 again: a new generation, older keys unknown, state empty.
	st, res, k3 := f.exchange(t, f.dev, "5", InitialKey, now, NoChanges)
	if st != KeyInitial || len(res.State) != 0 {
		t.Errorf("key 0 after sync: %v %+v", st, res)
	}
	for _, k := range []string{k1, k2} {
		if got := f.status(t, f.dev, "5", k); got != KeyUnknown {
			t.Errorf("old key %q after key 0 is %v", k, got)
		}
	}
	if got := f.status(t, f.dev, "5", k3); got != KeyCurrent {
		t.Errorf("new key is %v", got)
	}

	// Reset of one collection leaves the others alone.
	if err := f.eng.Reset(f.ctx, f.dev, "5"); err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, f.dev, "5", k3); got != KeyUnknown {
		t.Errorf("key after Reset is %v", got)
	}
	if got := f.status(t, f.dev, HierarchyID, h1); got != KeyCurrent {
		t.Errorf("hierarchy key after resetting collection 5 is %v", got)
	}
	if err := f.eng.Reset(f.ctx, f.dev); err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, f.dev, HierarchyID, h1); got != KeyUnknown {
		t.Errorf("hierarchy key after resetting the device is %v", got)
	}
	if st, _, _ := f.exchange(t, f.dev, "5", InitialKey, now, NoChanges); st != KeyInitial {
		t.Errorf("key 0 after Reset is %v", st)
	}
}

func TestParallelKeyZeroBothUsable(t *testing.T) {
	f := newFixture(t)
	keys := make([]string, 2)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			tx, err := f.eng.Begin(f.ctx, f.dev, "5", InitialKey)
			if err != nil {
				t.Error(err)
				return
			}
			defer tx.Rollback(f.ctx)
			time.Sleep(50 * time.Millisecond)
			if keys[i], err = tx.Commit(f.ctx, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := map[KeyStatus]int{}
	for _, k := range keys {
		got[f.status(t, f.dev, "5", k)]++
	}
	if got[KeyCurrent] != 1 || got[KeyPrevious] != 1 {
		t.Errorf("statuses of two parallel key-0 answers: %v, want one current and one previous", got)
	}
}

func TestClientAddIdempotentAcrossReplay(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, nil, NoChanges)

	tx, err := f.eng.Begin(f.ctx, f.dev, "5", k1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := tx.LookupClientAdd(f.ctx, "1"); ok || err != nil {
		t.Fatalf("lookup before any add: %v %v", ok, err)
	}
	add := ClientAdd{ServerID: "srv-1", Version: "7"}
	if err := tx.RecordClientAdd("1", add); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := tx.LookupClientAdd(f.ctx, "1"); !ok || got != add {
		t.Errorf("lookup in the same request: %v %v", got, ok)
	}
	state := Items{"srv-1": "7"}.Encode()
	k2, err := tx.Commit(f.ctx, state)
	if err != nil {
		t.Fatal(err)
	}

	// Lost response: the same request again finds the answer.
	tx, err = f.eng.Begin(f.ctx, f.dev, "5", k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := tx.LookupClientAdd(f.ctx, "1"); !ok || err != nil || got != add {
		t.Errorf("lookup in the replay: %v %v %v, want %v", got, ok, err, add)
	}
	k3, err := tx.Commit(f.ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, f.dev, "5", k2); got != KeyUnknown {
		t.Errorf("lost key %q is %v after the replay", k2, got)
	}
	if n := f.count(t, "sync_client_adds"); n != 1 {
		t.Errorf("%d ClientId records after the replay, want 1 (the replay found it)", n)
	}

	// ClientId "1" in the next request is a new item (clients reuse ids).
	tx, err = f.eng.Begin(f.ctx, f.dev, "5", k3)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := tx.LookupClientAdd(f.ctx, "1"); ok {
		t.Error("ClientId of an older key found in a request with a newer key")
	}
	if _, err := tx.Commit(f.ctx, state); err != nil {
		t.Fatal(err)
	}
	// k1 is neither current nor previous now: its records are gone.
	if n := f.count(t, "sync_client_adds"); n != 0 {
		t.Errorf("%d ClientId records left of keys no longer valid", n)
	}
	// Client commands are refused with key 0.
	tx, err = f.eng.Begin(f.ctx, f.dev, "5", InitialKey)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx)
	if err := tx.RecordClientAdd("1", add); err == nil {
		t.Error("RecordClientAdd with key 0 accepted")
	}
}
