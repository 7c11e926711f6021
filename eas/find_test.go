package eas_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func (s *syncEnv) find(t *testing.T, c *message.FindCriterion) *message.FindResponse {
	t.Helper()
	r, err := s.c.Find(context.Background(), &message.FindRequest{SearchID: "6b1b0bd6-7f6c-4a0d-9b7e-5d0c3b7a1e01",
		ExecuteSearch: message.FindExecuteSearch{MailBoxSearchCriterion: c}})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	return r
}

func TestFindMail(t *testing.T) {
	s := startSync(t)
	inbox := s.ids["Inbox"]
	var ids []string
	for i := 1; i <= 3; i++ {
		uid := s.env.Append(t, "alice", "INBOX", testMail(i))
		ids = append(ids, model.MailID{FolderID: inbox, UID: uid}.String())
	}
	cc := s.env.Append(t, "alice", "Junk", []byte("From: Carol <carol@example.test>\r\nTo: alice@example.test\r\n"+
		"Cc: Dan <dan@example.test>, eve@example.test\r\nSubject: lunch\r\nDate: Mon, 02 Jan 2026 11:00:00 +0000\r\n\r\n"+
		"Shall we   have lunch\r\ntomorrow?\r\n"), `\Seen`)

	// iOS: no CollectionId, an empty Picture, a Range.
	r := s.find(t, &message.FindCriterion{Query: message.FindQuery{Class: "Email", FreeText: "lunch"},
		Options: &message.FindOptions{Range: "0-99", DeepTraversal: true, Picture: &message.SearchPicture{}}})
	if r.Status != 1 || r.Response == nil || r.Response.Status != 1 || len(r.Response.Result) != 1 || *r.Response.Total != 1 {
		t.Fatalf("find lunch: %+v", r)
	}
	res := r.Response.Result[0]
	p, _ := res.Properties.(*message.FindProperties)
	if res.ServerID != (model.MailID{FolderID: s.ids["Junk"], UID: cc}).String() || res.CollectionID != s.ids["Junk"] ||
		res.Class != "Email" || r.Response.Store != "Mailbox" || r.Response.Range != "0-0" {
		t.Fatalf("result: %+v", r.Response)
	}
	if p == nil || p.Subject != "lunch" || !strings.Contains(p.From, "carol@example.test") || p.DisplayCc != "Dan; eve@example.test" ||
		p.Read == nil || !*p.Read || p.HasAttachments == nil || *p.HasAttachments || p.Preview != "Shall we have lunch tomorrow?" ||
		p.DateReceived == "" {
		t.Fatalf("properties: %+v", p)
	}

	// One folder, paged, newest first.
	r = s.find(t, &message.FindCriterion{Query: message.FindQuery{CollectionID: inbox, FreeText: "message"},
		Options: &message.FindOptions{Range: "1-2"}})
	var got []string
	for _, res := range r.Response.Result {
		got = append(got, res.ServerID)
	}
	if !slices.Equal(got, []string{ids[1], ids[0]}) || *r.Response.Total != 3 || r.Response.Range != "1-2" {
		t.Fatalf("paged: %+v", r.Response)
	}

	// bob never signed in, so the GAL has nobody of that name; an
	// unknown folder asks for a FolderSync; no criterion is an invalid
	// request.
	g, err := s.c.Find(context.Background(), &message.FindRequest{SearchID: "6b1b0bd6-7f6c-4a0d-9b7e-5d0c3b7a1e02",
		ExecuteSearch: message.FindExecuteSearch{GalSearchCriterion: &message.FindCriterion{Query: message.FindQuery{FreeText: "bob"}}}})
	if err != nil || g.Status != 1 || g.Response == nil || *g.Response.Total != 0 {
		t.Fatalf("GAL: %+v %v", g, err)
	}
	if r := s.find(t, &message.FindCriterion{Query: message.FindQuery{CollectionID: "999", FreeText: "x"}}); r.Status != 3 {
		t.Fatalf("unknown folder: %+v", r)
	}
	if r := s.find(t, nil); r.Status != 2 {
		t.Fatalf("no criterion: %+v", r)
	}
}
