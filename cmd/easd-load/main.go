// Command easd-load simulates a fleet of EAS devices against a running
// server and reports request latencies per command. It speaks to the server
// over HTTP only, with the project's EAS client, so it measures what phones
// would see. Point it at `easd dev` (users demo and alice) or at a test
// deployment; it sends traffic only to the URL it is given.
//
//	easd-load -url http://127.0.0.1:8080 -users demo,alice -devices 100
//
// Each device provisions (both phases), runs an initial FolderSync and then
// -rounds incremental FolderSyncs. Passwords default to the user names (as
// in dev mode); set EASD_LOAD_PASSWORD to use one password for all users.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/easd/easd/eas/client"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	url      string
	users    []string
	devices  int
	rounds   int
	version  string
	timeout  time.Duration
	password string
	// ping mode
	imap      string
	heartbeat time.Duration
	settle    time.Duration
	measureAt time.Time // when set, the first sample waits for it
	hold      time.Duration
	idleFor   time.Duration
	ramp      float64 // devices set up per second
	// setupBlock is the third byte of the set-up requests' source
	// addresses (127.2.setupBlock.x)
	setupBlock int
	// what is woken, and how the processes are found
	wakeFraction float64
	wakeInterval time.Duration
	serverPID    int
	dovecotPID   int
	postgresPID  int
	// soak mode
	duration time.Duration
	pingers  int
	db       string
	badFrom  string
}

// newClient is the simulated device number i.
func (o options) newClient(i int) *client.Client {
	user := o.users[i%len(o.users)]
	return &client.Client{BaseURL: o.url, User: user, Password: o.passwordOf(user), Version: o.version,
		DeviceID: fmt.Sprintf("load%05d", i), DeviceType: "LoadTest", UserAgent: "easd-load/1"}
}

func (o options) passwordOf(user string) string {
	if o.password != "" {
		return o.password
	}
	return user
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("easd-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080", "base URL of the EAS server")
	users := fs.String("users", "demo,alice", "comma-separated users; devices are spread over them")
	userPrefix := fs.String("user-prefix", "", "with -user-count: use users PREFIX1..PREFIXn instead of -users (easd dev --extra-users makes load1..loadN)")
	userCount := fs.Int("user-count", 0, "number of users PREFIX1..PREFIXn")
	mode := fs.String("mode", "folders", "folders: Provision + FolderSync rounds; ping: every device holds a Ping on its INBOX while mail is delivered to -wake-fraction of the users; soak: mixed Syncs, sends, moves, Pings and bad logins for -duration, then a check that no mail was lost or duplicated")
	duration := fs.Duration("duration", 10*time.Minute, "soak mode: how long the load runs")
	pingers := fs.Int("pingers", 10, "soak mode: devices holding Pings besides the one mail device per user")
	badFrom := fs.String("bad-from", "127.0.0.2", "soak mode: local address the bad logins come from (another address than the phones'; empty: the same)")
	db := fs.String("db", "", "soak mode: PostgreSQL URL of the server's database, for the final check of the send records (optional)")
	imapAddr := fs.String("imap", "127.0.0.1:10143", "ping mode: IMAP server to deliver test mail to (plain, password = user name unless EASD_LOAD_PASSWORD)")
	heartbeat := fs.Duration("heartbeat", 30*time.Minute, "ping mode: heartbeat the devices ask for (a device pings again when it passes)")
	idleFor := fs.Duration("idle", 10*time.Second, "ping mode: how long the server's CPU is measured while every device waits")
	ramp := fs.Float64("ramp", 200, "ping mode: devices starting their set-up per second")
	wakeFraction := fs.Float64("wake-fraction", 0.01, "ping mode: share of the users that get new mail while the others' devices wait")
	wakeInterval := fs.Duration("wake-interval", 50*time.Millisecond, "ping mode: pause between two deliveries")
	serverPID := fs.Int("server-pid", 0, "ping mode: process id of the server, for its memory and CPU from /proc (default: the process listening on -url's port)")
	postgresPID := fs.Int("postgres-pid", 0, "ping mode: process id of PostgreSQL's postmaster, whose processes' CPU is summed (default: a postgres child of the server process, as under easd dev)")
	dovecotPID := fs.Int("dovecot-pid", 0, "ping mode: process id of Dovecot's master, whose processes' memory is summed (default: found by -imap's port)")
	setupBlock := fs.Int("setup-block", 0, "ping mode: set-up requests come from 127.2.N.1-64; give each of several tools run at once its own N (0-255), so they do not share the login throttle's per-address count")
	measureAt := fs.String("measure-at", "", "ping mode: time of day (UTC, 15:04:05) of the first sample, once the set-up has settled; several tools run at once measure the same window with the same value")
	settle := fs.Duration("settle", 5*time.Second, "ping mode: wait after the last device started its Ping before measuring")
	hold := fs.Duration("hold", 0, "ping mode: after measuring, keep every device waiting this long and measure memory again (try 150s: past the IMAP pool's idle timeout and the runtime's periodic collection)")
	devices := fs.Int("devices", 100, "number of simulated devices, all running at once")
	rounds := fs.Int("rounds", 5, "incremental FolderSyncs per device after the initial one")
	version := fs.String("version", "16.1", "EAS protocol version the devices speak")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o := options{url: *url, users: strings.Split(*users, ","), devices: *devices, rounds: *rounds,
		version: *version, timeout: *timeout, password: os.Getenv("EASD_LOAD_PASSWORD"),
		imap: *imapAddr, heartbeat: *heartbeat, settle: *settle, hold: *hold,
		idleFor: *idleFor, ramp: *ramp, setupBlock: *setupBlock, wakeFraction: *wakeFraction, wakeInterval: *wakeInterval,
		serverPID: *serverPID, dovecotPID: *dovecotPID, postgresPID: *postgresPID,
		duration: *duration, pingers: *pingers, db: *db, badFrom: *badFrom}
	if *userPrefix != "" && *userCount > 0 {
		o.users = o.users[:0]
		for i := 1; i <= *userCount; i++ {
			o.users = append(o.users, fmt.Sprintf("%s%d", *userPrefix, i))
		}
	}
	if *measureAt != "" {
		t, err := time.Parse(time.TimeOnly, *measureAt)
		if err != nil {
			fmt.Fprintln(stderr, "easd-load: -measure-at wants a time of day such as 14:30:00")
			return 2
		}
		now := time.Now().UTC()
		o.measureAt = time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
		if o.measureAt.Before(now) {
			o.measureAt = o.measureAt.Add(24 * time.Hour)
		}
	}
	if o.setupBlock < 0 || o.setupBlock > 255 {
		fmt.Fprintln(stderr, "easd-load: -setup-block must be 0-255")
		return 2
	}
	if o.devices < 1 || len(o.users) == 0 || o.users[0] == "" {
		fmt.Fprintln(stderr, "easd-load: need at least one user and one device")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if *mode == "soak" {
		ctx, cancel := context.WithTimeout(context.Background(), o.duration+10*time.Minute)
		defer cancel()
		if err := soak(ctx, o, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "easd-load:", err)
			return 1
		}
		return 0
	}
	if *mode == "ping" {
		res, err := pingFleet(ctx, o, stderr)
		res.print(stdout, o)
		if err != nil {
			fmt.Fprintln(stderr, "easd-load:", err)
			return 1
		}
		return 0
	}
	rep, err := fleet(ctx, o)
	rep.print(stdout, o)
	if err != nil {
		fmt.Fprintln(stderr, "easd-load:", err)
		return 1
	}
	return 0
}

// report collects latencies per command.
type report struct {
	mu      sync.Mutex
	samples map[string][]time.Duration
	errors  map[string]int
	wall    time.Duration
}

func (r *report) add(cmd string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors[cmd]++
		return
	}
	r.samples[cmd] = append(r.samples[cmd], d)
}

// timed runs one request and records its latency.
func (r *report) timed(cmd string, f func() error) error {
	t0 := time.Now()
	err := f()
	r.add(cmd, time.Since(t0), err)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

// fleet runs o.devices devices at once: a start barrier makes them hit the
// server together, as a fleet coming back online does.
func fleet(ctx context.Context, o options) (*report, error) {
	rep := &report{samples: map[string][]time.Duration{}, errors: map[string]int{}}
	start := make(chan struct{})
	errc := make(chan error, o.devices)
	var wg sync.WaitGroup
	for i := 0; i < o.devices; i++ {
		c := o.newClient(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errc <- device(ctx, c, o.rounds, rep)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	rep.wall = time.Since(t0)
	close(errc)
	var errs []error
	for err := range errc {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("%d of %d devices failed; first: %w", len(errs), o.devices, errs[0])
	}
	return rep, nil
}

// device is one phone's session: provision, initial FolderSync, then
// incremental ones.
func device(ctx context.Context, c *client.Client, rounds int, rep *report) error {
	if err := rep.timed("Provision", func() error { return c.Provision(ctx) }); err != nil {
		return err
	}
	key := "0"
	for i := 0; i <= rounds; i++ {
		name := "FolderSync (initial)"
		if i > 0 {
			name = "FolderSync (incremental)"
		}
		err := rep.timed(name, func() error {
			r, err := c.FolderSync(ctx, key)
			if err != nil {
				return err
			}
			if r.Status != 1 {
				return fmt.Errorf("status %d", r.Status)
			}
			key = r.SyncKey
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *report) print(w io.Writer, o options) {
	fmt.Fprintf(w, "easd-load: %d devices over %d users, protocol %s, %s\n", o.devices, len(o.users), o.version, o.url)
	fmt.Fprintf(w, "wall time %v\n\n", r.wall.Round(time.Millisecond))
	fmt.Fprintf(w, "%-26s %7s %9s %9s %9s %9s %7s\n", "command", "count", "median", "p90", "p99", "max", "errors")
	names := make([]string, 0, len(r.samples))
	for k := range r.samples {
		names = append(names, k)
	}
	for k := range r.errors {
		if _, ok := r.samples[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		s := r.samples[name]
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		fmt.Fprintf(w, "%-26s %7d %9s %9s %9s %9s %7d\n", name, len(s),
			pct(s, 0.50), pct(s, 0.90), pct(s, 0.99), pct(s, 1), r.errors[name])
	}
}

// pct is the q-quantile of sorted samples (nearest rank).
func pct(sorted []time.Duration, q float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i].Round(100 * time.Microsecond).String()
}
