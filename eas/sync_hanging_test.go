package eas_test

import (
	"context"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/easdtest"
)

type syncResult = result[*message.SyncResponse]

// syncAsync sends a Sync (nil: an empty one) and delivers its answer on
// the returned channel.
func syncAsync(c *client.Client, req *message.SyncRequest) <-chan syncResult {
	out := make(chan syncResult, 1)
	go func() {
		start := time.Now()
		var r *message.SyncResponse
		var err error
		if req == nil {
			r, err = c.SyncEmpty(context.Background())
		} else {
			r, err = c.Sync(context.Background(), req)
		}
		out <- syncResult{r, err, time.Since(start)}
	}()
	return out
}

// byCollection indexes a Sync answer by CollectionId.
func byCollection(t *testing.T, r *message.SyncResponse) map[string]message.SyncResponseCollection {
	t.Helper()
	if r.Collections == nil {
		t.Fatalf("Sync answer without collections: %+v", r)
	}
	out := map[string]message.SyncResponseCollection{}
	for _, c := range r.Collections.Collection {
		out[c.CollectionID] = c
	}
	return out
}

// An empty answer: HTTP 200 without a body, "nothing changed".
func wantEmptyAnswer(t *testing.T, r *message.SyncResponse) {
	t.Helper()
	if r.Status != 0 || r.Collections != nil {
		t.Fatalf("Sync answer %+v, want the empty response", r)
	}
}

func syncReq(cols ...message.SyncCollection) *message.SyncRequest {
	return &message.SyncRequest{Collections: &message.SyncCollections{Collection: cols}}
}

func TestSyncEmptyAndPartial(t *testing.T) {
	s := startPing(t)
	ctx := context.Background()
	inbox, contacts := s.ids["Inbox"], s.ids["Contacts"]

	// Nothing cached yet: Status 13, with or without a body.
	if r, err := s.c.SyncEmpty(ctx); err != nil || r.Status != 13 {
		t.Fatalf("first empty Sync: %+v %v, want Status 13", r, err)
	}
	inboxKey := s.catchUp(t, inbox, s.start(t, inbox))
	contactsKey := s.start(t, contacts)

	// A full request with a window of 1 on the Inbox is cached...
	r, err := s.c.Sync(ctx, syncReq(
		message.SyncCollection{SyncKey: inboxKey, CollectionID: inbox, WindowSize: 1},
		message.SyncCollection{SyncKey: contactsKey, CollectionID: contacts}))
	if err != nil {
		t.Fatal(err)
	}
	got := byCollection(t, r)
	contactsKey = got[contacts].SyncKey
	if got[inbox].Status != 1 || got[contacts].Status != 1 {
		t.Fatalf("full Sync: %+v", r.Collections)
	}
	inboxKey = got[inbox].SyncKey

	// ...and an empty Sync repeats it with the current keys and options:
	// two new messages, one per answer.
	s.env.Append(t, "alice", "INBOX", testMail(1))
	s.env.Append(t, "alice", "INBOX", testMail(2))
	r, err = s.c.SyncEmpty(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = byCollection(t, r)
	if rc := got[inbox]; rc.Status != 1 || len(commands(rc).Add) != 1 || !rc.MoreAvailable || rc.SyncKey == inboxKey {
		t.Fatalf("empty Sync, Inbox: %+v %+v", rc, rc.Commands)
	}
	if rc := got[contacts]; rc.Status != 1 || rc.SyncKey != contactsKey {
		t.Fatalf("empty Sync, Contacts: %+v", rc)
	}
	inboxKey = got[inbox].SyncKey

	// The cache is in the database: a second instance serves the next one.
	second := easdtest.StartSecond(t, s.env)
	r, err = second.Client("alice", "phone-ping").SyncEmpty(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = byCollection(t, r)
	if rc := got[inbox]; rc.Status != 1 || len(commands(rc).Add) != 1 || rc.MoreAvailable || rc.SyncKey == inboxKey {
		t.Fatalf("empty Sync on a second instance: %+v %+v", rc, rc.Commands)
	}
	inboxKey = got[inbox].SyncKey

	// Partial: the Inbox gets a window of 5, the Contacts keep theirs; the
	// answer covers both.
	for i := 3; i <= 5; i++ {
		s.env.Append(t, "alice", "INBOX", testMail(i))
	}
	r, err = s.c.Sync(ctx, &message.SyncRequest{Partial: true, Collections: &message.SyncCollections{
		Collection: []message.SyncCollection{{SyncKey: inboxKey, CollectionID: inbox, WindowSize: 5}}}})
	if err != nil {
		t.Fatal(err)
	}
	got = byCollection(t, r)
	if rc := got[inbox]; rc.Status != 1 || len(commands(rc).Add) != 3 || rc.MoreAvailable {
		t.Fatalf("partial Sync, Inbox: %+v %+v", rc, rc.Commands)
	}
	if rc := got[contacts]; rc.Status != 1 || rc.SyncKey != contactsKey || len(r.Collections.Collection) != 2 {
		t.Fatalf("partial Sync: %+v", r.Collections)
	}
	// The merged set is what the next empty Sync repeats.
	for i := 6; i <= 7; i++ {
		s.env.Append(t, "alice", "INBOX", testMail(i))
	}
	r, err = s.c.SyncEmpty(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rc := byCollection(t, r)[inbox]; rc.Status != 1 || len(commands(rc).Add) != 2 || rc.MoreAvailable {
		t.Fatalf("empty Sync after Partial: %+v %+v", rc, rc.Commands)
	}

	// A cached collection whose state is gone since (reset): Status 3, the
	// client starts it over; the others are answered as usual.
	if _, err := s.env.DB.Pool.Exec(ctx, `DELETE FROM sync_collections WHERE collection_id = $1`, contacts); err != nil {
		t.Fatal(err)
	}
	r, err = s.c.SyncEmpty(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = byCollection(t, r)
	if got[contacts].Status != 3 || got[inbox].Status != 1 {
		t.Fatalf("empty Sync after a reset: %+v", r.Collections)
	}

	// Another device has a cache of its own: none.
	if r, err := s.env.Client("alice", "tablet-sync").SyncEmpty(ctx); err != nil || r.Status != 13 {
		t.Fatalf("other device: %+v %v, want Status 13", r, err)
	}
}

func TestSyncHanging(t *testing.T) {
	s := startPing(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	key := s.catchUp(t, inbox, s.start(t, inbox))

	// Wait and HeartbeatInterval together: Status 4.
	r, err := s.c.Sync(ctx, &message.SyncRequest{Wait: 1, HeartbeatInterval: 60,
		Collections: &message.SyncCollections{Collection: []message.SyncCollection{{SyncKey: key, CollectionID: inbox}}}})
	if err != nil || r.Status != 4 {
		t.Fatalf("Wait and HeartbeatInterval: %+v %v, want Status 4", r, err)
	}

	// Nothing to send: the Sync waits, and an APPEND wakes it with the
	// new message.
	req := syncReq(message.SyncCollection{SyncKey: key, CollectionID: inbox})
	req.HeartbeatInterval = 60
	hanging := syncAsync(s.c, req)
	stillWaiting(t, hanging, time.Second)
	start := time.Now()
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))
	res := answer(t, hanging, wakeWithin)
	rc := byCollection(t, res.r)[inbox]
	if rc.Status != 1 || rc.SyncKey == key || len(commands(rc).Add) != 1 ||
		commands(rc).Add[0].ServerID != (model.MailID{FolderID: inbox, UID: uid}).String() {
		t.Fatalf("woken Sync: %+v %+v", rc, rc.Commands)
	}
	t.Logf("the APPEND woke the Sync after %v", time.Since(start).Round(time.Millisecond))
	key = rc.SyncKey

	// Something to send already: answered at once.
	s.env.Append(t, "alice", "INBOX", testMail(2))
	req = syncReq(message.SyncCollection{SyncKey: key, CollectionID: inbox})
	req.HeartbeatInterval = 60
	res = answer(t, syncAsync(s.c, req), wakeWithin)
	rc = byCollection(t, res.r)[inbox]
	if rc.Status != 1 || len(commands(rc).Add) != 1 {
		t.Fatalf("Sync with a change pending: %+v %+v", rc, rc.Commands)
	}
	key = rc.SyncKey

	// Nothing happens: the empty response once the heartbeat has passed.
	req = syncReq(message.SyncCollection{SyncKey: key, CollectionID: inbox})
	req.HeartbeatInterval = 2
	res = answer(t, syncAsync(s.c, req), wakeWithin)
	wantEmptyAnswer(t, res.r)
	if res.took < 2*time.Second {
		t.Fatalf("quiet hanging Sync answered after %v, want 2s", res.took)
	}
	// An empty Sync repeats the wait of the cached request.
	res = answer(t, syncAsync(s.c, nil), wakeWithin)
	wantEmptyAnswer(t, res.r)
	if res.took < 2*time.Second {
		t.Fatalf("quiet empty Sync answered after %v, want 2s", res.took)
	}

	// Partial with only a HeartbeatInterval: the cached collections, and
	// this wait.
	res = answer(t, syncAsync(s.c, &message.SyncRequest{Partial: true, HeartbeatInterval: 3}), 2*wakeWithin)
	wantEmptyAnswer(t, res.r)
	if res.took < 3*time.Second {
		t.Fatalf("quiet Partial Sync answered after %v, want 3s", res.took)
	}

	// A Ping of the device ends a hanging Sync.
	req.HeartbeatInterval = 60
	hanging = syncAsync(s.c, req)
	stillWaiting(t, hanging, time.Second)
	ping := pingAsync(s.c, time.Minute, email(inbox))
	wantEmptyAnswer(t, answer(t, hanging, wakeWithin).r)
	stillWaiting(t, ping, 500*time.Millisecond)

	// And a Sync of the device ends the Ping; a second hanging Sync ends
	// the first, on another instance too.
	hanging = syncAsync(s.c, req)
	if res := answer(t, ping, wakeWithin); res.r.Status != 1 {
		t.Fatalf("Ping ended by a Sync: %+v", res.r)
	}
	stillWaiting(t, hanging, time.Second)
	other := syncAsync(easdtest.StartSecond(t, s.env).Client("alice", "phone-ping"), req)
	wantEmptyAnswer(t, answer(t, hanging, wakeWithin).r)

	// Shutdown answers a waiting Sync at once.
	stillWaiting(t, other, 500*time.Millisecond)
	hanging = syncAsync(s.c, req)
	stillWaiting(t, hanging, time.Second)
	stopped := make(chan struct{})
	go func() { s.env.Stop(t); close(stopped) }()
	defer func() { <-stopped }()
	wantEmptyAnswer(t, answer(t, hanging, 3*time.Second).r)
}
