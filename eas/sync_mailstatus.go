package eas

import (
	"context"
	"sync"
	"time"

	"github.com/easd/easd/eas/model"
)

// statusRounds shares the STATUS of one user's mailbox among the quiet
// Syncs that ask for it at the same time (several devices of one user, or
// a device with several instances of a client).
//
// A STATUS sent after a request began tells that request all its own
// STATUS would: the mailbox as it was at a moment after the request
// started. So a request that finds a STATUS of the mailbox in flight,
// which may have been sent before it started, never takes that answer: it
// joins the next round, which the first of its joiners sends as soon as
// the one in flight has ended, and every joiner takes that answer. One
// STATUS per round, however many requests it answers; no answer is kept
// after its round, so none is ever older than the request it answers.
// Nothing is shared across instances: each asks its mail server.
type statusRounds struct {
	mu      sync.Mutex
	flights map[statusKey]*statusFlight
}

type statusKey struct{ login, mailbox string }

// statusFlight is the round of a mailbox in flight, and the one its
// arrivals meanwhile wait for.
type statusFlight struct {
	next *statusRound // nil: nobody waits yet
}

type statusRound struct {
	start chan struct{} // closed when the round may send its STATUS
	done  chan struct{} // closed when st and err are set
	st    model.MailboxStatus
	err   error
}

// status returns the mailbox's status as a STATUS sent after the call
// began reports it. ask sends that STATUS on the caller's session; it is
// called only when the caller leads a round (asked is then true), so a
// caller that does not lead needs no mail session. An error of a round
// is every joiner's: each then goes its own way (the full Sync).
func (r *statusRounds) status(ctx context.Context, login, mailbox string, ask func() (model.MailboxStatus, error)) (st model.MailboxStatus, asked bool, err error) {
	key := statusKey{login, mailbox}
	r.mu.Lock()
	if r.flights == nil {
		r.flights = map[statusKey]*statusFlight{}
	}
	f, busy := r.flights[key]
	if !busy {
		// Nothing in flight: this call's STATUS is the round.
		f = &statusFlight{}
		r.flights[key] = f
		r.mu.Unlock()
		st, err = ask()
		r.next(key, f)
		return st, true, err
	}
	round, lead := f.next, f.next == nil
	if lead {
		round = &statusRound{start: make(chan struct{}), done: make(chan struct{})}
		f.next = round
	}
	r.mu.Unlock()
	if !lead {
		select {
		case <-round.done:
			return round.st, false, round.err
		case <-ctx.Done():
			return model.MailboxStatus{}, false, ctx.Err()
		}
	}
	// The leader waits for the round in flight whatever its context says:
	// the joiners count on it to send this round. But not longer than
	// roundPatience: a STATUS in flight that long means a slow or hung mail
	// server, and queueing every round behind it would add the command
	// timeouts of all rounds up. The leader then sends at once, on its own
	// session, and takes its round out of the queue; its joiners all came
	// after it, so its answer is still new enough for each of them.
	timer := time.NewTimer(roundPatience)
	defer timer.Stop()
	select {
	case <-round.start:
	case <-timer.C:
		r.mu.Lock()
		queued := f.next == round
		if queued {
			f.next = nil
		}
		r.mu.Unlock()
		if !queued { // started meanwhile: it is the round in flight now
			<-round.start
			break
		}
		round.st, round.err = ask()
		close(round.done)
		return round.st, true, round.err
	}
	round.st, round.err = ask()
	close(round.done)
	r.next(key, f)
	return round.st, true, round.err
}

// roundPatience is how long a round waits for the one in flight before it
// sends its STATUS beside it. Quiet STATUS rounds take a few milliseconds.
var roundPatience = 500 * time.Millisecond

// next ends the round in flight of f: the waiting round, if any, starts;
// otherwise the mailbox has nothing in flight any more.
func (r *statusRounds) next(key statusKey, f *statusFlight) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f.next == nil {
		delete(r.flights, key)
		return
	}
	close(f.next.start)
	f.next = nil
}
