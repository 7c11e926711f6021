package eas_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// pauseIMAP stops every Dovecot process (SIGSTOP to its process group): the
// mail server accepts bytes and answers nothing, as a hung server does.
// The returned function resumes it.
func pauseIMAP(t *testing.T, env *easdtest.Env) (resume func()) {
	t.Helper()
	pgid := env.IMAP.Pid()
	if err := syscall.Kill(-pgid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	resume = func() { once.Do(func() { _ = syscall.Kill(-pgid, syscall.SIGCONT) }) }
	t.Cleanup(resume)
	return resume
}

// Four Syncs of one user stuck on a hung mail server must not take the
// database pool (4 connections here) from another user: alice's Sync of
// her contacts, which needs only PostgreSQL, is answered at once.
func TestStuckMailSyncsLeavePoolToOthers(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.DBMaxConns = 4 })
	ctx := context.Background()

	alice := &syncEnv{env: env, c: env.Client("alice", "phone1")}
	alice.ids = syncFolderIDs(t, alice.c)
	contacts := alice.ids["Contacts"]
	ckey, _ := alice.syncAll(t, contacts, alice.start(t, contacts))

	type stuck struct {
		s   *syncEnv
		key string
	}
	var bobs []stuck
	for i := range 4 {
		b := &syncEnv{env: env, c: env.Client("bob", fmt.Sprintf("phone%d", i))}
		b.ids = syncFolderIDs(t, b.c)
		key, _ := b.syncAll(t, b.ids["Inbox"], b.start(t, b.ids["Inbox"]))
		bobs = append(bobs, stuck{b, key})
	}

	resume := pauseIMAP(t, env)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	paused := time.Now()
	for _, b := range bobs {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			_, _ = b.s.c.Sync(rctx, &message.SyncRequest{Collections: &message.SyncCollections{
				Collection: []message.SyncCollection{{SyncKey: b.key, CollectionID: b.s.ids["Inbox"]}}}})
			mu.Lock()
			slowest = max(slowest, time.Since(paused))
			mu.Unlock()
		})
	}
	time.Sleep(time.Second) // bob's Syncs are waiting on the mail server

	start := time.Now()
	rc := alice.sync(t, message.SyncCollection{SyncKey: ckey, CollectionID: contacts})
	took := time.Since(start)
	t.Logf("alice's contacts Sync with four of bob's Syncs stuck on IMAP: status %d in %v", rc.Status, took.Round(time.Millisecond))
	if rc.Status != 1 || took > 5*time.Second {
		t.Errorf("alice's contacts Sync: status %d after %v, want 1 within 5s", rc.Status, took)
	}
	// With the mail server still hung, bob's Syncs end on their own: each
	// IMAP command has a deadline (imapbridge.CommandTimeout, 20 s; the
	// fourth Sync waits for a slot behind the others).
	wg.Wait()
	t.Logf("bob's four Syncs against the hung mail server ended after %v", slowest.Round(time.Second))
	if slowest > 100*time.Second {
		t.Errorf("bob's Syncs against a hung mail server took %v", slowest)
	}
	resume()
}
