package eas

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/eas/model"
)

// streamMail is a mail server for the stream: every UID exists, each
// message fetched and each connection opened and closed is counted, and
// a FETCH stops when its context ends, as a real one does when the
// connection is closed under it.
type streamMail struct {
	mu             sync.Mutex
	fetched        map[uint32]int
	opened, closed int
}

func newStreamMail() *streamMail { return &streamMail{fetched: map[uint32]int{}} }

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

func (s *streamSession) FetchEach(ctx context.Context, _ string, uids []uint32, _ model.MailFetchOptions, fn func(model.MailItem)) error {
	for _, uid := range uids {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.f.mu.Lock()
		s.f.fetched[uid]++
		s.f.mu.Unlock()
		fn(model.MailItem{UID: uid})
	}
	return nil
}

func (s *streamSession) Close() error {
	s.f.mu.Lock()
	s.f.closed++
	s.f.mu.Unlock()
	return nil
}

func (f *streamMail) counts() (fetched, opened, closed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.fetched {
		fetched += n
	}
	return fetched, f.opened, f.closed
}

// descending is the queue of an initial sync of n messages: n down to 1.
func descending(n int) []uint32 {
	q := make([]uint32, n)
	for i := range q {
		q[i] = uint32(n - i)
	}
	return q
}

var (
	testStreamKey    = streamKey{device: 1, collection: "1"}
	testStreamStatus = model.MailboxStatus{UIDValidity: 7, UIDNext: 1001, Messages: 1000, HighestModSeq: 9}
)

// startStream starts a stream of queue as a listed window of size window
// does.
func startStream(p *mailPrefetch, f *streamMail, queue []uint32, window int) {
	p.ensure(f, Credentials{Login: "alice"}, testStreamKey, "INBOX", testStreamStatus, model.MailFetchOptions{}, queue, window, true)
}

// waitIdle waits until no stream fetches, and returns what the key's
// stream holds and the instance's total.
func waitIdle(t *testing.T, p *mailPrefetch) (held int, size int64) {
	t.Helper()
	for range 200 {
		p.mu.Lock()
		running := len(p.running) > 0
		if s := p.streams[testStreamKey]; s != nil {
			held = len(s.items)
		} else {
			held = 0
		}
		size = p.size
		p.mu.Unlock()
		if !running {
			return held, size
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the stream is still fetching")
	return 0, 0
}

// waitHeld waits until the key's stream holds n items.
func waitHeld(t *testing.T, p *mailPrefetch, n int) {
	t.Helper()
	for range 200 {
		p.mu.Lock()
		s := p.streams[testStreamKey]
		got := s != nil && len(s.items) >= n
		p.mu.Unlock()
		if got {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the stream never held %d items", n)
}

// waitClosed waits until every connection the streams opened is closed.
func waitClosed(t *testing.T, f *streamMail) {
	t.Helper()
	for range 200 {
		if _, opened, closed := f.counts(); opened == closed {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, opened, closed := f.counts()
	t.Fatalf("%d connections opened, %d closed", opened, closed)
}

func take(p *mailPrefetch, uids []uint32) map[uint32]model.MailItem {
	return p.take(context.Background(), testStreamKey, testStreamStatus, model.MailFetchOptions{}, uids)
}

// A stream fetches the queue in order, at most a few windows ahead, hands
// each window over once, and ends when the queue is done; a request with
// another status gets nothing, and one for messages the stream no longer
// holds (a re-sent window) does not wait for them.
func TestMailStream(t *testing.T) {
	p, f := newMailPrefetch(), newStreamMail()
	queue := descending(1000)
	const window = 100
	startStream(p, f, queue, window)
	waitHeld(t, p, 256)
	time.Sleep(50 * time.Millisecond)
	if held := heldNow(p); held < 256 || held > 256+256 {
		t.Fatalf("%d items held ahead, want the ahead limit of 256 (plus a chunk of at most 256)", held)
	}
	if got := p.take(context.Background(), testStreamKey, model.MailboxStatus{UIDValidity: 7}, model.MailFetchOptions{}, queue[:window]); got != nil {
		t.Fatalf("another status got %d items", len(got))
	}
	for i := 0; i < len(queue); i += window {
		want := queue[i : i+window]
		if got := take(p, want); len(got) != window {
			t.Fatalf("window %d: %d items", i/window, len(got))
		}
		// The same window again, as a re-sent request asks: nothing held,
		// and no wait.
		start := time.Now()
		if again := take(p, want); len(again) != 0 || time.Since(start) > time.Second {
			t.Fatalf("window %d re-taken: %d items after %v", i/window, len(again), time.Since(start))
		}
	}
	if held, size := waitIdle(t, p); held != 0 || size != 0 {
		t.Errorf("after the last window: %d held, size %d", held, size)
	}
	for uid, n := range f.fetched {
		if n != 1 {
			t.Errorf("UID %d fetched %d times", uid, n)
		}
	}
	if fetched, opened, closed := f.counts(); fetched != len(queue) || opened != 1 || closed != 1 {
		t.Errorf("%d UIDs fetched on %d connections, %d closed", fetched, opened, closed)
	}
}

// heldNow is what the stream holds, while it may still run (it pauses at
// its ahead limit).
func heldNow(p *mailPrefetch) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.streams[testStreamKey]; s != nil {
		return len(s.items)
	}
	return 0
}

// A change of the mailbox stops the stream: its items are freed and its
// connection ends.
func TestMailStreamStop(t *testing.T) {
	p, f := newMailPrefetch(), newStreamMail()
	queue := descending(500)
	startStream(p, f, queue, 50)
	waitHeld(t, p, 50)
	p.mu.Lock()
	s := p.streams[testStreamKey]
	p.mu.Unlock()
	p.stop(testStreamKey)
	if _, size := waitIdle(t, p); size != 0 {
		t.Fatalf("after stop: size %d", size)
	}
	p.mu.Lock()
	dropped, items := s.dropped, len(s.items)
	p.mu.Unlock()
	if !dropped || items != 0 {
		t.Fatalf("stopped stream: dropped %v, %d items kept", dropped, items)
	}
	waitClosed(t, f)
	if got := take(p, queue[:50]); got != nil {
		t.Fatalf("stopped stream gave %d items", len(got))
	}
}

// A window that lists the mailbox again while a stream runs (the answer
// to the first window was lost and the phone re-sends it) replaces the
// stream at once: the new one fetches although the old one has not
// finished ending.
func TestMailStreamRestarted(t *testing.T) {
	p, f := newMailPrefetch(), newStreamMail()
	queue := descending(1000)
	startStream(p, f, queue, 100)
	waitHeld(t, p, 100)
	startStream(p, f, queue, 100)
	if got := take(p, queue[:100]); len(got) != 100 {
		t.Fatalf("the replacing stream gave %d of 100 items", len(got))
	}
	if _, opened, _ := f.counts(); opened != 2 {
		t.Fatalf("%d connections, want one per stream", opened)
	}
}

// A stream whose items would take the instance past its budget halts:
// what it holds stays usable, the FETCH under way ends at once, and the
// memory held stays within the budget.
func TestMailStreamBudget(t *testing.T) {
	p, f := newMailPrefetch(), newStreamMail()
	p.budget = 50 << 10 // about 50 items of the fake store (1 KB each)
	queue := descending(1000)
	startStream(p, f, queue, 100)
	held, size := waitIdle(t, p)
	if held == 0 || held > 50 || size > p.budget {
		t.Fatalf("over the budget: %d items held (%d bytes)", held, size)
	}
	if fetched, _, _ := f.counts(); fetched > held+1 {
		t.Fatalf("%d messages fetched for %d held: the FETCH went on past the halt", fetched, held)
	}
	if got := take(p, queue[:100]); len(got) != held {
		t.Fatalf("took %d of the %d items held", len(got), held)
	}
}

// A stream the phone does not come back to ends, and its items are
// dropped, once idle for the maximum age.
func TestMailStreamIdle(t *testing.T) {
	p, f := newMailPrefetch(), newStreamMail()
	p.maxAge = 100 * time.Millisecond
	startStream(p, f, descending(1000), 100)
	waitHeld(t, p, 256)
	for range 100 {
		p.mu.Lock()
		gone, size := p.streams[testStreamKey] == nil, p.size
		p.mu.Unlock()
		if gone && size == 0 {
			waitClosed(t, f)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("an idle stream was never dropped")
}

// warm logs a connection in and gives it back (to the store's pool),
// once at a time per user, and not while a stream of the user runs.
func TestMailStreamWarm(t *testing.T) {
	p, f := newMailPrefetch(), newStreamMail()
	p.warm(f, Credentials{Login: "alice"})
	for range 200 {
		if _, opened, closed := f.counts(); opened == 1 && closed == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, opened, closed := f.counts(); opened != 1 || closed != 1 {
		t.Fatalf("%d connections opened, %d closed, want one of each", opened, closed)
	}
	startStream(p, f, descending(1000), 100)
	waitHeld(t, p, 100)
	p.warm(f, Credentials{Login: "alice"})
	time.Sleep(20 * time.Millisecond)
	if _, opened, _ := f.counts(); opened != 2 {
		t.Fatalf("%d connections opened with a stream running, want 2 (the stream's)", opened)
	}
}

// A stream is trusted for the recheck time after a STATUS showed its
// mailbox unchanged (its start counts as one), and not at all for another
// status; a STATUS with another result, or asked before the last one,
// changes nothing.
func TestMailStreamTrusted(t *testing.T) {
	p, f := newMailPrefetch(), newStreamMail()
	startStream(p, f, descending(50), 10)
	opts := model.MailFetchOptions{}
	const recheck = 100 * time.Millisecond
	if !p.trusted(testStreamKey, testStreamStatus, opts, recheck) {
		t.Fatal("a stream just begun is not trusted")
	}
	if p.trusted(testStreamKey, model.MailboxStatus{UIDValidity: 7}, opts, recheck) {
		t.Fatal("trusted for another status")
	}
	if p.trusted(testStreamKey, testStreamStatus, opts, 0) {
		t.Fatal("trusted with a recheck of 0")
	}
	time.Sleep(recheck)
	if p.trusted(testStreamKey, testStreamStatus, opts, recheck) {
		t.Fatal("still trusted after the recheck time")
	}
	p.checked(testStreamKey, model.MailboxStatus{UIDValidity: 7}, time.Now())
	p.checked(testStreamKey, testStreamStatus, time.Now().Add(-time.Hour))
	if p.trusted(testStreamKey, testStreamStatus, opts, recheck) {
		t.Fatal("trusted after a STATUS with another result, or an old one")
	}
	p.checked(testStreamKey, testStreamStatus, time.Now())
	if !p.trusted(testStreamKey, testStreamStatus, opts, recheck) {
		t.Fatal("not trusted after a STATUS that found the mailbox unchanged")
	}
	p.stop(testStreamKey)
	if p.trusted(testStreamKey, testStreamStatus, opts, recheck) {
		t.Fatal("a stopped stream is trusted")
	}
	waitClosed(t, f)
}
