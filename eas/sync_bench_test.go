package eas_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
)

// benchMail is message i of the benchmark mailbox: sizes cycle from 1 to
// 60 KB of text, every 5th is multipart/alternative (plain + HTML), every
// 25th carries a 100 KB attachment.
func benchMail(i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Sender %d <s%d@example.test>\r\nTo: alice@example.test\r\nSubject: benchmark message %d\r\n"+
		"Date: Mon, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <b%d@example.test>\r\nMIME-Version: 1.0\r\n", i, i, i, i)
	size := []int{1 << 10, 4 << 10, 20 << 10, 60 << 10}[i%4]
	line := "The quick brown fox jumps over the lazy dog, again and again, line after line.\r\n"
	text := strings.Repeat(line, size/len(line)+1)
	switch {
	case i%25 == 0:
		att := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a, 0x01, 0xff}, 100<<10/3))
		var wrapped strings.Builder
		for len(att) > 76 {
			wrapped.WriteString(att[:76] + "\r\n")
			att = att[76:]
		}
		wrapped.WriteString(att + "\r\n")
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"+
			"--mix\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s--mix--\r\n", text, wrapped.String())
	case i%5 == 0:
		fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"+
			"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>%s</p></body></html>\r\n--alt--\r\n",
			text, strings.ReplaceAll(text, "\r\n", "<br>\r\n"))
	default:
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s", text)
	}
	return b.Bytes()
}

// fillInbox appends n benchmark messages to alice's INBOX over one
// connection.
func fillInbox(tb testing.TB, env *easdtest.Env, n int) {
	tb.Helper()
	c, err := mailStore(env).Dialer.Login(context.Background(), "alice", "alice")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	for i := 1; i <= n; i++ {
		msg := benchMail(i)
		cmd := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Time: time.Now().Add(time.Duration(i-n) * time.Minute)})
		if _, err := cmd.Write(msg); err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			tb.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			tb.Fatal(err)
		}
	}
}

// fetchFloor is the time one IMAP connection takes to FETCH what easd
// needs of every message (UID FLAGS INTERNALDATE RFC822.SIZE BODY[], the
// bytes read and dropped), or with truncated set, the header and the first
// 5,120 bytes of the text.
func fetchFloor(tb testing.TB, env *easdtest.Env, truncated bool) time.Duration {
	tb.Helper()
	c, err := mailStore(env).Dialer.Login(context.Background(), "alice", "alice")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		tb.Fatal(err)
	}
	sections := []*imap.FetchItemBodySection{{Peek: true}}
	if truncated {
		sections = []*imap.FetchItemBodySection{{Peek: true, Specifier: imap.PartSpecifierHeader},
			{Peek: true, Specifier: imap.PartSpecifierText, Partial: &imap.SectionPartial{Offset: 0, Size: 5120}}}
	}
	cmd := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true,
		InternalDate: true, RFC822Size: true, BodySection: sections})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if body, ok := item.(imapclient.FetchItemDataBodySection); ok {
				_, _ = io.Copy(io.Discard, body.Literal)
			}
		}
	}
	if err := cmd.Close(); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// peakRSS reads and resets the process's peak resident set (VmHWM); the
// easd under test runs in this process (with the client).
func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	var kb int64
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return kb
}

// BenchmarkSyncMailInitial measures the initial Sync of a large INBOX in
// windows, against the floor of fetching the same data over one IMAP
// connection. Run with -benchtime=1x: each iteration makes syncRuns
// initial syncs, each right after a floor measurement, and reports the
// medians, so that a burst of load on a shared machine skews one pair,
// not the figures.
func BenchmarkSyncMailInitial(b *testing.B) {
	for _, n := range []int{1000, 2000, 10000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			env := easdtest.Start(b, noPolicy)
			fillInbox(b, env, n)
			fetchFloor(b, env, false) // Dovecot's caches warm, as for every run below
			for _, window := range []int{100, 512} {
				b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						benchInitial(b, env, fmt.Sprintf("bench-%d-%d", window, i), n, window)
					}
				})
			}
		})
	}
}

// syncRuns is how many initial syncs (each with its floors) one
// benchmark iteration makes.
const syncRuns = 5

// initialRun is one initial sync and the floors measured just before it.
type initialRun struct {
	total, floor, floorTrunc time.Duration
	windows                  []time.Duration
	rss                      int64
}

func benchInitial(b *testing.B, env *easdtest.Env, devID string, n, window int) {
	var runs []initialRun
	for r := range syncRuns {
		run := initialRun{floor: fetchFloor(b, env, false), floorTrunc: fetchFloor(b, env, true)}
		run.total, run.windows, run.rss = syncInitial(b, env, fmt.Sprintf("%s-%d", devID, r), n, window)
		runs = append(runs, run)
	}
	median := func(f func(initialRun) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(median(func(r initialRun) float64 { return r.total.Seconds() }), "s/sync")
	b.ReportMetric(median(func(r initialRun) float64 { return r.floor.Seconds() }), "s/floor")
	b.ReportMetric(median(func(r initialRun) float64 { return r.total.Seconds() / r.floor.Seconds() }), "ratio")
	b.ReportMetric(median(func(r initialRun) float64 { return r.total.Seconds() / r.floorTrunc.Seconds() }), "ratio-trunc-floor")
	b.ReportMetric(median(func(r initialRun) float64 {
		sorted := slices.Clone(r.windows)
		slices.Sort(sorted)
		return float64(sorted[len(sorted)/2].Microseconds()) / 1000
	}), "ms/window-median")
	b.ReportMetric(median(func(r initialRun) float64 { return float64(r.windows[0].Microseconds()) / 1000 }), "ms/window-first")
	b.ReportMetric(median(func(r initialRun) float64 { return float64(r.windows[len(r.windows)-2].Microseconds()) / 1000 }), "ms/window-last-full")
	b.ReportMetric(median(func(r initialRun) float64 { return float64(r.rss) / 1024 }), "MB-peak-RSS")
	for i, r := range runs {
		b.Logf("run %d: %.3f s, floor %.3f s, ratio %.2f", i, r.total.Seconds(), r.floor.Seconds(), r.total.Seconds()/r.floor.Seconds())
	}
}

// syncInitial runs one initial sync of the INBOX on a new device and
// returns its time (from the first Sync after key 0 to the last window),
// the time of each window and the peak RSS meanwhile.
func syncInitial(b *testing.B, env *easdtest.Env, devID string, n, window int) (time.Duration, []time.Duration, int64) {
	ctx := context.Background()
	c := env.Client("alice", devID)
	ids := syncFolderIDs(b, c)
	inbox := ids["Inbox"]
	s := &syncEnv{env: env, c: c, ids: ids}
	opts := []message.SyncOptions{{BodyPreference: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(5120))}}}}
	key := s.start(b, inbox)
	peakRSS()
	start := time.Now()
	var windows []time.Duration
	got := 0
	for {
		t0 := time.Now()
		r, err := c.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{
			{SyncKey: key, CollectionID: inbox, WindowSize: window, Options: opts}}}})
		if err != nil || len(r.Collections.Collection) != 1 {
			b.Fatalf("Sync: %+v %v", r, err)
		}
		windows = append(windows, time.Since(t0))
		rc := r.Collections.Collection[0]
		got += len(commands(rc).Add)
		key = rc.SyncKey
		if !rc.MoreAvailable {
			break
		}
	}
	total := time.Since(start)
	if got != n {
		b.Fatalf("synced %d of %d messages", got, n)
	}
	return total, windows, peakRSS()
}

// BenchmarkSyncMailQuiet measures Syncs that find nothing changed in a
// 10,000-message INBOX, from 100 devices at once: each Sync is one STATUS
// on the mail server, or shares that of another one sent after it began.
// The 100 devices share one synced state (copied in the database; a full
// initial sync per device would dominate the run).
func BenchmarkSyncMailQuiet(b *testing.B) {
	const n, devices = 10000, 100
	env := easdtest.Start(b, noPolicy)
	fillInbox(b, env, n)
	first := env.Client("alice", "quiet-0")
	ids := syncFolderIDs(b, first)
	inbox := ids["Inbox"]
	clients, key := quietFleet(b, env, first, ids, inbox, devices)
	// A quiet Sync sends its STATUS (imap_cmds 1) or takes that of
	// another one of the same mailbox sent after it began (0).
	asked, shared := `"path":"unchanged","imap_cmds":1,`, `"path":"unchanged","imap_cmds":0,`
	// Dovecot answers the first few hundred STATUS after the mailbox was
	// filled and synced in 2-3 ms each, later ones faster (0.2-0.3 ms
	// when nothing else uses the mailbox): 2 s of the same Syncs first,
	// so that the figures are nearer the steady state.
	quietSyncsFor(b, clients, key, inbox, 2*time.Second)
	logs := env.Logs()
	asked0, shared0 := strings.Count(logs, asked), strings.Count(logs, shared)
	b.ResetTimer()
	proc0, pg0 := benchCPU(b, env)
	imapCPU := benchIMAPCPU(env)
	stopProfile := profileQuiet(b)
	run := quietSyncsFor(b, clients, key, inbox, 5*time.Second)
	done, elapsed := run.done, run.elapsed
	stopProfile()
	proc1, pg1 := benchCPU(b, env)
	imap := imapCPU()
	logs = env.Logs()
	statuses := strings.Count(logs, asked) - asked0
	quiet := statuses + strings.Count(logs, shared) - shared0
	b.ReportMetric(float64(done)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(quiet)/float64(done), "share-unchanged")
	b.ReportMetric(float64(statuses)/float64(done), "STATUS/req")
	b.ReportMetric(float64(run.percentile(50).Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(run.percentile(99).Microseconds())/1000, "ms-p99")
	// What a request costs, whatever else the machine runs.
	b.ReportMetric(float64((proc1-proc0).Microseconds())/float64(done), "go-CPU-µs/req")
	b.ReportMetric(float64((pg1-pg0).Microseconds())/float64(done), "pg-CPU-µs/req")
	b.ReportMetric(float64(imap.Microseconds())/float64(done), "imap-CPU-µs/req")
}

// profileQuiet writes CPU and heap profiles of the quiet Syncs alone
// (not of the initial sync that prepares them) when EASD_QUIET_PROFILE
// names a directory: cpu.out, and heap-before.out and heap-after.out,
// whose difference (go tool pprof -base) is what the quiet Syncs
// allocated.
func profileQuiet(b *testing.B) (stop func()) {
	dir := os.Getenv("EASD_QUIET_PROFILE")
	if dir == "" {
		return func() {}
	}
	heap := func(name string) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
	}
	heap("heap-before.out")
	cpu, err := os.Create(filepath.Join(dir, "cpu.out"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		heap("heap-after.out")
	}
}

// quietFleet syncs folder in full on first (a device of alice's whose
// folder ids are ids), then gives devices-1 more devices its state, and
// returns them all with the key they hold.
func quietFleet(b *testing.B, env *easdtest.Env, first *client.Client, ids map[string]string, folder string, devices int) ([]*easdtestClient, string) {
	s := &syncEnv{env: env, c: first, ids: ids}
	key := s.start(b, folder)
	for more := true; more; {
		rc := s.sync(b, message.SyncCollection{SyncKey: key, CollectionID: folder, WindowSize: 512})
		key, more = rc.SyncKey, rc.MoreAvailable
	}
	clients := []*easdtestClient{{c: first}}
	for i := 1; i < devices; i++ {
		c := env.Client("alice", fmt.Sprintf("quiet-%d", i))
		syncFolderIDs(b, c)
		clients = append(clients, &easdtestClient{c: c})
	}
	copyStates(b, env, folder)
	return clients, key
}

// quietSyncs has every client send the no-change Sync of folder with key
// for 5 s, all at once; it returns the Syncs answered and the time taken.
func quietSyncs(b *testing.B, clients []*easdtestClient, key, folder string) (int64, time.Duration) {
	r := quietSyncsFor(b, clients, key, folder, 5*time.Second)
	return r.done, r.elapsed
}

// quietRun is what quietSyncsFor measured: the Syncs answered, the time
// taken, and each Sync's time at the client, sorted.
type quietRun struct {
	done      int64
	elapsed   time.Duration
	latencies []time.Duration
}

// percentile returns the p-th percentile (0-100) of the Syncs' times.
func (r quietRun) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p/100))]
}

// quietSyncsFor is quietSyncs for the time given.
func quietSyncsFor(b *testing.B, clients []*easdtestClient, key, folder string, d time.Duration) quietRun {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var run quietRun
	start := time.Now()
	deadline := start.Add(d)
	for _, cl := range clients {
		wg.Go(func() {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				run.latencies = append(run.latencies, mine...)
				mu.Unlock()
			}()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				r, err := cl.c.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{
					{SyncKey: key, CollectionID: folder}}}})
				if err != nil || r.Collections.Collection[0].Status != 1 || r.Collections.Collection[0].Commands != nil {
					b.Errorf("quiet Sync: %+v %v", r, err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
		})
	}
	wg.Wait()
	run.elapsed = time.Since(start)
	run.done = int64(len(run.latencies))
	slices.Sort(run.latencies)
	return run
}

type easdtestClient struct {
	c interface {
		Sync(context.Context, *message.SyncRequest) (*message.SyncResponse, error)
	}
}
