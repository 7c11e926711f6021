package imapbridge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// watcher is the state shared by one user's watcher goroutine (run, in
// watch_session.go) and its subscribers. The lock order is Watchers.mu,
// then watcher.mu.
type watcher struct {
	ws    *Watchers
	login string

	ctx    context.Context // cancelled to stop the goroutine
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has ended

	// wake (capacity 1) asks the goroutine to look at inboxDirty and at
	// mailboxes without a baseline. inboxDirty is set from the IMAP
	// reader goroutine, which must never block.
	wake       chan struct{}
	inboxDirty atomic.Bool
	flagsOnly  atomic.Bool // FETCH seen; EXISTS/EXPUNGE not (yet)

	mu   sync.Mutex
	subs map[*Subscription]struct{}
	// boxes counts subscribers per mailbox: the watched set is its keys.
	boxes map[string]int
	// last holds the values of the latest STATUS: the baseline a change
	// is detected against. A watched mailbox without an entry has never
	// been read.
	last map[string]MailboxStatus
	// The user's passwords (none with a master user): the latest one
	// given, and the one before as a fallback until a login succeeds.
	pass, prevPass string
	attempted      bool  // the first connection attempt is over
	connected      bool  // a session is up and has read every baseline
	err            error // set once the watcher has ended for good
	// changed is closed and replaced whenever attempted, connected, err
	// or last change, to wake Subscribe calls waiting for a baseline.
	changed chan struct{}
	grace   *time.Timer // runs while there is no subscriber
}

func newWatcher(ws *Watchers, login string) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &watcher{ws: ws, login: login, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), wake: make(chan struct{}, 1),
		subs: map[*Subscription]struct{}{}, boxes: map[string]int{},
		last: map[string]MailboxStatus{}, changed: make(chan struct{})}
}

// add registers s and reports whether it brings mailboxes without a
// baseline. Called with Watchers.mu held.
func (w *watcher) add(s *Subscription, password string) (newBoxes bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ws.MasterUser == "" && password != w.pass {
		w.prevPass, w.pass = w.pass, password
	}
	if w.grace != nil {
		w.grace.Stop()
		w.grace = nil
	}
	w.subs[s] = struct{}{}
	for _, m := range s.boxes {
		w.boxes[m]++
		if _, ok := w.last[m]; !ok {
			newBoxes = true
		}
	}
	return newBoxes
}

// remove unregisters s; the last one out starts the grace period.
func (w *watcher) remove(s *Subscription) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.subs[s]; !ok {
		return
	}
	delete(w.subs, s)
	s.closeLocked()
	for _, m := range s.boxes {
		if w.boxes[m]--; w.boxes[m] <= 0 {
			delete(w.boxes, m)
			delete(w.last, m) // a later subscriber needs a fresh baseline
		}
	}
	if len(w.subs) == 0 && w.err == nil {
		w.grace = time.AfterFunc(w.ws.grace(), w.graceOver)
	}
}

// graceOver stops the watcher unless a subscriber came back meanwhile.
func (w *watcher) graceOver() {
	w.ws.mu.Lock()
	w.mu.Lock()
	idle := len(w.subs) == 0 && w.err == nil
	if idle {
		if w.ws.users[w.login] == w {
			delete(w.ws.users, w.login)
		}
		w.err = errGraceOver
		w.grace = nil
		w.pass, w.prevPass = "", ""
	}
	w.mu.Unlock()
	w.ws.mu.Unlock()
	if idle {
		w.cancel()
	}
}

// end stops the watcher for good: every subscription's channel is closed
// with err, the goroutine is told to log out and return.
func (w *watcher) end(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
		for s := range w.subs {
			s.err = err
			s.closeLocked()
		}
		clear(w.subs)
		w.boxes = map[string]int{}
		w.pass, w.prevPass = "", ""
		if w.grace != nil {
			w.grace.Stop()
			w.grace = nil
		}
		w.signal()
	}
	w.mu.Unlock()
	w.cancel()
}

func (w *watcher) ended() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}

// signal wakes the Subscribe calls waiting in waitBaseline. w.mu is held.
func (w *watcher) signal() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// kick asks the goroutine to read the baselines of new mailboxes.
func (w *watcher) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// waitBaseline returns once every mailbox of s has a baseline, or the
// watcher is down (it will take them on reconnecting), or it has ended.
func (w *watcher) waitBaseline(ctx context.Context, s *Subscription) error {
	for {
		w.mu.Lock()
		if w.err != nil {
			err := w.err
			w.mu.Unlock()
			return err
		}
		ready := w.attempted && !w.connected
		if !ready {
			ready = w.connected
			for _, m := range s.boxes {
				if _, ok := w.last[m]; !ok {
					ready = false
				}
			}
		}
		ch := w.changed
		w.mu.Unlock()
		if ready {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// watched returns the mailboxes to STATUS: all of them, or only those
// without a baseline.
func (w *watcher) watched(onlyNew bool) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.boxes))
	for m := range w.boxes {
		if _, ok := w.last[m]; !ok || !onlyNew {
			out = append(out, m)
		}
	}
	return out
}

func (w *watcher) isWatched(mailbox string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.boxes[mailbox] > 0
}

// update records STATUS results and sends an event to every subscriber
// of a mailbox whose values differ from its baseline. force names a
// mailbox reported as changed even with equal values (a flag change on a
// server without CONDSTORE, whose STATUS does not show it).
func (w *watcher) update(results []MailboxStatus, force string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var changed []MailboxStatus
	for _, st := range results {
		if w.boxes[st.Mailbox] == 0 {
			continue // unsubscribed meanwhile
		}
		old, known := w.last[st.Mailbox]
		w.last[st.Mailbox] = st
		if known && (old != st || st.Mailbox == force) {
			changed = append(changed, st)
		}
	}
	w.signal()
	if len(changed) == 0 {
		return
	}
	for s := range w.subs {
		var mine []MailboxStatus
		for _, st := range changed {
			for _, m := range s.boxes {
				if m == st.Mailbox {
					mine = append(mine, st)
				}
			}
		}
		if len(mine) > 0 {
			s.deliver(Event{Mailboxes: mine})
		}
	}
}

// closeLocked tells the subscriber that no event follows. w.mu is held.
func (s *Subscription) closeLocked() {
	if s.fn != nil {
		s.fn(Event{}, false)
		return
	}
	close(s.c)
}

// deliver hands ev over without blocking: an event the subscriber has not
// read yet is taken back and merged with ev. The watcher is the only
// sender and holds w.mu, so the channel (capacity 1) has room afterwards.
// A SubscribeFunc subscriber gets ev as it is and merges itself.
func (s *Subscription) deliver(ev Event) {
	if s.fn != nil {
		s.fn(ev, true)
		return
	}
	select {
	case s.c <- ev:
		return
	default:
	}
	select {
	case old := <-s.c:
		ev = mergeEvents(old, ev)
	default:
	}
	select {
	case s.c <- ev:
	default:
	}
}

// mergeEvents keeps every mailbox of both, with the newer values.
func mergeEvents(old, ev Event) Event {
	out := Event{Mailboxes: append([]MailboxStatus(nil), ev.Mailboxes...)}
	for _, o := range old.Mailboxes {
		seen := false
		for _, n := range ev.Mailboxes {
			seen = seen || n.Mailbox == o.Mailbox
		}
		if !seen {
			out.Mailboxes = append(out.Mailboxes, o)
		}
	}
	return out
}

// setState records the outcome of a connection attempt.
func (w *watcher) setState(connected bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempted = true
	w.connected = connected
	w.signal()
}
