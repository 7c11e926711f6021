package pushevents_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// The measurements of docs/benchmarks.md ("Push without a mail-server
// process per user"). They print figures and assert nothing about them;
// run with
//
//	EASD_PUSH_COST=1 go test ./internal/pushevents -run 'TestPushCost' -v -count=1
func skipUnlessCost(t *testing.T) {
	if os.Getenv("EASD_PUSH_COST") == "" {
		t.Skip("set EASD_PUSH_COST=1 to measure")
	}
}

// TestPushCostLatency: time from sending an APPEND (another client's
// delivery) to the waiting Ping's answer, with events and with IDLE.
func TestPushCostLatency(t *testing.T) {
	skipUnlessCost(t)
	n := envInt("EASD_PUSH_COST_DELIVERIES", 200)
	for _, mode := range []string{"events", "idle"} {
		t.Run(mode, func(t *testing.T) {
			var env *easdtest.Env
			if mode == "events" {
				env = startEvents(t)
			} else {
				env = easdtest.Start(t, eventsConfig, func(c *config.Config) {
					c.PushEvents, c.PushPollInterval = "", time.Minute
				})
			}
			p := newPhone(t, env, "phone-latency")
			inbox := p.ids["Inbox"]
			deliver, err := imapclient.DialInsecure(env.IMAP.Addr(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer deliver.Close()
			if err := deliver.Login("alice", "alice").Wait(); err != nil {
				t.Fatal(err)
			}
			var took []time.Duration
			key := p.syncFrom(t, inbox, "0")
			for i := range n {
				ping := p.pingAsync(time.Minute, inbox)
				waitingFor(t, env, ping)
				start := time.Now()
				msg := testMail(i)
				cmd := deliver.Append("INBOX", int64(len(msg)), nil)
				if _, err := cmd.Write(msg); err != nil {
					t.Fatal(err)
				}
				if err := cmd.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := cmd.Wait(); err != nil {
					t.Fatal(err)
				}
				res := <-ping
				if res.err != nil || res.r.Status != 2 {
					t.Fatalf("Ping: %+v %v", res.r, res.err)
				}
				took = append(took, time.Since(start))
				key = p.syncFrom(t, inbox, key)
			}
			slices.Sort(took)
			t.Logf("%s: %d deliveries: wake-up p50 %v, p99 %v, max %v (load %s)", mode, n,
				took[len(took)/2].Round(time.Millisecond), took[len(took)*99/100].Round(time.Millisecond),
				took[len(took)-1].Round(time.Millisecond), loadavg())
		})
	}
}

// TestPushCostMemory: Dovecot's memory (all processes of its process
// group) with users whose phones wait, in each mode.
func TestPushCostMemory(t *testing.T) {
	skipUnlessCost(t)
	users := envInt("EASD_PUSH_COST_USERS", 50)
	modes := []string{"events", "idle", "idle-hibernated"}
	if m := os.Getenv("EASD_PUSH_COST_MODES"); m != "" {
		modes = strings.Split(m, ",")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			var env *easdtest.Env
			switch mode {
			case "events":
				env = startEvents(t)
			default:
				env = easdtest.Start(t, eventsConfig, func(c *config.Config) {
					c.PushEvents, c.PushPollInterval, c.PushGrace = "", time.Hour, time.Hour
				})
				hib := time.Duration(-1)
				if mode == "idle-hibernated" {
					hib = 2 * time.Second
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := env.IMAP.SetHibernate(ctx, hib); err != nil {
					t.Fatal(err)
				}
			}
			phones := make([]*phone, users)
			for i := range phones {
				name := fmt.Sprintf("user%03d", i)
				if err := env.IMAP.SetUser(name, name); err != nil {
					t.Fatal(err)
				}
				c := env.Client(name, "phone-"+name)
				p := &phone{c: c, ids: map[string]string{}}
				r, err := c.FolderSync(context.Background(), "0")
				if err != nil || r.Status != 1 {
					t.Fatalf("FolderSync: %+v %v", r, err)
				}
				for _, f := range r.Changes.Add {
					p.ids[f.DisplayName] = f.ServerID
				}
				p.catchUp(t, p.ids["Inbox"])
				phones[i] = p
			}
			// The Syncs' pooled connections close after 60 to 90 s idle;
			// measure without them.
			time.Sleep(poolGone)
			before := dovecotMemory(t, env)
			pings := make([]<-chan pingResult, users)
			for i, p := range phones {
				pings[i] = p.pingAsync(10*time.Minute, p.ids["Inbox"])
			}
			deadline := time.Now().Add(60 * time.Second)
			for metric(t, env, "easd_ping_waiting") < float64(users) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			// Each Ping's first check (STATUS) leaves a pooled
			// connection, and its imap process, for 60 to 90 s.
			time.Sleep(5 * time.Second) // hibernation takes 2 s of IDLE
			early := dovecotMemory(t, env)
			time.Sleep(poolGone)
			during := dovecotMemory(t, env)
			per := func(a, b int) float64 { return float64(b-a) / float64(users) }
			t.Logf("%s, %d waiting users (load %s): before: %d imap, PSS %d KiB, RSS %d KiB", mode, users, loadavg(),
				before.imap, before.pss, before.rss)
			t.Logf("%s, %d waiting users: 5 s after the Pings: %d imap, %d imap-hibernate; PSS %.1f KiB/user, RSS %.0f KiB/user",
				mode, users, early.imap, early.hibernate, per(before.pss, early.pss), per(before.rss, early.rss))
			t.Logf("%s, %d waiting users: 95 s after the Pings: %d imap, %d imap-hibernate; PSS %.1f KiB/user, RSS %.0f KiB/user",
				mode, users, during.imap, during.hibernate, per(before.pss, during.pss), per(before.rss, during.rss))
			t.Logf("%s, %d waiting users: PSS growth by process: %s", mode, users, growth(before, during))
			_ = pings
			if mode == "idle-hibernated" && during.hibernate == 0 {
				log, _ := os.ReadFile(env.IMAP.Dir() + "/dovecot.log")
				for _, line := range strings.Split(string(log), "\n") {
					if strings.Contains(line, "ibernat") || strings.Contains(line, "rror") {
						t.Log(line)
					}
				}
			}
		})
	}
}

// poolGone is how long an idle pooled IMAP connection may stay.
const poolGone = 95 * time.Second

type memory struct {
	imap, hibernate int
	rss, pss        int            // KiB
	pssBy           map[string]int // KiB by process name
}

// growth lists the process names whose PSS grew by more than 100 KiB.
func growth(before, after memory) string {
	var out []string
	for name, kib := range after.pssBy {
		if d := kib - before.pssBy[name]; d > 100 {
			out = append(out, fmt.Sprintf("%s +%d KiB", name, d))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// dovecotMemory sums smaps_rollup over Dovecot's process group.
func dovecotMemory(t *testing.T, env *easdtest.Env) memory {
	t.Helper()
	pgid := strconv.Itoa(env.IMAP.Pid())
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	m := memory{pssBy: map[string]int{}}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 3 || fields[2] != pgid {
			continue
		}
		comm := s[strings.IndexByte(s, '(')+1 : i]
		switch comm {
		case "imap":
			m.imap++
		case "imap-hibernate":
			m.hibernate++
		}
		roll, err := os.ReadFile("/proc/" + e.Name() + "/smaps_rollup")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(roll), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "Rss:":
				m.rss += v
			case "Pss:":
				m.pss += v
				m.pssBy[comm] += v
			}
		}
	}
	return m
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
