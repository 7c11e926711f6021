package eas_test

import (
	"context"
	"testing"
	"time"
)

// A device that has synced an empty INBOX waits in Ping instead of being
// told to sync again (which would loop).
func TestPingEmptyInboxWaits(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	ctx := context.Background()
	key := "0"
	for i := 0; i < 5; i++ {
		r, err := s.c.SyncFolder(ctx, inbox, key, 512)
		if err != nil {
			t.Fatal(err)
		}
		col := r.Collections.Collection[0]
		t.Logf("sync %d: key %s status %d more %v commands %v", i, col.SyncKey, col.Status, col.MoreAvailable, col.Commands != nil)
		key = col.SyncKey
	}
	waiting := pingAsync(s.c, time.Minute, email(inbox))
	stillWaiting(t, waiting, 2*time.Second)
}
