package imapbridge

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
)

// pushWithin is the generous bound on a wake-up (Dovecot itself takes
// about 0.5 s to report a change to an IDLE session).
const pushWithin = 5 * time.Second

func newTestWatchers(t testing.TB, srv *dovecot.Server, set func(*Watchers)) *Watchers {
	t.Helper()
	ws := &Watchers{
		Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone},
		Log:    slog.New(slog.NewTextHandler(logWriter{t}, nil)),
	}
	if set != nil {
		set(ws)
	}
	t.Cleanup(ws.Close)
	return ws
}

// logWriter sends the watchers' log to the test log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func subscribe(t testing.TB, ws *Watchers, user string, boxes ...string) *Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := ws.Subscribe(ctx, user, user, boxes)
	if err != nil {
		t.Fatalf("subscribe %s %v: %v", user, boxes, err)
	}
	return s
}

// waitEvent returns the next event, which must name mailbox.
func waitEvent(t testing.TB, s *Subscription, mailbox string) MailboxStatus {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		if !ok {
			t.Fatalf("channel closed (err %v)", s.Err())
		}
		for _, st := range ev.Mailboxes {
			if st.Mailbox == mailbox {
				return st
			}
		}
		t.Fatalf("event %+v does not name %s", ev, mailbox)
	case <-time.After(pushWithin):
		t.Fatalf("no event for %s within %v", mailbox, pushWithin)
	}
	return MailboxStatus{}
}

// waitEventWhere waits for an event whose status of mailbox satisfies ok.
// Dovecot may report one change in two notifications (a flag update and
// then the expunge), so an intermediate event is skipped.
func waitEventWhere(t testing.TB, s *Subscription, mailbox string, ok func(MailboxStatus) bool) MailboxStatus {
	t.Helper()
	deadline := time.After(pushWithin)
	for {
		select {
		case ev, open := <-s.C():
			if !open {
				t.Fatalf("channel closed (err %v)", s.Err())
			}
			for _, st := range ev.Mailboxes {
				if st.Mailbox == mailbox && ok(st) {
					return st
				}
			}
		case <-deadline:
			t.Fatalf("no matching event for %s within %v", mailbox, pushWithin)
			return MailboxStatus{}
		}
	}
}

// noEvent checks that nothing arrives for a while.
func noEvent(t testing.TB, s *Subscription, wait time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		if ok {
			t.Errorf("unexpected event %+v", ev)
		}
	case <-time.After(wait):
	}
}

var msgSeq atomic.Int64

func appendMsg(t testing.TB, srv *dovecot.Server, user, mailbox string) {
	t.Helper()
	n := msgSeq.Add(1)
	msg := fmt.Sprintf("From: a@example.com\r\nTo: %s@example.com\r\nSubject: push %d\r\nMessage-ID: <push%d@example.com>\r\n\r\nbody %d\r\n", user, n, n, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := dovecot.Append(ctx, srv.Addr(), user, user, mailbox, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// otherClient is another mail client of the user (a desktop program),
// making the changes the watcher must notice.
func otherClient(t testing.TB, srv *dovecot.Server, user, mailbox string) *imapclient.Client {
	t.Helper()
	d := &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}
	c, err := d.Login(context.Background(), user, user)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func createMailbox(t testing.TB, srv *dovecot.Server, user, mailbox string) {
	t.Helper()
	c := otherClient(t, srv, user, "INBOX")
	if err := c.Create(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
}

func storeSeen(t testing.TB, c *imapclient.Client) {
	t.Helper()
	all := imap.SeqSetNum()
	all.AddRange(1, 0)
	flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}
	if err := c.Store(all, flags, nil).Close(); err != nil {
		t.Fatal(err)
	}
}

func expungeAll(t testing.TB, c *imapclient.Client) {
	t.Helper()
	all := imap.SeqSetNum()
	all.AddRange(1, 0)
	flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}
	if err := c.Store(all, flags, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or 5 s have passed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pushWithin)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, pushWithin)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
