package device

import (
	"context"
	"errors"
	"sync"
	"testing"

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
