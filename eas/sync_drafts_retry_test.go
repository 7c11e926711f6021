package eas_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

func draftData(subject string) *wbxml.Element {
	return wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.TextElement(wbxml.MustTag("Email:To"), "bob@example.test"),
		wbxml.TextElement(wbxml.MustTag("Email:Subject"), subject),
		wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Type"), "1"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Data"), "draft text")))
}

func draftAdd(key, drafts, clientID, subject string) *message.SyncRequest {
	return &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{{SyncKey: key, CollectionID: drafts,
		Commands: &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: clientID, ApplicationData: draftData(subject)}}}}}}}
}

// A phone that gives up on a Sync with a draft Add (1-15 ms into the
// request) and re-sends it gets one draft, whether its first attempt
// stored the draft and committed, stored it only, or did nothing.
func TestSyncDraftAddPhoneGivesUp(t *testing.T) {
	s := startSync(t)
	drafts := s.ids["Drafts"]
	key := s.start(t, drafts)
	const n = 60
	for i := range n {
		id, subject := fmt.Sprintf("d%d", i), fmt.Sprintf("draft %d", i)
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond+rand.N(14*time.Millisecond))
		_, _ = s.c.Sync(ctx, draftAdd(key, drafts, id, subject))
		cancel()
		r, err := s.c.Sync(context.Background(), draftAdd(key, drafts, id, subject))
		if err != nil || r.Collections == nil || len(r.Collections.Collection) != 1 {
			t.Fatalf("re-sent draft add: %+v %v", r, err)
		}
		rc := r.Collections.Collection[0]
		if rc.Status != 1 || rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 1 {
			t.Fatalf("re-sent draft add: %+v %+v", rc, rc.Responses)
		}
		key = rc.SyncKey
	}
	count := map[string]int{}
	for _, m := range mailbox(t, s.env, "alice", "Drafts") {
		count[header(t, m.body, "Subject")]++
	}
	twice := 0
	for i := range n {
		if c := count[fmt.Sprintf("draft %d", i)]; c != 1 {
			twice++
			t.Logf("draft %d stored %d times", i, c)
		}
	}
	t.Logf("%d of %d abandoned-and-retried draft Adds not stored exactly once", twice, n)
	if twice > 0 {
		t.Errorf("%d of %d drafts not stored exactly once", twice, n)
	}
}

// A ClientId longer than the spec's 64 characters is refused before
// anything is stored, so no retry can add a draft either.
func TestSyncDraftAddLongClientID(t *testing.T) {
	s := startSync(t)
	drafts := s.ids["Drafts"]
	key := s.start(t, drafts)
	long := strings.Repeat("x", 65)
	for range 3 {
		r, err := s.c.Sync(context.Background(), draftAdd(key, drafts, long, "too long"))
		if err != nil || r.Collections == nil || len(r.Collections.Collection) != 1 {
			t.Fatalf("Sync: %+v %v", r, err)
		}
		rc := r.Collections.Collection[0]
		if rc.Status != 1 || rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 4 {
			t.Fatalf("add with a 65-character ClientId: %+v %+v, want item status 4", rc, rc.Responses)
		}
	}
	if got := mailbox(t, s.env, "alice", "Drafts"); len(got) != 0 {
		t.Errorf("%d drafts stored, want none", len(got))
	}
	// 64 characters are fine.
	r, err := s.c.Sync(context.Background(), draftAdd(key, drafts, long[:64], "just right"))
	if err != nil || r.Collections == nil || r.Collections.Collection[0].Responses == nil || r.Collections.Collection[0].Responses.Add[0].Status != 1 {
		t.Fatalf("add with a 64-character ClientId: %+v %v", r, err)
	}
}
