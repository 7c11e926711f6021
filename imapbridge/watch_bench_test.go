package imapbridge

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
)

// BenchmarkWatchWakeup measures APPEND -> event latency through IDLE, 50
// appends per iteration, one at a time. Run with -benchtime=1x.
func BenchmarkWatchWakeup(b *testing.B) {
	srv := testenv.Dovecot(b, "alice")
	ws := newTestWatchers(b, srv, func(ws *Watchers) { ws.PollInterval = time.Hour })
	s := subscribe(b, ws, "alice", "INBOX")
	defer s.Close()
	var lat []time.Duration
	for b.Loop() {
		for range 50 {
			start := time.Now()
			appendMsg(b, srv, "alice", "INBOX")
			waitEvent(b, s, "INBOX")
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	b.ReportMetric(float64(p(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(p(0.99).Milliseconds()), "p99-ms")
	b.Logf("APPEND -> event over %d appends: min %v, p50 %v, p99 %v, max %v",
		len(lat), lat[0], p(0.5), p(0.99), lat[len(lat)-1])
}

// BenchmarkWatchMemory measures the heap held by a subscription (10,000 of
// one user) and by a watcher with its IMAP connection (50 users, one
// subscription each), and the goroutines per watcher. Run with
// -benchtime=1x.
func BenchmarkWatchMemory(b *testing.B) {
	const users, subs = 50, 10000
	names := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("u%d", i)
	}
	srv := testenv.Dovecot(b, names...)
	for b.Loop() {
		ws := newTestWatchers(b, srv, nil)
		// Watchers.
		heap0, g0 := heapInUse(), runtime.NumGoroutine()
		held := make([]*Subscription, 0, users+subs)
		for _, u := range names {
			held = append(held, subscribe(b, ws, u, "INBOX", "Sent"))
		}
		time.Sleep(200 * time.Millisecond) // all in IDLE
		heap1, g1 := heapInUse(), runtime.NumGoroutine()
		// Subscriptions, on one running watcher: no IMAP work.
		start := time.Now()
		for range subs {
			held = append(held, subscribe(b, ws, "u0", "INBOX", "Sent"))
		}
		perSubscribe := time.Since(start) / subs
		heap2, g2 := heapInUse(), runtime.NumGoroutine()

		perWatcher := float64(heap1-heap0) / users
		perSub := float64(heap2-heap1) / subs
		goroutines := float64(g1-g0) / users
		b.ReportMetric(perWatcher, "B/watcher")
		b.ReportMetric(goroutines, "goroutines/watcher")
		b.ReportMetric(perSub, "B/subscription")
		b.Logf("watcher: %.0f B, %.1f goroutines; subscription: %.0f B, %d new goroutines for %d, Subscribe %v",
			perWatcher, goroutines, perSub, g2-g1, subs, perSubscribe)
		for _, s := range held {
			s.Close()
		}
		ws.Close()
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Subscribing to a running watcher costs no IMAP round trip: a guard for
// the benchmark's claim with a generous bound.
func TestWatchSubscribeIsCheap(t *testing.T) {
	t.Parallel()
	srv := testenv.Dovecot(t, "alice")
	ws := newTestWatchers(t, srv, nil)
	first := subscribe(t, ws, "alice", "INBOX")
	defer first.Close()
	ctx := context.Background()
	start := time.Now()
	for range 1000 {
		s, err := ws.Subscribe(ctx, "alice", "alice", []string{"INBOX"})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if st := ws.Stats(); st.Logins != 1 || st.Subscriptions != 1 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("Subscribe+Close on a running watcher: %v each", time.Since(start)/1000)
}
