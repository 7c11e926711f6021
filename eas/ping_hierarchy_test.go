package eas_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/pgnotify"
)

// hierarchyWithin bounds how long a hierarchy change takes to answer a
// waiting request: it is announced through PostgreSQL as it commits.
const hierarchyWithin = time.Second

// wantHierarchyChanged checks a Ping's answer: Status 7, FolderSync first.
// since is when the change was made.
func wantHierarchyChanged(t *testing.T, res pingResult, what string, since time.Time) {
	t.Helper()
	if res.r.Status != 7 {
		t.Fatalf("Ping after %s: %+v, want Status 7", what, res.r)
	}
	t.Logf("%s answered the waiting Ping with 7 after %v", what, time.Since(since).Round(time.Millisecond))
}

// folderSyncShows runs FolderSync from key and checks that it reports
// the folder called name as added or updated (or, with gone, deleted id);
// it returns the new key.
func folderSyncShows(t *testing.T, s *syncEnv, key, name, goneID string) string {
	t.Helper()
	r, err := s.c.FolderSync(context.Background(), key)
	if err != nil || r.Status != 1 || r.Changes == nil {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	found := false
	for _, f := range append(r.Changes.Add, r.Changes.Update...) {
		found = found || (name != "" && f.DisplayName == name)
	}
	for _, f := range r.Changes.Delete {
		found = found || (goneID != "" && f.ServerID == goneID)
	}
	if !found {
		t.Fatalf("FolderSync does not show %q/%q: %+v", name, goneID, r.Changes)
	}
	return r.SyncKey
}

// TestPingHierarchyChanged: a folder made, renamed or deleted on another
// device of the user, or over CalDAV, answers a waiting Ping with 7 and a
// hanging Sync with 12 at once; once the device has run FolderSync it
// waits again. The device's own folder commands answer nothing.
func TestPingHierarchyChanged(t *testing.T) {
	env := easdtest.Start(t, pushConfig)
	ctx := context.Background()
	phone := env.Client("alice", "phone-hier")
	ids, key := hierarchyOf(t, phone)
	s := &syncEnv{env: env, c: phone, ids: ids}
	inbox := ids["Inbox"]
	s.catchUp(t, inbox, s.start(t, inbox))
	other := env.Client("alice", "tablet-hier")
	otherIDs, otherKey := hierarchyOf(t, other)

	// Another device makes a mail folder, then a calendar, then renames
	// the mail folder.
	var receipts string
	steps := []struct {
		what string
		do   func() string // the name FolderSync then shows
	}{
		{"another device's FolderCreate of a mail folder", func() string {
			r, err := other.FolderCreate(ctx, otherKey, "0", "Receipts", int(model.FolderUserMail))
			if err != nil || r.Status != 1 {
				t.Fatalf("FolderCreate: %+v %v", r, err)
			}
			otherKey, receipts = r.SyncKey, r.ServerID
			return "Receipts"
		}},
		{"another device's FolderCreate of a calendar", func() string {
			r, err := other.FolderCreate(ctx, otherKey, "0", "Team", int(model.FolderUserCalendar))
			if err != nil || r.Status != 1 {
				t.Fatalf("FolderCreate: %+v %v", r, err)
			}
			otherKey, otherIDs["Team"] = r.SyncKey, r.ServerID
			return "Team"
		}},
		{"another device's FolderUpdate", func() string {
			r, err := other.FolderUpdate(ctx, otherKey, receipts, "0", "Invoices")
			if err != nil || r.Status != 1 {
				t.Fatalf("FolderUpdate: %+v %v", r, err)
			}
			otherKey = r.SyncKey
			return "Invoices"
		}},
		{"a calendar made over CalDAV", func() string {
			code, _, body := env.Raw(t, "MKCALENDAR", "/dav/calendars/alice/work/", "alice",
				map[string]string{"Content-Type": "application/xml"},
				`<CAL:mkcalendar xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></CAL:mkcalendar>`)
			if code != http.StatusCreated {
				t.Fatalf("MKCALENDAR: %d %s", code, body)
			}
			return "Work"
		}},
	}
	// A change made before the Ping began is not its news: it waits, and
	// the next FolderSync shows the folder.
	r, err := other.FolderCreate(ctx, otherKey, "0", "Before", int(model.FolderUserNotes))
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", r, err)
	}
	otherKey = r.SyncKey
	time.Sleep(200 * time.Millisecond) // the notice has gone by
	ping := pingAsync(phone, time.Minute, email(inbox))
	stillWaiting(t, ping, time.Second)
	key = folderSyncShows(t, s, key, "Before", "")
	ping = pingAsync(phone, time.Minute, email(inbox))

	for _, step := range steps {
		stillWaiting(t, ping, time.Second)
		start := time.Now()
		name := step.do()
		wantHierarchyChanged(t, answer(t, ping, hierarchyWithin), step.what, start)
		key = folderSyncShows(t, s, key, name, "")
		// The device knows the hierarchy now: no FolderSync loop, however
		// late a notice of the change arrives.
		ping = pingAsync(phone, time.Minute, email(inbox))
	}

	// The device's own folder commands: its waiting Ping goes on waiting,
	// and so does the next one.
	stillWaiting(t, ping, time.Second)
	for _, typ := range []model.FolderType{model.FolderUserMail, model.FolderUserContacts} {
		r, err := phone.FolderCreate(ctx, key, "0", fmt.Sprintf("Mine %d", typ), int(typ))
		if err != nil || r.Status != 1 {
			t.Fatalf("own FolderCreate: %+v %v", r, err)
		}
		key = r.SyncKey
		stillWaiting(t, ping, time.Second)
		ping = pingAsync(phone, time.Minute, email(inbox))
		stillWaiting(t, ping, time.Second)
	}
	if r, err := phone.FolderSync(ctx, key); err != nil || r.Status != 1 || r.Changes.Count != 0 {
		t.Fatalf("FolderSync after the device's own creates: %+v %v, want no change", r, err)
	}

	// A hanging Sync answers 12 when another device deletes a folder.
	skey := s.start(t, inbox)
	skey = s.catchUp(t, inbox, skey)
	req := syncReq(message.SyncCollection{SyncKey: skey, CollectionID: inbox})
	req.HeartbeatInterval = 60
	hanging := syncAsync(phone, req) // ends the Ping
	stillWaiting(t, hanging, time.Second)
	start := time.Now()
	if r, err := other.FolderDelete(ctx, otherKey, otherIDs["Team"]); err != nil || r.Status != 1 {
		t.Fatalf("FolderDelete: %+v %v", r, err)
	}
	res := answer(t, hanging, hierarchyWithin)
	if res.r.Status != 12 || res.r.Collections != nil {
		t.Fatalf("hanging Sync after another device's FolderDelete: %+v, want Status 12", res.r)
	}
	t.Logf("another device's FolderDelete answered the hanging Sync with 12 after %v", time.Since(start).Round(time.Millisecond))
	folderSyncShows(t, s, key, "", otherIDs["Team"])
}

// TestPingHierarchyRollback: a hierarchy change that is rolled back
// announces nothing, nor does a malformed notice or one of a change the
// device has seen; a committed change does.
func TestPingHierarchyRollback(t *testing.T) {
	env := easdtest.Start(t, pushConfig)
	ctx := context.Background()
	phone := env.Client("alice", "phone-rollback")
	ids, _ := hierarchyOf(t, phone)
	s := &syncEnv{env: env, c: phone, ids: ids}
	inbox := ids["Inbox"]
	s.catchUp(t, inbox, s.start(t, inbox))
	var userID int64
	if err := env.App.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	store := folders.NewStore(env.App.Pool).Announcing(eas.NotifyHierarchyChanged)

	ping := pingAsync(phone, time.Minute, email(inbox))
	stillWaiting(t, ping, time.Second)
	refused := errors.New("refused")
	_, err := store.CreatePIM(ctx, userID, "0", "Never", model.FolderUserContacts,
		func(pgx.Tx, folders.Folder) error { return refused })
	if !errors.Is(err, refused) {
		t.Fatalf("CreatePIM: %v, want the refusal", err)
	}
	// A malformed notice, and one of a change older than the device's
	// last FolderSync (a notice delivered late): nothing to tell.
	topic := eas.FolderChangedTopic(userID)
	for _, data := range []string{"hierarchy@not-a-time", fmt.Sprintf("hierarchy@%d", time.Now().Add(-time.Minute).UnixMicro())} {
		if err := pgnotify.Publish(ctx, env.App.Pool, topic, data); err != nil {
			t.Fatal(err)
		}
	}
	stillWaiting(t, ping, time.Second)
	start := time.Now()
	if _, err := store.CreatePIM(ctx, userID, "0", "Kept", model.FolderUserContacts); err != nil {
		t.Fatal(err)
	}
	wantHierarchyChanged(t, answer(t, ping, hierarchyWithin), "a committed CreatePIM", start)
}
