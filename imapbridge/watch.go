package imapbridge

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Push watchers. A waiting Ping (or hanging Sync) is a goroutine blocked on
// a Subscription's channel; per user one watcher goroutine owns one IMAP
// connection (never a pooled one: it is IDLE all the time) and serves every
// waiting request of that user, on every device. INBOX is watched with
// IDLE; the other mailboxes with a STATUS poll, because IDLE covers only
// the selected mailbox and go-imap has no NOTIFY.
//
// Events are hints. A change made while no watcher runs for the user is not
// reported: callers subscribe first, then compare the stored sync state
// with the mail server, then wait (see Subscribe).

// Defaults of the Watchers settings.
const (
	// DefaultPollInterval is how often the mailboxes other than INBOX are
	// checked. Thirty seconds is what users of other EAS servers (Z-Push
	// polls every 30 s) expect for folders filled by server-side rules,
	// and costs one STATUS per watched mailbox and user per interval, a
	// cheap index lookup on Dovecot. Each poll also ends and restarts IDLE,
	// which proves the connection alive: a silently dropped connection is
	// noticed within one interval plus the client's 30 s response timeout.
	DefaultPollInterval = 30 * time.Second
	// DefaultGrace keeps a watcher after its last subscriber leaves: a
	// phone sends its next Ping right after the previous one returns, and
	// a new watcher would cost a LOGIN, an EXAMINE and a Dovecot process.
	DefaultGrace = 60 * time.Second
)

// Timings of a watcher's IMAP session.
const (
	// idleRenew ends IDLE before the 30-minute inactivity limit of RFC
	// 2177 even when the poll interval is longer.
	idleRenew = 25 * time.Minute
	// debounce collects the rest of a burst of unilateral responses
	// (Dovecot sends a change as EXISTS, RECENT and FETCH together, about
	// 0.5 s after it happened) into one STATUS and one event.
	debounce = 50 * time.Millisecond
	// logoutWait bounds the polite LOGOUT on shutdown.
	logoutWait = time.Second
	// Reconnect back-off: backoffMin doubling to backoffMax, plus up to
	// 25% jitter so that the watchers of a whole server do not reconnect
	// in lock-step after a mail server restart.
	backoffMin = 500 * time.Millisecond
	backoffMax = 30 * time.Second
)

// ErrWatchersClosed ends the subscriptions when Watchers.Close is called.
var ErrWatchersClosed = errors.New("imap: push watchers closed")

// Watchers runs one IMAP change watcher per user for push. Set the fields
// before the first Subscribe; the zero durations mean the defaults.
type Watchers struct {
	Dialer       *Dialer
	PollInterval time.Duration // other mailboxes than INBOX; 0: DefaultPollInterval
	Grace        time.Duration // after the last subscriber; 0: DefaultGrace
	// MasterUser and MasterPassword, when set, log watchers in as
	// "user*MasterUser" (Dovecot master user), so that no user password
	// has to be kept while a watcher runs.
	MasterUser, MasterPassword string
	Log                        *slog.Logger // nil: slog.Default()

	mu     sync.Mutex
	users  map[string]*watcher
	closed bool

	logins atomic.Uint64
}

// WatchStats are counters for metrics and tests.
type WatchStats struct {
	Watchers      int    // running watchers (users)
	Connected     int    // watchers whose IMAP session is up (logged in, baselines read)
	Subscriptions int    // open subscriptions
	Logins        uint64 // successful IMAP logins by watchers, ever
}

// Event reports mailboxes that changed, with their new STATUS values. A
// subscriber receives only its own mailboxes; events it has not read yet
// are merged, so a slow reader loses no mailbox.
type Event struct {
	Mailboxes []MailboxStatus
	// CheckedAt is set by the sweep: when it sent its STATUS commands, so
	// that a subscriber can tell how new the statuses are at least.
	CheckedAt time.Time
}

// MailboxStatus is a mailbox's STATUS. HighestModSeq is 0 without
// CONDSTORE. Missing is set when the server refused STATUS (the mailbox
// was deleted or renamed).
type MailboxStatus struct {
	Mailbox       string
	UIDValidity   uint32
	UIDNext       uint32
	Messages      uint32
	Unseen        uint32
	HighestModSeq uint64
	Missing       bool
}

// Subscription is one waiting request's interest in some mailboxes of a
// user.
type Subscription struct {
	w     *watcher
	boxes []string
	c     chan Event              // nil with notify (SubscribeFunc)
	fn    func(ev Event, ok bool) // set by SubscribeFunc instead of c
	err   error                   // why the channel was closed, set before closing
}

// C delivers events. It is closed by Close, when the watcher ends for
// good (see Err), and by Watchers.Close. It is nil for a subscription made
// with SubscribeFunc.
func (s *Subscription) C() <-chan Event { return s.c }

// Err tells why C was closed by the watcher: ErrAuthFailed (wrapped) when
// the server refused the login, ErrWatchersClosed at shutdown; nil while
// open and after Close.
func (s *Subscription) Err() error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return s.err
}

// Close ends the subscription; the watcher stays for the grace period
// after its last one. It may be called more than once.
func (s *Subscription) Close() { s.w.remove(s) }

// Subscribe registers interest in mailboxes of login. The first subscriber
// of a user starts the watcher and waits (up to ctx) until it has logged in
// and read the mailboxes' STATUS; later ones share it, and when the watcher
// already knows their mailboxes Subscribe does no IMAP work at all. Events
// report changes after that baseline: subscribe, then check the stored
// state, then wait.
//
// The password must have been verified already (eas.Authenticator), as for
// every store call: it is kept in memory while the watcher runs, unless a
// master user is configured. A refused login is returned as ErrAuthFailed.
// While the mail server is unreachable Subscribe returns at once and the
// watcher keeps retrying; mailboxes it has never seen get their baseline
// when it reconnects.
func (ws *Watchers) Subscribe(ctx context.Context, login, password string, mailboxes []string) (*Subscription, error) {
	return ws.subscribe(ctx, login, password, mailboxes, nil)
}

// SubscribeFunc is Subscribe for a caller that waits on a channel of its
// own type: instead of sending on C, the watcher calls fn with each event
// (ok true), and once with ok false when the subscription ends (Close, the
// watcher ending for good, Watchers.Close; Err tells which). C is nil.
// This spares the caller a goroutine per subscription that would only
// convert events, which counts when thousands of requests wait.
//
// fn runs on the watcher's goroutine (or the one calling Close) with the
// watcher's lock held, never concurrently with itself: it must not block
// and must not call the Subscription's methods.
func (ws *Watchers) SubscribeFunc(ctx context.Context, login, password string, mailboxes []string,
	fn func(ev Event, ok bool)) (*Subscription, error) {
	if fn == nil {
		return nil, errors.New("imap: SubscribeFunc without a function")
	}
	return ws.subscribe(ctx, login, password, mailboxes, fn)
}

func (ws *Watchers) subscribe(ctx context.Context, login, password string, mailboxes []string,
	fn func(Event, bool)) (*Subscription, error) {
	ws.mu.Lock()
	if ws.closed {
		ws.mu.Unlock()
		return nil, ErrWatchersClosed
	}
	if ws.users == nil {
		ws.users = map[string]*watcher{}
	}
	w := ws.users[login]
	if w != nil && w.ended() { // refused login, its goroutine is ending
		w = nil
	}
	start := w == nil
	if start {
		w = newWatcher(ws, login)
		ws.users[login] = w
	}
	s := &Subscription{w: w, boxes: normalizeMailboxes(mailboxes), fn: fn}
	if fn == nil {
		s.c = make(chan Event, 1)
	}
	newBoxes := w.add(s, password)
	ws.mu.Unlock()

	if start {
		go w.run()
	} else if newBoxes {
		w.kick()
	}
	if err := w.waitBaseline(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Stats returns the current counters.
func (ws *Watchers) Stats() WatchStats {
	ws.mu.Lock()
	list := make([]*watcher, 0, len(ws.users))
	for _, w := range ws.users {
		list = append(list, w)
	}
	ws.mu.Unlock()
	st := WatchStats{Watchers: len(list), Logins: ws.logins.Load()}
	for _, w := range list {
		w.mu.Lock()
		st.Subscriptions += len(w.subs)
		if w.connected && w.err == nil {
			st.Connected++
		}
		w.mu.Unlock()
	}
	return st
}

// Close stops every watcher: subscriptions end at once with
// ErrWatchersClosed, IMAP sessions are logged out (bounded by a second),
// and Close returns when the watchers' goroutines have ended.
func (ws *Watchers) Close() {
	ws.mu.Lock()
	ws.closed = true
	list := make([]*watcher, 0, len(ws.users))
	for _, w := range ws.users {
		list = append(list, w)
	}
	ws.users = nil
	ws.mu.Unlock()
	for _, w := range list {
		w.end(ErrWatchersClosed)
	}
	for _, w := range list {
		<-w.done
	}
}

func (ws *Watchers) pollInterval() time.Duration {
	if ws.PollInterval > 0 {
		return ws.PollInterval
	}
	return DefaultPollInterval
}

func (ws *Watchers) grace() time.Duration {
	if ws.Grace > 0 {
		return ws.Grace
	}
	return DefaultGrace
}

func (ws *Watchers) log() *slog.Logger {
	if ws.Log != nil {
		return ws.Log
	}
	return slog.Default()
}

// forget removes w from the running watchers if it is still there.
func (ws *Watchers) forget(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.users[w.login] == w {
		delete(ws.users, w.login)
	}
}

// normalizeMailboxes removes duplicates and spells INBOX canonically (its
// name is case-insensitive, RFC 3501 5.1).
func normalizeMailboxes(in []string) []string {
	out := make([]string, 0, len(in))
	for _, m := range in {
		if strings.EqualFold(m, "INBOX") {
			m = "INBOX"
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
