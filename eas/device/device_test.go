package device

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestTouchRegistersOnceAndUpdates(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 0)
	ctx := context.Background()

	// Parallel first requests of one phone (iOS does this) create one row.
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d, err := s.Touch(ctx, Seen{Login: "alice", DeviceID: "dev1", DeviceType: "iPhone", ProtocolVersion: "16.1"})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = d.ID
		}(i)
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("different ids for one device: %v", ids)
		}
	}
	d, err := s.Touch(ctx, Seen{Login: "alice", DeviceID: "dev1", DeviceType: "iPhone", UserAgent: "Apple-iPhone/2101", ProtocolVersion: "16.1"})
	if err != nil {
		t.Fatal(err)
	}
	if d.UserAgent != "Apple-iPhone/2101" || d.Access != Allowed || d.Wipe != WipeNone || d.Login != "alice" {
		t.Fatalf("got %+v", d)
	}
	if err := s.SetInfo(ctx, d.ID, Info{Model: "iPhone15,2", OS: "iOS 18.1", IMEI: "3561"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "alice", "dev1")
	if err != nil || got.Model != "iPhone15,2" || got.OS != "iOS 18.1" {
		t.Fatalf("get: %+v %v", got, err)
	}
}

// A device seen over a minute ago that reports itself as before gets
// its last-seen moved and nothing else; one removed meanwhile is
// registered again.
func TestTouchMovesLastSeen(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 0)
	ctx := context.Background()
	seen := Seen{Login: "dora", DeviceID: "p1", DeviceType: "iPhone", UserAgent: "Apple-iPhone/2101", ProtocolVersion: "16.1"}
	d, err := s.Touch(ctx, seen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE devices SET last_seen = now() - interval '10 minutes' WHERE id = $1`, d.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Touch(ctx, seen)
	if err != nil || got.ID != d.ID || time.Since(got.LastSeen) > time.Minute {
		t.Fatalf("touch: %+v %v", got, err)
	}
	stored, err := s.Get(ctx, "dora", "p1")
	if err != nil || !stored.LastSeen.Equal(got.LastSeen) {
		t.Fatalf("stored last seen %v, returned %v (%v)", stored.LastSeen, got.LastSeen, err)
	}

	// Removed meanwhile: registered anew.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM devices WHERE id = $1`, d.ID); err != nil {
		t.Fatal(err)
	}
	again, err := s.Touch(ctx, seen)
	if err != nil || again.ID == d.ID || again.DeviceType != "iPhone" {
		t.Fatalf("after removal: %+v %v", again, err)
	}
}

func TestMaxDevicesPerUser(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 2)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if _, err := s.Touch(ctx, Seen{Login: "bob", DeviceID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Touch(ctx, Seen{Login: "bob", DeviceID: "c"}); !errors.Is(err, ErrTooManyDevices) {
		t.Fatalf("third device: %v", err)
	}
	// Known devices still work, and other users are not affected.
	if _, err := s.Touch(ctx, Seen{Login: "bob", DeviceID: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Touch(ctx, Seen{Login: "carol", DeviceID: "c"}); err != nil {
		t.Fatal(err)
	}
}

func TestAccessWipeRemove(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 0)
	ctx := context.Background()
	d, err := s.Touch(ctx, Seen{Login: "alice", DeviceID: "dev1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAccess(ctx, "alice", "dev1", Blocked); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAccess(ctx, "alice", "nope", Blocked); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	if err := s.SetAccess(ctx, "alice", "dev1", "maybe"); err == nil {
		t.Fatal("bad state accepted")
	}
	if err := s.RequestWipe(ctx, "alice", "dev1", true); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, "alice", "dev1")
	if got.Access != Blocked || got.Wipe != WipeAccountRequested || got.WipeRequestedAt == nil {
		t.Fatalf("got %+v", got)
	}
	if err := s.AckWipe(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, "alice", "dev1")
	if got.Wipe != AccountWiped || got.WipeAckedAt == nil {
		t.Fatalf("after ack: %+v", got)
	}

	// Policy keys: only the pending key is confirmed.
	if err := s.SetPendingPolicyKey(ctx, d.ID, 12345); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ConfirmPolicyKey(ctx, d.ID, 999); err != nil || ok {
		t.Fatalf("wrong key confirmed: %v %v", ok, err)
	}
	if ok, err := s.ConfirmPolicyKey(ctx, d.ID, 12345); err != nil || !ok {
		t.Fatalf("right key refused: %v %v", ok, err)
	}
	got, _ = s.Get(ctx, "alice", "dev1")
	if got.PolicyKey != 12345 || got.PendingPolicyKey != 0 {
		t.Fatalf("keys: %+v", got)
	}

	list, err := s.List(ctx, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := s.Remove(ctx, "alice", "dev1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "alice", "dev1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after remove: %v", err)
	}
	if err := s.Remove(ctx, "alice", "dev1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
}
