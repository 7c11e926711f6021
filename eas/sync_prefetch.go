package eas

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// Prefetching the next window of an initial sync. A phone pages through
// a large folder one window at a time: it receives a window, stores it,
// and asks for the next. While it does, easd fetches and converts the
// messages the next window will hold (the state's queue says which), so
// the next request finds them ready instead of waiting for IMAP. The
// window is used only when the next request takes the queued path, that
// is when the mailbox status is unchanged since the state was written:
// the messages and their flags are then what a fresh fetch would give.
// A request on another instance, with other options, or after a change
// simply fetches as before.
const (
	// prefetchBudget bounds the converted items held per instance.
	prefetchBudget = 64 << 20
	// prefetchMaxAge drops windows the phone did not come back for.
	prefetchMaxAge = 2 * time.Minute
	// prefetchTimeout bounds one prefetch's IMAP work.
	prefetchTimeout = 30 * time.Second
	// prefetchWait bounds how long a request waits for a prefetch still
	// running: it started a window earlier, so it is usually done.
	prefetchWait = 10 * time.Second
)

type prefetchKey struct {
	device     int64
	collection string
	syncKey    string // the key the next request will send
}

// prefetched is one window being fetched or fetched.
type prefetched struct {
	uids  []uint32
	opts  model.MailFetchOptions
	at    time.Time
	done  chan struct{}
	items []model.MailItem // set before done closes; nil on failure
	size  int64
}

// mailPrefetch holds the windows prefetched on this instance.
type mailPrefetch struct {
	mu      sync.Mutex
	entries map[prefetchKey]*prefetched
	size    int64
	// running counts prefetches in flight per login: one at a time, so a
	// user whose phones all sync at once opens at most one IMAP
	// connection more (Dovecot allows 10 per user and address by default).
	running map[string]int
}

func newMailPrefetch() *mailPrefetch {
	return &mailPrefetch{entries: map[prefetchKey]*prefetched{}, running: map[string]int{}}
}

// start fetches uids of mailbox in the background for the request that
// will send key.
func (p *mailPrefetch) start(ms MailSync, creds Credentials, key prefetchKey, mailbox string, uids []uint32, opts model.MailFetchOptions) {
	if ms == nil || len(uids) == 0 {
		return
	}
	e := &prefetched{uids: uids, opts: opts, at: time.Now(), done: make(chan struct{})}
	p.mu.Lock()
	p.expire()
	if p.running[creds.Login] > 0 {
		p.mu.Unlock()
		return
	}
	p.running[creds.Login]++
	p.entries[key] = e
	p.mu.Unlock()
	go func() {
		defer close(e.done)
		defer func() {
			p.mu.Lock()
			if p.running[creds.Login]--; p.running[creds.Login] <= 0 {
				delete(p.running, creds.Login)
			}
			p.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), prefetchTimeout)
		defer cancel()
		sess, err := ms.OpenMail(ctx, creds.Login, creds.Password)
		if err != nil {
			return
		}
		items, err := sess.Fetch(ctx, mailbox, uids, opts)
		_ = sess.Close()
		if err != nil {
			return
		}
		size := itemsSize(items)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.entries[key] != e || p.size+size > prefetchBudget {
			// Taken meanwhile (the request stopped waiting), or over the
			// budget: the request fetches them itself.
			delete(p.entries, key)
			return
		}
		e.items, e.size = items, size
		p.size += size
	}()
}

// take returns the prefetched items of key fetched with opts, by UID,
// waiting for a prefetch still running; nil when there are none.
func (p *mailPrefetch) take(ctx context.Context, key prefetchKey, opts model.MailFetchOptions) map[uint32]model.MailItem {
	p.mu.Lock()
	e := p.entries[key]
	p.mu.Unlock()
	if e == nil {
		return nil
	}
	select {
	case <-e.done:
	case <-ctx.Done():
	case <-time.After(prefetchWait):
	}
	p.mu.Lock()
	if p.entries[key] == e {
		delete(p.entries, key)
		p.size -= e.size
	}
	p.mu.Unlock()
	select {
	case <-e.done:
	default:
		return nil
	}
	if e.items == nil || !reflect.DeepEqual(e.opts, opts) {
		return nil
	}
	out := make(map[uint32]model.MailItem, len(e.items))
	for _, it := range e.items {
		out[it.UID] = it
	}
	return out
}

// expire drops windows older than prefetchMaxAge; p.mu is held.
func (p *mailPrefetch) expire() {
	for k, e := range p.entries {
		if time.Since(e.at) > prefetchMaxAge {
			delete(p.entries, k)
			p.size -= e.size
		}
	}
}

// itemsSize estimates the memory of converted items: their text.
func itemsSize(items []model.MailItem) int64 {
	var n int64
	for _, it := range items {
		n += 1 << 10
		if e, ok := it.Data.(*message.Email); ok {
			n += int64(len(e.MIMEData) + len(e.Body25))
			if e.Body != nil {
				n += int64(len(e.Body.Data) + len(e.Body.Preview))
			}
		}
	}
	return n
}
