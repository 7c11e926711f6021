package admin_test

import (
	"runtime"
	"testing"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/eas"
)

type fakeWait struct{ n int }

func (w *fakeWait) Info() eas.WaitInfo { return eas.WaitInfo{Login: "alice", DeviceID: "d"} }

// BenchmarkWaitsMemory reports the heap the live view's list adds per
// waiting request (the waits themselves not counted) and the time of a
// start and an end. It reports figures only.
func BenchmarkWaitsMemory(b *testing.B) {
	const n = 10000
	waits := make([]*fakeWait, n)
	for i := range waits {
		waits[i] = &fakeWait{n: i}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := admin.NewWaits()
	for _, w := range waits {
		l.Started(w)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perWait := float64(after.HeapAlloc-before.HeapAlloc) / n
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := waits[i%n]
		l.Ended(w)
		l.Started(w)
	}
	b.ReportMetric(perWait, "B/wait")
	runtime.KeepAlive(l)
}
