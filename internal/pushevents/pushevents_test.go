package pushevents_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/pushevents"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const secret = "a-test-secret-of-32-characters.."

// wakeWithin is the wake-up bound with events: Dovecot posts at the end of
// the transaction, easd announces it through PostgreSQL at once.
const wakeWithin = time.Second

// eventsConfig turns events on; the sweep is slow unless a test says so.
func eventsConfig(c *config.Config) {
	c.EnforcePolicy = false
	c.HeartbeatMin = time.Second
	c.PushEvents = "dovecot"
	c.PushSecret = secret
	c.PushSweepInterval = time.Hour
}

// startEvents runs easd with events and has its Dovecot post to target
// (env's own endpoint when nil) with secret.
func startEvents(t *testing.T, configure ...func(*config.Config)) *easdtest.Env {
	t.Helper()
	env := easdtest.Start(t, append([]func(*config.Config){eventsConfig}, configure...)...)
	pointDovecot(t, env, env.URL, secret)
	return env
}

func pointDovecot(t *testing.T, env *easdtest.Env, baseURL, secret string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.IMAP.SetPushEvents(ctx, &dovecot.PushEvents{URL: baseURL + pushevents.Path, Secret: secret}); err != nil {
		t.Fatal(err)
	}
}

// phone is a device of alice's whose folders are synced.
type phone struct {
	c   *client.Client
	ids map[string]string // display name -> folder id
}

func newPhone(t *testing.T, env *easdtest.Env, id string) *phone {
	t.Helper()
	p := &phone{c: env.Client("alice", id), ids: map[string]string{}}
	r, err := p.c.FolderSync(context.Background(), "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	for _, f := range r.Changes.Add {
		p.ids[f.DisplayName] = f.ServerID
	}
	return p
}

// catchUp syncs folder from key 0 until the phone holds everything.
func (p *phone) catchUp(t *testing.T, folder string) { p.syncFrom(t, folder, "0") }

// syncFrom syncs folder from key until the phone holds everything and
// returns the last key.
func (p *phone) syncFrom(t *testing.T, folder, key string) string {
	t.Helper()
	for range 10 {
		r, err := p.c.Sync(context.Background(), &message.SyncRequest{Collections: &message.SyncCollections{
			Collection: []message.SyncCollection{{SyncKey: key, CollectionID: folder, WindowSize: 512}}}})
		if err != nil || r.Collections == nil || len(r.Collections.Collection) != 1 {
			t.Fatalf("Sync: %+v %v", r, err)
		}
		rc := r.Collections.Collection[0]
		if rc.Status != 1 {
			t.Fatalf("Sync %s: %+v", folder, rc)
		}
		first := key == "0"
		key = rc.SyncKey
		if !first && !rc.MoreAvailable {
			return key
		}
	}
	t.Fatal("sync never caught up")
	return ""
}

type pingResult struct {
	r    *message.PingResponse
	err  error
	took time.Duration
}

func (p *phone) pingAsync(heartbeat time.Duration, folders ...string) <-chan pingResult {
	out := make(chan pingResult, 1)
	var pf []message.PingFolder
	for _, f := range folders {
		pf = append(pf, message.PingFolder{ID: f, Class: "Email"})
	}
	go func() {
		start := time.Now()
		r, err := p.c.Ping(context.Background(), heartbeat, pf...)
		out <- pingResult{r, err, time.Since(start)}
	}()
	return out
}

// waitingFor blocks until the phone's Ping waits (the gauge shows it),
// then checks that it is not answered for a while.
func waitingFor(t *testing.T, env *easdtest.Env, ch <-chan pingResult) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, env, "easd_ping_waiting") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the Ping never waited")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case res := <-ch:
		t.Fatalf("answered early: %+v %v", res.r, res.err)
	case <-time.After(300 * time.Millisecond):
	}
}

// wantWoken waits for the Ping's answer: Status 2 naming folder.
func wantWoken(t *testing.T, ch <-chan pingResult, within time.Duration, folder string) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case res := <-ch:
		if res.err != nil || res.r.Status != 2 || res.r.Folders == nil ||
			len(res.r.Folders.Folder) != 1 || res.r.Folders.Folder[0] != folder {
			t.Fatalf("Ping: %+v %v, want Status 2 for %s", res.r, res.err, folder)
		}
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("Ping not woken within %v", within)
		return 0
	}
}

// metric reads a gauge or counter without labels from /metrics.
func metric(t *testing.T, env *easdtest.Env, name string) float64 {
	t.Helper()
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// imapAs logs in to env's Dovecot as user.
func imapAs(t *testing.T, env *easdtest.Env, user string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(env.IMAP.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, user).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func testMail(i int) []byte {
	return fmt.Appendf(nil, "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: message %d\r\n"+
		"Date: Mon, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <m%d@example.test>\r\n\r\nbody %d\r\n", i, i, i)
}

// TestEventsWakePings: with events, new mail, a flag change and a deleted
// watched mailbox wake a waiting Ping within a second, and no IMAP
// connection waits with it.
func TestEventsWakePings(t *testing.T) {
	env := startEvents(t)
	imapc := imapAs(t, env, "alice")
	if err := imapc.Create("Projects", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	uid := env.Append(t, "alice", "INBOX", testMail(1))
	p := newPhone(t, env, "phone-events")
	inbox, projects := p.ids["Inbox"], p.ids["Projects"]
	p.catchUp(t, inbox)
	p.catchUp(t, projects)

	// New mail.
	ping := p.pingAsync(time.Minute, inbox, projects)
	waitingFor(t, env, ping)
	if n := metric(t, env, "easd_imap_watcher_connections"); n != 0 {
		t.Fatalf("%v IMAP watcher connections while a Ping waits, want 0", n)
	}
	if n := metric(t, env, "easd_push_sweep_users"); n != 1 {
		t.Fatalf("%v swept users, want 1", n)
	}
	start := time.Now()
	env.Append(t, "alice", "INBOX", testMail(2))
	wantWoken(t, ping, wakeWithin, inbox)
	t.Logf("new mail woke the Ping %v after the APPEND", time.Since(start).Round(time.Millisecond))
	p.catchUp(t, inbox)

	// A flag set by another client.
	ping = p.pingAsync(time.Minute, inbox, projects)
	waitingFor(t, env, ping)
	if _, err := imapc.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	store := imapc.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{Op: imap.StoreFlagsAdd,
		Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	wantWoken(t, ping, wakeWithin, inbox)
	p.catchUp(t, inbox)

	if n := metric(t, env, `easd_push_events_total{outcome="woken"}`); n < 2 {
		t.Errorf("%v posts counted as woken, want at least 2", n)
	}
}

// wantHierarchyChanged waits for the Ping's answer: Status 7, FolderSync
// first.
// start is when the change was made.
func wantHierarchyChanged(t *testing.T, ch <-chan pingResult, within time.Duration, what string, start time.Time) {
	t.Helper()
	select {
	case res := <-ch:
		if res.err != nil || res.r.Status != 7 {
			t.Fatalf("Ping after %s: %+v %v, want Status 7", what, res.r, res.err)
		}
		t.Logf("%s answered the Ping with 7 after %v", what, time.Since(start).Round(time.Millisecond))
	case <-time.After(within):
		t.Fatalf("Ping not answered within %v after %s", within, what)
	}
}

// TestEventsHierarchy: a mailbox made, renamed or deleted by another mail
// client answers a waiting Ping with 7 (FolderSync first), also when easd
// knows no folder for it yet; after FolderSync the next Ping waits.
func TestEventsHierarchy(t *testing.T) {
	env := startEvents(t)
	imapc := imapAs(t, env, "alice")
	p := newPhone(t, env, "phone-hierarchy")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)
	r, err := p.c.FolderSync(context.Background(), "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	key := r.SyncKey

	for _, step := range []struct {
		what, shows string
		do          func() error
	}{
		{"a mailbox made over IMAP", "Later", func() error { return imapc.Create("Later", nil).Wait() }},
		{"a mailbox renamed over IMAP", "Someday", func() error { return imapc.Rename("Later", "Someday", nil).Wait() }},
		{"a mailbox deleted over IMAP", "", func() error { return imapc.Delete("Someday").Wait() }},
	} {
		ping := p.pingAsync(time.Minute, inbox)
		waitingFor(t, env, ping)
		start := time.Now()
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		wantHierarchyChanged(t, ping, wakeWithin, step.what, start)
		r, err := p.c.FolderSync(context.Background(), key)
		if err != nil || r.Status != 1 || r.Changes == nil || r.Changes.Count != 1 {
			t.Fatalf("FolderSync after %s: %+v %v, want one change", step.what, r, err)
		}
		if step.shows != "" && len(r.Changes.Add)+len(r.Changes.Update) == 1 {
			if f := append(r.Changes.Add, r.Changes.Update...)[0]; f.DisplayName != step.shows {
				t.Fatalf("FolderSync after %s shows %+v, want %q", step.what, f, step.shows)
			}
		}
		key = r.SyncKey
	}
	// Known now: the next Ping waits. The phone's own FolderCreate, whose
	// mailbox Dovecot announces as well, leaves it waiting.
	ping := p.pingAsync(time.Minute, inbox)
	waitingFor(t, env, ping)
	cr, err := p.c.FolderCreate(context.Background(), key, "0", "Mine", 12)
	if err != nil || cr.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", cr, err)
	}
	select {
	case res := <-ping:
		t.Fatalf("the phone's own FolderCreate answered its Ping: %+v %v", res.r, res.err)
	case <-time.After(time.Second):
	}
	if n := metric(t, env, `easd_push_events_total{outcome="woken"}`); n < 3 {
		t.Errorf("%v posts counted as woken, want at least 3", n)
	}
}

// TestEventsLostCaughtBySweep: when easd does not get the event (here:
// Dovecot posts with a wrong secret), the STATUS sweep finds the change
// within its interval.
func TestEventsLostCaughtBySweep(t *testing.T) {
	const interval = 2 * time.Second
	env := easdtest.Start(t, eventsConfig, func(c *config.Config) { c.PushSweepInterval = interval })
	pointDovecot(t, env, env.URL, "a-wrong-secret-of-32-characters.")
	p := newPhone(t, env, "phone-sweep")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)

	ping := p.pingAsync(time.Minute, inbox)
	waitingFor(t, env, ping)
	env.Append(t, "alice", "INBOX", testMail(1))
	took := wantWoken(t, ping, 2*interval+time.Second, inbox)
	t.Logf("the sweep found the lost event after %v (interval %v)", took.Round(time.Millisecond), interval)
	if !strings.Contains(env.Logs(), "wrong or missing secret") {
		t.Error("the refused post was not logged")
	}
	if metric(t, env, "easd_push_sweeps_total") < 1 {
		t.Error("no sweep counted")
	}
}

// TestEventsEndpointRefusals: what is not a good post gets a clear 4xx and
// a log line; an event for a user easd does not know is ignored.
func TestEventsEndpointRefusals(t *testing.T) {
	env := easdtest.Start(t, eventsConfig)
	good := `{"user":"alice","events":[{"event":"MessageNew","mailbox":"INBOX"}]}`
	bearer := func(s string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + s, "Content-Type": "application/json"}
	}
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		body   string
		want   int
	}{
		{"no secret", http.MethodPost, nil, good, http.StatusUnauthorized},
		{"wrong secret", http.MethodPost, bearer("a-wrong-secret-of-32-characters."), good, http.StatusUnauthorized},
		{"basic auth", http.MethodPost, map[string]string{"Authorization": "Basic YWxpY2U6YWxpY2U="}, good, http.StatusUnauthorized},
		{"GET", http.MethodGet, bearer(secret), "", http.StatusMethodNotAllowed},
		{"garbage", http.MethodPost, bearer(secret), "\x00\xff garbage", http.StatusBadRequest},
		{"no events", http.MethodPost, bearer(secret), `{"user":"alice","events":[]}`, http.StatusBadRequest},
		{"no user", http.MethodPost, bearer(secret), `{"events":[{"event":"MessageNew","mailbox":"INBOX"}]}`, http.StatusBadRequest},
		{"control character", http.MethodPost, bearer(secret), `{"user":"al\u0000ice","events":[{"event":"MessageNew","mailbox":"INBOX"}]}`, http.StatusBadRequest},
		{"too large", http.MethodPost, bearer(secret), `{"user":"alice","events":[` + strings.Repeat(`{"event":"MessageNew","mailbox":"INBOX"},`, 2000) + `]}`, http.StatusRequestEntityTooLarge},
		{"unknown user", http.MethodPost, bearer(secret), `{"user":"mallory","events":[{"event":"MessageNew","mailbox":"INBOX"}]}`, http.StatusNoContent},
		{"good", http.MethodPost, bearer(secret), good, http.StatusNoContent},
	} {
		status, _, body := env.Raw(t, tc.method, pushevents.Path, "", tc.header, tc.body)
		if status != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, status, strings.TrimSpace(body), tc.want)
		}
	}
	logs := env.Logs()
	for _, want := range []string{"wrong or missing secret", "refused a malformed post", "does not know, ignored"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestEventsAcrossInstances: Dovecot posts to one instance, the Ping waits
// on the other.
func TestEventsAcrossInstances(t *testing.T) {
	env := startEvents(t)
	other := easdtest.StartSecond(t, env)
	p := newPhone(t, other, "phone-other")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)

	ping := p.pingAsync(time.Minute, inbox)
	waitingFor(t, other, ping)
	start := time.Now()
	env.Append(t, "alice", "INBOX", testMail(1))
	wantWoken(t, ping, wakeWithin, inbox)
	t.Logf("an event posted to the first instance woke the second's Ping after %v", time.Since(start).Round(time.Millisecond))
}

// TestEventsWakeHangingSync: a hanging Sync (HeartbeatInterval) waits on
// the same notifications as a Ping.
func TestEventsWakeHangingSync(t *testing.T) {
	env := startEvents(t)
	p := newPhone(t, env, "phone-hanging")
	inbox := p.ids["Inbox"]
	key := p.syncFrom(t, inbox, "0")

	type syncResult struct {
		r   *message.SyncResponse
		err error
	}
	done := make(chan syncResult, 1)
	go func() {
		r, err := p.c.Sync(context.Background(), &message.SyncRequest{HeartbeatInterval: 60,
			Collections: &message.SyncCollections{Collection: []message.SyncCollection{{SyncKey: key, CollectionID: inbox}}}})
		done <- syncResult{r, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, env, "easd_sync_waiting") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the Sync never waited")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	env.Append(t, "alice", "INBOX", testMail(1))
	select {
	case res := <-done:
		if res.err != nil || res.r.Collections == nil || len(res.r.Collections.Collection) != 1 ||
			res.r.Collections.Collection[0].Commands == nil {
			t.Fatalf("hanging Sync: %+v %v, want the new message", res.r, res.err)
		}
		t.Logf("new mail answered the hanging Sync %v after the APPEND", time.Since(start).Round(time.Millisecond))
	case <-time.After(wakeWithin):
		t.Fatalf("hanging Sync not answered within %v", wakeWithin)
	}
}
