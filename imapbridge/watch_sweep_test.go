package imapbridge

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/testenv"
)

// The sweep hands every subscriber the STATUS of its mailboxes once per
// interval over a short session, keeps the user's schedule across a
// re-subscription, ends the subscriptions when the login is refused, and
// Close ends the rest.
func TestSweeper(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice", "bob")
	appendMsg(t, srv, "alice", "INBOX")
	sw := &Sweeper{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}, Interval: 500 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(logWriter{t}, nil))}
	defer sw.Close()

	type got struct {
		ev Event
		ok bool
	}
	subscribeSweep := func(user, pass string, boxes ...string) (*SweepSubscription, chan got) {
		t.Helper()
		c := make(chan got, 16)
		s, err := sw.SubscribeFunc(context.Background(), user, pass, boxes, func(ev Event, ok bool) {
			select {
			case c <- got{ev, ok}:
			default:
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return s, c
	}
	next := func(c chan got) got {
		t.Helper()
		select {
		case g := <-c:
			return g
		case <-time.After(3 * time.Second):
			t.Fatal("nothing within 3 s")
			return got{}
		}
	}

	start := time.Now()
	s, c := subscribeSweep("alice", "alice", "INBOX", "Sent")
	g := next(c)
	if took := time.Since(start); !g.ok || len(g.ev.Mailboxes) != 2 || took < 200*time.Millisecond {
		t.Fatalf("first sweep after %v: %+v, want both mailboxes after half an interval to one", took, g)
	}
	if g.ev.CheckedAt.Before(start) || g.ev.CheckedAt.After(time.Now()) {
		t.Errorf("CheckedAt %v, want the time of the sweep's STATUS", g.ev.CheckedAt)
	}
	for _, st := range g.ev.Mailboxes {
		if st.Mailbox == "INBOX" && (st.Messages != 1 || st.HighestModSeq == 0) {
			t.Errorf("INBOX: %+v", st)
		}
	}
	if st := sw.Stats(); st.Users != 1 || st.Subscriptions != 1 || st.Sweeps < 1 || st.Logins < 1 {
		t.Errorf("stats %+v", st)
	}

	// A new mail is in the next sweep.
	appendMsg(t, srv, "alice", "INBOX")
	for g = next(c); g.ev.Mailboxes[0].Messages != 2 && g.ev.Mailboxes[1].Messages != 2; g = next(c) {
	}

	// Closed: one final call with ok false, then nothing.
	s.Close()
	if g := next(c); g.ok {
		t.Fatalf("after Close: %+v", g)
	}

	// A refused login ends the user's subscriptions.
	_, bad := subscribeSweep("bob", "wrong")
	if g := next(bad); g.ok {
		t.Fatalf("refused login: %+v, want the end", g)
	}

	// Close ends what is left.
	_, last := subscribeSweep("alice", "alice", "INBOX")
	sw.Close()
	for g := next(last); g.ok; g = next(last) {
	}
	if _, err := sw.SubscribeFunc(context.Background(), "alice", "alice", nil, func(Event, bool) {}); err != ErrWatchersClosed {
		t.Errorf("after Close: %v", err)
	}
}

// TestSweeperKeepsScheduleBetweenPings: a user whose sweep fell due while
// nobody waited (between two Pings) is swept as soon as a request
// subscribes again, and forgotten once it stayed unwatched an interval
// past its due time.
func TestSweeperKeepsScheduleBetweenPings(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	const interval = time.Second
	sw := &Sweeper{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}, Interval: interval,
		Log: slog.New(slog.NewTextHandler(logWriter{t}, nil))}
	defer sw.Close()
	subscribe := func() (*SweepSubscription, chan Event) {
		t.Helper()
		c := make(chan Event, 4)
		s, err := sw.SubscribeFunc(context.Background(), "alice", "alice", []string{"INBOX"}, func(ev Event, ok bool) {
			if ok {
				c <- ev
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return s, c
	}
	s, _ := subscribe()
	s.Close()
	time.Sleep(interval + 300*time.Millisecond) // due, nobody waits
	start := time.Now()
	s, c := subscribe()
	select {
	case <-c:
		t.Logf("swept %v after the request came back", time.Since(start).Round(time.Millisecond))
	case <-time.After(interval / 2):
		t.Fatal("a user due while nobody waited was not swept when a request came back")
	}
	s.Close()
	deadline := time.Now().Add(3 * interval)
	for {
		sw.mu.Lock()
		n := len(sw.users)
		sw.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an unwatched user is never forgotten")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
