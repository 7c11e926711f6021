package eas_test

import (
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
