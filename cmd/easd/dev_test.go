package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/procgroup"
)

// buildEasd compiles the binary once for the dev-mode tests.
func buildEasd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "easd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type devRun struct {
	cmd    *exec.Cmd
	banner map[string]string
	ready  time.Duration
}

var bannerLine = regexp.MustCompile(`^\s+(EAS server|IMAP|PostgreSQL|Data)\s+(\S+)`)

// startDev runs `easd dev` and waits until /readyz answers 200.
func startDev(t *testing.T, bin, data, listen, imapListen string) *devRun {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--data", data, "--listen", listen, "--imap-listen", imapListen, "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	banner := map[string]string{}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && len(banner) < 4 {
		if m := bannerLine.FindStringSubmatch(lines.Text()); m != nil {
			banner[m[1]] = m[2]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if len(banner) < 4 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("easd dev printed no complete banner (got %v)", banner)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get("http://" + listen + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("easd dev not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &devRun{cmd: cmd, banner: banner, ready: time.Since(t0)}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *devRun) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("easd dev exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Fatal("easd dev did not stop within 30 s of SIGTERM")
	}
}

// processesUsing lists live (non-zombie) processes whose command line
// mentions dir.
func processesUsing(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), dir) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

func inboxCount(t *testing.T, imapAddr string) uint32 {
	t.Helper()
	d := &imapbridge.Dialer{Addr: imapAddr, TLS: config.TLSNone}
	c, err := d.Login(context.Background(), "demo", "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages
}

// `easd dev` starts everything, answers the smoke test, stops everything
// it started on SIGTERM, and keeps its data for the next run.
func TestDevModeLifecycle(t *testing.T) {
	for _, b := range []struct{ name, pkg string }{{"postgres", "postgresql"}, {"dovecot", "dovecot-imapd"}} {
		if _, err := binpath.Find(b.name, b.pkg, "/usr/lib/postgresql/*/bin", "/usr/sbin"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}
	bin := buildEasd(t)
	data, err := procgroup.TempDir("easd-dev-test-") // the postgres user must reach it when we are root
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	listen, _ := procgroup.ResolveAddr("127.0.0.1:0")
	imapListen, _ := procgroup.ResolveAddr("127.0.0.1:0")

	cold := startDev(t, bin, data, listen, imapListen)
	t.Logf("cold start (initdb, first Dovecot, sample mail) to ready: %v", cold.ready)
	if got := cold.banner["IMAP"]; got != imapListen {
		t.Errorf("banner IMAP %q, want %q", got, imapListen)
	}
	// Smoke test: OPTIONS on the EAS endpoint.
	req, _ := http.NewRequest(http.MethodOptions, "http://"+listen+"/Microsoft-Server-ActiveSync", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("MS-ASProtocolVersions"), "16.1") {
		t.Fatalf("OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
	if n := inboxCount(t, imapListen); n != uint32(len(sampleMessages)) {
		t.Fatalf("demo INBOX has %d messages, want %d", n, len(sampleMessages))
	}
	// Something written to the database must survive the restart.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cold.banner["PostgreSQL"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO users (login) VALUES ('survivor')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	cold.stop(t)
	if left := processesUsing(data); len(left) > 0 {
		t.Fatalf("processes left after SIGTERM:\n%s", strings.Join(left, "\n"))
	}

	warm := startDev(t, bin, data, listen, imapListen)
	t.Logf("warm restart to ready: %v", warm.ready)
	defer warm.stop(t)
	if n := inboxCount(t, imapListen); n != uint32(len(sampleMessages)) {
		t.Fatalf("after restart demo INBOX has %d messages, want %d (kept, not seeded twice)", n, len(sampleMessages))
	}
	conn, err = pgx.Connect(ctx, warm.banner["PostgreSQL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM users WHERE login = 'survivor'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("database row lost across restart: %d %v", n, err)
	}
	fmt.Fprintf(os.Stderr, "easd dev: cold start %v, warm restart %v\n", cold.ready.Round(time.Millisecond), warm.ready.Round(time.Millisecond))
}
