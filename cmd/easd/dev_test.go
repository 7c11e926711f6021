package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
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

var bannerLine = regexp.MustCompile(`^\s+(EAS server|IMAP|SMTP|PostgreSQL|Data)\s+(\S+)`)

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
	for lines.Scan() && len(banner) < 5 {
		if m := bannerLine.FindStringSubmatch(lines.Text()); m != nil {
			banner[m[1]] = m[2]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if len(banner) < 5 {
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
	// A private directory (mode 0700), like a checkout under /root: as
	// root, the servers' accounts cannot enter it, and easd dev must put
	// their directories where they can.
	data := filepath.Join(t.TempDir(), "dev")
	t.Cleanup(func() {
		for _, name := range []string{"postgres", "dovecot"} {
			if target, err := os.Readlink(filepath.Join(data, name)); err == nil {
				os.RemoveAll(target)
			}
		}
	})
	listen, _ := procgroup.ResolveAddr("127.0.0.1:0")
	imapListen, _ := procgroup.ResolveAddr("127.0.0.1:0")

	cold := startDev(t, bin, data, listen, imapListen)
	t.Logf("cold start (initdb, first Dovecot, sample mail) to ready: %v", cold.ready)
	if got := cold.banner["IMAP"]; got != imapListen {
		t.Errorf("banner IMAP %q, want %q", got, imapListen)
	}
	if got := cold.banner["SMTP"]; !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("banner SMTP %q, want the sink's loopback address", got)
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
	// A database client or mail tool set up once keeps working.
	for _, k := range []string{"PostgreSQL", "SMTP"} {
		if warm.banner[k] != cold.banner[k] {
			t.Errorf("%s moved across restarts: %s, then %s", k, cold.banner[k], warm.banner[k])
		}
	}
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

// A busy port is found before anything starts, and reported as one line
// naming the flag (and variable) to change, whether the address came from
// a flag or from the environment the usage lists.
func TestDevChecksPortsFirst(t *testing.T) {
	clearEASDEnv(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, _ := procgroup.ResolveAddr("127.0.0.1:0")
	free2, _ := procgroup.ResolveAddr("127.0.0.1:0")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"listen flag", []string{"--listen", busy.Addr().String()}, nil, "--listen (EASD_LISTEN)"},
		{"listen variable", nil, map[string]string{"EASD_LISTEN": busy.Addr().String()}, "--listen (EASD_LISTEN)"},
		{"imap", []string{"--listen", free, "--imap-listen", busy.Addr().String()}, nil, "--imap-listen (EASD_IMAP_LISTEN)"},
		{"postgres", []string{"--listen", free, "--imap-listen", free2}, map[string]string{"EASD_POSTGRES_LISTEN": busy.Addr().String()}, "--postgres-listen (EASD_POSTGRES_LISTEN)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "dev")
			args := append([]string{"dev", "--data", data}, tc.args...)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := run(args, &out, &errb)
			msg := errb.String()
			if code != exitUsage || !strings.Contains(msg, tc.want) || !strings.Contains(msg, busy.Addr().String()) || strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line naming %s", code, msg, tc.want)
			}
			for _, started := range []string{"postgres", "dovecot"} {
				if _, err := os.Lstat(filepath.Join(data, started)); err == nil {
					t.Errorf("%s was set up before the port check", started)
				}
			}
		})
	}
	// EASD_DATA is honoured too.
	data := filepath.Join(t.TempDir(), "from-env")
	t.Setenv("EASD_DATA", data)
	var out, errb bytes.Buffer
	run([]string{"dev", "--listen", busy.Addr().String()}, &out, &errb)
	if _, err := os.Stat(filepath.Join(data, "ports")); err != nil {
		t.Errorf("EASD_DATA=%s not used: %v (stderr %q)", data, err, errb.String())
	}
}

// PostgreSQL's and the SMTP sink's ports are picked once and kept.
func TestDevPortsKept(t *testing.T) {
	data := t.TempDir()
	p, err := loadDevPorts(data)
	if err != nil {
		t.Fatal(err)
	}
	pgAddr, err := p.pick("postgres", "")
	if err != nil || !strings.HasPrefix(pgAddr, "127.0.0.1:") || strings.HasSuffix(pgAddr, ":0") {
		t.Fatalf("picked %q, %v", pgAddr, err)
	}
	if _, err := p.pick("smtp", "127.0.0.1:2525"); err != nil {
		t.Fatal(err)
	}
	if err := p.save(); err != nil {
		t.Fatal(err)
	}
	again, err := loadDevPorts(data)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := again.pick("postgres", ""); a != pgAddr {
		t.Errorf("postgres port not kept: %s then %s", pgAddr, a)
	}
	if a, _ := again.pick("smtp", ""); a != "127.0.0.1:2525" {
		t.Errorf("smtp address given once not kept: %s", a)
	}
}

// As root, a data directory the postgres user cannot enter gets its
// server directories where that user can, linked from the data directory,
// and the same ones on the next run.
func TestDevReachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands directories to other accounts")
	}
	devServerBase = filepath.Join(mustTempDir(t), "base")
	data := filepath.Join(t.TempDir(), "dev") // under a 0700 directory
	os.MkdirAll(data, 0o755)
	dir, err := reachableDir(data, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, devServerBase) {
		t.Fatalf("postgres directory %s is not under %s", dir, devServerBase)
	}
	if target, err := os.Readlink(filepath.Join(data, "postgres")); err != nil || target != dir {
		t.Errorf("no link from the data directory: %q %v", target, err)
	}
	pgUser, err := procgroup.Lookup("postgres", "")
	if err == nil {
		if err := pgUser.CheckTraversable(dir); err != nil {
			t.Errorf("postgres cannot enter %s: %v", dir, err)
		}
	}
	if again, err := reachableDir(data, "postgres"); err != nil || again != dir {
		t.Errorf("second run: %q %v, want %q", again, err, dir)
	}
	// A reachable data directory keeps its servers inside.
	open := mustTempDir(t)
	if d, err := reachableDir(open, "postgres"); err != nil || d != filepath.Join(open, "postgres") {
		t.Errorf("reachable data directory: %q %v", d, err)
	}
}

func mustTempDir(t *testing.T) string {
	t.Helper()
	d, err := procgroup.TempDir("easd-dev-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// The development server takes the server settings from their environment
// variables, and names the variable's flag when a value is bad.
func TestDevServerSettingsFromEnvironment(t *testing.T) {
	t.Setenv("EASD_ADMIN_LISTEN", "127.0.0.1:8081")
	t.Setenv("EASD_PUSH_SWEEP_INTERVAL", "90s")
	cfg, err := devServerSettings()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminListen != "127.0.0.1:8081" || cfg.PushSweepInterval != 90*time.Second {
		t.Errorf("admin listen %q, sweep interval %v", cfg.AdminListen, cfg.PushSweepInterval)
	}
	t.Setenv("EASD_PUSH_SWEEP_INTERVAL", "often")
	if _, err := devServerSettings(); err == nil || !strings.Contains(err.Error(), "push-sweep-interval") {
		t.Errorf("bad value: %v", err)
	}
}
