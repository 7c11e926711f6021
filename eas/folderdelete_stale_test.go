package eas_test

import (
	"context"
	"strings"
	"testing"

	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// imapNameEnding is the IMAP name of alice's mailbox whose name ends in
// suffix.
func imapNameEnding(t *testing.T, env *easdtest.Env, suffix string) string {
	t.Helper()
	d := &imapbridge.Dialer{Addr: env.IMAP.Addr(), TLS: config.TLSNone}
	c, err := d.Login(context.Background(), "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if strings.HasSuffix(l.Mailbox, suffix) {
			return l.Mailbox
		}
	}
	t.Fatalf("no mailbox ending in %q in %+v", suffix, list)
	return ""
}

// A device whose folder list is stale (another device made a subfolder
// since its last FolderSync) asks to delete the parent: easd must not
// delete, with its mail, a folder the device never saw. It answers 9 (the
// hierarchy is out of date) and deletes nothing until the device has
// synced the hierarchy.
func TestFolderDeleteStaleHierarchy(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	phone := env.Client("alice", "phone1")
	r, err := phone.FolderSync(ctx, "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	cr, err := phone.FolderCreate(ctx, r.SyncKey, "0", "Projects", 12)
	if err != nil || cr.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", cr, err)
	}
	key := cr.SyncKey

	// Another device makes a subfolder and files mail in it.
	other := env.Client("alice", "phone2")
	r2, err := other.FolderSync(ctx, "0")
	if err != nil || r2.Status != 1 {
		t.Fatalf("FolderSync of the other device: %+v %v", r2, err)
	}
	sub, err := other.FolderCreate(ctx, r2.SyncKey, cr.ServerID, "Invoices", 12)
	if err != nil || sub.Status != 1 {
		t.Fatalf("FolderCreate of the subfolder: %+v %v", sub, err)
	}
	env.Append(t, "alice", imapNameEnding(t, env, "Invoices"), testMail(1))

	del, err := phone.FolderDelete(ctx, key, cr.ServerID)
	if err != nil || del.Status != 9 {
		t.Fatalf("FolderDelete from a stale hierarchy: %+v %v, want status 9", del, err)
	}
	if got := mailbox(t, env, "alice", imapNameEnding(t, env, "Invoices")); len(got) != 1 {
		t.Fatalf("subfolder the device never saw holds %d messages, want 1", len(got))
	}

	// Once the device knows the subfolder, the delete goes through.
	fs, err := phone.FolderSync(ctx, key)
	if err != nil || fs.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", fs, err)
	}
	del, err = phone.FolderDelete(ctx, fs.SyncKey, cr.ServerID)
	if err != nil || del.Status != 1 {
		t.Fatalf("FolderDelete after FolderSync: %+v %v", del, err)
	}
}
