package eas_test

import (
	"context"
	"testing"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/easdtest"
)

// hierarchyOf returns the folders a fresh FolderSync shows, by name.
func hierarchyOf(t *testing.T, c *client.Client) (map[string]string, string) {
	t.Helper()
	r, err := c.FolderSync(context.Background(), "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	ids := map[string]string{}
	for _, f := range r.Changes.Add {
		ids[f.DisplayName] = f.ServerID
	}
	return ids, r.SyncKey
}

func TestFolderCreateUpdateDelete(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	c := env.Client("alice", "phone1")
	ids, key := hierarchyOf(t, c)

	// Create a mail folder at the top and one below it.
	cr, err := c.FolderCreate(ctx, key, "0", "Receipts", int(model.FolderUserMail))
	if err != nil || cr.Status != 1 || cr.ServerID == "" {
		t.Fatalf("create: %+v %v", cr, err)
	}
	// The answer was lost; the phone sends the same request again: same
	// folder, no "exists", nothing duplicated.
	again, err := c.FolderCreate(ctx, key, "0", "Receipts", int(model.FolderUserMail))
	if err != nil || again.Status != 1 || again.ServerID != cr.ServerID {
		t.Fatalf("re-sent create: %+v %v", again, err)
	}
	key = again.SyncKey
	sub, err := c.FolderCreate(ctx, key, cr.ServerID, "2026", int(model.FolderUserMail))
	if err != nil || sub.Status != 1 {
		t.Fatalf("create child: %+v %v", sub, err)
	}
	key = sub.SyncKey
	boxes, err := mailStore(env).Mailboxes(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range boxes {
		names[m.Name] = true
	}
	if !names["Receipts"] || !names["Receipts/2026"] {
		t.Fatalf("IMAP mailboxes: %v", names)
	}
	// A FolderSync after the creates reports nothing new to this device.
	fs, err := c.FolderSync(ctx, key)
	if err != nil || fs.Changes.Count != 0 {
		t.Fatalf("FolderSync after creates: %+v %v", fs, err)
	}
	key = fs.SyncKey

	// Exists, unknown parent, bad key, special folder.
	if r, _ := c.FolderCreate(ctx, key, "0", "Receipts", 12); r.Status != 2 {
		t.Errorf("duplicate create: status %d", r.Status)
	}
	if r, _ := c.FolderCreate(ctx, key, "999", "X", 12); r.Status != 5 {
		t.Errorf("unknown parent: status %d", r.Status)
	}
	if r, _ := c.FolderCreate(ctx, "{bogus}7", "0", "X", 12); r.Status != 9 {
		t.Errorf("bad key: status %d", r.Status)
	}
	if r, _ := c.FolderUpdate(ctx, key, ids["Inbox"], "0", "Post"); r.Status != 2 {
		t.Errorf("rename Inbox: status %d", r.Status)
	}
	if r, _ := c.FolderDelete(ctx, key, ids["Outbox"]); r.Status != 3 {
		t.Errorf("delete Outbox: status %d", r.Status)
	}
	if r, _ := c.FolderDelete(ctx, key, "424242"); r.Status != 4 {
		t.Errorf("delete unknown: status %d", r.Status)
	}

	// Rename keeps the id; the child moves along on the server.
	up, err := c.FolderUpdate(ctx, key, cr.ServerID, "0", "Invoices")
	if err != nil || up.Status != 1 {
		t.Fatalf("update: %+v %v", up, err)
	}
	key = up.SyncKey
	after, _ := hierarchyOf(t, env.Client("alice", "phone2"))
	if after["Invoices"] != cr.ServerID || after["2026"] != sub.ServerID {
		t.Fatalf("after rename, other device sees %v", after)
	}

	// A PIM folder lives in PostgreSQL.
	cal, err := c.FolderCreate(ctx, key, "0", "Team calendar", int(model.FolderUserCalendar))
	if err != nil || cal.Status != 1 {
		t.Fatalf("create calendar: %+v %v", cal, err)
	}
	key = cal.SyncKey

	// Delete the mail folder with its child, and the calendar.
	del, err := c.FolderDelete(ctx, key, cr.ServerID)
	if err != nil || del.Status != 1 {
		t.Fatalf("delete: %+v %v", del, err)
	}
	// Re-sent delete after a lost answer still succeeds.
	del2, err := c.FolderDelete(ctx, key, cr.ServerID)
	if err != nil || del2.Status != 1 {
		t.Fatalf("re-sent delete: %+v %v", del2, err)
	}
	key = del2.SyncKey
	del3, err := c.FolderDelete(ctx, key, cal.ServerID)
	if err != nil || del3.Status != 1 {
		t.Fatalf("delete calendar: %+v %v", del3, err)
	}
	fs, err = c.FolderSync(ctx, del3.SyncKey)
	if err != nil || fs.Changes.Count != 0 {
		t.Fatalf("FolderSync after deletes: %+v %v", fs, err)
	}
	final, _ := hierarchyOf(t, env.Client("alice", "phone3"))
	for _, gone := range []string{"Invoices", "2026", "Team calendar"} {
		if _, ok := final[gone]; ok {
			t.Errorf("%s still listed: %v", gone, final)
		}
	}
}
