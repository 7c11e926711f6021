package imapbridge

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
)

// funcSub records what a SubscribeFunc subscription is handed.
type funcSub struct {
	mu     sync.Mutex
	events []Event
	ends   int
	got    chan struct{} // signalled on every call
}

func (f *funcSub) fn(ev Event, ok bool) {
	f.mu.Lock()
	if ok {
		f.events = append(f.events, ev)
	} else {
		f.ends++
	}
	f.mu.Unlock()
	select {
	case f.got <- struct{}{}:
	default:
	}
}

func (f *funcSub) state() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events), f.ends
}

// SubscribeFunc hands events to the function instead of a channel, and
// tells it once that the subscription ended: by Close, and by
// Watchers.Close for a subscription still open then.
func TestWatchSubscribeFunc(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	ws := newTestWatchers(t, srv, func(ws *Watchers) { ws.PollInterval = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	closed := &funcSub{got: make(chan struct{}, 1)}
	s, err := ws.SubscribeFunc(ctx, "alice", "alice", []string{"inbox"}, closed.fn)
	if err != nil {
		t.Fatal(err)
	}
	if s.C() != nil {
		t.Error("C() of a SubscribeFunc subscription is not nil")
	}
	open := &funcSub{got: make(chan struct{}, 1)}
	if _, err := ws.SubscribeFunc(ctx, "alice", "alice", []string{"INBOX"}, open.fn); err != nil {
		t.Fatal(err)
	}

	appendMsg(t, srv, "alice", "INBOX")
	for _, f := range []*funcSub{closed, open} {
		select {
		case <-f.got:
		case <-time.After(pushWithin):
			t.Fatal("no event within", pushWithin)
		}
		f.mu.Lock()
		ev := f.events[0]
		f.mu.Unlock()
		if len(ev.Mailboxes) != 1 || ev.Mailboxes[0].Mailbox != "INBOX" || ev.Mailboxes[0].Messages != 1 {
			t.Errorf("event: %+v", ev)
		}
	}

	s.Close()
	s.Close()
	if n, ends := closed.state(); n != 1 || ends != 1 {
		t.Errorf("after Close twice: %d events, %d ends; want 1 and 1", n, ends)
	}
	if _, ends := open.state(); ends != 0 {
		t.Errorf("the other subscription was ended %d times", ends)
	}
	ws.Close()
	if _, ends := open.state(); ends != 1 {
		t.Errorf("after Watchers.Close: %d ends, want 1", ends)
	}
	if _, ends := closed.state(); ends != 1 {
		t.Errorf("a closed subscription was ended again by Watchers.Close (%d)", ends)
	}

	if _, err := ws.SubscribeFunc(ctx, "alice", "alice", []string{"INBOX"}, open.fn); !errors.Is(err, ErrWatchersClosed) {
		t.Errorf("SubscribeFunc after Close: %v", err)
	}
}
