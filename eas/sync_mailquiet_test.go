package eas_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/easdtest"
)

// syncedInbox syncs alice's INBOX in full on d and returns the key.
func syncedInbox(t *testing.T, d *syncEnv) string {
	t.Helper()
	inbox := d.ids["Inbox"]
	key := d.start(t, inbox)
	for more := true; more; {
		rc := d.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
		key, more = rc.SyncKey, rc.MoreAvailable
	}
	return key
}

// Quiet Syncs of one mailbox share a STATUS only when it was sent after
// they began: while other devices of the user keep quiet Syncs of the
// INBOX in flight, a Sync sent after a message arrived always gets it.
// Changes made on the mail server or through another instance are seen by
// the next Sync, which answers from the state's head and a STATUS.
func TestSyncMailQuietSeesEveryChange(t *testing.T) {
	s := startSync(t)
	inbox := s.ids["Inbox"]
	uids := s.inboxMails(t, 3)
	key := syncedInbox(t, s)

	// Other devices keep quiet Syncs of the INBOX going meanwhile.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 4 {
		d := s.device(t, fmt.Sprintf("busy-%d", i))
		dkey := syncedInbox(t, d)
		wg.Go(func() {
			for ctx.Err() == nil {
				r, err := d.c.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{
					Collection: []message.SyncCollection{{SyncKey: dkey, CollectionID: inbox, WindowSize: 512}}}})
				if ctx.Err() != nil {
					return
				}
				if err != nil || r.Collections == nil || r.Collections.Collection[0].Status != 1 {
					t.Errorf("busy device Sync: %+v %v", r, err)
					return
				}
				dkey = r.Collections.Collection[0].SyncKey
			}
		})
	}
	sid := func(uid uint32) string { return model.MailID{FolderID: inbox, UID: uid}.String() }
	for i := range 20 {
		uid := s.env.Append(t, "alice", "INBOX", testMail(100+i))
		rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
		if got := ids(commands(rc).Add); !slices.Equal(got, []string{sid(uid)}) {
			t.Fatalf("Sync %d after a delivery: adds %v, want %s", i, got, sid(uid))
		}
		key = rc.SyncKey
	}
	stop()
	wg.Wait()
	shared := strings.Count(s.env.Logs(), `"path":"unchanged","imap_cmds":0,`)
	t.Logf("quiet Syncs that shared another's STATUS: %d", shared)

	// A flag changed on the mail server.
	sess, err := mailStore(s.env).OpenMail(context.Background(), "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sess.SetFlags(context.Background(), "INBOX", uids[0], model.MailFlagChange{Seen: new(true)}); err != nil {
		t.Fatal(err)
	}
	sess.Close()
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if got := ids(commands(rc).Change); !slices.Equal(got, []string{sid(uids[0])}) {
		t.Fatalf("after a flag change on the mail server: changes %v", got)
	}
	key = rc.SyncKey

	// A change made by another device through another instance.
	other := easdtest.StartSecond(t, s.env)
	o := &syncEnv{env: other, c: other.Client("alice", "other-instance")}
	o.ids = syncFolderIDs(t, o.c)
	okey := syncedInbox(t, o)
	orc := o.sync(t, message.SyncCollection{SyncKey: okey, CollectionID: inbox, Commands: &message.SyncClientCommands{
		Change: []message.SyncClientChange{changeRead(sid(uids[1]), true, nil, nil)}}})
	if orc.Status != 1 {
		t.Fatalf("change through the other instance: %+v", orc)
	}
	rc = s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if got := ids(commands(rc).Change); !slices.Equal(got, []string{sid(uids[1])}) {
		t.Fatalf("after a change through another instance: changes %v", got)
	}
	key = rc.SyncKey

	// Nothing changed since: the key stays, one STATUS, no transaction.
	rc = s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if rc.SyncKey != key || rc.Commands != nil {
		t.Fatalf("quiet Sync: %+v", rc)
	}
	if cmds := imapCmds(s.env, inbox); cmds[len(cmds)-1] != "unchanged:1" {
		t.Fatalf("quiet Sync IMAP work: %v", cmds[len(cmds)-1])
	}
}
