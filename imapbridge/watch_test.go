package imapbridge

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/testenv"
)

// New mail, a flag change and an expunge in INBOX each wake a subscriber,
// through IDLE (the poll interval is far longer than the test).
func TestWatchInboxChanges(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	appendMsg(t, srv, "alice", "INBOX")
	ws := newTestWatchers(t, srv, func(ws *Watchers) { ws.PollInterval = time.Hour })
	s := subscribe(t, ws, "alice", "inbox")
	defer s.Close()

	start := time.Now()
	appendMsg(t, srv, "alice", "INBOX")
	st := waitEvent(t, s, "INBOX")
	t.Logf("APPEND -> event: %v", time.Since(start))
	if st.Messages != 2 || st.UIDNext != 3 || st.Unseen != 2 || st.HighestModSeq == 0 {
		t.Errorf("after append: %+v", st)
	}

	c := otherClient(t, srv, "alice", "INBOX")
	start = time.Now()
	storeSeen(t, c)
	seen := waitEventWhere(t, s, "INBOX", func(st MailboxStatus) bool { return st.Unseen == 0 })
	t.Logf("STORE \\Seen -> event: %v", time.Since(start))
	if seen.Unseen != 0 || seen.HighestModSeq <= st.HighestModSeq {
		t.Errorf("after \\Seen: %+v (before %+v)", seen, st)
	}

	start = time.Now()
	expungeAll(t, c)
	gone := waitEventWhere(t, s, "INBOX", func(st MailboxStatus) bool { return st.Messages == 0 })
	t.Logf("EXPUNGE -> event: %v", time.Since(start))
	if gone.Messages != 0 || gone.UIDNext != 3 {
		t.Errorf("after expunge: %+v", gone)
	}
	noEvent(t, s, time.Second)
}

// A mailbox other than INBOX is polled: a change wakes its subscribers
// within the poll interval, and only them.
func TestWatchPolledMailbox(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	createMailbox(t, srv, "alice", "Archive")
	ws := newTestWatchers(t, srv, func(ws *Watchers) { ws.PollInterval = 300 * time.Millisecond })
	both := subscribe(t, ws, "alice", "INBOX", "Archive")
	defer both.Close()
	inboxOnly := subscribe(t, ws, "alice", "INBOX")
	defer inboxOnly.Close()

	start := time.Now()
	appendMsg(t, srv, "alice", "Archive")
	st := waitEvent(t, both, "Archive")
	t.Logf("APPEND to Archive -> event: %v (poll every 300ms)", time.Since(start))
	if st.Messages != 1 || st.UIDNext != 2 {
		t.Errorf("Archive: %+v", st)
	}
	noEvent(t, inboxOnly, time.Second)
	noEvent(t, both, 500*time.Millisecond) // values unchanged since: quiet

	// A mailbox that does not exist yet is watched too: its creation
	// is a change.
	later := subscribe(t, ws, "alice", "Later")
	defer later.Close()
	createMailbox(t, srv, "alice", "Later")
	if st := waitEvent(t, later, "Later"); st.Missing || st.UIDValidity == 0 {
		t.Errorf("Later: %+v", st)
	}
}

// A watcher started while the mail server is down does not hold Subscribe
// up; it connects when the server comes back and then reports changes.
func TestWatchStartsWhileServerDown(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	srv.Stop()
	ws := newTestWatchers(t, srv, nil)
	start := time.Now()
	s := subscribe(t, ws, "alice", "INBOX")
	defer s.Close()
	t.Logf("Subscribe with the server down: %v", time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "connected", func() bool { return ws.Stats().Logins == 1 })
	time.Sleep(200 * time.Millisecond) // EXAMINE, STATUS, IDLE
	appendMsg(t, srv, "alice", "INBOX")
	waitEvent(t, s, "INBOX")
}

// All subscribers of a user share one watcher and one IMAP login; a new
// mailbox joins the watched set without a new connection.
func TestWatchSharedConnection(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice", "bob")
	createMailbox(t, srv, "alice", "Lists")
	ws := newTestWatchers(t, srv, func(ws *Watchers) { ws.PollInterval = 300 * time.Millisecond })
	phone := subscribe(t, ws, "alice", "INBOX")
	defer phone.Close()
	tablet := subscribe(t, ws, "alice", "INBOX")
	defer tablet.Close()
	lists := subscribe(t, ws, "alice", "Lists")
	defer lists.Close()
	other := subscribe(t, ws, "bob", "INBOX")
	defer other.Close()

	if st := ws.Stats(); st.Watchers != 2 || st.Subscriptions != 4 || st.Logins != 2 {
		t.Fatalf("stats %+v, want 2 watchers, 4 subscriptions, 2 logins", st)
	}
	appendMsg(t, srv, "alice", "INBOX")
	waitEvent(t, phone, "INBOX")
	waitEvent(t, tablet, "INBOX")
	appendMsg(t, srv, "alice", "Lists")
	waitEvent(t, lists, "Lists")
	noEvent(t, other, 500*time.Millisecond)

	// Dovecot agrees: alice logged in once (the appends log in too, but
	// on their own connections, logged as "Logged out" with no IDLE).
	logins := countLogins(t, srv, "alice") - 2 - 1 // two appends, one CREATE
	if logins != 1 {
		t.Errorf("Dovecot logged %d watcher logins of alice, want 1", logins)
	}
}

// countLogins counts successful IMAP logins of user in Dovecot's log.
func countLogins(t testing.TB, srv *dovecot.Server, user string) int {
	b, err := os.ReadFile(filepath.Join(srv.Dir(), "dovecot.log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "Login: user=<"+user+">,")
}

// A change made while Dovecot is down is reported once the watcher has
// reconnected, by comparing STATUS with the values from before.
func TestWatchSurvivesDovecotRestart(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	appendMsg(t, srv, "alice", "INBOX")
	ws := newTestWatchers(t, srv, nil)
	s := subscribe(t, ws, "alice", "INBOX")
	defer s.Close()

	srv.Stop()
	deliverToMaildir(t, srv, "alice")
	time.Sleep(700 * time.Millisecond) // the watcher notices and retries
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case ev := <-s.C():
		if len(ev.Mailboxes) != 1 || ev.Mailboxes[0].Messages != 2 {
			t.Errorf("after restart: %+v", ev)
		}
		t.Logf("event %v after Dovecot came back", time.Since(start))
	case <-time.After(45 * time.Second): // back-off at most 30 s + jitter
		t.Fatal("the change made while down was not reported")
	}
	if st := ws.Stats(); st.Logins < 2 {
		t.Errorf("stats %+v: no new login", st)
	}
	// And IDLE works on the new connection.
	appendMsg(t, srv, "alice", "INBOX")
	if st := waitEvent(t, s, "INBOX"); st.Messages != 3 {
		t.Errorf("after reconnect: %+v", st)
	}
}

// deliverToMaildir drops a message into the user's maildir as local
// delivery would, while no IMAP server is running.
func deliverToMaildir(t *testing.T, srv *dovecot.Server, user string) {
	t.Helper()
	dir := filepath.Join(srv.Dir(), "mail", user)
	fi, err := os.Stat(filepath.Join(dir, "new"))
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "new", "1700000000.M1P1.easdtest")
	msg := "From: a@example.com\r\nSubject: while down\r\n\r\nbody\r\n"
	if err := os.WriteFile(name, []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := os.Chown(name, int(st.Uid), int(st.Gid)); err != nil {
			t.Fatal(err)
		}
	}
}

// After the last subscriber leaves the watcher stays for the grace period
// (a returning subscriber reuses it), then logs out.
func TestWatchGracePeriod(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	ws := newTestWatchers(t, srv, func(ws *Watchers) { ws.Grace = 500 * time.Millisecond })
	subscribe(t, ws, "alice", "INBOX").Close()
	s := subscribe(t, ws, "alice", "INBOX")
	if st := ws.Stats(); st.Watchers != 1 || st.Logins != 1 {
		t.Fatalf("within grace: %+v, want the same watcher", st)
	}
	s.Close()
	if st := ws.Stats(); st.Watchers != 1 || st.Subscriptions != 0 {
		t.Fatalf("right after close: %+v", st)
	}
	eventually(t, "watcher stopped after grace", func() bool { return ws.Stats().Watchers == 0 })
	// Every session of alice (there was only the watcher's) ended with
	// a LOGOUT rather than a cut connection.
	eventually(t, "IMAP session logged out", func() bool {
		b, _ := os.ReadFile(filepath.Join(srv.Dir(), "dovecot.log"))
		return strings.Count(string(b), "Disconnected: Logged out") == countLogins(t, srv, "alice")
	})
	s = subscribe(t, ws, "alice", "INBOX")
	defer s.Close()
	if st := ws.Stats(); st.Logins != 2 {
		t.Errorf("after grace: %+v, want a new login", st)
	}
	appendMsg(t, srv, "alice", "INBOX")
	waitEvent(t, s, "INBOX")
}

// With a master user the watcher needs no user password.
func TestWatchMasterUser(t *testing.T) {
	t.Parallel()
	srv := testenv.DovecotWith(t, dovecot.Config{
		Users:      map[string]string{"alice": "alice"},
		MasterUser: "easd", MasterPassword: "master-secret",
	})
	ws := newTestWatchers(t, srv, func(ws *Watchers) {
		ws.MasterUser, ws.MasterPassword = "easd", "master-secret"
	})
	s, err := ws.Subscribe(context.Background(), "alice", "", []string{"INBOX"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendMsg(t, srv, "alice", "INBOX")
	waitEvent(t, s, "INBOX")
	// The empty user password would have been refused: the watcher
	// logged in as the master user.
	if st := ws.Stats(); st.Logins != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A refused login: at once for the first subscriber, and after a password
// change while the watcher runs, which ends the subscriptions with Err.
func TestWatchLoginRefused(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	ws := newTestWatchers(t, srv, nil)
	if _, err := ws.Subscribe(context.Background(), "alice", "wrong", []string{"INBOX"}); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("wrong password: %v", err)
	}
	s := subscribe(t, ws, "alice", "INBOX")
	if err := srv.SetUser("alice", "changed"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Restart(ctx); err != nil { // drops the session
		t.Fatal(err)
	}
	select {
	case _, ok := <-s.C():
		if ok {
			t.Fatal("event instead of the end")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("subscription not ended after the login was refused")
	}
	if !errors.Is(s.Err(), ErrAuthFailed) {
		t.Errorf("Err() = %v", s.Err())
	}
	eventually(t, "watcher gone", func() bool { return ws.Stats().Watchers == 0 })
}

// A newer password from a later subscriber is used after a reconnect; the
// one that worked before stays as the fallback.
func TestWatchKeepsWorkingPassword(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	ws := newTestWatchers(t, srv, nil)
	s1 := subscribe(t, ws, "alice", "INBOX")
	defer s1.Close()
	// Not verified by anyone: a stale password must not break the watcher.
	s2, err := ws.Subscribe(context.Background(), "alice", "stale", []string{"INBOX"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reconnected", func() bool { return ws.Stats().Logins == 2 })
	time.Sleep(200 * time.Millisecond) // EXAMINE, STATUS, IDLE
	appendMsg(t, srv, "alice", "INBOX")
	waitEvent(t, s1, "INBOX")
	waitEvent(t, s2, "INBOX")
}

// Close ends every subscription promptly, with ErrWatchersClosed.
func TestWatchersClose(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice", "bob")
	ws := newTestWatchers(t, srv, nil)
	a := subscribe(t, ws, "alice", "INBOX")
	b := subscribe(t, ws, "bob", "INBOX", "Sent")
	start := time.Now()
	ws.Close()
	for _, s := range []*Subscription{a, b} {
		if _, ok := <-s.C(); ok {
			t.Error("event instead of the end")
		}
		if !errors.Is(s.Err(), ErrWatchersClosed) {
			t.Errorf("Err() = %v", s.Err())
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	if _, err := ws.Subscribe(context.Background(), "alice", "alice", []string{"INBOX"}); !errors.Is(err, ErrWatchersClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
}

// Events not read yet are merged, never dropped.
func TestMergeEvents(t *testing.T) {
	old := Event{Mailboxes: []MailboxStatus{{Mailbox: "INBOX", UIDNext: 2}, {Mailbox: "Sent", UIDNext: 5}}}
	ev := Event{Mailboxes: []MailboxStatus{{Mailbox: "INBOX", UIDNext: 3}}}
	got := mergeEvents(old, ev)
	if len(got.Mailboxes) != 2 || got.Mailboxes[0].UIDNext != 3 || got.Mailboxes[1].Mailbox != "Sent" {
		t.Errorf("merged %+v", got)
	}
	if got := normalizeMailboxes([]string{"inbox", "INBOX", "Sent", "Sent"}); len(got) != 2 || got[0] != "INBOX" {
		t.Errorf("normalized %v", got)
	}
}
