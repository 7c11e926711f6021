package eas_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// flagSet is an Email:Flag as child name -> text, in the order a phone
// writes them.
type flagSet [][2]string

func (f flagSet) element() *wbxml.Element {
	el := wbxml.NewElement(wbxml.MustTag("Email:Flag"))
	for _, kv := range f {
		el.Add(wbxml.TextElement(wbxml.MustTag(kv[0]), kv[1]))
	}
	return el
}

func (f flagSet) fields() map[string]string {
	m := map[string]string{}
	for _, kv := range f {
		m[kv[0]] = kv[1]
	}
	return m
}

// with returns f with the fields of g added or replaced.
func (f flagSet) with(g flagSet) flagSet {
	out := flagSet{}
	repl := g.fields()
	for _, kv := range f {
		if v, ok := repl[kv[0]]; ok {
			kv[1] = v
			delete(repl, kv[0])
		}
		out = append(out, kv)
	}
	for _, kv := range g {
		if _, ok := repl[kv[0]]; ok {
			out = append(out, kv)
		}
	}
	return out
}

// activeFlag is what iOS and Outlook send for "flag, due Friday, remind
// me Thursday morning".
var activeFlag = flagSet{
	{"Email:Status", "2"},
	{"Email:FlagType", "Follow up"},
	{"Tasks:StartDate", "2026-03-02T00:00:00.000Z"},
	{"Tasks:DueDate", "2026-03-06T00:00:00.000Z"},
	{"Tasks:UtcStartDate", "2026-03-01T23:00:00.000Z"},
	{"Tasks:UtcDueDate", "2026-03-05T23:00:00.000Z"},
	{"Tasks:ReminderSet", "1"},
	{"Tasks:ReminderTime", "2026-03-05T08:00:00.000Z"},
	{"Tasks:OrdinalDate", "2026-03-02T10:11:12.345Z"},
	{"Tasks:SubOrdinalDate", "5555555"},
}

var completeFlag = activeFlag.with(flagSet{
	{"Email:Status", "1"},
	{"Tasks:DateCompleted", "2026-03-04T09:30:00.000Z"},
	{"Email:CompleteTime", "2026-03-04T09:30:00.000Z"},
})

// flagChange is a client Change of a message's Flag only (nil: an empty
// Flag, which clears it).
func flagChange(serverID string, f flagSet) message.SyncClientChange {
	flag := wbxml.NewElement(wbxml.MustTag("Email:Flag"))
	if f != nil {
		flag = f.element()
	}
	return message.SyncClientChange{ServerID: serverID,
		ApplicationData: wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), flag)}
}

// flagOf returns the Email:Flag of an item as child name -> text; nil
// when the item has no Flag at all, empty for <Flag/>.
func flagOf(t *testing.T, data any) map[string]string {
	t.Helper()
	el, ok := data.(*wbxml.Element)
	if !ok {
		t.Fatalf("ApplicationData %T", data)
	}
	f := el.Child("Email:Flag")
	if f == nil {
		return nil
	}
	m := map[string]string{}
	for _, c := range f.Children {
		m[c.Tag.String()] = c.Text
	}
	return m
}

func wantFlag(t *testing.T, what string, got map[string]string, want flagSet) {
	t.Helper()
	if w := want.fields(); got == nil || !maps.Equal(got, w) {
		t.Fatalf("%s: Flag %v\nwant %v", what, got, w)
	}
}

// flagRows counts the stored flag details of a message.
func flagRows(t *testing.T, s *syncEnv, folder string, uid uint32) int {
	t.Helper()
	var n int
	if err := s.env.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_flags
		WHERE folder_id = $1 AND uid = $2`, folder, int64(uid)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// change sends the client's changes of items in folder and requires a
// plain success: Status 1, no per-item answer, nothing sent back. It
// returns the new key.
func (s *syncEnv) change(t *testing.T, folder, key string, chs ...message.SyncClientChange) string {
	t.Helper()
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder,
		Commands: &message.SyncClientCommands{Change: chs}})
	if rc.Status != 1 || rc.Responses != nil || rc.Commands != nil {
		t.Fatalf("change: %+v %+v %+v", rc, rc.Responses, rc.Commands)
	}
	return rc.SyncKey
}

// oneChange syncs folder from key and returns the new key and the only
// Change, failing on anything else.
func (s *syncEnv) oneChange(t *testing.T, folder, key, serverID string) (string, message.SyncItem) {
	t.Helper()
	key, c := s.syncAll(t, folder, key)
	if len(c.Change) != 1 || len(c.Add)+len(c.Delete)+len(c.SoftDelete) != 0 || c.Change[0].ServerID != serverID {
		t.Fatalf("want one Change of %s: %+v", serverID, c)
	}
	return key, c.Change[0]
}

// Flag details a phone sets reach the user's other phones in Changes, in
// Sync Fetch and ItemOperations; they are not echoed to the phone that set
// them; a re-sent request stores nothing twice; completion reads back as
// Status 1 with its dates although IMAP only loses \Flagged; clearing
// removes them.
func TestSyncMailFlagDetails(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	sid := model.MailID{FolderID: inbox, UID: uid}.String()
	b := s.device(t, "phone-b")
	keyA, c := s.syncAll(t, inbox, s.start(t, inbox))
	if len(c.Add) != 1 || len(flagOf(t, c.Add[0].ApplicationData)) != 0 {
		t.Fatalf("initial: %+v", c)
	}
	keyB, _ := b.syncAll(t, inbox, b.start(t, inbox))

	// A flags with dates; its answer is lost and it sends the same again.
	req := message.SyncCollection{SyncKey: keyA, CollectionID: inbox,
		Commands: &message.SyncClientCommands{Change: []message.SyncClientChange{flagChange(sid, activeFlag)}}}
	first := s.sync(t, req)
	if first.Status != 1 || first.Commands != nil || first.Responses != nil {
		t.Fatalf("flag: %+v %+v", first, first.Commands)
	}
	again := s.sync(t, req)
	if again.Status != 1 || again.Responses != nil {
		t.Fatalf("re-sent flag: %+v", again)
	}
	// The replayed Change looks like a conflict (the state of the old key
	// knew the message unflagged), so the server's copy may come back: it
	// must be the client's own flag, dates and all.
	if cm := commands(again); len(cm.Add)+len(cm.Delete)+len(cm.SoftDelete) != 0 || len(cm.Change) > 1 {
		t.Fatalf("re-sent flag sent: %+v", cm)
	} else if len(cm.Change) == 1 {
		wantFlag(t, "re-sent flag's Change", flagOf(t, cm.Change[0].ApplicationData), activeFlag)
	}
	if n := flagRows(t, s, inbox, uid); n != 1 {
		t.Fatalf("%d rows after a re-sent flag, want 1", n)
	}
	keyA, c = s.syncAll(t, inbox, again.SyncKey)
	noCommands(t, "A after its own flag", c)

	// B gets the flag with A's dates, in a Change, a Fetch and ItemOperations.
	keyB, ch := b.oneChange(t, inbox, keyB, sid)
	wantFlag(t, "B's Change", flagOf(t, ch.ApplicationData), activeFlag)
	rc := b.sync(t, message.SyncCollection{SyncKey: keyB, CollectionID: inbox,
		Commands: &message.SyncClientCommands{Fetch: []message.SyncClientFetch{{ServerID: sid}}}})
	if rc.Responses == nil || len(rc.Responses.Fetch) != 1 || rc.Responses.Fetch[0].Status != 1 {
		t.Fatalf("B's fetch: %+v", rc.Responses)
	}
	wantFlag(t, "B's Sync Fetch", flagOf(t, rc.Responses.Fetch[0].ApplicationData), activeFlag)
	keyB = rc.SyncKey
	_, props, _ := fetchOne(t, b.c, message.ItemOperationsFetch{ServerID: sid, CollectionID: inbox}, false)
	wantFlag(t, "ItemOperations Fetch", flagOf(t, props), activeFlag)

	// Completed on A: IMAP loses \Flagged, B reads Status 1 with the dates.
	keyA = s.change(t, inbox, keyA, flagChange(sid, completeFlag))
	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if fl, err := sess.Flags(ctx, "INBOX", []uint32{uid}); err != nil || fl[uid].Flagged {
		t.Fatalf("completed message on the server: %+v %v", fl, err)
	}
	keyB, ch = b.oneChange(t, inbox, keyB, sid)
	wantFlag(t, "B's Change after completion", flagOf(t, ch.ApplicationData), completeFlag)
	_, props, _ = fetchOne(t, b.c, message.ItemOperationsFetch{ServerID: sid, CollectionID: inbox}, false)
	wantFlag(t, "ItemOperations Fetch after completion", flagOf(t, props), completeFlag)
	keyA, c = s.syncAll(t, inbox, keyA)
	noCommands(t, "A after its completion", c)

	// Flagged again on A, then cleared: B follows, the row goes.
	for _, f := range []flagSet{activeFlag, nil} {
		keyA = s.change(t, inbox, keyA, flagChange(sid, f))
		keyB, ch = b.oneChange(t, inbox, keyB, sid)
		wantFlag(t, "B after A's flag change", flagOf(t, ch.ApplicationData), f)
	}
	if n := flagRows(t, s, inbox, uid); n != 0 {
		t.Fatalf("%d rows after clearing, want 0", n)
	}

	// A Status 1 without dates is completed now; a Status out of range is
	// refused with Status 6 and changes nothing.
	keyA = s.change(t, inbox, keyA, flagChange(sid, flagSet{{"Email:Status", "2"}}))
	keyA = s.change(t, inbox, keyA, flagChange(sid, flagSet{{"Email:Status", "1"}}))
	_, props, _ = fetchOne(t, b.c, message.ItemOperationsFetch{ServerID: sid, CollectionID: inbox}, false)
	if f := flagOf(t, props); f["Email:Status"] != "1" || f["Email:CompleteTime"] == "" || f["Tasks:DateCompleted"] == "" {
		t.Fatalf("completed without dates: %v", f)
	}
	rc = s.sync(t, message.SyncCollection{SyncKey: keyA, CollectionID: inbox,
		Commands: &message.SyncClientCommands{Change: []message.SyncClientChange{flagChange(sid, flagSet{{"Email:Status", "7"}})}}})
	if rc.Responses == nil || len(rc.Responses.Change) != 1 || rc.Responses.Change[0].Status != 6 {
		t.Fatalf("Status 7: %+v", rc.Responses)
	}
	if _, props, _ = fetchOne(t, b.c, message.ItemOperationsFetch{ServerID: sid, CollectionID: inbox}, false); flagOf(t, props)["Email:Status"] != "1" {
		t.Fatalf("refused change changed the flag: %v", flagOf(t, props))
	}
}

// IMAP is the truth for flagged or not: details stored for an active
// flag that another mail client cleared are not shown (and are dropped),
// and a flag another client set shows as the default follow-up flag.
func TestSyncMailFlagChangedElsewhere(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	sid := model.MailID{FolderID: inbox, UID: uid}.String()
	b := s.device(t, "phone-b")
	keyA, _ := s.syncAll(t, inbox, s.start(t, inbox))
	keyB, _ := b.syncAll(t, inbox, b.start(t, inbox))

	s.change(t, inbox, keyA, flagChange(sid, activeFlag))
	keyB, _ = b.oneChange(t, inbox, keyB, sid)

	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, _, err := sess.SetFlags(ctx, "INBOX", uid, model.MailFlagChange{Flagged: new(false)}); err != nil {
		t.Fatal(err)
	}
	keyB, ch := b.oneChange(t, inbox, keyB, sid)
	if f := flagOf(t, ch.ApplicationData); f == nil || len(f) != 0 {
		t.Fatalf("flag cleared elsewhere: %v", f)
	}
	if n := flagRows(t, s, inbox, uid); n != 0 {
		t.Errorf("%d stale rows kept, want 0", n)
	}

	if _, _, err := sess.SetFlags(ctx, "INBOX", uid, model.MailFlagChange{Flagged: new(true)}); err != nil {
		t.Fatal(err)
	}
	_, ch = b.oneChange(t, inbox, keyB, sid)
	wantFlag(t, "flag set elsewhere", flagOf(t, ch.ApplicationData),
		flagSet{{"Email:Status", "2"}, {"Email:FlagType", "Flag for follow up"}})
}

// The details follow a message that MoveItems moves: another device sees
// them on the Add in the destination, the moving device on a Fetch.
func TestMoveItemsFlagDetails(t *testing.T) {
	s := startSync(t)
	inbox, junk := s.ids["Inbox"], s.ids["Junk"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	sid := model.MailID{FolderID: inbox, UID: uid}.String()
	b := s.device(t, "phone-b")
	keyA, _ := s.syncAll(t, inbox, s.start(t, inbox))
	keyB, _ := b.syncAll(t, junk, b.start(t, junk))

	s.change(t, inbox, keyA, flagChange(sid, activeFlag))
	r := s.moveOne(t, sid, inbox, junk)
	if r.Status != 3 {
		t.Fatalf("move: %+v", r)
	}
	dst, err := model.ParseMailID(r.DstMsgID)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := flagRows(t, s, inbox, uid), flagRows(t, s, junk, dst.UID); n != 0 || m != 1 {
		t.Fatalf("rows after the move: %d in the source, %d in the destination", n, m)
	}
	_, c := b.syncAll(t, junk, keyB)
	if len(c.Add) != 1 || c.Add[0].ServerID != r.DstMsgID {
		t.Fatalf("B's junk after the move: %+v", c)
	}
	wantFlag(t, "moved message's Add", flagOf(t, c.Add[0].ApplicationData), activeFlag)
	_, props, _ := fetchOne(t, s.c, message.ItemOperationsFetch{ServerID: r.DstMsgID, CollectionID: junk}, false)
	wantFlag(t, "moved message fetched", flagOf(t, props), activeFlag)
}

// Deleting a flagged message moves it to Deleted Items with its details,
// by the UIDs the server's COPYUID names: from a Sync Delete (also when
// the answer is lost and the Delete re-sent) and from EmptyFolderContents.
func TestDeleteFlagDetailsToTrash(t *testing.T) {
	s := startSync(t)
	inbox, trash := s.ids["Inbox"], s.ids["Trash"]
	uids := []uint32{s.env.Append(t, "alice", "INBOX", testMail(1)), s.env.Append(t, "alice", "INBOX", testMail(2))}
	sids := []string{model.MailID{FolderID: inbox, UID: uids[0]}.String(), model.MailID{FolderID: inbox, UID: uids[1]}.String()}
	keyA, _ := s.syncAll(t, inbox, s.start(t, inbox))
	keyT, _ := s.syncAll(t, trash, s.start(t, trash))
	keyA = s.change(t, inbox, keyA, flagChange(sids[0], activeFlag), flagChange(sids[1], completeFlag))
	if flagRows(t, s, inbox, uids[0]) != 1 || flagRows(t, s, inbox, uids[1]) != 1 {
		t.Fatal("flag both: rows not stored")
	}
	del := message.SyncCollection{SyncKey: keyA, CollectionID: inbox,
		Commands: &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: sids[0]}}}}
	for _, try := range []string{"delete", "re-sent delete"} {
		if rc := s.sync(t, del); rc.Status != 1 || rc.Responses != nil {
			t.Fatalf("%s: %+v %+v", try, rc, rc.Responses)
		}
	}
	e := message.EmptyFolderContents{CollectionID: inbox}
	r, _, err := s.c.ItemOperations(context.Background(), &message.ItemOperationsRequest{EmptyFolderContents: []message.EmptyFolderContents{e}}, false)
	if err != nil || r.Response == nil || len(r.Response.EmptyFolderContents) != 1 || r.Response.EmptyFolderContents[0].Status != 1 {
		t.Fatalf("empty the inbox: %+v %v", r, err)
	}
	_, c := s.syncAll(t, trash, keyT)
	if len(c.Add) != 2 {
		t.Fatalf("Deleted Items after the deletes: %+v", c)
	}
	got := map[string]map[string]string{}
	for _, a := range c.Add {
		props := a.ApplicationData.(*wbxml.Element)
		got[props.ChildText("Email:Subject")] = flagOf(t, props)
		id, err := model.ParseMailID(a.ServerID)
		if err != nil || flagRows(t, s, trash, id.UID) != 1 {
			t.Fatalf("%s in Deleted Items: %d rows, %v", a.ServerID, flagRows(t, s, trash, id.UID), err)
		}
	}
	wantFlag(t, "deleted in a Sync", got["message 1"], activeFlag)
	wantFlag(t, "emptied", got["message 2"], completeFlag)
	for _, uid := range uids {
		if n := flagRows(t, s, inbox, uid); n != 0 {
			t.Fatalf("%d rows left in the inbox for UID %d", n, uid)
		}
	}
}

// Search results carry the stored flag details, as Sync does.
func TestSearchFlagDetails(t *testing.T) {
	s := startSync(t)
	inbox := s.ids["Inbox"]
	uids := []uint32{s.env.Append(t, "alice", "INBOX", testMail(1)), s.env.Append(t, "alice", "INBOX", testMail(2))}
	key, _ := s.syncAll(t, inbox, s.start(t, inbox))
	sid := model.MailID{FolderID: inbox, UID: uids[0]}.String()
	s.change(t, inbox, key, flagChange(sid, completeFlag))
	st := s.search(t, mailboxSearch("0-9", nil, text("AirSync:CollectionId", inbox), text("Search:FreeText", "body of message")))
	if len(st.Result) != 2 {
		t.Fatalf("search: %+v", st)
	}
	for _, r := range st.Result {
		got := flagOf(t, r.Properties)
		switch r.LongID {
		case sid:
			wantFlag(t, "flagged hit", got, completeFlag)
		default:
			if len(got) != 0 {
				t.Fatalf("unflagged hit %s: Flag %v", r.LongID, got)
			}
		}
	}
}

// Flag and all its children are 12.0+ (MS-ASEMAIL 2.2.2.34 and the
// sections of each child): a 12.1 device sets and gets the same details as
// a 16.1 one, without the 14.0 Categories.
func TestSyncMailFlagVersions(t *testing.T) {
	s := startSync(t)
	inbox := s.ids["Inbox"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	sid := model.MailID{FolderID: inbox, UID: uid}.String()
	old := &syncEnv{env: s.env, c: s.env.Client("alice", "phone-121")}
	old.c.Version = "12.1"
	old.ids = syncFolderIDs(t, old.c)
	keyNew, _ := s.syncAll(t, inbox, s.start(t, inbox))
	keyOld, _ := old.syncAll(t, inbox, old.start(t, inbox))

	// Set on 16.1 with a category: 12.1 gets the Flag, no Categories.
	ch := flagChange(sid, activeFlag)
	ch.ApplicationData.(*wbxml.Element).Add(wbxml.NewElement(wbxml.MustTag("Email:Categories"),
		wbxml.TextElement(wbxml.MustTag("Email:Category"), "Work")))
	keyNew = s.change(t, inbox, keyNew, ch)
	keyOld, item := old.oneChange(t, inbox, keyOld, sid)
	wantFlag(t, "12.1 Change", flagOf(t, item.ApplicationData), activeFlag)
	if item.ApplicationData.(*wbxml.Element).Child("Email:Categories") != nil {
		t.Fatalf("12.1 Change has Categories: %+v", item.ApplicationData)
	}

	// Completed on 12.1: 16.1 gets Status 1 with the dates, and its
	// category stays.
	old.change(t, inbox, keyOld, flagChange(sid, completeFlag))
	_, item = s.oneChange(t, inbox, keyNew, sid)
	wantFlag(t, "16.1 Change", flagOf(t, item.ApplicationData), completeFlag)
	if cats := item.ApplicationData.(*wbxml.Element).Path("Email:Categories", "Email:Category"); cats == nil || cats.Text != "Work" {
		t.Fatalf("16.1 Change lost the category: %+v", item.ApplicationData)
	}
}

// Details are keyed by the mailbox's UIDVALIDITY: after the mailbox is
// created again, a new message with an old UID does not get the old
// message's details, and the old rows are dropped when the client starts
// over. A Delete takes the details of the message with it.
func TestSyncMailFlagUIDValidity(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	store := mailStore(s.env)
	if err := store.CreateMailbox(ctx, "alice", "alice", "Receipts"); err != nil {
		t.Fatal(err)
	}
	uid := s.env.Append(t, "alice", "Receipts", testMail(1))
	id := syncFolderIDs(t, s.c)["Receipts"]
	sid := model.MailID{FolderID: id, UID: uid}.String()
	key, _ := s.syncAll(t, id, s.start(t, id))
	key = s.change(t, id, key, flagChange(sid, activeFlag))
	if flagRows(t, s, id, uid) != 1 {
		t.Fatal("flag: row not stored")
	}

	if err := store.DeleteMailbox(ctx, "alice", "alice", "Receipts"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Dovecot's UIDVALIDITY is a timestamp
	if err := store.CreateMailbox(ctx, "alice", "alice", "Receipts"); err != nil {
		t.Fatal(err)
	}
	if again := s.env.Append(t, "alice", "Receipts", testMail(2), `\Flagged`); again != uid {
		t.Fatalf("new mailbox gave UID %d, want the old %d", again, uid)
	}
	if rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: id}); rc.Status != 3 {
		t.Fatalf("after UIDVALIDITY change: %+v", rc)
	}
	key, c := s.syncAll(t, id, s.start(t, id))
	if len(c.Add) != 1 || c.Add[0].ServerID != sid {
		t.Fatalf("resync: %+v", c)
	}
	wantFlag(t, "new message under the old UID", flagOf(t, c.Add[0].ApplicationData),
		flagSet{{"Email:Status", "2"}, {"Email:FlagType", "Flag for follow up"}})
	if n := flagRows(t, s, id, uid); n != 0 {
		t.Fatalf("%d rows of the old UIDVALIDITY kept", n)
	}

	// Flag it, then delete it: the row goes with the message.
	key = s.change(t, id, key, flagChange(sid, activeFlag))
	if flagRows(t, s, id, uid) != 1 {
		t.Fatal("flag again: row not stored")
	}
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: id,
		Commands: &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: sid}}}})
	if rc.Status != 1 {
		t.Fatalf("delete: %+v", rc)
	}
	if n := flagRows(t, s, id, uid); n != 0 {
		t.Fatalf("%d rows after the delete", n)
	}
}

// A change of only the flag's dates changes no IMAP flag, yet the user's
// other phone gets it: its waiting Ping wakes, and its next Sync sends the
// new dates as a Change (sync_mailflags_share.go). The phone that made
// the change hears nothing back.
func TestSyncMailFlagDatesReachOtherDevices(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	sid := model.MailID{FolderID: inbox, UID: uid}.String()
	b := s.device(t, "phone-b")
	keyA := s.catchUp(t, inbox, s.start(t, inbox))
	keyB := b.catchUp(t, inbox, b.start(t, inbox))

	// A flags the message: B sees \Flagged through IMAP, as before.
	keyA = s.change(t, inbox, keyA, flagChange(sid, activeFlag))
	keyB, c := b.oneChange(t, inbox, keyB, sid)
	wantFlag(t, "B after A flagged", flagOf(t, c.ApplicationData), activeFlag)

	// B waits; A moves the due date only.
	ping := pingAsync(b.c, time.Minute, email(inbox))
	stillWaiting(t, ping, 700*time.Millisecond)
	later := activeFlag.with(flagSet{{"Tasks:DueDate", "2026-03-13T00:00:00.000Z"}, {"Tasks:UtcDueDate", "2026-03-12T23:00:00.000Z"}})
	keyA = s.change(t, inbox, keyA, flagChange(sid, later))
	wantChanged(t, answer(t, ping, 10*time.Second), inbox)
	keyB, c = b.oneChange(t, inbox, keyB, sid)
	wantFlag(t, "B after A moved the due date", flagOf(t, c.ApplicationData), later)
	_, cm := s.syncAll(t, inbox, keyA)
	noCommands(t, "A after its own date change", cm)

	// Complete, then clear: B follows each (completing already takes
	// \Flagged away).
	keyA = s.change(t, inbox, keyA, flagChange(sid, completeFlag))
	keyB, c = b.oneChange(t, inbox, keyB, sid)
	wantFlag(t, "B after A completed the flag", flagOf(t, c.ApplicationData), completeFlag)
	s.change(t, inbox, keyA, flagChange(sid, nil))
	_, c = b.oneChange(t, inbox, keyB, sid)
	if got := flagOf(t, c.ApplicationData); len(got) != 0 {
		t.Errorf("B after A cleared the flag: %v, want an empty Flag", got)
	}
}
