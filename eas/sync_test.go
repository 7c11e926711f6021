package eas_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

// syncEnv is a running easd with alice's folder ids.
type syncEnv struct {
	env *easdtest.Env
	c   *client.Client
	ids map[string]string // display name -> folder id
}

func startSync(t *testing.T, configure ...func(*config.Config)) *syncEnv {
	t.Helper()
	env := easdtest.Start(t, append([]func(*config.Config){noPolicy}, configure...)...)
	c := env.Client("alice", "phone-sync")
	return &syncEnv{env: env, c: c, ids: syncFolderIDs(t, c)}
}

// recheckEveryWindow makes every window of an initial sync ask STATUS,
// for the tests of what a change between two windows does.
func recheckEveryWindow(c *config.Config) { c.MailRecheck = 0 }

// device is another device of alice's, its folders synced.
func (s *syncEnv) device(t *testing.T, id string) *syncEnv {
	t.Helper()
	d := &syncEnv{env: s.env, c: s.env.Client("alice", id)}
	d.ids = syncFolderIDs(t, d.c)
	return d
}

// syncFolderIDs runs a FolderSync and returns the folder ids by name.
func syncFolderIDs(t testing.TB, c *client.Client) map[string]string {
	t.Helper()
	r, err := c.FolderSync(context.Background(), "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	ids := map[string]string{}
	for _, f := range r.Changes.Add {
		ids[f.DisplayName] = f.ServerID
	}
	return ids
}

func testMail(i int) []byte {
	return fmt.Appendf(nil, "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: message %d\r\n"+
		"Date: Mon, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <m%d@example.test>\r\n\r\nbody of message %d\r\n", i, i, i)
}

// sync sends one Sync of one collection and returns its answer.
func (s *syncEnv) sync(t testing.TB, col message.SyncCollection) message.SyncResponseCollection {
	t.Helper()
	r, err := s.c.Sync(context.Background(), &message.SyncRequest{Collections: &message.SyncCollections{
		Collection: []message.SyncCollection{col}}})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if r.Collections == nil || len(r.Collections.Collection) != 1 {
		t.Fatalf("Sync answer without one collection: %+v", r)
	}
	return r.Collections.Collection[0]
}

// start makes the partnership of folder and returns its first key.
func (s *syncEnv) start(t testing.TB, folder string) string {
	t.Helper()
	rc := s.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: folder})
	if rc.Status != 1 || rc.SyncKey == "0" || rc.Commands != nil {
		t.Fatalf("key 0: %+v", rc)
	}
	return rc.SyncKey
}

// inboxMails delivers testMail(1) to testMail(n) to alice's INBOX and
// returns their UIDs.
func (s *syncEnv) inboxMails(t testing.TB, n int) []uint32 {
	t.Helper()
	uids := make([]uint32, 0, n)
	for i := 1; i <= n; i++ {
		uids = append(uids, s.env.Append(t, "alice", "INBOX", testMail(i)))
	}
	return uids
}

func ids(items []message.SyncItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ServerID
	}
	return out
}

func commands(rc message.SyncResponseCollection) message.SyncCommands {
	if rc.Commands == nil {
		return message.SyncCommands{}
	}
	return *rc.Commands
}

// imapCmds returns the IMAP command counts logged for the collection's
// mail Syncs, in order, with their path.
func imapCmds(env *easdtest.Env, folder string) []string {
	re := regexp.MustCompile(`"msg":"sync mail collection",[^\n]*"collection":"` + regexp.QuoteMeta(folder) + `","path":"(\w+)","imap_cmds":(\d+)`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(env.Logs(), -1) {
		out = append(out, m[1]+":"+m[2])
	}
	return out
}

func TestSyncMailPagingAndChanges(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	uids := s.inboxMails(t, 7)
	key := s.start(t, inbox)

	// Windows of 3: newest first, MoreAvailable until the last page.
	var got []string
	for page := 0; ; page++ {
		rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: 3})
		if rc.Status != 1 {
			t.Fatalf("page %d: %+v", page, rc)
		}
		adds := ids(commands(rc).Add)
		if len(adds) > 3 {
			t.Fatalf("page %d: %d adds in a window of 3", page, len(adds))
		}
		got = append(got, adds...)
		key = rc.SyncKey
		if !rc.MoreAvailable {
			break
		}
		if page > 5 {
			t.Fatal("MoreAvailable never ends")
		}
	}
	var want []string
	for i := len(uids) - 1; i >= 0; i-- {
		want = append(want, model.MailID{FolderID: inbox, UID: uids[i]}.String())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("adds %v, want newest first %v", got, want)
	}

	// Nothing changed: the same key comes back and the collection cost
	// one IMAP command (STATUS; pooled connections are handed back with
	// nothing selected), however large the folder.
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if rc.Status != 1 || rc.Commands != nil || rc.MoreAvailable || rc.SyncKey != key {
		t.Fatalf("quiet Sync: %+v", rc)
	}
	cmds := imapCmds(s.env, inbox)
	if len(cmds) == 0 || cmds[len(cmds)-1] != "unchanged:1" {
		t.Fatalf("quiet Sync IMAP work: %v", cmds)
	}

	// Changes made elsewhere: a new message, \Seen on one, one expunged.
	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, _, err := sess.SetFlags(ctx, "INBOX", uids[2], model.MailFlagChange{Seen: new(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Delete(ctx, "INBOX", []uint32{uids[4]}, ""); err != nil {
		t.Fatal(err)
	}
	newUID := s.env.Append(t, "alice", "INBOX", testMail(8))
	rc = s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	cm := commands(rc)
	sid := func(uid uint32) string { return model.MailID{FolderID: inbox, UID: uid}.String() }
	if !slices.Equal(ids(cm.Add), []string{sid(newUID)}) || !slices.Equal(ids(cm.Change), []string{sid(uids[2])}) ||
		!slices.Equal(ids(cm.Delete), []string{sid(uids[4])}) {
		t.Fatalf("incremental: %+v", cm)
	}
	if read := cm.Change[0].ApplicationData.(*wbxml.Element).ChildText("Email:Read"); read != "1" {
		t.Errorf("change Read = %q", read)
	}
	add := cm.Add[0].ApplicationData.(*wbxml.Element)
	if add.ChildText("Email:Subject") != "message 8" || add.Path("AirSyncBase:Body") == nil {
		t.Errorf("added item: %+v", add)
	}
	if rc.SyncKey == key {
		t.Error("a Sync with changes kept the key")
	}
}

// A lost response: the client re-sends its key and gets the same page;
// after a replay of a replay nothing is skipped or sent twice.
func TestSyncMailLostResponse(t *testing.T) {
	s := startSync(t, recheckEveryWindow)
	inbox := s.ids["Inbox"]
	for i := 1; i <= 5; i++ {
		s.env.Append(t, "alice", "INBOX", testMail(i))
	}
	key := s.start(t, inbox)
	first := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: 2})
	again := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: 2})
	if !slices.Equal(ids(commands(first).Add), ids(commands(again).Add)) || len(commands(again).Add) != 2 {
		t.Fatalf("replay: %v vs %v", ids(commands(first).Add), ids(commands(again).Add))
	}
	// The first answer's key is dropped by the replay.
	if rc := s.sync(t, message.SyncCollection{SyncKey: first.SyncKey, CollectionID: inbox}); rc.Status != 3 {
		t.Errorf("lost answer's key: status %d", rc.Status)
	}
	seen := map[string]bool{}
	for _, id := range ids(commands(again).Add) {
		seen[id] = true
	}
	// A later window, taken from the messages fetched ahead
	// (sync_prefetch.go), is lost too: the re-sent request gets the same
	// page, fetched again.
	next := s.sync(t, message.SyncCollection{SyncKey: again.SyncKey, CollectionID: inbox, WindowSize: 2})
	// The replayed first window restarted the stream, which held this
	// window's messages: one STATUS, no fetch.
	if paths := imapCmds(s.env, inbox); len(paths) < 3 || paths[2] != "queued:1" {
		t.Errorf("window after a replayed first window: paths %v, want queued:1 third", paths)
	}
	nextAgain := s.sync(t, message.SyncCollection{SyncKey: again.SyncKey, CollectionID: inbox, WindowSize: 2})
	if !slices.Equal(ids(commands(next).Add), ids(commands(nextAgain).Add)) || len(commands(nextAgain).Add) != 2 {
		t.Fatalf("replay of a queued window: %v vs %v", ids(commands(next).Add), ids(commands(nextAgain).Add))
	}
	for _, id := range ids(commands(nextAgain).Add) {
		if seen[id] {
			t.Fatalf("%s sent twice", id)
		}
		seen[id] = true
	}
	key = nextAgain.SyncKey
	for more := nextAgain.MoreAvailable; more; {
		rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: 2})
		for _, id := range ids(commands(rc).Add) {
			if seen[id] {
				t.Fatalf("%s sent twice", id)
			}
			seen[id] = true
		}
		key, more = rc.SyncKey, rc.MoreAvailable
	}
	if len(seen) != 5 {
		t.Fatalf("got %d messages, want 5", len(seen))
	}
}

func changeRead(serverID string, read bool, flagged *bool, categories []string) message.SyncClientChange {
	data := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.TextElement(wbxml.MustTag("Email:Read"), map[bool]string{true: "1", false: "0"}[read]))
	if flagged != nil {
		flag := wbxml.NewElement(wbxml.MustTag("Email:Flag"))
		if *flagged {
			flag.Add(wbxml.TextElement(wbxml.MustTag("Email:Status"), "2"),
				wbxml.TextElement(wbxml.MustTag("Email:FlagType"), "Flag for follow up"))
		}
		data.Add(flag)
	}
	if categories != nil {
		cats := wbxml.NewElement(wbxml.MustTag("Email:Categories"))
		for _, c := range categories {
			cats.Add(wbxml.TextElement(wbxml.MustTag("Email:Category"), c))
		}
		data.Add(cats)
	}
	return message.SyncClientChange{ServerID: serverID, ApplicationData: data}
}

// Client Read, Flag, Categories and Delete reach the mail server, are not
// echoed back, and survive a re-sent request without harm.
func TestSyncMailClientCommands(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	uids := s.inboxMails(t, 4)
	sid := func(uid uint32) string { return model.MailID{FolderID: inbox, UID: uid}.String() }
	key := s.start(t, inbox)
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if len(commands(rc).Add) != 4 {
		t.Fatalf("initial: %+v", rc)
	}
	key = rc.SyncKey

	req := message.SyncCollection{SyncKey: key, CollectionID: inbox, Commands: &message.SyncClientCommands{
		Change: []message.SyncClientChange{
			changeRead(sid(uids[0]), true, new(true), []string{"Red Category", "Work"}),
			changeRead(inbox+":999", true, nil, nil),
		},
		Delete: []message.SyncClientDelete{{ServerID: sid(uids[1])}},
	}}
	rc = s.sync(t, req)
	check := func(rc message.SyncResponseCollection) {
		t.Helper()
		if rc.Status != 1 || rc.Responses == nil || len(rc.Responses.Change) != 1 || rc.Responses.Change[0].Status != 8 {
			t.Fatalf("responses: %+v %+v", rc, rc.Responses)
		}
	}
	check(rc)
	if rc.Commands != nil {
		t.Fatalf("client commands echoed: %+v", rc.Commands)
	}
	// The answer was lost: the same request again. The replayed Change
	// looks like a conflict and comes back as the server's copy, which is
	// the client's own edit: harmless, and nothing else is sent.
	again := s.sync(t, req)
	check(again)
	if cm := commands(again); len(cm.Add)+len(cm.Delete) != 0 || len(cm.Change) > 1 ||
		(len(cm.Change) == 1 && (cm.Change[0].ServerID != sid(uids[0]) ||
			cm.Change[0].ApplicationData.(*wbxml.Element).ChildText("Email:Read") != "1")) {
		t.Fatalf("replay sent: %+v", cm)
	}
	key = again.SyncKey

	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	fl, err := sess.Flags(ctx, "INBOX", uids)
	if err != nil {
		t.Fatal(err)
	}
	f := fl[uids[0]]
	if !f.Seen || !f.Flagged || !slices.Equal(f.Keywords, []string{"Red Category", "Work"}) {
		t.Errorf("flags on the server: %+v", f)
	}
	if _, ok := fl[uids[1]]; ok {
		t.Error("deleted message still in INBOX")
	}
	trash, err := sess.List(ctx, "Trash", model.MailListOptions{})
	if err != nil || len(trash.All) != 1 {
		t.Fatalf("Trash after DeletesAsMoves: %+v %v", trash, err)
	}

	// A hard delete (DeletesAsMoves 0) expunges; unflag and clear
	// categories.
	rc = s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, DeletesAsMoves: new(false),
		Commands: &message.SyncClientCommands{
			Change: []message.SyncClientChange{changeRead(sid(uids[0]), false, new(false), []string{})},
			Delete: []message.SyncClientDelete{{ServerID: sid(uids[2])}}}})
	if rc.Status != 1 || rc.Commands != nil {
		t.Fatalf("second round: %+v %+v", rc, rc.Commands)
	}
	fl, _ = sess.Flags(ctx, "INBOX", uids)
	if f := fl[uids[0]]; f.Seen || f.Flagged || len(f.Keywords) != 0 {
		t.Errorf("flags after clearing: %+v", f)
	}
	if _, ok := fl[uids[2]]; ok {
		t.Error("hard-deleted message still there")
	}
	if trash, _ := sess.List(ctx, "Trash", model.MailListOptions{}); len(trash.All) != 1 {
		t.Errorf("hard delete went to Trash: %v", trash.All)
	}

	// Fetch inside Sync: the item in full, Status 8 for an unknown one.
	rc = s.sync(t, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: inbox, Commands: &message.SyncClientCommands{
		Fetch: []message.SyncClientFetch{{ServerID: sid(uids[3])}, {ServerID: sid(uids[2])}}}})
	if rc.Responses == nil || len(rc.Responses.Fetch) != 2 || rc.Responses.Fetch[0].Status != 1 ||
		rc.Responses.Fetch[1].Status != 8 || rc.Responses.Fetch[0].ApplicationData == nil {
		t.Fatalf("fetch: %+v", rc.Responses)
	}
}

// appendDated appends a message with an INTERNALDATE in the past.
func appendDated(t *testing.T, env *easdtest.Env, i int, when time.Time) uint32 {
	t.Helper()
	c, err := mailStore(env).Dialer.Login(context.Background(), "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := testMail(i)
	cmd := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Time: when})
	if _, err := cmd.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return uint32(d.UID)
}

// FilterType limits the messages by date, for Sync and GetItemEstimate;
// widening the filter brings the older ones, narrowing it soft-deletes.
func TestSyncMailFilterAndEstimate(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	old := appendDated(t, s.env, 1, time.Now().AddDate(0, 0, -20))
	recent := appendDated(t, s.env, 2, time.Now().AddDate(0, 0, -2))
	s.env.Append(t, "alice", "INBOX", testMail(3))
	week := []message.SyncOptions{{FilterType: new(3)}}
	key := s.start(t, inbox)

	est := func(key string, filter *int) int {
		t.Helper()
		r, err := s.c.GetItemEstimate(ctx, inbox, key, filter)
		if err != nil || len(r.Response) != 1 || r.Response[0].Status != 1 {
			t.Fatalf("GetItemEstimate: %+v %v", r, err)
		}
		return r.Response[0].Collection.Estimate
	}
	if n := est(key, new(3)); n != 2 {
		t.Errorf("estimate one week: %d", n)
	}
	if n := est(key, nil); n != 3 {
		t.Errorf("estimate all: %d", n)
	}
	if r, _ := s.c.GetItemEstimate(ctx, inbox, "0", nil); r.Response[0].Status != 3 {
		t.Errorf("estimate with key 0: status %d", r.Response[0].Status)
	}
	if r, _ := s.c.GetItemEstimate(ctx, s.ids["Contacts"], "0", nil); r.Response[0].Status != 3 {
		t.Errorf("contacts estimate with key 0: status %d", r.Response[0].Status)
	}

	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, Options: week})
	if len(commands(rc).Add) != 2 || slices.Contains(ids(commands(rc).Add), model.MailID{FolderID: inbox, UID: old}.String()) {
		t.Fatalf("one week: %v", ids(commands(rc).Add))
	}
	if n := est(rc.SyncKey, new(3)); n != 0 {
		t.Errorf("estimate after sync: %d", n)
	}
	// All messages: the old one arrives.
	rc = s.sync(t, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: inbox, Options: []message.SyncOptions{{FilterType: new(0)}}})
	if !slices.Equal(ids(commands(rc).Add), []string{model.MailID{FolderID: inbox, UID: old}.String()}) {
		t.Fatalf("widened: %+v", commands(rc))
	}
	// One day: the two older ones leave the phone as SoftDelete.
	rc = s.sync(t, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: inbox, Options: []message.SyncOptions{{FilterType: new(1)}}})
	soft := ids(commands(rc).SoftDelete)
	slices.Sort(soft)
	want := []string{model.MailID{FolderID: inbox, UID: old}.String(), model.MailID{FolderID: inbox, UID: recent}.String()}
	slices.Sort(want)
	if !slices.Equal(soft, want) || len(commands(rc).Delete) != 0 {
		t.Fatalf("narrowed: %+v", commands(rc))
	}
}

// Statuses of a Sync that cannot proceed, each collection on its own.
func TestSyncStatuses(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	r, err := s.c.Sync(ctx, &message.SyncRequest{})
	if err != nil || r.Status != 13 {
		t.Fatalf("empty Sync: %+v %v", r, err)
	}
	r, err = s.c.Sync(ctx, &message.SyncRequest{HeartbeatInterval: 10, Collections: &message.SyncCollections{
		Collection: []message.SyncCollection{{SyncKey: "0", CollectionID: inbox}}}})
	if err != nil || r.Status != 14 || r.Limit != 60 {
		t.Fatalf("short heartbeat: %+v %v", r, err)
	}
	// One request, four collections: unknown folder, bad key, PIM and
	// Outbox folders (no items yet), and the Inbox, which still works.
	r, err = s.c.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{
		{SyncKey: "0", CollectionID: "999"},
		{SyncKey: "{00000000-0000-0000-0000-000000000000}7", CollectionID: inbox},
		{SyncKey: "0", CollectionID: s.ids["Contacts"]},
		{SyncKey: "0", CollectionID: s.ids["Outbox"]},
		{SyncKey: "0", CollectionID: s.ids["Sent"]},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Collections.Collection {
		got = append(got, c.CollectionID+"="+strconv.Itoa(c.Status))
	}
	want := []string{"999=8", inbox + "=3", s.ids["Contacts"] + "=1", s.ids["Outbox"] + "=1", s.ids["Sent"] + "=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	pim := r.Collections.Collection[2].SyncKey
	if rc := s.sync(t, message.SyncCollection{SyncKey: pim, CollectionID: s.ids["Contacts"]}); rc.Status != 1 || rc.Commands != nil {
		t.Fatalf("contacts: %+v", rc)
	}
}

// With the mail server down, Sync answers the retryable Status 16; once
// it is back the client continues with the key it has, without a resync.
func TestSyncMailIMAPOutage(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	s.env.Append(t, "alice", "INBOX", testMail(1))
	key := s.start(t, inbox)
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if len(commands(rc).Add) != 1 {
		t.Fatalf("initial: %+v", rc)
	}
	key = rc.SyncKey
	if err := s.env.IMAP.Stop(); err != nil {
		t.Fatal(err)
	}
	if rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox}); rc.Status != 16 || rc.SyncKey != key {
		t.Fatalf("IMAP down: %+v", rc)
	}
	if err := s.env.IMAP.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	s.env.Append(t, "alice", "INBOX", testMail(2))
	rc = s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox})
	if rc.Status != 1 || len(commands(rc).Add) != 1 || !strings.Contains(commands(rc).Add[0].ServerID, inbox+":") {
		t.Fatalf("after the outage: %+v", rc)
	}
}

// A 16.x client saves a draft: it is stored once in Drafts, also when the
// request is sent twice, and not sent back as an Add.
func TestSyncMailDraftAdd(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	drafts, inbox := s.ids["Drafts"], s.ids["Inbox"]
	key := s.start(t, drafts)
	data := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.TextElement(wbxml.MustTag("Email:To"), "bob@example.test"),
		wbxml.TextElement(wbxml.MustTag("Email:Subject"), "Grüße\r\nBcc: evil@example.test"),
		wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Type"), "1"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Data"), "draft text")))
	req := message.SyncCollection{SyncKey: key, CollectionID: drafts, Commands: &message.SyncClientCommands{
		Add: []message.SyncClientAdd{{ClientID: "c1", ApplicationData: data}}}}
	first := s.sync(t, req)
	again := s.sync(t, req)
	for _, rc := range []message.SyncResponseCollection{first, again} {
		if rc.Status != 1 || rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 1 || rc.Commands != nil {
			t.Fatalf("draft add: %+v %+v", rc, rc.Responses)
		}
	}
	if first.Responses.Add[0].ServerID != again.Responses.Add[0].ServerID {
		t.Fatalf("re-sent add: %s then %s", first.Responses.Add[0].ServerID, again.Responses.Add[0].ServerID)
	}
	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	l, err := sess.List(ctx, "Drafts", model.MailListOptions{})
	if err != nil || len(l.All) != 1 {
		t.Fatalf("Drafts: %+v %v", l, err)
	}
	items, err := sess.Fetch(ctx, "Drafts", l.All, model.MailFetchOptions{Version: 161})
	if err != nil || len(items) != 1 {
		t.Fatal(items, err)
	}
	if e := items[0].Data.(*message.Email); !strings.Contains(e.To, "bob@example.test") || e.Subject != "Grüße Bcc: evil@example.test" || e.Bcc != "" ||
		e.Body == nil || !strings.Contains(e.Body.Data, "draft text") {
		t.Errorf("stored draft: %+v %+v", e, e.Body)
	}
	if rc := s.sync(t, message.SyncCollection{SyncKey: again.SyncKey, CollectionID: drafts}); rc.Commands != nil {
		t.Errorf("draft echoed: %+v", rc.Commands)
	}
	// Adds elsewhere are refused, not lost silently.
	ikey := s.start(t, inbox)
	rc := s.sync(t, message.SyncCollection{SyncKey: ikey, CollectionID: inbox, Commands: &message.SyncClientCommands{
		Add: []message.SyncClientAdd{{ClientID: "c2", ApplicationData: data}}}})
	if rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 6 {
		t.Fatalf("add in Inbox: %+v", rc.Responses)
	}
}

// A 12.1 client gets the Class element and no 14.0 elements (Categories)
// in a Change.
func TestSyncMailOlderVersion(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	s.c.Version = "12.1"
	inbox := s.ids["Inbox"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	key := s.start(t, inbox)
	rc := s.sync(t, message.SyncCollection{Class: "Email", SyncKey: key, CollectionID: inbox})
	if rc.Class != "Email" || len(commands(rc).Add) != 1 {
		t.Fatalf("12.1 initial: %+v", rc)
	}
	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, _, err := sess.SetFlags(ctx, "INBOX", uid, model.MailFlagChange{Flagged: new(true), Keywords: &[]string{"Work"}}); err != nil {
		t.Fatal(err)
	}
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: rc.SyncKey, CollectionID: inbox})
	cm := commands(rc)
	if len(cm.Change) != 1 {
		t.Fatalf("12.1 change: %+v", cm)
	}
	data := cm.Change[0].ApplicationData.(*wbxml.Element)
	if data.Child("Email:Categories") != nil || data.Path("Email:Flag", "Email:Status").Text != "2" {
		t.Errorf("12.1 change data: %+v", data)
	}
}

// A mailbox whose UIDVALIDITY changed (deleted and created again under
// the same name) makes the client start over (Status 3): its UIDs name
// other messages now.
func TestSyncMailUIDValidityChange(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	store := mailStore(s.env)
	if err := store.CreateMailbox(ctx, "alice", "alice", "Receipts"); err != nil {
		t.Fatal(err)
	}
	s.env.Append(t, "alice", "Receipts", testMail(1))
	id := syncFolderIDs(t, s.c)["Receipts"]
	key := s.start(t, id)
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: id})
	if len(commands(rc).Add) != 1 {
		t.Fatalf("initial: %+v", rc)
	}
	if err := store.DeleteMailbox(ctx, "alice", "alice", "Receipts"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Dovecot's UIDVALIDITY is a timestamp
	if err := store.CreateMailbox(ctx, "alice", "alice", "Receipts"); err != nil {
		t.Fatal(err)
	}
	s.env.Append(t, "alice", "Receipts", testMail(2))
	if rc := s.sync(t, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: id}); rc.Status != 3 {
		t.Fatalf("after UIDVALIDITY change: %+v", rc)
	}
}

// The request-wide WindowSize (12.1+) bounds the changes of all
// collections together; GetChanges 0 sends none and no MoreAvailable, and
// the changes stay pending for the next request.
func TestSyncMailRequestWindowAndGetChanges(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox, sent := s.ids["Inbox"], s.ids["Sent"]
	for i := 1; i <= 3; i++ {
		s.env.Append(t, "alice", "INBOX", testMail(i))
		s.env.Append(t, "alice", "Sent", testMail(10+i))
	}
	ik, sk := s.start(t, inbox), s.start(t, sent)
	r, err := s.c.Sync(ctx, &message.SyncRequest{WindowSize: 4, Collections: &message.SyncCollections{Collection: []message.SyncCollection{
		{SyncKey: ik, CollectionID: inbox, WindowSize: 10}, {SyncKey: sk, CollectionID: sent, WindowSize: 10}}}})
	if err != nil || len(r.Collections.Collection) != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	a, b := r.Collections.Collection[0], r.Collections.Collection[1]
	if len(commands(a).Add) != 3 || a.MoreAvailable || len(commands(b).Add) != 1 || !b.MoreAvailable {
		t.Fatalf("request window 4: inbox %d more=%v, sent %d more=%v", len(commands(a).Add), a.MoreAvailable, len(commands(b).Add), b.MoreAvailable)
	}
	rc := s.sync(t, message.SyncCollection{SyncKey: b.SyncKey, CollectionID: sent, GetChanges: new(false)})
	if rc.Status != 1 || rc.Commands != nil || rc.MoreAvailable {
		t.Fatalf("GetChanges 0: %+v", rc)
	}
	rc = s.sync(t, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: sent})
	if len(commands(rc).Add) != 2 || rc.MoreAvailable {
		t.Fatalf("after GetChanges 0: %+v", rc)
	}
}

// The windows of an initial sync after the first come from the state's
// queue while the mailbox shows no change: no listing, and the messages
// were fetched ahead.
// A change in between (a flag, an expunge, a new message) makes the next
// window list again; every message still arrives once, newest first.
func TestSyncMailQueuedWindows(t *testing.T) {
	s := startSync(t, recheckEveryWindow)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	uids := s.inboxMails(t, 12)
	sid := func(uid uint32) string { return model.MailID{FolderID: inbox, UID: uid}.String() }
	key := s.start(t, inbox)
	page := func() message.SyncResponseCollection {
		t.Helper()
		rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: 3})
		if rc.Status != 1 {
			t.Fatalf("Sync: %+v", rc)
		}
		key = rc.SyncKey
		return rc
	}
	seen := map[string]int{}
	var order []string
	flagged := "" // Flag status of uids[5] when it arrives
	take := func(rc message.SyncResponseCollection) {
		for _, it := range commands(rc).Add {
			seen[it.ServerID]++
			order = append(order, it.ServerID)
			if f := it.ApplicationData.(*wbxml.Element).Path("Email:Flag", "Email:Status"); f != nil && it.ServerID == sid(uids[5]) {
				flagged = f.Text
			}
		}
	}
	take(page()) // 12, 11, 10: listed
	take(page()) // 9, 8, 7: queued
	paths := imapCmds(s.env, inbox)
	// The queued window costs one SELECT: its messages were fetched
	// while the client handled the first window (sync_prefetch.go).
	if len(paths) < 2 || paths[len(paths)-2] != "listed:3" || paths[len(paths)-1] != "queued:1" {
		t.Fatalf("paths %v, want a listed window then a queued one of SELECT only", paths)
	}

	// Elsewhere: \Seen on a message the phone has, one still queued
	// expunged, a new one delivered.
	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sess.SetFlags(ctx, "INBOX", uids[11], model.MailFlagChange{Seen: new(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Delete(ctx, "INBOX", []uint32{uids[3]}, ""); err != nil {
		t.Fatal(err)
	}
	// Flagged: one of the messages fetched ahead for the next window, so
	// that window must not be used.
	if _, _, err := sess.SetFlags(ctx, "INBOX", uids[5], model.MailFlagChange{Flagged: new(true)}); err != nil {
		t.Fatal(err)
	}
	sess.Close()
	newUID := s.env.Append(t, "alice", "INBOX", testMail(13))

	rc := page()
	if got := ids(commands(rc).Change); !slices.Equal(got, []string{sid(uids[11])}) {
		t.Errorf("change after the queue: %v", got)
	}
	take(rc)
	if last := imapCmds(s.env, inbox); !strings.HasPrefix(last[len(last)-1], "listed:") {
		t.Errorf("window after a change: %v, want listed", last)
	}
	for rc.MoreAvailable {
		rc = page()
		take(rc)
	}
	if flagged != "2" {
		t.Errorf("message flagged while fetched ahead: Flag status %q, want 2", flagged)
	}
	want := []uint32{newUID}
	for i := len(uids) - 1; i >= 0; i-- {
		if i != 3 {
			want = append(want, uids[i])
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d messages synced, want %d: %v", len(seen), len(want), order)
	}
	for _, uid := range want {
		if seen[sid(uid)] != 1 {
			t.Errorf("message %d sent %d times", uid, seen[sid(uid)])
		}
	}
	if seen[sid(uids[3])] != 0 {
		t.Error("the expunged message was sent")
	}
}

// With the default recheck, a STATUS that found the mailbox unchanged
// stands for the next windows: they cost no IMAP command at all. Changes
// made meanwhile (a message read, one flagged, one expunged, new mail)
// are not in those windows, and reach the phone with the first Sync after
// the recheck time, here the one after the initial sync: nothing is lost.
func TestSyncMailRecheck(t *testing.T) {
	s := startSync(t, func(c *config.Config) { c.MailRecheck = time.Minute })
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	uids := s.inboxMails(t, 12)
	sid := func(uid uint32) string { return model.MailID{FolderID: inbox, UID: uid}.String() }
	key := s.start(t, inbox)
	var rc message.SyncResponseCollection
	seen := map[string]int{}
	page := func() {
		t.Helper()
		rc = s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: 3})
		if rc.Status != 1 {
			t.Fatalf("Sync: %+v", rc)
		}
		key = rc.SyncKey
		for _, it := range commands(rc).Add {
			seen[it.ServerID]++
		}
	}
	page() // listed
	page() // queued, from the stream

	sess, err := mailStore(s.env).OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sess.SetFlags(ctx, "INBOX", uids[11], model.MailFlagChange{Seen: new(true)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sess.SetFlags(ctx, "INBOX", uids[1], model.MailFlagChange{Flagged: new(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Delete(ctx, "INBOX", []uint32{uids[3]}, ""); err != nil {
		t.Fatal(err)
	}
	sess.Close()
	newUID := s.env.Append(t, "alice", "INBOX", testMail(13))
	for rc.MoreAvailable {
		page()
	}
	paths := imapCmds(s.env, inbox)
	if want := []string{"listed:3", "queued:0", "queued:0", "queued:0"}; !slices.Equal(paths, want) {
		t.Errorf("paths %v, want %v: no STATUS within the recheck time", paths, want)
	}
	for _, uid := range uids {
		if seen[sid(uid)] != 1 {
			t.Errorf("message %d sent %d times in the initial sync", uid, seen[sid(uid)])
		}
	}

	// The next Syncs ask STATUS and bring every change.
	var got message.SyncCommands
	for more := true; more; more = rc.MoreAvailable {
		page()
		c := commands(rc)
		got.Add, got.Change, got.Delete = append(got.Add, c.Add...), append(got.Change, c.Change...), append(got.Delete, c.Delete...)
	}
	if adds := ids(got.Add); !slices.Equal(adds, []string{sid(newUID)}) {
		t.Errorf("adds after the initial sync: %v, want the new message", adds)
	}
	if dels := ids(got.Delete); !slices.Equal(dels, []string{sid(uids[3])}) {
		t.Errorf("deletes after the initial sync: %v, want the expunged message", dels)
	}
	changes := ids(got.Change)
	slices.Sort(changes)
	want := []string{sid(uids[1]), sid(uids[11])}
	slices.Sort(want)
	if !slices.Equal(changes, want) {
		t.Errorf("changes after the initial sync: %v, want %v", changes, want)
	}
}

// An initial sync whose windows alternate between two instances (behind a
// load balancer): the instance that listed the first window streams the
// rest, the other fetches each of its windows itself, and every message
// arrives once, newest first.
func TestSyncMailInitialAcrossInstances(t *testing.T) {
	s := startSync(t, recheckEveryWindow)
	second := easdtest.StartSecond(t, s.env)
	other := &syncEnv{env: second, c: second.Client("alice", "phone-sync"), ids: s.ids}
	inbox := s.ids["Inbox"]
	uids := s.inboxMails(t, 30)
	key := s.start(t, inbox)
	var order []string
	for i, more := 0, true; more; i++ {
		on := []*syncEnv{s, other}[i%2]
		rc := on.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: 4})
		if rc.Status != 1 {
			t.Fatalf("window %d: %+v", i, rc)
		}
		order = append(order, ids(commands(rc).Add)...)
		key, more = rc.SyncKey, rc.MoreAvailable
	}
	var want []string
	for i := len(uids) - 1; i >= 0; i-- {
		want = append(want, model.MailID{FolderID: inbox, UID: uids[i]}.String())
	}
	if !slices.Equal(order, want) {
		t.Fatalf("synced %v\nwant   %v", order, want)
	}
	// The first instance's stream answers its later windows (one STATUS
	// each); the second, which never listed, fetches its own and starts
	// no stream that would fetch the first one's windows again.
	for _, p := range imapCmds(s.env, inbox)[1:] {
		if p != "queued:1" {
			t.Errorf("first instance: window %s, want queued:1 (%v)", p, imapCmds(s.env, inbox))
		}
	}
	for _, p := range imapCmds(second, inbox) {
		if p == "queued:1" {
			t.Errorf("second instance: window %s taken from a stream (%v)", p, imapCmds(second, inbox))
		}
	}
}
