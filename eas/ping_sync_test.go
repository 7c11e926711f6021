package eas_test

import (
	"context"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
)

// A Sync from the device ends its waiting Ping at once (the phone has
// moved on), while the Sync itself is answered normally. (That an
// empty-bodied Ping reuses the stored parameters is TestPingParametersAndLimits'.)
func TestSyncEndsWaitingPing(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	key := s.catchUp(t, inbox, s.start(t, inbox))

	waiting := pingAsync(s.c, time.Minute, email(inbox))
	stillWaiting(t, waiting, time.Second)
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if rc.Status != 1 {
		t.Fatalf("sync: %+v", rc)
	}
	if res := answer(t, waiting, 5*time.Second); res.r.Status != 1 {
		t.Fatalf("Ping after a Sync of the device: %+v, want Status 1", res.r)
	}
}

// A Sync that will not wait writes nothing and notifies nobody when no
// request of the device waits, and still ends every Ping that waits after
// it: each Ping marks the device anew.
func TestSyncAnnouncesOnlyToWaitingPing(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	key := s.catchUp(t, inbox, s.start(t, inbox))
	generation := func() (g int64) {
		t.Helper()
		if err := s.env.DB.Pool.QueryRow(context.Background(), `SELECT p.generation FROM ping_params p
			JOIN devices d ON d.id = p.device_id WHERE d.device_id = 'phone-ping'`).Scan(&g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	for round := range 2 {
		waiting := pingAsync(s.c, time.Minute, email(inbox))
		stillWaiting(t, waiting, time.Second)
		if rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox}); rc.Status != 1 {
			t.Fatalf("sync: %+v", rc)
		}
		if res := answer(t, waiting, 5*time.Second); res.r.Status != 1 {
			t.Fatalf("round %d: Ping after a Sync of the device: %+v, want Status 1", round, res.r)
		}
		before := generation()
		if rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox}); rc.Status != 1 {
			t.Fatalf("sync: %+v", rc)
		}
		if after := generation(); after != before {
			t.Fatalf("round %d: a Sync with no Ping waiting moved the generation from %d to %d", round, before, after)
		}
	}
}
