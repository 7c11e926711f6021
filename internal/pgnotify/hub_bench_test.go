package pgnotify

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
)

// BenchmarkPublishToOtherHub measures Publish -> delivery on another Hub
// (another instance) and the heap per subscription.
func BenchmarkPublishToOtherHub(b *testing.B) {
	db := testenv.PG(b)
	ctx := context.Background()
	pub, err := New(ctx, db.DSN, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	h, err := New(ctx, db.DSN, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()

	heap0 := heapAlloc()
	const n = 10000
	subs := make([]*Sub, n)
	for i := range subs {
		subs[i] = h.Subscribe("device:1")
	}
	perSub := float64(int64(heapAlloc())-int64(heap0)) / n
	for _, s := range subs {
		s.Close()
	}

	s := h.Subscribe("device:2")
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := Publish(ctx, db.Pool, "device:2", "x"); err != nil {
			b.Fatal(err)
		}
		select {
		case <-s.C():
		case <-time.After(5 * time.Second):
			b.Fatal("not delivered")
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	b.ReportMetric(float64(p(0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(p(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(perSub, "B/sub")
	b.Logf("publish -> other hub over %d: p50 %v, p99 %v; %.0f B per subscription", len(lat), p(0.5), p(0.99), perSub)
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
