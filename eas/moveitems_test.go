package eas_test

import (
	"context"
	"slices"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// moveOne sends one Move and returns its answer.
func (s *syncEnv) moveOne(t *testing.T, src, srcFolder, dstFolder string) message.MoveItemsResult {
	t.Helper()
	r, err := s.c.MoveItems(context.Background(), message.MoveItem{SrcMsgID: src, SrcFldID: srcFolder, DstFldID: dstFolder})
	if err != nil || len(r.Response) != 1 {
		t.Fatalf("MoveItems: %+v %v", r, err)
	}
	if r.Response[0].SrcMsgID != src {
		t.Fatalf("MoveItems answered for %q, asked for %q", r.Response[0].SrcMsgID, src)
	}
	return r.Response[0]
}

// syncAll syncs folder from key until nothing is more available and
// returns the new key and every command received.
func (s *syncEnv) syncAll(t *testing.T, folder, key string) (string, message.SyncCommands) {
	t.Helper()
	var all message.SyncCommands
	for range 10 {
		rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder, GetChanges: new(true)})
		if rc.Status != 1 {
			t.Fatalf("Sync %s: %+v", folder, rc)
		}
		key = rc.SyncKey
		c := commands(rc)
		all.Add = append(all.Add, c.Add...)
		all.Change = append(all.Change, c.Change...)
		all.Delete = append(all.Delete, c.Delete...)
		all.SoftDelete = append(all.SoftDelete, c.SoftDelete...)
		if !rc.MoreAvailable {
			return key, all
		}
	}
	t.Fatal("MoreAvailable never ends")
	return "", all
}

func noCommands(t *testing.T, what string, c message.SyncCommands) {
	t.Helper()
	if n := len(c.Add) + len(c.Change) + len(c.Delete) + len(c.SoftDelete); n != 0 {
		t.Fatalf("%s: %d commands, want none: %+v", what, n, c)
	}
}

// The moving device hears nothing more of its move; another device sees
// a Delete and an Add; a re-sent request (lost response) gets the same
// new ServerId and moves nothing twice.
func TestMoveItemsMail(t *testing.T) {
	s := startSync(t)
	inbox, junk := s.ids["Inbox"], s.ids["Junk"]
	uid1 := s.env.Append(t, "alice", "INBOX", testMail(1), `\Seen`)
	uid2 := s.env.Append(t, "alice", "INBOX", testMail(2))
	other := s.device(t, "phone-other")

	keys := map[*syncEnv]map[string]string{}
	for _, d := range []*syncEnv{s, other} {
		keys[d] = map[string]string{}
		for _, f := range []string{inbox, junk} {
			key, c := d.syncAll(t, f, d.start(t, f))
			keys[d][f] = key
			if f == inbox && len(c.Add) != 2 {
				t.Fatalf("initial sync: %+v", c)
			}
		}
	}

	src := model.MailID{FolderID: inbox, UID: uid1}.String()
	r := s.moveOne(t, src, inbox, junk)
	if r.Status != 3 {
		t.Fatalf("move: %+v", r)
	}
	dst, err := model.ParseMailID(r.DstMsgID)
	if err != nil || dst.FolderID != junk {
		t.Fatalf("new ServerId %q: %v", r.DstMsgID, err)
	}

	// The response was lost: the same request again.
	if again := s.moveOne(t, src, inbox, junk); again != r {
		t.Fatalf("re-sent move: %+v, first answer %+v", again, r)
	}

	// The mover: nothing to report in either folder.
	for _, f := range []string{inbox, junk} {
		key, c := s.syncAll(t, f, keys[s][f])
		noCommands(t, "mover's sync of "+f, c)
		keys[s][f] = key
	}
	// Another device: Delete in the source, one Add in the destination.
	_, c := other.syncAll(t, inbox, keys[other][inbox])
	if !slices.Equal(ids(c.Delete), []string{src}) || len(c.Add) != 0 {
		t.Fatalf("other device, inbox: %+v", c)
	}
	_, c = other.syncAll(t, junk, keys[other][junk])
	if !slices.Equal(ids(c.Add), []string{r.DstMsgID}) || len(c.Delete) != 0 {
		t.Fatalf("other device, junk: %+v", c)
	}
	if read := c.Add[0].ApplicationData.(*wbxml.Element).ChildText("Email:Read"); read != "1" {
		t.Fatalf("moved message lost \\Seen: Read = %q", read)
	}

	// The mover's destination state is a real state: a new message
	// arrives as one Add, the moved one is not sent again.
	s.env.Append(t, "alice", "Junk", testMail(3))
	_, c = s.syncAll(t, junk, keys[s][junk])
	if len(c.Add) != 1 || len(c.Delete) != 0 || c.Add[0].ServerID == r.DstMsgID {
		t.Fatalf("mover after a new message: %+v", c)
	}

	// Moving back works too, and the second message never moved.
	back := s.moveOne(t, r.DstMsgID, junk, inbox)
	if back.Status != 3 || back.DstMsgID == src {
		t.Fatalf("move back: %+v", back)
	}
	key, c := s.syncAll(t, inbox, keys[s][inbox])
	noCommands(t, "mover's inbox after moving back", c)
	keys[s][inbox] = key
	_, c = other.syncAll(t, inbox, keys[other][inbox])
	if !slices.Equal(ids(c.Add), []string{back.DstMsgID}) {
		t.Fatalf("other device after the move back: %+v", c)
	}
	if uid2 == uid1 {
		t.Fatal("one UID for two messages")
	}
}

func TestMoveItemsStatuses(t *testing.T) {
	s := startSync(t)
	inbox, junk, contacts := s.ids["Inbox"], s.ids["Junk"], s.ids["Contacts"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	id := model.MailID{FolderID: inbox, UID: uid}.String()
	for _, tc := range []struct {
		name          string
		src, from, to string
		want          int
	}{
		{"bad id", "junk", inbox, junk, 1},
		{"unknown source folder", id, "999", junk, 1},
		{"id of another folder", id, junk, inbox, 1},
		{"message never existed", inbox + ":99999", inbox, junk, 1},
		{"unknown destination", id, inbox, "999", 2},
		{"PIM destination", id, inbox, contacts, 2},
		{"same folder", id, inbox, inbox, 4},
	} {
		if r := s.moveOne(t, tc.src, tc.from, tc.to); r.Status != tc.want || r.DstMsgID != "" {
			t.Errorf("%s: %+v, want status %d", tc.name, r, tc.want)
		}
	}
	// Several moves in one request are answered one by one.
	r, err := s.c.MoveItems(context.Background(),
		message.MoveItem{SrcMsgID: id, SrcFldID: inbox, DstFldID: junk},
		message.MoveItem{SrcMsgID: inbox + ":99999", SrcFldID: inbox, DstFldID: junk})
	if err != nil || len(r.Response) != 2 || r.Response[0].Status != 3 || r.Response[1].Status != 1 {
		t.Fatalf("two moves: %+v %v", r, err)
	}
	// A destination removed on the mail server behind easd's back: 2,
	// and the message stays where it was.
	uid2 := s.env.Append(t, "alice", "INBOX", testMail(2))
	id2 := model.MailID{FolderID: inbox, UID: uid2}.String()
	store := mailStore(s.env)
	if err := store.CreateMailbox(context.Background(), "alice", "alice", "Old"); err != nil {
		t.Fatal(err)
	}
	old := syncFolderIDs(t, s.c)["Old"]
	if err := store.DeleteMailbox(context.Background(), "alice", "alice", "Old"); err != nil {
		t.Fatal(err)
	}
	if r := s.moveOne(t, id2, inbox, old); old == "" || r.Status != 2 {
		t.Fatalf("move to a deleted mailbox: %+v", r)
	}
	if r := s.moveOne(t, id2, inbox, s.ids["Trash"]); r.Status != 3 {
		t.Fatalf("the message after a failed move: %+v", r)
	}
	// A source removed the same way: 1.
	if err := store.CreateMailbox(context.Background(), "alice", "alice", "Gone"); err != nil {
		t.Fatal(err)
	}
	goneUID := s.env.Append(t, "alice", "Gone", testMail(3))
	gone := syncFolderIDs(t, s.c)["Gone"]
	if err := store.DeleteMailbox(context.Background(), "alice", "alice", "Gone"); err != nil {
		t.Fatal(err)
	}
	if r := s.moveOne(t, model.MailID{FolderID: gone, UID: goneUID}.String(), gone, inbox); r.Status != 1 {
		t.Fatalf("move from a deleted mailbox: %+v", r)
	}
	// Another device re-sending the first move has no record of it.
	o := s.device(t, "phone-other")
	if r := o.moveOne(t, id, inbox, junk); r.Status != 1 {
		t.Fatalf("other device's move of a moved message: %+v", r)
	}
}

// The mover's Sync response was lost before the move: the client re-sends
// the previous key afterwards and still hears nothing of its own move,
// while the change the lost response carried comes again.
func TestMoveItemsAfterLostSync(t *testing.T) {
	s := startSync(t)
	inbox, junk := s.ids["Inbox"], s.ids["Junk"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	junkKey, _ := s.syncAll(t, junk, s.start(t, junk))
	prev, c := s.syncAll(t, inbox, s.start(t, inbox))
	if len(c.Add) != 1 {
		t.Fatalf("initial: %+v", c)
	}
	newUID := s.env.Append(t, "alice", "INBOX", testMail(2))
	if _, c := s.syncAll(t, inbox, prev); len(c.Add) != 1 { // this response is lost
		t.Fatalf("second sync: %+v", c)
	}
	r := s.moveOne(t, model.MailID{FolderID: inbox, UID: uid}.String(), inbox, junk)
	if r.Status != 3 {
		t.Fatalf("move: %+v", r)
	}
	_, c = s.syncAll(t, inbox, prev)
	if want := []string{model.MailID{FolderID: inbox, UID: newUID}.String()}; !slices.Equal(ids(c.Add), want) || len(c.Delete) != 0 {
		t.Fatalf("replayed inbox sync: %+v, want only the add %v", c, want)
	}
	_, c = s.syncAll(t, junk, junkKey)
	noCommands(t, "junk after the move", c)
}
