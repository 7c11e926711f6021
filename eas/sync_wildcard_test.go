package eas_test

import (
	"context"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/config"
)

// A folder named "%" or "*" that another client deleted is gone, and the
// Sync says so with 12 (FolderSync needed), not with a retryable 16
// forever: its name is a LIST wildcard and must be matched as a name.
func TestSyncWildcardFolderDeletedElsewhere(t *testing.T) {
	for _, name := range []string{"%", "*"} {
		t.Run(name, func(t *testing.T) {
			s := startSync(t)
			ctx := context.Background()
			r, err := s.c.FolderSync(ctx, "0")
			if err != nil || r.Status != 1 {
				t.Fatalf("FolderSync: %+v %v", r, err)
			}
			cr, err := s.c.FolderCreate(ctx, r.SyncKey, "0", name, 12)
			if err != nil || cr.Status != 1 {
				t.Fatalf("FolderCreate %q: %+v %v", name, cr, err)
			}
			key := s.start(t, cr.ServerID)
			key, _ = s.syncAll(t, cr.ServerID, key)

			d := &imapbridge.Dialer{Addr: s.env.IMAP.Addr(), TLS: config.TLSNone}
			c, err := d.Login(ctx, "alice", "alice")
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Delete(name).Wait(); err != nil {
				t.Fatal(err)
			}
			c.Close()

			for range 2 {
				rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: cr.ServerID})
				if rc.Status != 12 {
					t.Fatalf("Sync of %q deleted elsewhere: status %d, want 12", name, rc.Status)
				}
			}
		})
	}
}
