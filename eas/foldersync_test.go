package eas_test

import (
	"context"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

func noPolicy(c *config.Config) { c.EnforcePolicy = false }

func mailStore(env *easdtest.Env) *imapbridge.Store {
	return &imapbridge.Store{Dialer: &imapbridge.Dialer{Addr: env.IMAP.Addr(), TLS: config.TLSNone}}
}

func addsByName(t *testing.T, r *message.FolderSyncResponse) map[string]message.Folder {
	t.Helper()
	m := map[string]message.Folder{}
	if r.Changes == nil {
		return m
	}
	for _, f := range r.Changes.Add {
		m[f.DisplayName] = f
	}
	return m
}

func TestFolderSync(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	c := env.Client("alice", "phone1")

	first, err := c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != 1 || first.SyncKey == "" || first.Changes == nil {
		t.Fatalf("initial FolderSync: %+v", first)
	}
	got := addsByName(t, first)
	want := map[string]model.FolderType{
		"Inbox": model.FolderInbox, "Drafts": model.FolderDrafts, "Sent": model.FolderSentItems,
		"Trash": model.FolderDeletedItems, "Junk": model.FolderUserMail, "Outbox": model.FolderOutbox,
		"Contacts": model.FolderContacts, "Calendar": model.FolderCalendar, "Tasks": model.FolderTasks, "Notes": model.FolderNotes,
	}
	for name, typ := range want {
		f, ok := got[name]
		if !ok {
			t.Errorf("no folder %q in %+v", name, first.Changes.Add)
			continue
		}
		if f.Type != int(typ) || f.ParentID != "0" {
			t.Errorf("folder %q: %+v, want type %d at top", name, f, typ)
		}
	}
	if first.Changes.Count != len(first.Changes.Add) {
		t.Errorf("Count %d for %d adds", first.Changes.Count, len(first.Changes.Add))
	}

	// Nothing changed: no changes, new key.
	second, err := c.FolderSync(ctx, first.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != 1 || second.Changes.Count != 0 || second.SyncKey == first.SyncKey {
		t.Fatalf("unchanged FolderSync: %+v", second)
	}

	// A mailbox made by another client appears as an Add, a child after its parent.
	store := mailStore(env)
	if err := store.CreateMailbox(ctx, "alice", "alice", "Projects"); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateMailbox(ctx, "alice", "alice", "Projects/easd"); err != nil {
		t.Fatal(err)
	}
	third, err := c.FolderSync(ctx, second.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if third.Changes.Count != 2 || len(third.Changes.Add) != 2 ||
		third.Changes.Add[0].DisplayName != "Projects" || third.Changes.Add[1].ParentID != third.Changes.Add[0].ServerID {
		t.Fatalf("after creating mailboxes: %+v", third.Changes)
	}

	// The response was lost: the client re-sends its previous key and gets
	// the same changes again.
	replay, err := c.FolderSync(ctx, second.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if replay.Changes.Count != 2 || replay.Changes.Add[0].ServerID != third.Changes.Add[0].ServerID {
		t.Fatalf("replay: %+v", replay.Changes)
	}

	// Renamed elsewhere: an Update with the same id; the child keeps its
	// parent id, so it does not change.
	if err := store.RenameMailbox(ctx, "alice", "alice", "Projects", "Work"); err != nil {
		t.Fatal(err)
	}
	fourth, err := c.FolderSync(ctx, replay.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(fourth.Changes.Update) != 1 || fourth.Changes.Update[0].ServerID != third.Changes.Add[0].ServerID ||
		fourth.Changes.Update[0].DisplayName != "Work" || len(fourth.Changes.Add) != 0 || len(fourth.Changes.Delete) != 0 {
		t.Fatalf("after rename: %+v", fourth.Changes)
	}

	// A stale key is Status 9 and changes nothing.
	bad, err := c.FolderSync(ctx, first.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if bad.Status != 9 {
		t.Fatalf("stale key: status %d", bad.Status)
	}

	// Starting over (the Gmail app does): same ids, so no mail re-download.
	again, err := c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	before := addsByName(t, first)
	for name, f := range addsByName(t, again) {
		if b, ok := before[name]; ok && b.ServerID != f.ServerID {
			t.Errorf("%s: id %s became %s", name, b.ServerID, f.ServerID)
		}
	}
	// Another device of the same user sees the same ids.
	other, err := env.Client("alice", "tablet").FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range addsByName(t, other) {
		if a := addsByName(t, again)[name]; a.ServerID != f.ServerID {
			t.Errorf("second device: %s has id %s, first device %s", name, f.ServerID, a.ServerID)
		}
	}
}
