package eas

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// Fetching ahead in an initial mail sync. A phone pages through a large
// folder one window at a time: it receives a window, stores it, and asks
// for the next. Once the first window has shown which messages are still
// to come (the state's queue), a stream on its own IMAP connection
// fetches and converts them in order, a few windows ahead of the phone,
// so that each request finds its messages ready and IMAP, conversion and
// the phone's work overlap instead of taking turns.
//
// The items are used only when the next request takes the queued path
// and a STATUS shows the mailbox as it was when the stream began (same
// UIDNEXT, message count and HIGHESTMODSEQ): the messages and their flags
// are then what a fresh fetch would give. Any change drops the stream; a
// request on another instance, with other options, or for messages the
// stream does not hold fetches them itself.
//
// A STATUS that found the mailbox unchanged stands for Limits.MailRecheck
// (a second by default): the windows within it take their messages
// without asking again. Dovecot's STATUS costs time in proportion to the
// mailbox, 7 ms at 10,000 messages while the stream fetches, which was
// most of a window's time; a change is still seen at the first window
// after the second, and nothing is lost, since the state keeps the
// status of the last STATUS and the window after a change lists.
const (
	// prefetchBudget bounds the converted items held per instance.
	prefetchBudget = 64 << 20
	// prefetchMaxAge ends a stream the phone did not come back to.
	prefetchMaxAge = 2 * time.Minute
	// prefetchTimeout bounds one FETCH of a stream.
	prefetchTimeout = 30 * time.Second
	// prefetchWait bounds how long a request waits for its messages.
	prefetchWait = 10 * time.Second
)

type streamKey struct {
	device     int64
	collection string
}

// mailStream fetches the rest of one device's initial sync of a folder.
type mailStream struct {
	key     streamKey
	login   string
	mailbox string
	status  model.MailboxStatus // the mailbox when the stream began
	opts    model.MailFetchOptions
	ahead   int // items held before the stream pauses
	chunk   int // messages per FETCH

	// Guarded by mailPrefetch.mu.
	pending  []uint32                  // not fetched yet, in the queue's order
	fetching map[uint32]bool           // in the FETCH running now
	items    map[uint32]model.MailItem // fetched, not taken yet
	size     int64                     // itemSize of items, summed
	used     time.Time                 // begun or last taken from
	checked  time.Time                 // when a STATUS last showed the mailbox as status
	ended    bool                      // no more fetching: done, failed or dropped
	dropped  bool                      // items discarded, the stream is gone
	halted   bool                      // over the budget: no more fetching
	counted  bool                      // holds its login's place in mailPrefetch.running
	cancel   context.CancelFunc        // ends the stream's connection
	wake     chan struct{}             // closed on every change
}

// mailPrefetch holds the streams of this instance.
type mailPrefetch struct {
	mu      sync.Mutex
	streams map[streamKey]*mailStream
	size    int64
	budget  int64         // prefetchBudget; tests lower it
	maxAge  time.Duration // prefetchMaxAge; tests lower it
	// running holds the logins with a stream fetching: one at a time, so a
	// user whose phones all sync at once opens at most one IMAP connection
	// more (Dovecot allows 10 per user and address by default).
	running map[string]bool
	warming map[string]bool // logins with a warm-up login in flight
}

func newMailPrefetch() *mailPrefetch {
	return &mailPrefetch{streams: map[streamKey]*mailStream{}, budget: prefetchBudget, maxAge: prefetchMaxAge,
		running: map[string]bool{}, warming: map[string]bool{}}
}

// warm logs a connection of creds in ahead of an initial sync (its key-0
// request) and leaves it in the store's pool: the stream that starts with
// the first window then need not wait for a LOGIN, which on Dovecot costs
// a new process (16 ms measured on a local one).
func (p *mailPrefetch) warm(ms MailSync, creds Credentials) {
	if ms == nil {
		return
	}
	p.mu.Lock()
	busy := p.warming[creds.Login] || p.running[creds.Login]
	if !busy {
		p.warming[creds.Login] = true
	}
	p.mu.Unlock()
	if busy {
		return
	}
	go func() {
		defer func() {
			p.mu.Lock()
			delete(p.warming, creds.Login)
			p.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), prefetchTimeout)
		defer cancel()
		if sess, err := ms.OpenMail(ctx, creds.Login, creds.Password); err == nil {
			_ = sess.Close()
		}
	}()
}

// ensure makes a stream fetch queue (the messages after the window just
// answered). A window that listed the mailbox (fresh) computed a new
// queue, and starts a new stream. A window taken from the queue keeps the
// stream there is for the same mailbox status and options, and starts
// none: without one, this instance did not answer the window before (a
// load balancer spreads the device's requests), and a stream here would
// fetch again what other instances send.
func (p *mailPrefetch) ensure(ms MailSync, creds Credentials, key streamKey, mailbox string,
	status model.MailboxStatus, opts model.MailFetchOptions, queue []uint32, window int, fresh bool) {
	if ms == nil || len(queue) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.streams[key]
	if !fresh {
		if s != nil && p.hasLocked(key, status, opts) {
			s.used = time.Now()
		}
		return
	}
	if s != nil {
		p.drop(s) // gives back its place in running: it is ending
	}
	if p.running[creds.Login] {
		return
	}
	s = &mailStream{key: key, login: creds.Login, mailbox: mailbox, status: status, opts: opts,
		ahead: max(2*window, 256), chunk: min(max(window, 128), 256),
		pending: append([]uint32(nil), queue...), items: map[uint32]model.MailItem{},
		used: time.Now(), checked: time.Now(), wake: make(chan struct{}), counted: true}
	life, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	p.streams[key] = s
	p.running[creds.Login] = true
	go p.produce(ms, creds, s, life)
}

// uncount takes s out of running, once; p.mu is held.
func (p *mailPrefetch) uncount(s *mailStream) {
	if !s.counted {
		return
	}
	s.counted = false
	delete(p.running, s.login)
}

// produce fetches s chunk by chunk on a connection of its own; items are
// handed over as they are converted, not at the end of a chunk.
func (p *mailPrefetch) produce(ms MailSync, creds Credentials, s *mailStream, life context.Context) {
	var sess MailSession
	defer func() {
		if sess != nil {
			_ = sess.Close() // back to the pool, before s.cancel closes it
		}
		s.cancel()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.uncount(s)
		s.ended, s.fetching, s.pending = true, nil, nil
		if p.streams[s.key] == s { // not dropped
			if len(s.items) == 0 {
				delete(p.streams, s.key)
			} else {
				p.reapLater(s, p.maxAge-time.Since(s.used))
			}
		}
		s.changed()
	}()
	for {
		chunk := p.next(s)
		if chunk == nil {
			return
		}
		// The session lives as long as the stream (dropping it cancels
		// life, which closes the connection); each FETCH has its own
		// deadline.
		ctx, cancel := context.WithTimeout(life, prefetchTimeout)
		var err error
		if sess == nil {
			sess, err = ms.OpenMail(life, creds.Login, creds.Password)
		}
		if err == nil {
			err = sess.FetchEach(ctx, s.mailbox, chunk, s.opts, func(it model.MailItem) { p.put(s, it) })
		}
		cancel()
		if !p.chunkDone(s, err) {
			return
		}
	}
}

// next returns the next chunk to fetch, waiting while the stream holds
// enough (or the instance's budget is spent); nil when the stream ends.
func (p *mailPrefetch) next(s *mailStream) []uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		idle := time.Since(s.used)
		if s.dropped || s.halted || len(s.pending) == 0 || idle > p.maxAge {
			return nil
		}
		if !p.full(s) {
			n := min(s.chunk, len(s.pending))
			chunk := s.pending[:n:n]
			s.pending = s.pending[n:]
			s.fetching = make(map[uint32]bool, n)
			for _, uid := range chunk {
				s.fetching[uid] = true
			}
			return chunk
		}
		wake := s.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-time.After(p.maxAge - idle):
		}
		p.mu.Lock()
	}
}

// full: s holds as much as it may ahead of the phone; p.mu is held.
func (p *mailPrefetch) full(s *mailStream) bool {
	return len(s.items) >= s.ahead || p.size >= p.budget
}

// put stores a fetched item. An item that would take the instance past
// its budget (large MIME bodies make a chunk far bigger than usual) halts
// the stream instead: its connection is closed, which ends the FETCH
// under way, and the items held so far stay usable.
func (p *mailPrefetch) put(s *mailStream, it model.MailItem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.dropped || s.halted {
		return
	}
	n := itemSize(it)
	if p.size+n > p.budget {
		s.halted = true
		s.cancel()
		return
	}
	s.items[it.UID] = it
	delete(s.fetching, it.UID)
	s.size += n
	p.size += n
	s.changed()
}

// chunkDone ends a chunk's FETCH (its UIDs not handed over are gone from
// the mailbox); false ends the stream.
func (p *mailPrefetch) chunkDone(s *mailStream, err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.fetching = nil
	s.changed()
	return err == nil && !s.dropped
}

// has tells whether a stream of key runs or holds items for this mailbox
// status and these options.
func (p *mailPrefetch) has(key streamKey, status model.MailboxStatus, opts model.MailFetchOptions) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hasLocked(key, status, opts)
}

// trusted reports whether the stream of key holds the mailbox as status
// and a STATUS asked less than recheck ago showed it so: a window may
// take its messages without asking again.
func (p *mailPrefetch) trusted(key streamKey, status model.MailboxStatus, opts model.MailFetchOptions, recheck time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hasLocked(key, status, opts) && time.Since(p.streams[key].checked) < recheck
}

// checked records that a STATUS asked at the time at showed the mailbox
// of key as status.
func (p *mailPrefetch) checked(key streamKey, status model.MailboxStatus, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.streams[key]; s != nil && s.status == status && at.After(s.checked) {
		s.checked = at
	}
}

func (p *mailPrefetch) hasLocked(key streamKey, status model.MailboxStatus, opts model.MailFetchOptions) bool {
	s := p.streams[key]
	return s != nil && !s.dropped && s.status == status && reflect.DeepEqual(s.opts, opts)
}

// take returns the items of uids that the stream of key holds, by UID,
// waiting for those it is fetching or about to; nil when there is no
// stream for this mailbox status and these options.
func (p *mailPrefetch) take(ctx context.Context, key streamKey, status model.MailboxStatus, opts model.MailFetchOptions, uids []uint32) map[uint32]model.MailItem {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.hasLocked(key, status, opts) {
		return nil
	}
	s := p.streams[key]
	s.used = time.Now()
	out := make(map[uint32]model.MailItem, len(uids))
	deadline := time.NewTimer(prefetchWait)
	defer deadline.Stop()
	for {
		coming := false
		soon := s.pending[:min(len(s.pending), 2*len(uids))]
		for _, uid := range uids {
			if _, ok := out[uid]; ok {
				continue
			}
			if it, ok := s.items[uid]; ok {
				out[uid] = it
				delete(s.items, uid)
				n := itemSize(it)
				s.size -= n
				p.size -= n
			} else if !coming {
				coming = s.fetching[uid] || slices.Contains(soon, uid)
			}
		}
		s.changed() // room for the stream to go on
		// Waiting makes sense while the stream can fetch: not when it
		// ended, nor when it is full of messages this request does not
		// want (a re-sent request for an earlier window).
		if !coming || s.ended || (s.fetching == nil && p.full(s)) {
			break
		}
		wake := s.wake
		p.mu.Unlock()
		gaveUp := false
		select {
		case <-wake:
		case <-ctx.Done():
			gaveUp = true
		case <-deadline.C:
			gaveUp = true
		}
		p.mu.Lock()
		if gaveUp {
			break
		}
	}
	if s.ended && len(s.items) == 0 && p.streams[key] == s {
		delete(p.streams, key)
	}
	return out
}

// stop drops the stream of key: the mailbox changed under it.
func (p *mailPrefetch) stop(key streamKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.streams[key]; s != nil {
		p.drop(s)
	}
}

// drop ends s and frees its items; p.mu is held.
func (p *mailPrefetch) drop(s *mailStream) {
	s.dropped = true
	s.cancel()
	p.uncount(s)
	p.size -= s.size
	s.items, s.size = map[uint32]model.MailItem{}, 0
	if p.streams[s.key] == s {
		delete(p.streams, s.key)
	}
	s.changed()
}

// reapLater drops s, ended with items the phone has not taken, once it
// has not come back for them for prefetchMaxAge. A stream still fetching
// needs no reaper: it ends itself when idle that long (next), and is
// reaped from then.
func (p *mailPrefetch) reapLater(s *mailStream, after time.Duration) {
	time.AfterFunc(after, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.streams[s.key] != s {
			return
		}
		if idle := time.Since(s.used); idle < p.maxAge {
			p.reapLater(s, p.maxAge-idle)
			return
		}
		p.drop(s)
	})
}

// changed wakes whoever waits on s; mailPrefetch.mu is held.
func (s *mailStream) changed() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// itemSize estimates the memory of a converted item: its text.
func itemSize(it model.MailItem) int64 {
	n := int64(1 << 10)
	if e, ok := it.Data.(*message.Email); ok {
		n += int64(len(e.MIMEData) + len(e.Body25))
		if e.Body != nil {
			n += int64(len(e.Body.Data) + len(e.Body.Preview))
		}
	}
	return n
}
