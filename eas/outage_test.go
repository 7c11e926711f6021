package eas_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/testenv"
)

// startFolderSynced starts easd and returns alice's device "dev1" after
// its first FolderSync, and that FolderSync's answer.
func startFolderSynced(t *testing.T) (*easdtest.Env, *client.Client, *message.FolderSyncResponse) {
	t.Helper()
	env := easdtest.Start(t, noPolicy)
	c := env.Client("alice", "dev1")
	first, err := c.FolderSync(context.Background(), "0")
	if err != nil {
		t.Fatal(err)
	}
	return env, c, first
}

// With the mail server down, FolderSync answers its retryable status 6,
// /readyz says not ready, and nothing is lost:
// once the server is back the client continues with its key.
func TestIMAPOutage(t *testing.T) {
	env, c, first := startFolderSynced(t)
	ctx := context.Background()
	if err := env.IMAP.Stop(); err != nil {
		t.Fatal(err)
	}
	r, err := c.FolderSync(ctx, first.SyncKey)
	if err != nil || r.Status != 6 {
		t.Fatalf("16.1 with IMAP down: %+v %v", r, err)
	}
	// FolderSync's own status 6 is in the body for older versions too.
	old := env.Client("alice", "dev1")
	old.Version = "12.1"
	if r, err := old.FolderSync(ctx, first.SyncKey); err != nil || r.Status != 6 {
		t.Fatalf("12.1 with IMAP down: %+v %v", r, err)
	}
	resp, err := http.Get(env.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "imap") {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}

	if err := env.IMAP.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	r, err = c.FolderSync(ctx, first.SyncKey)
	if err != nil || r.Status != 1 || r.Changes.Count != 0 {
		t.Fatalf("after the outage: %+v %v", r, err)
	}
	if !strings.Contains(env.Logs(), `"eas_status":6`) {
		t.Error("the failed FolderSync was not logged with its status")
	}
}

// A PostgreSQL restart between requests costs nothing but a reconnect:
// the next request works with the key from before.
func TestPostgresRestart(t *testing.T) {
	_, c, first := startFolderSynced(t)
	ctx := context.Background()
	if err := testenv.PGCluster(t).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	var r *client.Client = c
	var got int
	for attempt := 0; attempt < 3; attempt++ { // the first request may meet a dead pooled connection
		resp, err := r.FolderSync(ctx, first.SyncKey)
		if err == nil && resp.Status == 1 {
			got = resp.Changes.Count
			first.SyncKey = resp.SyncKey
			break
		}
		if attempt == 2 {
			t.Fatalf("after the restart: %+v %v", resp, err)
		}
	}
	if got != 0 {
		t.Fatalf("changes after a restart: %d", got)
	}
}

// The mail server restarts in the middle of an initial sync, while the
// stream that fetches ahead (sync_prefetch.go) holds messages and waits
// to fetch more: the window after the restart fails with the retryable
// status at most once, and the sync then ends with every message sent
// exactly once, the rest fetched by the requests themselves.
func TestIMAPRestartDuringInitialSync(t *testing.T) {
	s := startSync(t, recheckEveryWindow)
	ctx := context.Background()
	const n, window = 600, 100
	fillInbox(t, s.env, n)
	inbox := s.ids["Inbox"]
	key := s.start(t, inbox)
	seen := map[string]int{}
	retries := 0
	page := func() bool {
		t.Helper()
		for range 3 {
			rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: window})
			if rc.Status == 16 {
				retries++ // the pooled connection died with the server: retry
				continue
			}
			if rc.Status != 1 {
				t.Fatalf("Sync: %+v", rc)
			}
			for _, it := range commands(rc).Add {
				seen[it.ServerID]++
			}
			key = rc.SyncKey
			return rc.MoreAvailable
		}
		t.Fatal("Sync kept failing after the restart")
		return false
	}
	page()
	// The stream holds its ahead limit and waits; then the server goes.
	time.Sleep(300 * time.Millisecond)
	if err := s.env.IMAP.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for more := true; more; {
		more = page()
	}
	if len(seen) != n {
		t.Fatalf("%d messages synced, want %d", len(seen), n)
	}
	if retries > 1 {
		t.Errorf("%d windows answered 16, want at most one", retries)
	}
	// The first window after the restart took what the stream held (one
	// STATUS); a later one found the stream ended short of its messages
	// and fetched them itself.
	paths := imapCmds(s.env, inbox)
	if len(paths) < 2 || paths[1] != "queued:1" {
		t.Errorf("paths %v: the window after the restart did not take the stream's messages", paths)
	}
	if !slices.ContainsFunc(paths[1:], func(p string) bool { return strings.HasPrefix(p, "queued:") && p != "queued:1" }) {
		t.Errorf("paths %v: no window fetched for itself after the restart", paths)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s sent %d times", id, k)
		}
	}
}

// The connection to the mail server breaks when easd asks BODYSTRUCTURE,
// the second FETCH of a window that read only the start of its messages
// (mailconv/prefix.go), on the window's own connection and on the
// stream's: each such window answers the retryable status or is fetched
// anew, and the sync ends with every message sent exactly once.
func TestIMAPCutAtStructureFetch(t *testing.T) {
	var proxy *imapProxy
	s := startSync(t, recheckEveryWindow, func(c *config.Config) {
		proxy = startIMAPProxy(t, c.IMAPAddr, false)
		c.IMAPAddr = proxy.Addr()
	})
	const n, window = 400, 100
	fillInbox(t, s.env, n)
	inbox := s.ids["Inbox"]
	key := s.start(t, inbox)
	var mu sync.Mutex
	cuts := 0
	proxy.CutOn(func(cmd string) bool {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(cmd, "BODYSTRUCTURE") && cuts < 3 {
			cuts++
			return true
		}
		return false
	})
	seen := map[string]int{}
	retries := 0
	for more := true; more; {
		rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: inbox, WindowSize: window, Options: []message.SyncOptions{
			{BodyPreference: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(5120))}}}}})
		switch rc.Status {
		case 16:
			if retries++; retries > 5 {
				t.Fatal("Sync kept failing")
			}
			continue
		case 1:
		default:
			t.Fatalf("Sync: %+v", rc)
		}
		for _, it := range commands(rc).Add {
			seen[it.ServerID]++
		}
		key, more = rc.SyncKey, rc.MoreAvailable
	}
	mu.Lock()
	defer mu.Unlock()
	if cuts == 0 {
		t.Fatal("no BODYSTRUCTURE was asked: the test does not test what it says")
	}
	if len(seen) != n {
		t.Fatalf("%d messages synced, want %d (%d cuts, %d retries)", len(seen), n, cuts, retries)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s sent %d times", id, k)
		}
	}
	t.Logf("%d connections cut, %d windows retried", cuts, retries)
}

// With PostgreSQL down every request, signed in before or not, gets 503
// with Retry-After (MS-ASHTTP 3.1.5.2.3), never a bare 500; once it is
// back the device continues with its key.
func TestPostgresDown(t *testing.T) {
	cluster := testenv.NewPGCluster(t)
	dsn := testenv.NewDatabase(t, cluster)
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.DatabaseURL = dsn })
	ctx := context.Background()
	c := env.Client("alice", "dev1")
	first, err := c.FolderSync(ctx, "0")
	if err != nil || first.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", first, err)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *client.Client
	}{
		{"signed in before", c},
		{"new login", env.Client("bob", "dev2")},
	} {
		for _, v := range []string{"16.1", "12.1"} {
			tc.c.Version = v
			_, err := tc.c.FolderSync(ctx, first.SyncKey)
			var he *client.HTTPError
			if !errors.As(err, &he) || he.Code != 503 || he.Header.Get("Retry-After") == "" {
				t.Errorf("%s, %s, PostgreSQL down: %v", tc.name, v, err)
			}
		}
	}
	if err := cluster.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c.Version = "16.1"
	var r *message.FolderSyncResponse
	for attempt := 0; attempt < 3; attempt++ { // a dead pooled connection may fail once more
		if r, err = c.FolderSync(ctx, first.SyncKey); err == nil {
			break
		}
	}
	if err != nil || r.Status != 1 || r.Changes.Count != 0 {
		t.Fatalf("after the outage: %+v %v", r, err)
	}
}
