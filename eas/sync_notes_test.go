package eas_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// fullNote has a value in every element a phone may send.
func fullNote() *message.Note {
	return &message.Note{
		Body:             &message.Body{Type: message.BodyPlain, Data: "Milk & eggs\n<bread>\nçà va"},
		Subject:          "Shopping; list, \"today\"",
		MessageClass:     "IPM.StickyNote",
		LastModifiedDate: "2026-03-01T09:30:15.250Z",
		Categories:       &message.NoteCategories{Category: []string{"Blue Category", "Home, garden", `Back\slash`}},
	}
}

// Every element goes phone -> store -> a second phone unchanged, at 14.1
// and 16.1, and back again with a Change; GetItemEstimate and
// ItemOperations see the same note.
func TestNotesEveryFieldBetweenPhones(t *testing.T) {
	s := startSync(t)
	for _, v := range []string{"14.1", "16.1"} {
		t.Run(v, func(t *testing.T) {
			a := startFolder(t, s.device(t, "notes-a-"+v), "Notes", v)
			b := startFolder(t, s.device(t, "notes-b-"+v), "Notes", v)
			want := fullNote()
			id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "n1", ApplicationData: want}}}))
			if _, cmds := a.pull(t); len(cmds.Add)+len(cmds.Change) != 0 {
				t.Fatalf("the adding phone got its own note back: %+v", cmds)
			}
			_, cmds := b.pull(t)
			if len(cmds.Add) != 1 || cmds.Add[0].ServerID != id {
				t.Fatalf("second phone got %+v, want one Add of %s", cmds, id)
			}
			got := decodedAs[message.Note](t, cmds.Add[0].ApplicationData)
			if got.Body == nil || got.Body.Type != message.BodyPlain || got.Body.Data != want.Body.Data ||
				got.Body.EstimatedDataSize != int64(len(want.Body.Data)) || got.Body.Truncated {
				t.Errorf("body %+v, want %q", got.Body, want.Body.Data)
			}
			got.Body, want.Body = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("second phone's note differs:\n got %+v\nwant %+v", got, want)
			}

			// The second phone changes every element; HTML comes back as
			// HTML to a phone that wants it, as text to one that does not.
			change := &message.Note{
				Body:             &message.Body{Type: message.BodyHTML, Data: "<html><body><p>Bread &amp; butter</p><p>tea</p></body></html>"},
				Subject:          "Shopping 2",
				MessageClass:     "IPM.StickyNote.Custom",
				LastModifiedDate: "2026-03-02T10:00:00.000Z",
				Categories:       &message.NoteCategories{Category: []string{"Red Category"}},
			}
			b.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: change}}})
			rc := a.sync(t, message.SyncCollection{SyncKey: a.key, CollectionID: a.folder, WindowSize: 100,
				Options: []message.SyncOptions{{BodyPreference: []message.BodyPreference{{Type: message.BodyHTML}}}}})
			a.key = rc.SyncKey
			c := commands(rc)
			if len(c.Change) != 1 {
				t.Fatalf("first phone after the change: %+v", c)
			}
			gotc := decodedAs[message.Note](t, c.Change[0].ApplicationData)
			if gotc.Body == nil || gotc.Body.Type != message.BodyHTML || gotc.Body.Data != change.Body.Data {
				t.Errorf("HTML body %+v", gotc.Body)
			}
			gotc.Body, change.Body = nil, nil
			if !reflect.DeepEqual(gotc, change) {
				t.Errorf("changed note differs:\n got %+v\nwant %+v", gotc, change)
			}
			// Plain text, truncated, with a preview.
			fetched := fetchNote(t, a, id, &message.ItemOperationsOptions{BodyPreference: []message.BodyPreference{
				{Type: message.BodyPlain, TruncationSize: ptr(uint32(6)), Preview: 3}}})
			if fetched.Body == nil || fetched.Body.Type != message.BodyPlain || fetched.Body.Data != "Bread " ||
				!fetched.Body.Truncated || fetched.Body.Preview != "Bre" || fetched.Body.EstimatedDataSize != int64(len("Bread & butter\ntea")) {
				t.Errorf("truncated plain body %+v", fetched.Body)
			}

			// GetItemEstimate of a new phone counts the note.
			c3 := s.device(t, "notes-c-"+v)
			c3.c.Version = v
			ce := &contactsEnv{syncEnv: c3, folder: c3.ids["Notes"]}
			ce.key = ce.start(t, ce.folder)
			r, err := c3.c.GetItemEstimate(context.Background(), ce.folder, ce.key, nil)
			if err != nil || len(r.Response) != 1 || r.Response[0].Status != 1 || r.Response[0].Collection.Estimate < 1 {
				t.Fatalf("GetItemEstimate: %+v %v", r, err)
			}
			// Clean up for the next version's count.
			a.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: id}}})
		})
	}
}

// fetchNote reads a note with ItemOperations Fetch.
func fetchNote(t *testing.T, ne *contactsEnv, id string, o *message.ItemOperationsOptions) *message.Note {
	t.Helper()
	r, _, err := ne.c.ItemOperations(context.Background(), &message.ItemOperationsRequest{
		Fetch: []message.ItemOperationsFetch{{Store: "Mailbox", CollectionID: ne.folder, ServerID: id, Options: o}}}, false)
	if err != nil || r.Response == nil || len(r.Response.Fetch) != 1 || r.Response.Fetch[0].Status != 1 {
		t.Fatalf("ItemOperations Fetch: %+v %v", r, err)
	}
	return decodedAs[message.Note](t, r.Response.Fetch[0].Properties)
}

// A Sync whose answer was lost is sent again with the same key: nothing
// is created twice, nothing lost.
func TestNotesLostResponseReplays(t *testing.T) {
	s := startSync(t)
	a := startFolder(t, s, "Notes", "16.1")
	b := startFolder(t, s.device(t, "phone-b"), "Notes", "16.1")
	add := &message.SyncClientCommands{Add: []message.SyncClientAdd{
		{ClientID: "r1", ApplicationData: &message.Note{Subject: "One"}},
		{ClientID: "r2", ApplicationData: &message.Note{Subject: "Two"}}}}
	key := a.key
	first := a.send(t, add)
	a.key = key
	again := a.send(t, add)
	for i := range first.Responses.Add {
		if f, g := first.Responses.Add[i], again.Responses.Add[i]; f.ServerID != g.ServerID || g.Status != 1 {
			t.Fatalf("replayed Add %d: %+v, first %+v", i, g, f)
		}
	}
	if _, cmds := b.pull(t); len(cmds.Add) != 2 {
		t.Fatalf("other phone got %d adds, want 2", len(cmds.Add))
	}
	one := first.Responses.Add[0].ServerID
	change := &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: one, ApplicationData: &message.Note{Subject: "Uno"}}}}
	key = a.key
	a.send(t, change)
	a.key = key
	a.send(t, change)
	if _, cmds := b.pull(t); len(cmds.Change) != 1 || decodedAs[message.Note](t, cmds.Change[0].ApplicationData).Subject != "Uno" {
		t.Fatalf("other phone after the replayed change: %+v", cmds)
	}
	deleteReplayed(t, a, b, one)
}

// Bad notes are refused one by one with Status 6 and nothing of them is
// kept; the rest of the request goes on.
func TestNotesBadInput(t *testing.T) {
	s := startSync(t)
	a := startFolder(t, s, "Notes", "16.1")
	unknown := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.TextElement(wbxml.MustTag("Notes:Subject"), "odd"), wbxml.TextElement(wbxml.MustTag("Contacts:FirstName"), "x"))
	rc := a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{
		{ClientID: "rtf", ApplicationData: &message.Note{Subject: "rtf", Body: &message.Body{Type: message.BodyRTF, Data: "e1xydGYxfQ=="}}},
		{ClientID: "class", ApplicationData: &message.Note{Subject: "class", MessageClass: "IPM.Note"}},
		{ClientID: "date", ApplicationData: &message.Note{Subject: "date", LastModifiedDate: "yesterday"}},
		{ClientID: "long", ApplicationData: &message.Note{Subject: strings.Repeat("x", 5000)}},
		{ClientID: "cat", ApplicationData: &message.Note{Subject: "cat", Categories: &message.NoteCategories{Category: []string{""}}}},
		{ClientID: "unknown", ApplicationData: unknown},
		{ClientID: "good", ApplicationData: &message.Note{Subject: "Good"}},
	}})
	for _, r := range rc.Responses.Add {
		want := 6
		if r.ClientID == "good" {
			want = 1
		}
		if r.Status != want {
			t.Errorf("%s: Status %d, want %d", r.ClientID, r.Status, want)
		}
	}
	d := s.device(t, "phone-b")
	b := &contactsEnv{syncEnv: d, folder: d.ids["Notes"]}
	b.key = b.start(t, b.folder)
	if _, cmds := b.pull(t); len(cmds.Add) != 1 || decodedAs[message.Note](t, cmds.Add[0].ApplicationData).Subject != "Good" {
		t.Fatalf("stored %+v, want the good note only", cmds.Add)
	}
	// A bad Change leaves the note as it was.
	id := rc.Responses.Add[len(rc.Responses.Add)-1].ServerID
	rc = a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id,
		ApplicationData: &message.Note{Subject: "Changed", LastModifiedDate: "2026-13-45T00:00:00Z"}}}})
	if rc.Responses == nil || len(rc.Responses.Change) != 1 || rc.Responses.Change[0].Status != 6 {
		t.Fatalf("bad Change answered %+v", rc.Responses)
	}
	if n := fetchNote(t, a, id, nil); n.Subject != "Good" {
		t.Fatalf("after a refused change: %+v", n)
	}
}

// Ghosting: with Supported, what the client leaves out and did not list
// keeps its value; without it, a Change is the whole note.
func TestNotesGhosting(t *testing.T) {
	s := startSync(t)
	a := startFolder(t, s, "Notes", "16.1")
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "g", ApplicationData: &message.Note{
		Subject: "Ghost", Body: &message.Body{Type: message.BodyPlain, Data: "boo"},
		Categories: &message.NoteCategories{Category: []string{"Green Category"}}}}}}))
	g := s.device(t, "phone-ghost")
	ge := &contactsEnv{syncEnv: g, folder: g.ids["Notes"]}
	supported := wbxml.NewElement(wbxml.MustTag("AirSync:Supported"), wbxml.NewElement(wbxml.MustTag("Notes:Subject")),
		wbxml.NewElement(wbxml.MustTag("Notes:MessageClass")))
	rc := g.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: ge.folder, Supported: supported})
	ge.key = rc.SyncKey
	ge.pull(t)
	ge.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: &message.Note{Subject: "Ghost 2"}}}})
	got := fetchNote(t, a, id, nil)
	if got.Subject != "Ghost 2" || got.Body == nil || got.Body.Data != "boo" || got.Categories == nil || got.Categories.Category[0] != "Green Category" {
		t.Fatalf("after a ghosting change: %+v %+v", got, got.Body)
	}
	a.pull(t)
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: &message.Note{Subject: "Whole"}}}})
	if got := fetchNote(t, a, id, nil); got.Subject != "Whole" || got.Categories != nil || (got.Body != nil && got.Body.Data != "") {
		t.Fatalf("after a whole-note change: %+v %+v", got, got.Body)
	}
}

// Notes folders: FolderCreate type 17, MoveItems between them (a re-sent
// move gets the same ServerId), FolderDelete with its notes.
func TestNotesFolders(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	a := startFolder(t, s, "Notes", "16.1")
	fs, err := s.c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := s.c.FolderCreate(ctx, fs.SyncKey, "0", "Ideas", 17)
	if err != nil || fc.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", fc, err)
	}
	ideas := &contactsEnv{syncEnv: s, folder: fc.ServerID}
	ideas.key = ideas.start(t, ideas.folder)
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "m", ApplicationData: &message.Note{Subject: "Mover"}}}}))
	mv := message.MoveItem{SrcMsgID: id, SrcFldID: a.folder, DstFldID: ideas.folder}
	r1, err := s.c.MoveItems(ctx, mv)
	if err != nil || len(r1.Response) != 1 || r1.Response[0].Status != 3 {
		t.Fatalf("MoveItems: %+v %v", r1, err)
	}
	r2, err := s.c.MoveItems(ctx, mv)
	if err != nil || r2.Response[0].Status != 3 || r2.Response[0].DstMsgID != r1.Response[0].DstMsgID {
		t.Fatalf("re-sent MoveItems: %+v, first %+v", r2.Response, r1.Response)
	}
	if n := fetchNote(t, ideas, r1.Response[0].DstMsgID, nil); n.Subject != "Mover" {
		t.Fatalf("moved note: %+v", n)
	}
	fs, err = s.c.FolderSync(ctx, fs.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := s.c.FolderDelete(ctx, fs.SyncKey, ideas.folder); err != nil || fd.Status != 1 {
		t.Fatalf("FolderDelete: %+v %v", fd, err)
	}
	var n int
	if err := s.env.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d notes left after deleting their folder (%v)", n, err)
	}
}
