package eas_test

import (
	"context"
	"testing"
	"time"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// wakeWithin bounds a push wake-up in these tests: Dovecot reports a change
// about half a second after it happened.
const wakeWithin = 5 * time.Second

// pushConfig allows short heartbeats and polls quickly, for fast tests.
func pushConfig(c *config.Config) {
	c.EnforcePolicy = false
	c.HeartbeatMin = time.Second
	c.PushPollInterval = time.Second
	c.MaxPingFolders = 4
}

func startPing(t *testing.T) *syncEnv {
	t.Helper()
	env := easdtest.Start(t, pushConfig)
	c := env.Client("alice", "phone-ping")
	return &syncEnv{env: env, c: c, ids: syncFolderIDs(t, c)}
}

// catchUp syncs folder until the device holds everything; it returns the
// key.
func (s *syncEnv) catchUp(t *testing.T, folder, key string) string {
	t.Helper()
	for range 10 {
		rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder, WindowSize: 512})
		if rc.Status != 1 {
			t.Fatalf("sync %s: %+v", folder, rc)
		}
		key = rc.SyncKey
		if !rc.MoreAvailable {
			return key
		}
	}
	t.Fatal("sync never caught up")
	return ""
}

// result is the answer to a request sent in the background (a waiting
// Ping or hanging Sync).
type result[R any] struct {
	r    R
	err  error
	took time.Duration
}

type pingResult = result[*message.PingResponse]

// pingAsync sends a Ping and delivers its answer on the returned channel.
func pingAsync(c *client.Client, heartbeat time.Duration, folders ...message.PingFolder) <-chan pingResult {
	out := make(chan pingResult, 1)
	go func() {
		start := time.Now()
		r, err := c.Ping(context.Background(), heartbeat, folders...)
		out <- pingResult{r, err, time.Since(start)}
	}()
	return out
}

// answer waits up to d for a background request's answer.
func answer[R any](t *testing.T, ch <-chan result[R], d time.Duration) result[R] {
	t.Helper()
	select {
	case res := <-ch:
		if res.err != nil {
			t.Fatalf("request failed: %v", res.err)
		}
		return res
	case <-time.After(d):
		t.Fatalf("request not answered within %v", d)
		return result[R]{}
	}
}

// stillWaiting checks that a background request has not been answered
// for d.
func stillWaiting[R any](t *testing.T, ch <-chan result[R], d time.Duration) {
	t.Helper()
	select {
	case res := <-ch:
		t.Fatalf("answered early: %+v %v", res.r, res.err)
	case <-time.After(d):
	}
}

func wantChanged(t *testing.T, res pingResult, ids ...string) {
	t.Helper()
	if res.r.Status != 2 || res.r.Folders == nil || !equalStrings(res.r.Folders.Folder, ids) {
		t.Fatalf("Ping: %+v %+v, want Status 2 with folders %v", res.r, res.r.Folders, ids)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func email(id string) message.PingFolder { return message.PingFolder{ID: id, Class: "Email"} }

func TestPingMailWakeUps(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	uid := s.env.Append(t, "alice", "INBOX", testMail(1))

	// Never synced: changed at once.
	wantChanged(t, answer(t, pingAsync(s.c, time.Minute, email(inbox)), wakeWithin), inbox)
	key := s.catchUp(t, inbox, s.start(t, inbox))

	sess, err := mailStore(s.env).OpenMail(context.Background(), "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	seen := true
	changes := []struct {
		name string
		do   func()
	}{
		{"append", func() { s.env.Append(t, "alice", "INBOX", testMail(2)) }},
		{"flag", func() {
			if _, _, err := sess.SetFlags(context.Background(), "INBOX", uid, model.MailFlagChange{Seen: &seen}); err != nil {
				t.Fatal(err)
			}
		}},
		{"expunge", func() {
			if _, err := sess.Delete(context.Background(), "INBOX", []uint32{uid}, ""); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, ch := range changes {
		ping := pingAsync(s.c, time.Minute, email(inbox))
		stillWaiting(t, ping, time.Second)
		start := time.Now()
		ch.do()
		res := answer(t, ping, wakeWithin)
		wantChanged(t, res, inbox)
		t.Logf("%s woke the Ping after %v", ch.name, time.Since(start).Round(time.Millisecond))
		key = s.catchUp(t, inbox, key)
	}

	// A change while no Ping waits is reported by the next one at once.
	s.env.Append(t, "alice", "INBOX", testMail(3))
	time.Sleep(time.Second)
	wantChanged(t, answer(t, pingAsync(s.c, time.Minute, email(inbox)), wakeWithin), inbox)
	s.catchUp(t, inbox, key)

	// Nothing happens: Status 1 when the heartbeat has passed.
	res := answer(t, pingAsync(s.c, 2*time.Second, email(inbox)), wakeWithin)
	if res.r.Status != 1 || res.took < 2*time.Second {
		t.Fatalf("quiet Ping: %+v after %v, want Status 1 after 2s", res.r, res.took)
	}
}

func TestPingParametersAndLimits(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	ctx := context.Background()

	// A first Ping without parameters: nothing stored, Status 3.
	if r, err := s.c.PingEmpty(ctx); err != nil || r.Status != 3 {
		t.Fatalf("empty first Ping: %+v %v, want Status 3", r, err)
	}
	if r, err := s.c.Ping(ctx, 5000*time.Second, email(inbox)); err != nil || r.Status != 5 || r.HeartbeatInterval != 3540 {
		t.Fatalf("long heartbeat: %+v %v, want Status 5 with limit 3540", r, err)
	}
	if r, err := s.c.Ping(ctx, 0, email(inbox)); err != nil || r.Status != 3 {
		t.Fatalf("no heartbeat ever: %+v %v, want Status 3", r, err)
	}
	many := []message.PingFolder{email(inbox), email(s.ids["Sent"]), email(s.ids["Drafts"]),
		email(s.ids["Trash"]), {ID: s.ids["Contacts"], Class: "Contacts"}}
	if r, err := s.c.Ping(ctx, time.Minute, many...); err != nil || r.Status != 6 || r.MaxFolders != 4 {
		t.Fatalf("too many folders: %+v %v, want Status 6 with MaxFolders 4", r, err)
	}
	if r, err := s.c.Ping(ctx, time.Minute, email("999")); err != nil || r.Status != 7 {
		t.Fatalf("unknown folder: %+v %v, want Status 7", r, err)
	}
	if r, err := s.c.Ping(ctx, time.Minute, message.PingFolder{ID: inbox, Class: "Bogus"}); err != nil || r.Status != 4 {
		t.Fatalf("bad class: %+v %v, want Status 4", r, err)
	}

	// A valid Ping stores its parameters; the refused ones above did not.
	s.catchUp(t, inbox, s.start(t, inbox))
	if res := answer(t, pingAsync(s.c, 2*time.Second, email(inbox)), wakeWithin); res.r.Status != 1 {
		t.Fatalf("valid Ping: %+v", res.r)
	}
	// An empty Ping reuses them, on a second instance too.
	second := easdtest.StartSecond(t, s.env)
	c2 := second.Client("alice", "phone-ping")
	start := time.Now()
	r, err := c2.PingEmpty(ctx)
	if err != nil || r.Status != 1 || time.Since(start) < 2*time.Second {
		t.Fatalf("empty Ping: %+v %v after %v, want Status 1 after the stored 2s", r, err, time.Since(start))
	}
	s.env.Append(t, "alice", "INBOX", testMail(1))
	r, err = c2.PingEmpty(ctx)
	if err != nil || r.Status != 2 || r.Folders == nil || !equalStrings(r.Folders.Folder, []string{inbox}) {
		t.Fatalf("empty Ping after a change: %+v %v", r, err)
	}
}

func TestPingSupersedeAndPIM(t *testing.T) {
	s := startPing(t)
	inbox, contacts := s.ids["Inbox"], s.ids["Contacts"]
	s.catchUp(t, inbox, s.start(t, inbox))
	s.catchUp(t, contacts, s.start(t, contacts))
	watch := []message.PingFolder{email(inbox), {ID: contacts, Class: "Contacts"}}

	// A second Ping of the device ends the first, on the same instance...
	first := pingAsync(s.c, time.Minute, watch...)
	stillWaiting(t, first, time.Second)
	second := pingAsync(s.c, time.Minute, watch...)
	if res := answer(t, first, wakeWithin); res.r.Status != 1 {
		t.Fatalf("superseded Ping: %+v, want Status 1", res.r)
	}
	stillWaiting(t, second, time.Second)

	// ...and on another instance sharing the database.
	other := easdtest.StartSecond(t, s.env)
	third := pingAsync(other.Client("alice", "phone-ping"), time.Minute, watch...)
	start := time.Now()
	if res := answer(t, second, wakeWithin); res.r.Status != 1 {
		t.Fatalf("Ping superseded from another instance: %+v, want Status 1", res.r)
	}
	t.Logf("superseded across instances after %v", time.Since(start).Round(time.Millisecond))
	stillWaiting(t, third, time.Second)

	// Another device of the same user is not affected.
	otherDevice := pingAsync(s.env.Client("alice", "tablet-ping"), time.Minute, watch...)
	if res := answer(t, otherDevice, wakeWithin); res.r.Status != 2 { // never synced
		t.Fatalf("other device: %+v", res.r)
	}
	stillWaiting(t, third, 500*time.Millisecond)

	// A contacts change announced on the database wakes the Ping held
	// by the second instance.
	var userID int64
	if err := s.env.DB.Pool.QueryRow(context.Background(),
		`SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	if err := eas.NotifyFolderChanged(context.Background(), s.env.DB.Pool, userID, contacts); err != nil {
		t.Fatal(err)
	}
	wantChanged(t, answer(t, third, wakeWithin), contacts)
}

func TestPingDovecotRestartAndShutdown(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	key := s.catchUp(t, inbox, s.start(t, inbox))

	ping := pingAsync(s.c, time.Minute, email(inbox))
	stillWaiting(t, ping, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.env.IMAP.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	s.env.Append(t, "alice", "INBOX", testMail(1))
	wantChanged(t, answer(t, ping, 15*time.Second), inbox)
	s.catchUp(t, inbox, key)

	// Shutdown answers a waiting Ping at once.
	ping = pingAsync(s.c, time.Minute, email(inbox))
	stillWaiting(t, ping, time.Second)
	start := time.Now()
	stopped := make(chan struct{})
	go func() { s.env.Stop(t); close(stopped) }()
	defer func() { <-stopped }()
	res := answer(t, ping, 3*time.Second)
	if res.r.Status != 1 {
		t.Fatalf("Ping at shutdown: %+v, want Status 1", res.r)
	}
	t.Logf("answered %v after shutdown began", time.Since(start).Round(time.Millisecond))
}
