package eas_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/easdtest"
)

// Outlook shows a message twice when, after it moved the message itself,
// the destination's next Sync sends it as an Add (PROTOCOL.md). easd
// amends the mover's sync states of both folders with the move, so these
// tests hold an Outlook client to: no Add in the destination, no Delete
// in the source, whatever order and retries it uses; other devices see
// the move as one Delete and one Add.

// outlook is alice's Outlook on deviceID, as Outlook identifies itself.
func outlook(env *easdtest.Env, deviceID string) *syncEnv {
	c := env.Client("alice", deviceID)
	c.DeviceType, c.UserAgent = "WindowsOutlook15", "Outlook/16.0"
	return &syncEnv{env: env, c: c}
}

// startOutlook runs easd (configure adjusts it) with a user folder
// "Projects" next to alice's INBOX and returns her Outlook, folder ids
// known.
func startOutlook(t *testing.T, configure ...func(*config.Config)) *syncEnv {
	t.Helper()
	env := easdtest.Start(t, append([]func(*config.Config){noPolicy}, configure...)...)
	if err := mailStore(env).CreateMailbox(context.Background(), "alice", "alice", "Projects"); err != nil {
		t.Fatal(err)
	}
	s := outlook(env, "outlook1")
	s.ids = syncFolderIDs(t, s.c)
	if s.ids["Projects"] == "" {
		t.Fatalf("no Projects folder: %v", s.ids)
	}
	return s
}

// fullSync makes the partnership of folder and syncs it to the end.
func (s *syncEnv) fullSync(t *testing.T, folder string) (string, message.SyncCommands) {
	t.Helper()
	return s.syncAll(t, folder, s.start(t, folder))
}

// quiet syncs folder and checks that the client hears nothing; it
// returns the new key.
func (s *syncEnv) quiet(t *testing.T, what, folder, key string) string {
	t.Helper()
	key, c := s.syncAll(t, folder, key)
	noCommands(t, what, c)
	return key
}

// countIn is how many messages the mail server holds in mailbox.
func countIn(t *testing.T, s *syncEnv, mailboxName string) int {
	t.Helper()
	return len(mailbox(t, s.env, "alice", mailboxName))
}

// The basic case, then what Outlook does next with the moved message: a
// flag change on the server reaches it as a Change of the new ServerId,
// and the move survives further Syncs of both folders.
func TestMoveItemsOutlookNoDuplicate(t *testing.T) {
	s := startOutlook(t)
	inbox, projects := s.ids["Inbox"], s.ids["Projects"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	s.env.Append(t, "alice", "INBOX", testMail(2))
	inboxKey, c := s.fullSync(t, inbox)
	if len(c.Add) != 2 {
		t.Fatalf("initial inbox: %+v", c)
	}
	projectsKey, c := s.fullSync(t, projects)
	noCommands(t, "initial Projects", c)

	src := model.MailID{FolderID: inbox, UID: uid}.String()
	r := s.moveOne(t, src, inbox, projects)
	if r.Status != 3 {
		t.Fatalf("move: %+v", r)
	}
	if dst, err := model.ParseMailID(r.DstMsgID); err != nil || dst.FolderID != projects {
		t.Fatalf("new ServerId %q: %v", r.DstMsgID, err)
	}
	// Outlook syncs the destination first, then the source; twice, as it
	// does after its own change.
	for range 2 {
		projectsKey = s.quiet(t, "Projects after the move", projects, projectsKey)
		inboxKey = s.quiet(t, "Inbox after the move", inbox, inboxKey)
	}

	// The client holds the moved message under its new ServerId: a change
	// on the server comes as a Change of that id, never as an Add.
	dst, _ := model.ParseMailID(r.DstMsgID)
	if err := mailStore(s.env).AddFlag(context.Background(), "alice", "alice", "Projects", dst.UID, `\Seen`); err != nil {
		t.Fatal(err)
	}
	projectsKey, c = s.syncAll(t, projects, projectsKey)
	if len(c.Add) != 0 || len(c.Delete) != 0 || !slices.Equal(ids(c.Change), []string{r.DstMsgID}) {
		t.Fatalf("Projects after a flag change of the moved message: %+v", c)
	}
	s.quiet(t, "Projects at the end", projects, projectsKey)
	s.quiet(t, "Inbox at the end", inbox, inboxKey)
	if n := countIn(t, s, "Projects"); n != 1 {
		t.Fatalf("%d messages in Projects, want 1", n)
	}
}

// A destination Outlook never synced has no state to amend: its first
// Sync lists the moved message as an Add, which is right, since a client
// starting a folder at key 0 drops what it held there. The source still
// reports nothing.
func TestMoveItemsOutlookUnsyncedDestination(t *testing.T) {
	s := startOutlook(t)
	inbox, projects := s.ids["Inbox"], s.ids["Projects"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	inboxKey, _ := s.fullSync(t, inbox)

	r := s.moveOne(t, model.MailID{FolderID: inbox, UID: uid}.String(), inbox, projects)
	if r.Status != 3 {
		t.Fatalf("move: %+v", r)
	}
	s.quiet(t, "Inbox after the move", inbox, inboxKey)
	key, c := s.fullSync(t, projects)
	if !slices.Equal(ids(c.Add), []string{r.DstMsgID}) || len(c.Change)+len(c.Delete) != 0 {
		t.Fatalf("first Sync of Projects: %+v, want one Add of %s", c, r.DstMsgID)
	}
	s.quiet(t, "Projects after its first Sync", projects, key)
}

// The MoveItems response is lost and Outlook sends the request again,
// before or after syncing: it gets the same new ServerId, the message is
// moved once, and neither folder reports anything. A second device, which
// synced both folders before, sees one Delete and one Add, once.
func TestMoveItemsOutlookRetryAndSecondDevice(t *testing.T) {
	s := startOutlook(t)
	inbox, projects := s.ids["Inbox"], s.ids["Projects"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	s.env.Append(t, "alice", "INBOX", testMail(2))
	other := outlook(s.env, "outlook2")
	other.ids = syncFolderIDs(t, other.c)
	keys := map[*syncEnv]map[string]string{s: {}, other: {}}
	for _, d := range []*syncEnv{s, other} {
		for _, f := range []string{inbox, projects} {
			keys[d][f], _ = d.fullSync(t, f)
		}
	}

	src := model.MailID{FolderID: inbox, UID: uid}.String()
	r := s.moveOne(t, src, inbox, projects)
	if r.Status != 3 {
		t.Fatalf("move: %+v", r)
	}
	if again := s.moveOne(t, src, inbox, projects); again != r {
		t.Fatalf("re-sent move: %+v, first answer %+v", again, r)
	}
	keys[s][projects] = s.quiet(t, "Projects after the re-sent move", projects, keys[s][projects])
	keys[s][inbox] = s.quiet(t, "Inbox after the re-sent move", inbox, keys[s][inbox])
	// A retry after the Syncs too (Outlook retries its outbox of changes
	// when it reconnects).
	if again := s.moveOne(t, src, inbox, projects); again != r {
		t.Fatalf("move re-sent after the Syncs: %+v, first answer %+v", again, r)
	}
	s.quiet(t, "Projects after the late retry", projects, keys[s][projects])
	s.quiet(t, "Inbox after the late retry", inbox, keys[s][inbox])
	if in, pr := countIn(t, s, "INBOX"), countIn(t, s, "Projects"); in != 1 || pr != 1 {
		t.Fatalf("INBOX %d, Projects %d messages, want 1 and 1", in, pr)
	}

	key, c := other.syncAll(t, inbox, keys[other][inbox])
	if !slices.Equal(ids(c.Delete), []string{src}) || len(c.Add)+len(c.Change) != 0 {
		t.Fatalf("second device, Inbox: %+v, want one Delete of %s", c, src)
	}
	other.quiet(t, "second device, Inbox again", inbox, key)
	key, c = other.syncAll(t, projects, keys[other][projects])
	if !slices.Equal(ids(c.Add), []string{r.DstMsgID}) || len(c.Delete)+len(c.Change) != 0 {
		t.Fatalf("second device, Projects: %+v, want one Add of %s", c, r.DstMsgID)
	}
	other.quiet(t, "second device, Projects again", projects, key)

	// The second device never moved the message: its own re-send of the
	// move has no record and the message is not in its source any more.
	if r2 := other.moveOne(t, src, inbox, projects); r2.Status != 1 {
		t.Fatalf("second device moving the moved message: %+v, want 1", r2)
	}
}

// Outlook moves a message into a folder whose first Sync is still paging
// (MoreAvailable): the remaining pages bring the folder's own messages
// and not the moved one, which the client already holds.
func TestMoveItemsOutlookDuringInitialSync(t *testing.T) {
	s := startOutlook(t)
	inbox, projects := s.ids["Inbox"], s.ids["Projects"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	var want []string
	for i := 10; i < 15; i++ {
		u := s.env.Append(t, "alice", "Projects", testMail(i))
		want = append(want, model.MailID{FolderID: projects, UID: u}.String())
	}
	inboxKey, _ := s.fullSync(t, inbox)
	rc := s.sync(t, message.SyncCollection{SyncKey: s.start(t, projects), CollectionID: projects, WindowSize: 2, GetChanges: new(true)})
	if rc.Status != 1 || !rc.MoreAvailable || len(commands(rc).Add) != 2 {
		t.Fatalf("first page of Projects: %+v", rc)
	}
	got := ids(commands(rc).Add)

	r := s.moveOne(t, model.MailID{FolderID: inbox, UID: uid}.String(), inbox, projects)
	if r.Status != 3 {
		t.Fatalf("move: %+v", r)
	}
	key := rc.SyncKey
	for range 10 {
		rc = s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: projects, WindowSize: 2, GetChanges: new(true)})
		if rc.Status != 1 {
			t.Fatalf("Projects page: %+v", rc)
		}
		c := commands(rc)
		if len(c.Delete)+len(c.Change) != 0 {
			t.Fatalf("Projects page with more than Adds: %+v", c)
		}
		got = append(got, ids(c.Add)...)
		key = rc.SyncKey
		if !rc.MoreAvailable {
			break
		}
	}
	if rc.MoreAvailable {
		t.Fatal("MoreAvailable never ends")
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Projects' initial Sync sent %v, want the folder's own %v (not the moved %s)", got, want, r.DstMsgID)
	}
	s.quiet(t, "Projects after its initial Sync", projects, key)
	s.quiet(t, "Inbox after the move", inbox, inboxKey)
}

// A mail server without UIDPLUS gives no COPYUID after MOVE, so the new
// UID is not in its answer. easd finds the message in the destination by
// its Message-ID (or as the only new message) and answers as with
// UIDPLUS: Outlook gets the new ServerId and no Add for it, another
// device the usual Delete and Add.
func TestMoveItemsOutlookWithoutUIDPlus(t *testing.T) {
	var proxy *imapProxy
	s := startOutlook(t, func(c *config.Config) {
		proxy = startIMAPProxy(t, c.IMAPAddr, true)
		c.IMAPAddr = proxy.Addr()
	})
	inbox, projects := s.ids["Inbox"], s.ids["Projects"]
	uid1 := s.env.Append(t, "alice", "INBOX", testMail(1))
	noID := []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: no id\r\n\r\nx\r\n")
	uid2 := s.env.Append(t, "alice", "INBOX", noID)
	uid3 := s.env.Append(t, "alice", "INBOX", testMail(3))
	s.env.Append(t, "alice", "Projects", testMail(9))
	other := outlook(s.env, "outlook2")
	other.ids = syncFolderIDs(t, other.c)
	keys := map[*syncEnv]map[string]string{s: {}, other: {}}
	for _, d := range []*syncEnv{s, other} {
		for _, f := range []string{inbox, projects} {
			keys[d][f], _ = d.fullSync(t, f)
		}
	}

	var moved []string
	for _, uid := range []uint32{uid1, uid2} {
		src := model.MailID{FolderID: inbox, UID: uid}.String()
		r := s.moveOne(t, src, inbox, projects)
		if r.Status != 3 {
			t.Fatalf("move of %s without UIDPLUS: %+v, want 3", src, r)
		}
		if again := s.moveOne(t, src, inbox, projects); again != r {
			t.Fatalf("re-sent move: %+v, first answer %+v", again, r)
		}
		moved = append(moved, r.DstMsgID)
	}
	// The ServerIds name the moved messages.
	byUID := map[string]string{}
	for _, m := range mailbox(t, s.env, "alice", "Projects") {
		byUID[model.MailID{FolderID: projects, UID: m.uid}.String()] = string(m.body)
	}
	if !strings.Contains(byUID[moved[0]], "Subject: message 1") || !strings.Contains(byUID[moved[1]], "Subject: no id") {
		t.Fatalf("new ServerIds %v do not name the moved messages: %v", moved, byUID)
	}
	keys[s][projects] = s.quiet(t, "Projects after the moves", projects, keys[s][projects])
	keys[s][inbox] = s.quiet(t, "Inbox after the moves", inbox, keys[s][inbox])

	_, c := other.syncAll(t, inbox, keys[other][inbox])
	if len(c.Delete) != 2 || len(c.Add) != 0 {
		t.Fatalf("second device, Inbox: %+v", c)
	}
	keys[other][projects], c = other.syncAll(t, projects, keys[other][projects])
	got, want := ids(c.Add), slices.Clone(moved)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || len(c.Delete) != 0 {
		t.Fatalf("second device, Projects: %+v, want Adds of %v", c, moved)
	}

	// A message with the same Message-ID lands in Projects while the MOVE
	// is under way: easd cannot tell which is the moved one and says the
	// move failed (5) without amending the client's state, so the next
	// Syncs show the true picture, a Delete and two Adds, rather than
	// leaving a message the client does not know of.
	proxy.CutOn(func(cmd string) bool {
		if strings.Contains(cmd, " MOVE ") {
			proxy.CutOn(nil)
			// On the proxy's goroutine: no t.Fatal here.
			if _, err := dovecot.Append(context.Background(), s.env.IMAP.Addr(), "alice", "alice", "Projects", testMail(3)); err != nil {
				t.Errorf("append during the move: %v", err)
			}
		}
		return false
	})
	src := model.MailID{FolderID: inbox, UID: uid3}.String()
	if r := s.moveOne(t, src, inbox, projects); r.Status != 5 || r.DstMsgID != "" {
		t.Fatalf("ambiguous move: %+v, want 5", r)
	}
	_, c = s.syncAll(t, inbox, keys[s][inbox])
	if !slices.Equal(ids(c.Delete), []string{src}) || len(c.Add) != 0 {
		t.Fatalf("Inbox after the ambiguous move: %+v", c)
	}
	_, c = s.syncAll(t, projects, keys[s][projects])
	if len(c.Add) != 2 || len(c.Delete) != 0 {
		t.Fatalf("Projects after the ambiguous move: %+v, want 2 Adds", c)
	}
}
