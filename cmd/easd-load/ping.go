package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/dovecot"
)

// pingResult is what ping mode measures.
type pingResult struct {
	devices, users   int
	setup            time.Duration
	baseline, during serverStats
	held             serverStats   // after o.hold more, when it is set
	heldFor          time.Duration // time from the first sample to held
	idleCPU          float64       // CPU seconds per second while every device waits
	wake             []time.Duration
	missed           int
	errors           int64
}

// serverStats are read from the server's /metrics.
type serverStats struct {
	rss        float64 // bytes
	goroutines float64
	cpu        float64 // seconds
	heapInuse  float64 // bytes of Go heap in use
	stackInuse float64 // bytes of goroutine stacks
}

// pingFleet brings every device to a waiting Ping on its INBOX, measures
// the server's memory and goroutines per waiting device and its CPU while
// idle, then delivers one message to each user and measures, per device,
// the time from the APPEND to the Ping's answer.
func pingFleet(ctx context.Context, o options, log io.Writer) (*pingResult, error) {
	res := &pingResult{devices: o.devices, users: len(o.users)}
	var err error
	if res.baseline, err = scrape(ctx, o.url); err != nil {
		return res, err
	}
	type wakeUp struct {
		user string
		at   time.Time
	}
	wakes := make(chan wakeUp, o.devices)
	var started, failed atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	sem := make(chan struct{}, 50) // set-up requests in flight; waiting Pings are not limited
	for i := 0; i < o.devices; i++ {
		c := o.newClient(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			inbox, err := prepare(ctx, c)
			<-sem
			if err != nil {
				failed.Add(1)
				fmt.Fprintf(log, "device %s: %v\n", c.DeviceID, err)
				return
			}
			started.Add(1)
			for ctx.Err() == nil {
				r, err := c.Ping(ctx, o.heartbeat, message.PingFolder{ID: inbox, Class: "Email"})
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
						fmt.Fprintf(log, "device %s: ping: %v\n", c.DeviceID, err)
					}
					return
				}
				if r.Status == 2 {
					wakes <- wakeUp{user: c.User, at: time.Now()}
					return // one wake-up per device is what we measure
				}
			}
		}()
	}
	for started.Load()+failed.Load() < int64(o.devices) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	res.setup = time.Since(t0)
	time.Sleep(o.settle)
	a, err := scrape(ctx, o.url)
	if err != nil {
		return res, err
	}
	time.Sleep(10 * time.Second)
	b, err := scrape(ctx, o.url)
	if err != nil {
		return res, err
	}
	res.during = b
	res.idleCPU = (b.cpu - a.cpu) / 10
	if o.hold > 0 {
		// The set-up burst leaves memory behind that goes on its own:
		// pooled IMAP sessions close after a minute idle, and the runtime
		// collects at least every two minutes, shrinking stacks and
		// returning freed pages. Sampling again later shows what the
		// waiting fleet itself costs.
		time.Sleep(o.hold)
		if res.held, err = scrape(ctx, o.url); err != nil {
			return res, err
		}
		res.heldFor = o.hold + 10*time.Second
	}

	// Deliver one message per user, spaced so wake-ups do not overlap.
	sent := map[string]time.Time{}
	for _, u := range o.users {
		msg := fmt.Sprintf("From: load@example.test\r\nTo: %s@example.test\r\nSubject: wake %s\r\n\r\nhello\r\n", u, u)
		sent[u] = time.Now()
		if _, err := dovecot.Append(ctx, o.imap, u, o.passwordOf(u), "INBOX", []byte(msg)); err != nil {
			return res, fmt.Errorf("deliver to %s: %w", u, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	deadline := time.After(30 * time.Second)
	want := int(started.Load())
	for len(res.wake) < want {
		select {
		case w := <-wakes:
			res.wake = append(res.wake, w.at.Sub(sent[w.user]))
		case <-deadline:
			res.missed = want - len(res.wake)
			want = len(res.wake)
		}
	}
	res.errors = failed.Load()
	sort.Slice(res.wake, func(i, j int) bool { return res.wake[i] < res.wake[j] })
	return res, nil
}

// prepare provisions the device, finds its INBOX and syncs it fully, as a
// phone does before it starts pinging.
func prepare(ctx context.Context, c *client.Client) (string, error) {
	if err := c.Provision(ctx); err != nil {
		return "", err
	}
	fs, err := c.FolderSync(ctx, "0")
	if err != nil {
		return "", err
	}
	inbox := ""
	for _, f := range fs.Changes.Add {
		if f.Type == 2 {
			inbox = f.ServerID
		}
	}
	if inbox == "" {
		return "", fmt.Errorf("no Inbox")
	}
	key := "0"
	for range 100 {
		r, err := c.SyncFolder(ctx, inbox, key, 512)
		if err != nil {
			return "", err
		}
		if r.Collections == nil || len(r.Collections.Collection) == 0 {
			return inbox, nil
		}
		col := r.Collections.Collection[0]
		if col.Status != 1 {
			return "", fmt.Errorf("sync status %d", col.Status)
		}
		// The key-0 Sync only starts the partnership; the device has
		// caught up once a Sync with a real key brings nothing more.
		caughtUp := key != "0" && !col.MoreAvailable && col.Commands == nil
		key = col.SyncKey
		if caughtUp {
			return inbox, nil
		}
	}
	return "", fmt.Errorf("sync never caught up")
}

// scrape reads RSS, goroutines and CPU time from the server's /metrics.
func scrape(ctx context.Context, base string) (serverStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return serverStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return serverStats{}, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	var st serverStats
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			st.rss = v
		case "go_goroutines":
			st.goroutines = v
		case "process_cpu_seconds_total":
			st.cpu = v
		case "go_memstats_heap_inuse_bytes":
			st.heapInuse = v
		case "go_memstats_stack_inuse_bytes":
			st.stackInuse = v
		}
	}
	return st, sc.Err()
}

func (r *pingResult) print(w io.Writer, o options) {
	fmt.Fprintf(w, "easd-load ping: %d devices over %d users, heartbeat %v, %s\n", r.devices, r.users, o.heartbeat, o.url)
	fmt.Fprintf(w, "set-up (provision, folder sync, inbox sync, first ping) %v; %d device errors\n", r.setup.Round(time.Millisecond), r.errors)
	waiting := float64(r.devices) - float64(r.errors)
	if waiting > 0 {
		fmt.Fprintf(w, "server RSS %.1f MiB -> %.1f MiB: %.1f KiB per waiting device\n",
			r.baseline.rss/(1<<20), r.during.rss/(1<<20), (r.during.rss-r.baseline.rss)/1024/waiting)
		fmt.Fprintf(w, "of which Go heap in use %.1f KiB and goroutine stacks %.1f KiB per waiting device\n",
			(r.during.heapInuse-r.baseline.heapInuse)/1024/waiting, (r.during.stackInuse-r.baseline.stackInuse)/1024/waiting)
		fmt.Fprintf(w, "goroutines %.0f -> %.0f: %.1f per waiting device\n",
			r.baseline.goroutines, r.during.goroutines, (r.during.goroutines-r.baseline.goroutines)/waiting)
		if r.heldFor > 0 {
			h := r.held
			fmt.Fprintf(w, "%v later: RSS %.1f MiB: %.1f KiB per waiting device (Go heap in use %.1f KiB, stacks %.1f KiB); goroutines %.1f per waiting device\n",
				r.heldFor, h.rss/(1<<20), (h.rss-r.baseline.rss)/1024/waiting, (h.heapInuse-r.baseline.heapInuse)/1024/waiting,
				(h.stackInuse-r.baseline.stackInuse)/1024/waiting, (h.goroutines-r.baseline.goroutines)/waiting)
		}
	}
	fmt.Fprintf(w, "CPU while all wait: %.3f cores\n", r.idleCPU)
	fmt.Fprintf(w, "wake-up APPEND -> Ping answer: %d measured, %d missed; p50 %s, p99 %s, max %s\n",
		len(r.wake), r.missed, pct(r.wake, 0.5), pct(r.wake, 0.99), pct(r.wake, 1))
}
