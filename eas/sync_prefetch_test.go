package eas

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/eas/model"
)

// streamMail is a mail server for the stream: every UID exists, and each
// FETCH is counted.
type streamMail struct {
	mu      sync.Mutex
	fetched map[uint32]int
	opened  int
}

func (f *streamMail) OpenMail(context.Context, string, string) (MailSession, error) {
	f.mu.Lock()
	f.opened++
	f.mu.Unlock()
	return &streamSession{f: f}, nil
}

type streamSession struct {
	MailSession // not called
	f           *streamMail
}

func (s *streamSession) Fetch(_ context.Context, _ string, uids []uint32, _ model.MailFetchOptions) ([]model.MailItem, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	var out []model.MailItem
	for _, uid := range uids {
		s.f.fetched[uid]++
		out = append(out, model.MailItem{UID: uid})
	}
	return out, nil
}

func (s *streamSession) FetchEach(ctx context.Context, mailbox string, uids []uint32, opts model.MailFetchOptions, fn func(model.MailItem)) error {
	items, err := s.Fetch(ctx, mailbox, uids, opts)
	for _, it := range items {
		fn(it)
	}
	return err
}

func (s *streamSession) Close() error { return nil }

func countHeld(p *mailPrefetch, key streamKey) (held int, running bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.streams[key]; s != nil {
		held = len(s.items)
	}
	return held, len(p.running) > 0
}

// A stream fetches the queue in order, at most a few windows ahead, hands
// each window over once, and ends when the queue is done; a request with
// another status gets nothing, and one for messages the stream no longer
// holds (a re-sent window) does not wait for them.
func TestMailStream(t *testing.T) {
	p := newMailPrefetch()
	f := &streamMail{fetched: map[uint32]int{}}
	key := streamKey{device: 1, collection: "1"}
	st := model.MailboxStatus{UIDValidity: 7, UIDNext: 1001, Messages: 1000, HighestModSeq: 9}
	var queue []uint32
	for uid := uint32(1000); uid > 0; uid-- {
		queue = append(queue, uid)
	}
	const window = 100
	p.ensure(f, Credentials{Login: "alice"}, key, "INBOX", st, model.MailFetchOptions{}, queue, window, true)
	time.Sleep(100 * time.Millisecond)
	if held, _ := countHeld(p, key); held < 256 || held > 256+256 {
		t.Fatalf("%d items held ahead, want the ahead limit of 256 (plus a chunk of at most 256)", held)
	}
	if got := p.take(context.Background(), key, model.MailboxStatus{UIDValidity: 7}, model.MailFetchOptions{}, queue[:window]); got != nil {
		t.Fatalf("another status got %d items", len(got))
	}
	for i := 0; i < len(queue); i += window {
		want := queue[i : i+window]
		got := p.take(context.Background(), key, st, model.MailFetchOptions{}, want)
		if len(got) != window {
			t.Fatalf("window %d: %d items", i/window, len(got))
		}
		// The same window again, as a re-sent request asks: nothing held,
		// and no wait.
		start := time.Now()
		if again := p.take(context.Background(), key, st, model.MailFetchOptions{}, want); len(again) != 0 || time.Since(start) > time.Second {
			t.Fatalf("window %d re-taken: %d items after %v", i/window, len(again), time.Since(start))
		}
	}
	for uid, n := range f.fetched {
		if n != 1 {
			t.Errorf("UID %d fetched %d times", uid, n)
		}
	}
	if len(f.fetched) != len(queue) || f.opened != 1 {
		t.Errorf("%d UIDs fetched on %d connections", len(f.fetched), f.opened)
	}
	for range 50 {
		if _, running := countHeld(p, key); !running {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if held, running := countHeld(p, key); held != 0 || running || p.size != 0 {
		t.Errorf("after the last window: %d held, running %v, size %d", held, running, p.size)
	}
}

// A change of the mailbox stops the stream: its items are freed and its
// connection ends.
func TestMailStreamStop(t *testing.T) {
	p := newMailPrefetch()
	f := &streamMail{fetched: map[uint32]int{}}
	key := streamKey{device: 1, collection: "1"}
	st := model.MailboxStatus{UIDValidity: 7, UIDNext: 501, Messages: 500, HighestModSeq: 9}
	queue := make([]uint32, 500)
	for i := range queue {
		queue[i] = uint32(500 - i)
	}
	p.ensure(f, Credentials{Login: "alice"}, key, "INBOX", st, model.MailFetchOptions{}, queue, 50, true)
	time.Sleep(50 * time.Millisecond)
	p.stop(key)
	for range 50 {
		if _, running := countHeld(p, key); !running {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if held, running := countHeld(p, key); held != 0 || running || p.size != 0 {
		t.Fatalf("after stop: %d held, running %v, size %d", held, running, p.size)
	}
	if got := p.take(context.Background(), key, st, model.MailFetchOptions{}, queue[:50]); got != nil {
		t.Fatalf("stopped stream gave %d items", len(got))
	}
	// A new stream may begin for the new status.
	st.HighestModSeq++
	p.ensure(f, Credentials{Login: "alice"}, key, "INBOX", st, model.MailFetchOptions{}, queue[:50], 50, true)
	if got := p.take(context.Background(), key, st, model.MailFetchOptions{}, queue[:50]); len(got) != 50 || !slices.Contains(queue, got[queue[0]].UID) {
		t.Fatalf("new stream gave %d items", len(got))
	}
}

// A stream whose items would take the instance past its budget halts:
// what it holds stays usable, it fetches nothing more, and the memory
// held stays within the budget.
func TestMailStreamBudget(t *testing.T) {
	p := newMailPrefetch()
	p.budget = 50 << 10 // about 50 items of the fake store (1 KB each)
	f := &streamMail{fetched: map[uint32]int{}}
	key := streamKey{device: 1, collection: "1"}
	st := model.MailboxStatus{UIDValidity: 7, UIDNext: 1001, Messages: 1000, HighestModSeq: 9}
	queue := make([]uint32, 1000)
	for i := range queue {
		queue[i] = uint32(1000 - i)
	}
	p.ensure(f, Credentials{Login: "alice"}, key, "INBOX", st, model.MailFetchOptions{}, queue, 100, true)
	for range 100 {
		if _, running := countHeld(p, key); !running {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	held, running := countHeld(p, key)
	p.mu.Lock()
	size := p.size
	p.mu.Unlock()
	if running || held == 0 || held > 50 || size > p.budget {
		t.Fatalf("over the budget: %d items held (%d bytes), running %v", held, size, running)
	}
	got := p.take(context.Background(), key, st, model.MailFetchOptions{}, queue[:100])
	if len(got) != held {
		t.Fatalf("took %d of the %d items held", len(got), held)
	}
}
