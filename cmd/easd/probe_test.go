package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

func runProbeWith(t *testing.T, password string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("EASD_PROBE_PASSWORD", password)
	var out, errb bytes.Buffer
	code := runProbe(args, &out, &errb)
	return code, out.String(), errb.String()
}

// stepLine finds the report line of step and returns its verdict and
// detail.
func stepLine(t *testing.T, report, step string) (verdict, detail string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^  (ok|warn|FAIL|skip)\s+` + regexp.QuoteMeta(step) + `\s+(?:\d+ ms)?\s+(.*)$`)
	m := re.FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no line for %s in report:\n%s", step, report)
	}
	return m[1], m[2]
}

// passed requires a step to have passed: every command the probe uses is
// implemented by easd.
func passed(t *testing.T, report, step string) {
	t.Helper()
	if v, d := stepLine(t, report, step); v != "ok" {
		t.Errorf("%s: %s %s\nreport:\n%s", step, v, d, report)
	}
}

func TestProbe(t *testing.T) {
	// Provisioning enforced, as in production: FolderSync passes only with
	// the key the Provision step obtained.
	env := easdtest.Start(t, func(c *config.Config) { c.HeartbeatMin = time.Second })
	store := device.NewStore(env.DB.Pool, 0)
	ctx := context.Background()

	code, out, errOut := runProbeWith(t, "alice", env.URL+"/Microsoft-Server-ActiveSync", "--user", "alice", "--ping-heartbeat", "2s")
	if code != 0 || errOut != "" {
		t.Fatalf("probe: exit %d %s\n%s", code, errOut, out)
	}
	if v, d := stepLine(t, out, "Autodiscover"); v != "ok" || d != env.URL+"/Microsoft-Server-ActiveSync" {
		t.Errorf("Autodiscover: %s %s", v, d)
	}
	if v, d := stepLine(t, out, "OPTIONS"); v != "ok" || !strings.Contains(d, "speaking 16.1") {
		t.Errorf("OPTIONS: %s %s", v, d)
	}
	if v, d := stepLine(t, out, "FolderSync"); v != "ok" || !strings.Contains(d, "Inbox is") {
		t.Errorf("FolderSync: %s %s", v, d)
	}
	if v, d := stepLine(t, out, "Connect"); v != "ok" || !strings.Contains(d, "plain HTTP on the loopback") {
		t.Errorf("Connect: %s %s", v, d)
	}
	if v, d := stepLine(t, out, "Discover"); v != "skip" || !strings.Contains(d, "127.0.0.1 is no Internet domain") {
		t.Errorf("Discover: %s %s", v, d)
	}
	passed(t, out, "Provision")
	passed(t, out, "Sync Inbox")
	if v, d := stepLine(t, out, "Ping"); v != "ok" || !regexp.MustCompile(`^held 2(\.\d)?s without change`).MatchString(d) {
		t.Errorf("Ping: %s %s", v, d)
	}
	if !regexp.MustCompile(`(?m)^OK.*\(\d+ ms in all\)$`).MatchString(out) {
		t.Errorf("no summary:\n%s", out)
	}
	t.Logf("report:\n%s", out)

	// The same as one JSON document, for monitoring.
	code, r, raw := probeJSON(t, probeNet{}, env.URL, "--user", "alice", "--ping-heartbeat", "1s")
	checkJSONReport(t, r, raw)
	if code != 0 || r.Result != "ok" || r.Target != env.URL || r.EASURL != env.URL+"/Microsoft-Server-ActiveSync" ||
		r.User != "alice" || r.Email != "alice@127.0.0.1" || r.DeviceID != "easdprobe" || len(r.Failed) != 0 || r.TotalMS < 1000 {
		t.Errorf("JSON: exit %d\n%s", code, raw)
	}
	if p := stepOf(t, r, "ping").Ping; p == nil || p.HeartbeatS != 1 || p.Cut {
		t.Errorf("JSON ping: %+v", p)
	}
	d, err := store.Get(ctx, "alice", "easdprobe")
	if err != nil || d.DeviceType != "easdprobe" {
		t.Fatalf("probe device: %+v %v", d, err)
	}

	// A wrong password fails at the first login and stops there, so the
	// probe does not lock the user out.
	code, out, _ = runProbeWith(t, "wrong", env.URL, "--user", "alice", "--ping-heartbeat", "1s")
	if code != 1 {
		t.Fatalf("wrong password: exit %d\n%s", code, out)
	}
	if v, d := stepLine(t, out, "Autodiscover"); v != "FAIL" || !strings.Contains(d, "credentials refused") {
		t.Errorf("wrong password, Autodiscover: %s %s", v, d)
	}
	for _, step := range []string{"Discover", "OPTIONS", "Provision", "FolderSync", "Sync Inbox", "Ping"} {
		if v, _ := stepLine(t, out, step); v != "skip" {
			t.Errorf("wrong password, %s: %s", step, v)
		}
	}
	if !strings.Contains(out, "FAILED: Autodiscover") {
		t.Errorf("summary:\n%s", out)
	}

	// A blocked device, a pending wipe: the failures name the reason, and
	// the probe never acknowledges the wipe.
	if err := store.SetAccess(ctx, "alice", "easdprobe", device.Blocked); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runProbeWith(t, "alice", env.URL, "--user", "alice", "--ping-heartbeat", "1s")
	if v, d := stepLine(t, out, "FolderSync"); code != 1 || v != "FAIL" || !strings.Contains(d, "device blocked") {
		t.Errorf("blocked: exit %d\n%s", code, out)
	}
	if err := store.SetAccess(ctx, "alice", "easdprobe", device.Allowed); err != nil {
		t.Fatal(err)
	}
	if err := store.RequestWipe(ctx, "alice", "easdprobe", false); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runProbeWith(t, "alice", env.URL, "--user", "alice", "--ping-heartbeat", "1s")
	if v, d := stepLine(t, out, "Provision"); code != 1 || v != "FAIL" || !strings.Contains(d, "remote wipe") {
		t.Errorf("wipe pending: exit %d\n%s", code, out)
	}
	if d, err := store.Get(ctx, "alice", "easdprobe"); err != nil || d.Wipe != device.WipeRequested {
		t.Errorf("after probing a device with a pending wipe: %+v %v", d, err)
	}
	t.Logf("report:\n%s", out)
}

func TestProbeUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	code, out, _ := runProbeWith(t, "x", "http://"+addr, "--user", "alice", "--timeout", "5s")
	if code != 1 {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
	if v, d := stepLine(t, out, "Connect"); v != "FAIL" || !strings.Contains(d, "refused") {
		t.Errorf("unreachable: %s %s", v, d)
	}
	if v, d := stepLine(t, out, "Autodiscover"); v != "skip" || d != "not tried: no connection" {
		t.Errorf("unreachable, Autodiscover: %s %s", v, d)
	}
}

func TestProbeUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"https://mail.example.test"},
		{"ftp://mail.example.test", "--user", "alice"},
		{"https://a", "https://b", "--user", "alice"},
		{"https://mail.example.test", "--user", "alice", "--ping-heartbeat", "0s"},
	} {
		code, out, errOut := runProbeWith(t, "x", args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d %q %q", args, code, out, errOut)
		}
	}
	for in, want := range map[string]string{
		"mail.example.test":          "https://mail.example.test",
		"https://mail.example.test/": "https://mail.example.test",
		"http://mail.example.test:8080/microsoft-server-activesync":     "http://mail.example.test:8080",
		"https://mail.example.test/eas/Microsoft-Server-ActiveSync?x=1": "https://mail.example.test/eas",
	} {
		if got, err := probeBaseURL(in); err != nil || got != want {
			t.Errorf("probeBaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
