package eas_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/pushevents"
)

// BenchmarkPingWait measures what one waiting Ping costs the server: the
// goroutine stacks, the live heap and the goroutines per waiting request,
// read from runtime/metrics after two collections (the second shrinks the
// stacks that the work before waiting grew). The Pings are held on bare
// connections that this process only writes to until every Ping waits, so
// the client adds no goroutine and no buffer: a net.Conn, a few hundred
// bytes of heap, is all of its share. Each device watches the INBOX of one
// user it has synced; one APPEND then wakes them all and the benchmark
// checks that every answer says so. It reports figures and fails only on
// wrong answers. One round per size: run with -benchtime=1x. With
// events=dovecot the mail server posts its events instead of an IDLE
// watcher per user, and each wait's share includes the record of its
// first check (ping_verified.go).
func BenchmarkPingWait(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("waits=%d", n), func(b *testing.B) { benchPingWait(b, n, false) })
		b.Run(fmt.Sprintf("waits=%d/events=dovecot", n), func(b *testing.B) { benchPingWait(b, n, true) })
	}
}

func benchPingWait(b *testing.B, n int, events bool) {
	const secret = "a-bench-secret-of-32-characters."
	env := easdtest.Start(b, pushConfig, func(c *config.Config) {
		c.MaxConnsPerAddress = 0
		if events {
			c.PushEvents, c.PushSecret, c.PushSweepInterval = "dovecot", secret, time.Hour
		}
	})
	if events {
		err := env.IMAP.SetPushEvents(context.Background(), &dovecot.PushEvents{URL: env.URL + pushevents.Path, Secret: secret})
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	setup := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	clients := make([]*client.Client, n)
	var inbox string
	{
		c := env.Client("alice", "wait0")
		c.HTTP = setup
		inbox = syncFolderIDs(b, c)["Inbox"]
	}
	// Devices synced in parallel: the set-up is not what is measured.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				c := env.Client("alice", fmt.Sprintf("wait%d", i))
				c.HTTP = setup
				if i > 0 {
					if r, err := c.FolderSync(ctx, "0"); err != nil || r.Status != 1 {
						b.Errorf("FolderSync: %+v %v", r, err)
						continue
					}
				}
				s := &syncEnv{env: env, c: c}
				key := s.start(b, inbox)
				s.sync(b, message.SyncCollection{SyncKey: key, CollectionID: inbox})
				clients[i] = c
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		return
	}
	setup.CloseIdleConnections()
	waitSettled()
	before := waitMemory()

	addr := strings.TrimPrefix(env.URL, "http://")
	conns := make([]net.Conn, n)
	for i, c := range clients {
		req, err := c.NewPingRequest(ctx, 10*time.Minute, email(inbox))
		if err != nil {
			b.Fatal(err)
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		if err := req.Write(conn); err != nil {
			b.Fatal(err)
		}
		conns[i] = conn
	}
	waitSettled()
	held := waitMemory()
	perWait := func(a, z uint64) float64 { return (float64(z) - float64(a)) / float64(n) }
	stack := perWait(before.stacks, held.stacks)
	heap := perWait(before.heap, held.heap)
	gor := perWait(before.goroutines, held.goroutines)
	b.ReportMetric(stack, "stackB/wait")
	b.ReportMetric(heap, "heapB/wait")
	b.ReportMetric(gor, "goroutines/wait")

	start := time.Now()
	env.Append(b, "alice", "INBOX", benchMail(1))
	for i, conn := range conns {
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			b.Fatalf("Ping %d: %v", i, err)
		}
		r, err := client.DecodePing(resp)
		if err != nil || r.Status != 2 {
			b.Fatalf("Ping %d: %+v %v", i, r, err)
		}
	}
	b.Logf("%d waiting Pings: %.0f B of stack, %.0f B of live heap and %.2f goroutines each (server side; the client holds only the connections); all answered %v after the APPEND",
		n, stack, heap, gor, time.Since(start).Round(time.Millisecond))
}

// waitFigures are the process's goroutine stacks, live heap and
// goroutines.
type waitFigures struct{ stacks, heap, goroutines uint64 }

func waitMemory() waitFigures {
	runtime.GC()
	runtime.GC()
	s := []rtmetrics.Sample{
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}
	rtmetrics.Read(s)
	return waitFigures{stacks: s[0].Value.Uint64(), heap: s[1].Value.Uint64(), goroutines: s[2].Value.Uint64()}
}
