package eas_test

import (
	"context"
	"crypto/md5"
	"slices"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

func tag(name string) wbxml.Tag { return wbxml.MustTag(name) }

func text(name, s string) *wbxml.Element { return wbxml.TextElement(tag(name), s) }

// mailboxSearch builds a Store=Mailbox request from query children.
func mailboxSearch(rng string, opts *message.SearchOptions, children ...*wbxml.Element) *message.SearchRequest {
	if opts == nil {
		opts = &message.SearchOptions{}
	}
	opts.Range = rng
	return &message.SearchRequest{Store: message.SearchStore{Name: "Mailbox",
		Query: wbxml.NewElement(tag("Search:Query"), wbxml.NewElement(tag("Search:And"), children...)), Options: opts}}
}

func (s *syncEnv) search(t *testing.T, req *message.SearchRequest) message.SearchResponseStore {
	t.Helper()
	r, err := s.c.Search(context.Background(), req)
	if err != nil || r.Status != 1 || r.Response == nil {
		t.Fatalf("Search: %+v %v", r, err)
	}
	return r.Response.Store
}

func longIDs(st message.SearchResponseStore) []string {
	var out []string
	for _, r := range st.Result {
		if r.LongID != "" {
			out = append(out, r.LongID)
		}
	}
	return out
}

func total(st message.SearchResponseStore) int {
	if st.Total == nil {
		return -1
	}
	return *st.Total
}

func TestSearchMailbox(t *testing.T) {
	s := startSync(t)
	inbox, junk := s.ids["Inbox"], s.ids["Junk"]
	day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }
	var ids []string
	for i := 1; i <= 4; i++ {
		uid := appendDated(t, s.env, i, day(i))
		ids = append(ids, model.MailID{FolderID: inbox, UID: uid}.String())
	}
	junkUID := s.env.Append(t, "alice", "Junk", testMail(5))
	junkID := model.MailID{FolderID: junk, UID: junkUID}.String()

	// Android: no CollectionId, every folder; newest first.
	st := s.search(t, mailboxSearch("0-9", nil, text("Search:FreeText", "body of message")))
	if want := []string{junkID, ids[3], ids[2], ids[1], ids[0]}; st.Status != 1 || !slices.Equal(longIDs(st), want) || total(st) != 5 || st.Range != "0-4" {
		t.Fatalf("all folders: %+v, want %v", st, want)
	}
	props := st.Result[1].Properties.(*wbxml.Element)
	if st.Result[1].CollectionID != inbox || st.Result[1].Class != "Email" || props.ChildText("Email:Subject") != "message 4" {
		t.Fatalf("result: %+v subject %q", st.Result[1], props.ChildText("Email:Subject"))
	}
	// Outlook: CollectionId 0 means every folder too.
	st = s.search(t, mailboxSearch("0-9", nil, text("AirSync:CollectionId", "0"), text("Search:FreeText", "message 5")))
	if !slices.Equal(longIDs(st), []string{junkID}) {
		t.Fatalf("CollectionId 0: %+v", st)
	}
	// One folder, paged.
	st = s.search(t, mailboxSearch("0-1", &message.SearchOptions{RebuildResults: true, DeepTraversal: true},
		text("AirSync:CollectionId", inbox), text("Search:FreeText", "message")))
	if !slices.Equal(longIDs(st), []string{ids[3], ids[2]}) || total(st) != 4 || st.Range != "0-1" {
		t.Fatalf("page 1: %+v", st)
	}
	st = s.search(t, mailboxSearch("2-3", nil, text("AirSync:CollectionId", inbox), text("Search:FreeText", "message")))
	if !slices.Equal(longIDs(st), []string{ids[1], ids[0]}) || st.Range != "2-3" {
		t.Fatalf("page 2: %+v", st)
	}
	// Dates: received after Jan 2 and before Jan 4, i.e. message 3 (and
	// message 2, received at noon of Jan 2 after the bound at midnight).
	dateQ := func(op string, d time.Time) *wbxml.Element {
		return wbxml.NewElement(tag("Search:"+op), wbxml.NewElement(tag("Email:DateReceived")),
			text("Search:Value", d.Format("2006-01-02T15:04:05.000Z")))
	}
	st = s.search(t, mailboxSearch("0-9", nil, text("AirSync:CollectionId", inbox), text("AirSync:Class", "Email"),
		dateQ("GreaterThan", day(2).Add(time.Hour)), dateQ("LessThan", day(4))))
	if !slices.Equal(longIDs(st), []string{ids[2]}) {
		t.Fatalf("date range: %+v", st)
	}
	// Nothing found: one empty Result, Total 0.
	st = s.search(t, mailboxSearch("0-9", nil, text("Search:FreeText", "no such words")))
	if st.Status != 1 || total(st) != 0 || len(longIDs(st)) != 0 {
		t.Fatalf("no match: %+v", st)
	}
	// BodyPreference shapes the items.
	st = s.search(t, mailboxSearch("0-0", &message.SearchOptions{BodyPreference: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(4))}}},
		text("AirSync:CollectionId", inbox), text("Search:FreeText", "message 1")))
	body := st.Result[0].Properties.(*wbxml.Element).Child("AirSyncBase:Body")
	if body == nil || body.ChildText("AirSyncBase:Data") != "body" || body.ChildText("AirSyncBase:Truncated") != "1" {
		t.Fatalf("body: %+v", body)
	}
}

func TestSearchConversationAndOthers(t *testing.T) {
	s := startSync(t)
	inbox := s.ids["Inbox"]
	first := s.env.Append(t, "alice", "INBOX", testMail(1))
	reply := s.env.Append(t, "alice", "INBOX", []byte("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Re: message 1\r\n"+
		"Message-ID: <r1@example.test>\r\nIn-Reply-To: <m1@example.test>\r\nReferences: <m1@example.test>\r\n\r\nreply\r\n"))
	s.env.Append(t, "alice", "INBOX", testMail(2))
	conv := md5.Sum([]byte("msgid:m1@example.test"))
	st := s.search(t, mailboxSearch("0-9", nil, text("AirSync:CollectionId", inbox),
		&wbxml.Element{Tag: tag("Search:ConversationId"), Opaque: conv[:]}))
	want := []string{model.MailID{FolderID: inbox, UID: reply}.String(), model.MailID{FolderID: inbox, UID: first}.String()}
	if !slices.Equal(longIDs(st), want) {
		t.Fatalf("conversation: %+v, want %v", st, want)
	}

	// GAL: bob never signed in and is not in the directory. iOS sends an
	// empty Picture.
	r, err := s.c.Search(context.Background(), &message.SearchRequest{Store: message.SearchStore{Name: "GAL",
		Query: text("Search:Query", "bob"), Options: &message.SearchOptions{Range: "0-9", Picture: &message.SearchPicture{}}}})
	if err != nil || r.Status != 1 || r.Response.Store.Status != 1 || total(r.Response.Store) != 0 {
		t.Fatalf("GAL: %+v %v", r, err)
	}
	// Or is too complex; an unknown folder needs a FolderSync; a bad
	// Range is an invalid request; another store is not supported.
	or := &message.SearchRequest{Store: message.SearchStore{Name: "Mailbox", Query: wbxml.NewElement(tag("Search:Query"),
		wbxml.NewElement(tag("Search:Or"), text("Search:FreeText", "a"), text("Search:FreeText", "b")))}}
	for _, tc := range []struct {
		name string
		req  *message.SearchRequest
		want int
	}{
		{"Or", or, 8},
		{"unknown folder", mailboxSearch("0-9", nil, text("AirSync:CollectionId", "999"), text("Search:FreeText", "x")), 11},
		{"bad range", mailboxSearch("9-1", nil, text("Search:FreeText", "x")), 2},
		{"document library", &message.SearchRequest{Store: message.SearchStore{Name: "DocumentLibrary", Query: text("Search:Query", "x")}}, 2},
		{"class Calendar only", mailboxSearch("0-9", nil, text("AirSync:Class", "Calendar"), text("Search:FreeText", "message")), 1},
	} {
		st := s.search(t, tc.req)
		if st.Status != tc.want || len(longIDs(st)) != 0 {
			t.Errorf("%s: %+v, want store status %d", tc.name, st, tc.want)
		}
	}
}
