package eas

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/easd/easd/eas/model"
)

// A caller that finds a STATUS in flight never takes its answer: the
// mailbox may have changed after it was sent. It leads or joins the next
// round, sent once the one in flight has ended; a joiner sends nothing.
func TestStatusRoundsNeverOlderThanTheCaller(t *testing.T) {
	var r statusRounds
	ctx := context.Background()
	var version atomic.Uint32 // the mailbox: UIDNEXT grows with each change
	version.Store(1)
	statusNow := func() model.MailboxStatus { return model.MailboxStatus{UIDNext: version.Load()} }

	type answer struct {
		st    model.MailboxStatus
		asked bool
		err   error
	}
	release := make(chan struct{})
	sent := make(chan struct{})
	first := make(chan answer, 1)
	go func() {
		st, asked, err := r.status(ctx, "alice", "INBOX", func() (model.MailboxStatus, error) {
			st := statusNow() // the STATUS is sent: what it reports is fixed now
			close(sent)
			<-release
			return st, nil
		})
		first <- answer{st, asked, err}
	}()
	<-sent
	version.Store(2) // a change after the first STATUS was sent

	var firstEnded atomic.Bool
	second := make(chan answer, 1)
	go func() {
		st, asked, err := r.status(ctx, "alice", "INBOX", func() (model.MailboxStatus, error) {
			if !firstEnded.Load() {
				t.Error("the next round was sent while the first was in flight")
			}
			return statusNow(), nil
		})
		second <- answer{st, asked, err}
	}()
	waitFor(t, "the second caller to wait for the next round", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		f := r.flights[statusKey{"alice", "INBOX"}]
		return f != nil && f.next != nil
	})
	third := make(chan answer, 1)
	go func() {
		st, asked, err := r.status(ctx, "alice", "INBOX", func() (model.MailboxStatus, error) {
			t.Error("a joiner of a round sent a STATUS of its own")
			return statusNow(), nil
		})
		third <- answer{st, asked, err}
	}()
	// Another user's mailbox is not held up by alice's round.
	if st, asked, err := r.status(ctx, "bob", "INBOX", func() (model.MailboxStatus, error) {
		return model.MailboxStatus{UIDNext: 7}, nil
	}); err != nil || !asked || st.UIDNext != 7 {
		t.Fatalf("bob: %+v %v %v", st, asked, err)
	}
	time.Sleep(20 * time.Millisecond) // let the third caller join
	firstEnded.Store(true)
	close(release)

	a := <-first
	if a.err != nil || !a.asked || a.st.UIDNext != 1 {
		t.Errorf("first caller: %+v", a)
	}
	b := <-second
	if b.err != nil || !b.asked || b.st.UIDNext != 2 {
		t.Errorf("second caller: %+v, want its own STATUS showing the change", b)
	}
	c := <-third
	if c.err != nil || c.asked || c.st.UIDNext != 2 {
		t.Errorf("third caller: %+v, want the second's round", c)
	}
	r.mu.Lock()
	left := len(r.flights)
	r.mu.Unlock()
	if left != 0 {
		t.Errorf("%d flights left after every round ended", left)
	}
}

// hangRound starts a round of alice's INBOX whose STATUS has been sent
// and answers only when the returned channel is closed.
func hangRound(r *statusRounds) chan<- struct{} {
	release := make(chan struct{})
	sent := make(chan struct{})
	go r.status(context.Background(), "alice", "INBOX", func() (model.MailboxStatus, error) {
		close(sent)
		<-release
		return model.MailboxStatus{}, nil
	})
	<-sent
	return release
}

// A round's failure is every joiner's; a joiner whose request ends stops
// waiting.
func TestStatusRoundsFailureAndCancel(t *testing.T) {
	var r statusRounds
	ctx := context.Background()
	release := hangRound(&r)
	failed := errors.New("connection dropped")
	lead := make(chan error, 1)
	go func() {
		_, _, err := r.status(ctx, "alice", "INBOX", func() (model.MailboxStatus, error) {
			return model.MailboxStatus{}, failed
		})
		lead <- err
	}()
	waitFor(t, "the next round", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.flights[statusKey{"alice", "INBOX"}].next != nil
	})
	joined := make(chan error, 1)
	go func() {
		_, _, err := r.status(ctx, "alice", "INBOX", nil)
		joined <- err
	}()
	cancelled, cancel := context.WithCancel(ctx)
	gone := make(chan error, 1)
	go func() {
		_, _, err := r.status(cancelled, "alice", "INBOX", nil)
		gone <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled joiner: %v", err)
	}
	close(release)
	if err := <-lead; !errors.Is(err, failed) {
		t.Errorf("leader: %v", err)
	}
	if err := <-joined; !errors.Is(err, failed) {
		t.Errorf("joiner: %v, want the round's failure", err)
	}
}

// A STATUS hung on a slow mail server does not hold the next round past
// roundPatience: that round sends its own, and its joiners take it.
func TestStatusRoundsDoNotQueueBehindAHungStatus(t *testing.T) {
	defer func(p time.Duration) { roundPatience = p }(roundPatience)
	roundPatience = 50 * time.Millisecond
	var r statusRounds
	ctx := context.Background()
	release := hangRound(&r)
	type answer struct {
		st    model.MailboxStatus
		asked bool
		err   error
	}
	lead, joined := make(chan answer, 1), make(chan answer, 1)
	go func() {
		st, asked, err := r.status(ctx, "alice", "INBOX", func() (model.MailboxStatus, error) {
			return model.MailboxStatus{UIDNext: 42}, nil
		})
		lead <- answer{st, asked, err}
	}()
	waitFor(t, "the next round", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.flights[statusKey{"alice", "INBOX"}].next != nil
	})
	go func() {
		// It joins the waiting round; should the machine be so slow that
		// the round left the queue first, it leads one of its own.
		st, asked, err := r.status(ctx, "alice", "INBOX", func() (model.MailboxStatus, error) {
			return model.MailboxStatus{UIDNext: 42}, nil
		})
		joined <- answer{st, asked, err}
	}()
	for _, c := range []chan answer{lead, joined} {
		select {
		case a := <-c:
			if a.err != nil || a.st.UIDNext != 42 {
				t.Errorf("answer %+v, want the second round's STATUS", a)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the next round waited for the hung STATUS")
		}
	}
	close(release)
	waitFor(t, "the hung round to end", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.flights) == 0
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
