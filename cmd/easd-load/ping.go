package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
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
	sources          int
	setup            time.Duration
	baseline, during sample
	settled          sample        // the first sample after the set-up settled
	held             sample        // after o.hold more, when it is set
	heldFor          time.Duration // time from the first sample to held
	idleCPU          float64       // server CPU seconds per second while every device waits
	idleFor          time.Duration
	// heartbeats is how many Pings ended at their heartbeat (and were
	// sent again) between the first sample and held
	heartbeats int64
	wakeUsers  int
	wake       []time.Duration
	missed     int
	spurious   int64 // answers 2 to devices of users that got no mail
	errors     int64
	waiting    int64
}

// sample is the server's /metrics and, when found, its process and the
// mail server's processes read from /proc.
type sample struct {
	serverStats
	proc     procMem // the server process (0 when not found)
	cpu      float64 // the server process's CPU seconds, from /proc
	dovecot  procMem
	postgres procMem // the database's processes, when found
}

// serverStats are read from the server's /metrics.
type serverStats struct {
	rss        float64 // bytes
	goroutines float64
	cpu        float64 // seconds
	heapInuse  float64 // bytes of Go heap in use
	stackInuse float64 // bytes of goroutine stacks
}

// phonesPerSource is how many waiting phones share one source address:
// easd accepts 256 connections from one address by default
// (--max-conns-per-address), and 127.0.0.1 carries the set-up requests.
const phonesPerSource = 200

// sourceAddr is the local address of phone i's waiting connection:
// 127.1.0.1, 127.1.0.2, ... each shared by phonesPerSource phones. Every
// address has its own ephemeral ports, so 100,000 connections to one
// server port do not run out of them.
func sourceAddr(i int) net.IP {
	n := i/phonesPerSource + 1
	return net.IPv4(127, byte(1+n/(256*254)), byte(n/254%256), byte(1+n%254))
}

// pingFleet brings every device to a waiting Ping on its INBOX, measures
// the server's memory and goroutines per waiting device and its CPU while
// idle, then delivers one message to each of o.wakeFraction of the users
// and measures, per device of theirs, the time from the APPEND to the
// Ping's answer, while the other devices wait on.
//
// Set-up requests go through HTTP clients from the addresses of
// setupClients, at most 50 at a time and o.ramp devices a second. The waiting Pings are held on
// connections of their own from the addresses of sourceAddr, written and
// then read by one goroutine per device with a small buffer: the load
// tool keeps no HTTP transport goroutines per phone.
func pingFleet(ctx context.Context, o options, log io.Writer) (*pingResult, error) {
	res := &pingResult{devices: o.devices, users: len(o.users), sources: sourceAddrCount(o.devices)}
	if !strings.HasPrefix(o.url, "http://") {
		return res, fmt.Errorf("ping mode holds its Pings over plain HTTP: -url must be http://")
	}
	if o.ramp <= 0 {
		return res, fmt.Errorf("-ramp must be above 0")
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	limit, err := raiseFileLimit()
	if err != nil {
		return res, fmt.Errorf("file limit: %w", err)
	}
	if need := uint64(o.devices) + 200; limit < need {
		fmt.Fprintf(log, "easd-load: %d open files allowed, %d needed: raise the hard limit (ulimit -n %d as root; above fs.nr_open raise that sysctl first)\n",
			limit, need, need)
	}
	probe := newProber(o, log)
	if res.baseline, err = probe.sample(ctx); err != nil {
		return res, err
	}
	wakeUsers := int(math.Ceil(o.wakeFraction * float64(len(o.users))))
	res.wakeUsers = wakeUsers
	woken := map[string]bool{}
	for _, u := range o.users[:wakeUsers] {
		woken[u] = true
	}
	type wakeUp struct {
		user string
		at   time.Time
	}
	wakes := make(chan wakeUp, o.devices)
	var started, failed, waiting, spurious, wakeable, heartbeats atomic.Int64
	setup := newSetupClients(o.setupBlock)
	sem := make(chan struct{}, 50) // set-up requests in flight; waiting Pings are not limited
	pace := time.NewTicker(time.Duration(float64(time.Second) / o.ramp))
	defer pace.Stop()
	var wg sync.WaitGroup
	t0 := time.Now()
	conns := &openConns{m: map[int]net.Conn{}}
	for i := 0; i < o.devices; i++ {
		select {
		case <-pace.C:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		c := o.newClient(i)
		c.HTTP = setup.client(i)
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
			if woken[c.User] {
				wakeable.Add(1)
			}
			started.Add(1)
			// A phone's keep-alive is its heartbeat: no TCP probes.
			pc := &pingConn{d: net.Dialer{LocalAddr: &net.TCPAddr{IP: sourceAddr(i)}, KeepAlive: -1},
				keep: func(conn net.Conn) { conns.set(i, conn) }}
			defer pc.close()
			for ctx.Err() == nil {
				status, err := holdPing(ctx, pc, o, c, inbox, &waiting)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
						fmt.Fprintf(log, "device %s: ping: %v\n", c.DeviceID, err)
					}
					return
				}
				switch {
				case status == 1: // heartbeat passed: ping again
					heartbeats.Add(1)
				case status == 2 && !woken[c.User]:
					spurious.Add(1)
				case status == 2:
					wakes <- wakeUp{user: c.User, at: time.Now()}
					return // one wake-up per device is what we measure
				default:
					failed.Add(1)
					fmt.Fprintf(log, "device %s: ping status %d\n", c.DeviceID, status)
					return
				}
			}
		}()
	}
	for started.Load()+failed.Load() < int64(o.devices) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	res.setup = time.Since(t0)
	setup.closeIdle()
	fmt.Fprintf(log, "easd-load: %d devices set up in %v, %d failed; settling\n", started.Load(), res.setup.Round(time.Second), failed.Load())
	time.Sleep(o.settle)
	if !o.measureAt.IsZero() {
		if d := time.Until(o.measureAt); d > 0 {
			time.Sleep(d)
		} else {
			fmt.Fprintf(log, "easd-load: -measure-at passed %v before the set-up settled; measuring now\n", -d.Round(time.Second))
		}
	}
	a, err := probe.sample(ctx)
	if err != nil {
		return res, err
	}
	beats := heartbeats.Load()
	time.Sleep(o.idleFor)
	b, err := probe.sample(ctx)
	if err != nil {
		return res, err
	}
	res.settled, res.during, res.idleFor = a, b, o.idleFor
	res.idleCPU = (b.cpu - a.cpu) / o.idleFor.Seconds()
	res.waiting = waiting.Load()
	if o.hold > 0 {
		// The set-up burst leaves memory behind that goes on its own:
		// pooled IMAP sessions close after a minute idle, and the runtime
		// collects at least every two minutes, shrinking stacks and
		// returning freed pages. Sampling again later shows what the
		// waiting fleet itself costs.
		time.Sleep(o.hold)
		if res.held, err = probe.sample(ctx); err != nil {
			return res, err
		}
		res.heldFor = o.hold + o.idleFor
		res.heartbeats = heartbeats.Load() - beats
	}

	// New mail for the first wakeUsers users, one APPEND every
	// o.wakeInterval, while everyone else waits.
	sent := map[string]time.Time{}
	fmt.Fprintf(log, "easd-load: delivering to %d users\n", wakeUsers)
	for _, u := range o.users[:wakeUsers] {
		msg := fmt.Sprintf("From: load@example.test\r\nTo: %s@example.test\r\nSubject: wake %s\r\n\r\nhello\r\n", u, u)
		sent[u] = time.Now()
		if _, err := dovecot.Append(ctx, o.imap, u, o.passwordOf(u), "INBOX", []byte(msg)); err != nil {
			return res, fmt.Errorf("deliver to %s: %w", u, err)
		}
		time.Sleep(o.wakeInterval)
	}
	want := int(wakeable.Load())
	deadline := time.After(60 * time.Second)
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
	res.spurious = spurious.Load()
	sort.Slice(res.wake, func(i, j int) bool { return res.wake[i] < res.wake[j] })
	stop() // the devices still waiting end without complaint
	conns.closeAll()
	wg.Wait()
	return res, nil
}

// setupSources is how many addresses the set-up requests come from:
// easd throttles first logins per client address (20 at a time before it
// delays them), and a fleet of new devices is nothing but first logins.
const setupSources = 64

// setupClients are the HTTP clients of the set-up requests, one per
// source address 127.2.B.1, 127.2.B.2, ... for the tool's -setup-block B.
// The login throttle counts per address across every easd instance (it is
// kept in PostgreSQL), so tools driving several instances at once take
// different blocks.
type setupClients []*http.Client

func newSetupClients(block int) setupClients {
	cs := make(setupClients, setupSources)
	for i := range cs {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 2, byte(block), byte(1+i))}}
		cs[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext,
			MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second}}
	}
	return cs
}

func (cs setupClients) client(i int) *http.Client { return cs[i%len(cs)] }

func (cs setupClients) closeIdle() {
	for _, c := range cs {
		c.CloseIdleConnections()
	}
}

// openConns are the devices' waiting connections, closed at the end.
type openConns struct {
	mu     sync.Mutex
	m      map[int]net.Conn
	closed bool
}

func (o *openConns) set(i int, c net.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		c.Close()
	}
	o.m[i] = c
}

func (o *openConns) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	for _, c := range o.m {
		c.Close()
	}
}

// pingConn is a device's connection for its Pings: kept from one Ping to
// the next, as a phone keeps it, until the server closes it.
type pingConn struct {
	d    net.Dialer
	keep func(net.Conn) // told of each new connection, so the run can close it at its end
	conn net.Conn
	br   *bufio.Reader
}

func (pc *pingConn) close() {
	if pc.conn != nil {
		pc.conn.Close()
		pc.conn, pc.br = nil, nil
	}
}

// holdPing sends one Ping on the device's connection (a new one when it
// has none) and waits for its answer; it returns the Ping's status.
func holdPing(ctx context.Context, pc *pingConn, o options, c *client.Client, inbox string,
	waiting *atomic.Int64) (int, error) {
	req, err := c.NewPingRequest(ctx, o.heartbeat, message.PingFolder{ID: inbox, Class: "Email"})
	if err != nil {
		return 0, err
	}
	if pc.conn == nil {
		conn, err := pc.d.DialContext(ctx, "tcp", req.URL.Host)
		if err != nil {
			return 0, err
		}
		pc.keep(conn)
		pc.conn, pc.br = conn, bufio.NewReaderSize(conn, 512)
	}
	if err := req.Write(pc.conn); err != nil {
		pc.close()
		return 0, err
	}
	waiting.Add(1)
	defer waiting.Add(-1)
	resp, err := http.ReadResponse(pc.br, req)
	if err != nil {
		pc.close()
		return 0, err
	}
	r, err := client.DecodePing(resp) // reads the body to its end: the connection serves the next Ping
	if err != nil || resp.Close {
		pc.close()
	}
	if err != nil {
		return 0, err
	}
	return r.Status, nil
}

func sourceAddrCount(devices int) int { return (devices + phonesPerSource - 1) / phonesPerSource }

// prober samples the server's /metrics and, from /proc, the server's and
// the mail server's processes, found by their listening ports unless
// given.
type prober struct {
	url         string
	serverPID   int
	dovecotPID  int
	postgresPID int
}

func newProber(o options, log io.Writer) *prober {
	p := &prober{url: o.url, serverPID: o.serverPID, dovecotPID: o.dovecotPID, postgresPID: o.postgresPID}
	if p.serverPID == 0 {
		if u, err := url.Parse(o.url); err == nil {
			if pids, err := listeners(portOf(u.Host, 80)); err == nil {
				p.serverPID = pids[0]
			} else {
				fmt.Fprintf(log, "easd-load: server process not found (%v); memory from /metrics only\n", err)
			}
		}
	}
	if p.postgresPID == 0 && p.serverPID != 0 {
		// easd dev runs its PostgreSQL as a child
		p.postgresPID = childNamed(p.serverPID, "postgres")
	}
	if p.dovecotPID == 0 {
		if pids, err := listeners(portOf(o.imap, 143)); err == nil {
			// The master opens the listening socket and hands it to its
			// login processes: the master is the one no other holder
			// descends from.
			p.dovecotPID = pids[0]
			for _, pid := range pids {
				if st, err := readStat(pid); err == nil && st.comm == "dovecot" {
					p.dovecotPID = pid
				}
			}
		} else {
			fmt.Fprintf(log, "easd-load: mail server process not found (%v)\n", err)
		}
	}
	return p
}

func portOf(hostport string, def int) int {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return def
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return def
	}
	return n
}

func (p *prober) sample(ctx context.Context) (sample, error) {
	var s sample
	var err error
	if s.serverStats, err = scrape(ctx, p.url); err != nil {
		return s, err
	}
	s.cpu = s.serverStats.cpu
	if p.serverPID != 0 {
		if st, err := readStat(p.serverPID); err == nil {
			s.proc = procMem{rss: st.rss, pss: pss(p.serverPID), procs: 1}
			s.cpu = st.cpu
		}
	}
	if p.dovecotPID != 0 {
		s.dovecot = treeMem(p.dovecotPID)
	}
	if p.postgresPID != 0 {
		s.postgres = treeMem(p.postgresPID)
	}
	return s, nil
}

// othersCPU tells the CPU the database and the mail server used from
// before to s over d, in cores, as ", PostgreSQL x, mail server y", or ""
// when neither was found.
func (s sample) othersCPU(before sample, d time.Duration) string {
	var out string
	if s.postgres.procs > 0 {
		out += fmt.Sprintf(", PostgreSQL %.3f", (s.postgres.cpu-before.postgres.cpu)/d.Seconds())
	}
	if s.dovecot.procs > 0 {
		out += fmt.Sprintf(", mail server %.3f", (s.dovecot.cpu-before.dovecot.cpu)/d.Seconds())
	}
	return out
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
	if fs.Status != 1 || fs.Changes == nil {
		return "", fmt.Errorf("FolderSync status %d", fs.Status)
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
	kib := func(v float64) float64 { return v / 1024 }
	mib := func(v float64) float64 { return v / (1 << 20) }
	fmt.Fprintf(w, "easd-load ping: %d devices over %d users from %d source addresses, heartbeat %v, %s\n",
		r.devices, r.users, r.sources, o.heartbeat, o.url)
	fmt.Fprintf(w, "set-up (provision, folder sync, inbox sync, first ping) %v; %d device errors; %d Pings waiting when measured\n",
		r.setup.Round(time.Millisecond), r.errors, r.waiting)
	n := float64(r.waiting)
	if n > 0 {
		b, d := r.baseline, r.during
		rss0, rss1 := b.rss, d.rss
		if b.proc.rss > 0 && d.proc.rss > 0 {
			rss0, rss1 = b.proc.rss, d.proc.rss
		}
		fmt.Fprintf(w, "server RSS %.1f MiB -> %.1f MiB: %.1f KiB per waiting phone\n", mib(rss0), mib(rss1), kib(rss1-rss0)/n)
		fmt.Fprintf(w, "of which Go heap in use %.1f KiB and goroutine stacks %.1f KiB per waiting phone\n",
			kib(d.heapInuse-b.heapInuse)/n, kib(d.stackInuse-b.stackInuse)/n)
		fmt.Fprintf(w, "goroutines %.0f -> %.0f: %.2f per waiting phone\n", b.goroutines, d.goroutines, (d.goroutines-b.goroutines)/n)
		if d.dovecot.procs > 0 {
			fmt.Fprintf(w, "mail server: %d -> %d processes, RSS %.1f -> %.1f MiB, PSS %.1f -> %.1f MiB: PSS %.1f KiB per user\n",
				b.dovecot.procs, d.dovecot.procs, mib(b.dovecot.rss), mib(d.dovecot.rss), mib(b.dovecot.pss), mib(d.dovecot.pss),
				kib(d.dovecot.pss-b.dovecot.pss)/float64(r.users))
		}
		if r.heldFor > 0 {
			h := r.held
			rssH := h.rss
			if h.proc.rss > 0 {
				rssH = h.proc.rss
			}
			fmt.Fprintf(w, "%v later: RSS %.1f MiB: %.1f KiB per waiting phone (Go heap in use %.1f KiB, stacks %.1f KiB); goroutines %.2f per waiting phone\n",
				r.heldFor, mib(rssH), kib(rssH-rss0)/n, kib(h.heapInuse-b.heapInuse)/n,
				kib(h.stackInuse-b.stackInuse)/n, (h.goroutines-b.goroutines)/n)
		}
	}
	fmt.Fprintf(w, "server CPU while all wait: %.3f cores (over %v)%s\n", r.idleCPU, r.idleFor, r.during.othersCPU(r.settled, r.idleFor))
	if r.heldFor > 0 {
		// Over a hold longer than the heartbeat, the Pings ending at it and
		// sent again are part of what a waiting fleet costs; over one
		// longer than --push-sweep-interval, the sweeps are.
		cpu := r.held.cpu - r.settled.cpu
		fmt.Fprintf(w, "over the %v from the first sample: server CPU %.3f cores%s; %d Pings ended at their heartbeat and were sent again",
			r.heldFor, cpu/r.heldFor.Seconds(), r.held.othersCPU(r.settled, r.heldFor), r.heartbeats)
		if r.heartbeats > 0 {
			fmt.Fprintf(w, " (%.2f ms of server CPU each, the rest counted as theirs)", 1000*cpu/float64(r.heartbeats))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "wake-up of the %d devices of %d users with new mail, APPEND -> Ping answer: %d measured, %d missed; p50 %s, p99 %s, max %s; %d answers to devices without new mail\n",
		len(r.wake)+r.missed, r.wakeUsers, len(r.wake), r.missed, pct(r.wake, 0.5), pct(r.wake, 0.99), pct(r.wake, 1), r.spurious)
}
