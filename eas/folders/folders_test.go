package folders

import (
	"context"
	"testing"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func byType(fs []Folder, t model.FolderType) *Folder {
	for i := range fs {
		if fs[i].Type == t {
			return &fs[i]
		}
	}
	return nil
}

func byName(fs []Folder, name string) *Folder {
	for i := range fs {
		if fs[i].DisplayName == name {
			return &fs[i]
		}
	}
	return nil
}

func TestReconcileKeepsIDs(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	var userID int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO users (login) VALUES ('alice') RETURNING id`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db.Pool)
	mb := []model.Mailbox{
		{Name: "INBOX", Delim: '/', Type: model.FolderInbox, UIDValidity: 1},
		{Name: "Drafts", Delim: '/', Type: model.FolderDrafts, UIDValidity: 2},
		{Name: "Projects", Delim: '/', Type: model.FolderUserMail, UIDValidity: 3},
		{Name: "Projects/easd", Delim: '/', Type: model.FolderUserMail, UIDValidity: 4},
	}
	first, err := s.Reconcile(ctx, userID, mb)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(first); got != 4+1+4 { // mailboxes + Outbox + 4 PIM folders
		t.Fatalf("%d folders: %+v", got, first)
	}
	inbox, child, parent := byType(first, model.FolderInbox), byName(first, "easd"), byName(first, "Projects")
	if inbox.DisplayName != "Inbox" || child.ParentID != parent.ServerID || parent.ParentID != "0" {
		t.Fatalf("hierarchy wrong: %+v", first)
	}
	for _, ty := range []model.FolderType{model.FolderOutbox, model.FolderContacts, model.FolderCalendar, model.FolderTasks, model.FolderNotes} {
		if byType(first, ty) == nil {
			t.Fatalf("no folder of type %d", ty)
		}
	}

	// Same mailboxes again: same ids, nothing new.
	again, err := s.Reconcile(ctx, userID, mb)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(fs []Folder) map[string]string {
		m := map[string]string{}
		for _, f := range fs {
			m[f.DisplayName] = f.ServerID
		}
		return m
	}
	if a, b := ids(first), ids(again); len(a) != len(b) {
		t.Fatalf("changed: %v vs %v", a, b)
	} else {
		for k, v := range a {
			if b[k] != v {
				t.Fatalf("id of %s changed: %s -> %s", k, v, b[k])
			}
		}
	}

	// "Projects" renamed elsewhere to "Work" (same UIDVALIDITY), child moves
	// along; a mailbox deleted; one created.
	mb2 := []model.Mailbox{
		mb[0], mb[1],
		{Name: "Work", Delim: '/', Type: model.FolderUserMail, UIDValidity: 3},
		{Name: "Work/easd", Delim: '/', Type: model.FolderUserMail, UIDValidity: 4},
		{Name: "New", Delim: '/', Type: model.FolderUserMail, UIDValidity: 9},
	}
	third, err := s.Reconcile(ctx, userID, mb2)
	if err != nil {
		t.Fatal(err)
	}
	work := byName(third, "Work")
	if work == nil || work.ServerID != parent.ServerID {
		t.Fatalf("rename lost the id: %+v", third)
	}
	if c := byName(third, "easd"); c.ServerID != child.ServerID || c.ParentID != work.ServerID || c.IMAPName != "Work/easd" {
		t.Fatalf("child: %+v", c)
	}
	nw := byName(third, "New")
	for _, f := range first {
		if f.ServerID == nw.ServerID {
			t.Fatalf("id %s reused", nw.ServerID)
		}
	}
	// Mailbox deleted: gone, id not reused later.
	fourth, err := s.Reconcile(ctx, userID, mb2[:2])
	if err != nil {
		t.Fatal(err)
	}
	if byName(fourth, "Work") != nil || len(fourth) != 2+1+4 {
		t.Fatalf("after delete: %+v", fourth)
	}
	listed, err := s.List(ctx, userID)
	if err != nil || len(listed) != len(fourth) {
		t.Fatalf("list: %v %v", listed, err)
	}
}
