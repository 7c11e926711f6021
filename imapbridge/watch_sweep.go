package imapbridge

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Sweep watchers. When the mail server reports its changes itself (Dovecot
// push events, package pushevents), a waiting request needs no IMAP
// connection: the event wakes it through PostgreSQL NOTIFY. What remains is
// a safety net for an event that got lost (easd unreachable when Dovecot
// posted it): every watched user's mailboxes are read with STATUS once per
// interval, over a short-lived connection (LOGIN, STATUS, LOGOUT) from a
// small pool of concurrent ones, and the results are handed to the
// subscribers, which compare them with their stored state. The mail server
// thus holds a process per user only for the few milliseconds of a sweep,
// not for as long as the phone waits.

// Defaults of the Sweeper settings.
const (
	// DefaultSweepInterval bounds how late a lost event is noticed. A lost
	// event is rare (easd down or unreachable), and each waiting request
	// compares the stored state with the server when it starts anyway.
	DefaultSweepInterval = 10 * time.Minute
	// DefaultSweepParallel is how many sweep connections are open at once.
	DefaultSweepParallel = 4
	// sweepTimeout bounds one user's sweep.
	sweepTimeout = 30 * time.Second
)

// Sweeper reads the STATUS of the watched users' mailboxes periodically.
// Set the fields before the first Subscribe; zero values mean the
// defaults. It implements the same subscription contract as Watchers'
// SubscribeFunc, without an IMAP connection per user.
type Sweeper struct {
	Dialer   *Dialer
	Interval time.Duration // each user at most once per Interval; 0: DefaultSweepInterval
	Parallel int           // sweep connections at once; 0: DefaultSweepParallel
	// MasterUser and MasterPassword, as for Watchers: when set, no user
	// password is kept while a user is watched.
	MasterUser, MasterPassword string
	Log                        *slog.Logger // nil: slog.Default()

	mu     sync.Mutex
	users  map[string]*sweptUser
	closed bool
	start  sync.Once
	stop   chan struct{}
	done   chan struct{}

	sweeps, logins atomic.Uint64
}

// sweptUser is a watched user: its subscriptions and when it is swept next.
type sweptUser struct {
	login string
	pass  string
	subs  []*SweepSubscription
	due   time.Time
}

// SweepSubscription is one waiting request's interest in some mailboxes.
type SweepSubscription struct {
	s     *Sweeper
	u     *sweptUser
	boxes []string
	fn    func(ev Event, ok bool)
	ended bool
}

// SweepStats are counters for metrics and tests.
type SweepStats struct {
	Users         int    // users with an open subscription
	Subscriptions int    // open subscriptions
	Sweeps        uint64 // users swept, ever
	Logins        uint64 // successful IMAP logins of sweeps, ever
}

// SubscribeFunc registers interest in mailboxes of login; fn is called as
// described at Watchers.SubscribeFunc, with the STATUS of all the
// subscription's mailboxes at each sweep (changed or not: the subscriber
// compares). It does no IMAP work: the first sweep of the user comes half
// an interval to one later (firstSweepAfter), the request having compared
// its state when it started (or skipped that on a recent enough
// verification, eas's vouched first checks).
func (s *Sweeper) SubscribeFunc(_ context.Context, login, password string, mailboxes []string,
	fn func(ev Event, ok bool)) (*SweepSubscription, error) {
	if fn == nil {
		return nil, errors.New("imap: SubscribeFunc without a function")
	}
	s.start.Do(s.run)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrWatchersClosed
	}
	if s.users == nil {
		s.users = map[string]*sweptUser{}
	}
	u := s.users[login]
	if u == nil {
		u = &sweptUser{login: login, due: time.Now().Add(firstSweepAfter(s.interval()))}
		s.users[login] = u
	}
	if s.MasterUser == "" {
		u.pass = password // verified by the request: the newest one wins
	}
	sub := &SweepSubscription{s: s, u: u, boxes: normalizeMailboxes(mailboxes), fn: fn}
	u.subs = append(u.subs, sub)
	return sub, nil
}

// Close ends the subscription; fn is called with ok false. It may be
// called more than once.
func (sub *SweepSubscription) Close() {
	s := sub.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sub.endLocked()
	u := sub.u
	for i, o := range u.subs {
		if o == sub {
			u.subs = append(u.subs[:i], u.subs[i+1:]...)
			break
		}
	}
	// The user stays until its due time, so that a phone that pings
	// again at once keeps its place in the schedule: with heartbeats
	// shorter than the interval it would never be swept otherwise.
}

func (sub *SweepSubscription) endLocked() {
	if !sub.ended {
		sub.ended = true
		sub.fn(Event{}, false)
	}
}

// Stats returns the current counters.
func (s *Sweeper) Stats() SweepStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SweepStats{Sweeps: s.sweeps.Load(), Logins: s.logins.Load()}
	for _, u := range s.users {
		if len(u.subs) > 0 {
			st.Users++
			st.Subscriptions += len(u.subs)
		}
	}
	return st
}

// Close ends every subscription and waits for running sweeps.
func (s *Sweeper) Close() {
	s.start.Do(s.run)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, u := range s.users {
		for _, sub := range u.subs {
			sub.endLocked()
		}
	}
	s.users = nil
	s.mu.Unlock()
	close(s.stop)
	<-s.done
}

// firstSweepAfter is when a newly watched user is first swept: at a random
// point of the second half of the interval. Each later sweep is one
// interval after the last, so without it the phones that reconnect
// together after a restart would be swept together, in a burst, at every
// interval.
func firstSweepAfter(interval time.Duration) time.Duration {
	return interval/2 + rand.N(interval/2+1)
}

func (s *Sweeper) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultSweepInterval
}

func (s *Sweeper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// run starts the loop that finds the users due and sweeps them, at most
// Parallel at once. The users' due times follow their first subscription,
// so the sweeps of many users spread over the interval by themselves.
func (s *Sweeper) run() {
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	parallel := s.Parallel
	if parallel <= 0 {
		parallel = DefaultSweepParallel
	}
	tick := min(max(s.interval()/10, 10*time.Millisecond), time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(s.done)
		defer cancel()
		sem := make(chan struct{}, parallel)
		var running sync.WaitGroup
		defer running.Wait()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			for _, u := range s.dueUsers() {
				select {
				case sem <- struct{}{}:
				case <-s.stop:
					return
				}
				running.Add(1)
				go func() {
					defer running.Done()
					defer func() { <-sem }()
					s.sweep(ctx, u)
				}()
			}
		}
	}()
}

// sweepJob is what a sweep needs of a user, copied under the lock.
type sweepJob struct {
	u     *sweptUser
	login string
	pass  string
	boxes []string
}

// dueUsers returns the users whose sweep is due and schedules their next.
func (s *Sweeper) dueUsers() []sweepJob {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sweepJob
	for login, u := range s.users {
		if now.Before(u.due) {
			continue
		}
		if len(u.subs) == 0 {
			// Nobody waits right now, maybe between two Pings. The user
			// stays due for one more interval, so that a request coming
			// back is swept at once: its Ping may have skipped its own
			// check (eas's vouched first checks), and the sweep must find
			// a lost event within an interval. Then it is forgotten.
			if now.Sub(u.due) >= s.interval() {
				delete(s.users, login)
			}
			continue
		}
		u.due = now.Add(s.interval())
		var boxes []string
		for _, sub := range u.subs {
			boxes = append(boxes, sub.boxes...)
		}
		out = append(out, sweepJob{u: u, login: u.login, pass: u.pass, boxes: normalizeMailboxes(boxes)})
	}
	return out
}

// sweep logs in as the user, reads the STATUS of the watched mailboxes
// (pipelined), logs out and hands each subscriber its mailboxes.
func (s *Sweeper) sweep(ctx context.Context, job sweepJob) {
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	login, pass := job.login, job.pass
	if s.MasterUser != "" {
		login, pass = job.login+"*"+s.MasterUser, s.MasterPassword
	}
	c, err := s.Dialer.Login(ctx, login, pass)
	if errors.Is(err, ErrAuthFailed) {
		s.log().Warn("imap sweep: login refused, ending the user's waits", "user", job.login, "err", err)
		s.endUser(job.u)
		return
	}
	if err != nil {
		s.log().Warn("imap sweep: connect failed; next try in one interval", "user", job.login, "err", err)
		return
	}
	s.logins.Add(1)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	caps := c.Caps()
	sess := session{c: c, condstore: caps.Has(imap.CapCondStore) || caps.Has(imap.CapIMAP4rev2)}
	sent := time.Now()
	results, err := statusAll(sess, job.boxes)
	logout(c)
	if err != nil {
		s.log().Warn("imap sweep: STATUS failed", "user", job.login, "err", err)
		return
	}
	s.sweeps.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range job.u.subs {
		var mine []MailboxStatus
		for _, st := range results {
			for _, m := range sub.boxes {
				if m == st.Mailbox {
					mine = append(mine, st)
				}
			}
		}
		if len(mine) > 0 && !sub.ended {
			sub.fn(Event{Mailboxes: mine, CheckedAt: sent}, true)
		}
	}
}

// endUser ends the subscriptions of a user whose login was refused.
func (s *Sweeper) endUser(u *sweptUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range u.subs {
		sub.endLocked()
	}
	if s.users[u.login] == u {
		delete(s.users, u.login)
	}
}
