package eas_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
)

// BenchmarkPingFleet holds a Ping on each of n devices of one user, then
// appends one message and measures how long each Ping took to answer, and
// the heap and goroutines per waiting Ping (client side included: both
// run in this process). It reports figures; it does not pass or fail on
// time. One round per size: run with -benchtime=1x.
func BenchmarkPingFleet(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) { benchPingFleet(b, n) })
	}
}

func benchPingFleet(b *testing.B, n int) {
	env := easdtest.Start(b, pushConfig)
	ctx := context.Background()
	var inbox string
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	clients := make([]*client.Client, n)
	for i := range clients {
		c := env.Client("alice", fmt.Sprintf("fleet%d", i))
		c.HTTP = httpClient
		if i == 0 {
			inbox = syncFolderIDs(b, c)["Inbox"]
		} else if r, err := c.FolderSync(ctx, "0"); err != nil || r.Status != 1 {
			b.Fatalf("FolderSync: %+v %v", r, err)
		}
		s := &syncEnv{env: env, c: c}
		key := s.start(b, inbox)
		s.sync(b, message.SyncCollection{SyncKey: key, CollectionID: inbox})
		clients[i] = c
	}
	heap0, g0 := heapInUse(), runtime.NumGoroutine()
	var wg sync.WaitGroup
	answered := make([]time.Time, n)
	for i, c := range clients {
		wg.Go(func() {
			r, err := c.Ping(ctx, 10*time.Minute, email(inbox))
			answered[i] = time.Now()
			if err != nil || r.Status != 2 {
				b.Errorf("Ping: %+v %v", r, err)
			}
		})
	}
	waitSettled()
	heap1, g1 := heapInUse(), runtime.NumGoroutine()
	start := time.Now()
	env.Append(b, "alice", "INBOX", benchMail(1))
	wg.Wait()
	lat := make([]time.Duration, n)
	for i, t := range answered {
		lat[i] = t.Sub(start)
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(n-1))] }
	perPing := float64(int64(heap1)-int64(heap0)) / float64(n)
	gPerPing := float64(g1-g0) / float64(n)
	b.ReportMetric(float64(p(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(p(0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(perPing, "heapB/ping")
	b.ReportMetric(gPerPing, "goroutines/ping")
	b.Logf("%d Pings: wake-up p50 %v p99 %v max %v; %.0f B heap and %.1f goroutines per waiting Ping (client included)",
		n, p(0.5), p(0.99), lat[n-1], perPing, gPerPing)
}

// waitSettled waits until the number of goroutines has not changed for a
// second: every Ping is then held.
func waitSettled() {
	last, since := -1, time.Now()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if g := runtime.NumGoroutine(); g != last {
			last, since = g, time.Now()
		} else if time.Since(since) > time.Second {
			return
		}
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
