package eas_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
)

// metrics reads the server's /metrics into series -> value, a series
// being the name with its labels as exposed, e.g.
// easd_wait_ends_total{cmd="ping",reason="changed"}.
func metrics(t *testing.T, env *easdtest.Env) map[string]float64 {
	t.Helper()
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantMetrics polls /metrics until every series has its value.
func wantMetrics(t *testing.T, env *easdtest.Env, want map[string]float64) {
	t.Helper()
	deadline := time.Now().Add(wakeWithin)
	for {
		got := metrics(t, env)
		var wrong []string
		for series, v := range want {
			g, ok := got[series]
			if !ok || g != v {
				wrong = append(wrong, series+" = "+strconv.FormatFloat(g, 'g', -1, 64)+
					" (present "+strconv.FormatBool(ok)+"), want "+strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics:\n  %s", strings.Join(wrong, "\n  "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitEnds(cmd, reason string) string {
	return `easd_wait_ends_total{cmd="` + cmd + `",reason="` + reason + `"}`
}

// TestPingWaitMetrics holds Pings and a hanging Sync and reads the
// gauges of waiting requests, the counters of how their waits ended, and
// the gauge of IMAP watcher connections from /metrics.
func TestPingWaitMetrics(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	key := s.catchUp(t, inbox, s.start(t, inbox))

	// Every series is there before anything waited.
	wantMetrics(t, s.env, map[string]float64{
		"easd_ping_waiting": 0, "easd_sync_waiting": 0, "easd_imap_watcher_connections": 0,
		waitEnds("ping", "changed"): 0, waitEnds("sync", "shutdown"): 0, waitEnds("ping", "client_gone"): 0,
	})

	// A waiting Ping, woken by new mail.
	ping := pingAsync(s.c, time.Minute, email(inbox))
	wantMetrics(t, s.env, map[string]float64{"easd_ping_waiting": 1, "easd_imap_watcher_connections": 1})
	s.env.Append(t, "alice", "INBOX", testMail(1))
	wantChanged(t, answer(t, ping, wakeWithin), inbox)
	wantMetrics(t, s.env, map[string]float64{"easd_ping_waiting": 0, waitEnds("ping", "changed"): 1})
	key = s.catchUp(t, inbox, key)

	// One whose heartbeat passes.
	res := answer(t, pingAsync(s.c, time.Second, email(inbox)), wakeWithin)
	if res.r.Status != 1 {
		t.Fatalf("Ping after its heartbeat: %+v", res.r)
	}
	wantMetrics(t, s.env, map[string]float64{"easd_ping_waiting": 0, waitEnds("ping", "heartbeat"): 1})

	// A hanging Sync, ended by a Ping of the device (superseded), which
	// then waits itself until its client goes away.
	req := syncReq(message.SyncCollection{SyncKey: key, CollectionID: inbox})
	req.HeartbeatInterval = 60
	hanging := syncAsync(s.c, req)
	wantMetrics(t, s.env, map[string]float64{"easd_sync_waiting": 1, "easd_ping_waiting": 0})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone := make(chan error, 1)
	go func() {
		_, err := s.c.Ping(ctx, time.Minute, email(inbox))
		gone <- err
	}()
	wantEmptyAnswer(t, answer(t, hanging, wakeWithin).r)
	wantMetrics(t, s.env, map[string]float64{
		"easd_sync_waiting": 0, "easd_ping_waiting": 1, waitEnds("sync", "superseded"): 1,
	})
	cancel()
	<-gone
	wantMetrics(t, s.env, map[string]float64{"easd_ping_waiting": 0, waitEnds("ping", "client_gone"): 1})

	// The watcher stays for its grace period after the last wait.
	if got := metrics(t, s.env)["easd_imap_watcher_connections"]; got != 1 {
		t.Errorf("easd_imap_watcher_connections = %v during the grace period, want 1", got)
	}
}
