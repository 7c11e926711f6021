package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// testDir returns a fresh directory that the postgres system user can reach
// when the test runs as root (t.TempDir's parent is private).
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := procgroup.TempDir("pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startCluster(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	begin := time.Now()
	c, err := Start(ctx, Config{Dir: dir, Addr: "127.0.0.1:0"})
	if binpath.IsMissing(err) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start (initdb when new) took %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() { c.Stop() })
	return c
}

func queryInt(t *testing.T, dsn, sql string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func exec1(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// treeAlive lists the live (non-zombie) processes of the postmaster pid and
// its children; backends leave the postmaster's process group (setsid), so
// both the group and the parent are asked.
func treeAlive(t *testing.T, pid int) []string {
	t.Helper()
	group, _ := exec.Command("pgrep", "-g", strconv.Itoa(pid)).Output()
	children, _ := exec.Command("pgrep", "-P", strconv.Itoa(pid)).Output()
	var alive []string
	for _, pid := range strings.Fields(string(group) + " " + string(children)) {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err == nil && !isZombie(stat) {
			alive = append(alive, pid)
		}
	}
	return alive
}

// stillAlive returns those of pids that are neither gone nor zombies.
func stillAlive(pids []string) []string {
	var alive []string
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err == nil && !isZombie(stat) {
			alive = append(alive, pid)
		}
	}
	return alive
}

func TestStartCreateDatabaseRestart(t *testing.T) {
	dir := testDir(t)
	c := startCluster(t, dir)
	ctx := context.Background()

	exec1(t, c.DSN("postgres"), "CREATE DATABASE tmpl")
	exec1(t, c.DSN("tmpl"), "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")

	begin := time.Now()
	if err := c.CreateDatabase(ctx, "copy1", "tmpl"); err != nil {
		t.Fatal(err)
	}
	t.Logf("CREATE DATABASE from template took %v", time.Since(begin).Round(time.Millisecond))
	if n := queryInt(t, c.DSN("copy1"), "SELECT n FROM kept"); n != 42 {
		t.Fatalf("copy1 kept = %d", n)
	}
	if err := c.CreateDatabase(ctx, "empty", ""); err != nil {
		t.Fatal(err)
	}

	addr := c.Addr()
	begin = time.Now()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart took %v", time.Since(begin).Round(time.Millisecond))
	if c.Addr() != addr {
		t.Fatalf("address changed on restart: %s -> %s", addr, c.Addr())
	}
	if n := queryInt(t, c.DSN("copy1"), "SELECT n FROM kept"); n != 42 {
		t.Fatalf("after restart kept = %d", n)
	}
	if err := c.DropDatabase(ctx, "copy1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres.log")); err != nil {
		t.Fatalf("no log file: %v", err)
	}
}

func TestStopLeavesNoProcess(t *testing.T) {
	c := startCluster(t, testDir(t))
	// An open session means a backend process that must go too.
	conn, err := pgx.Connect(context.Background(), c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	before := treeAlive(t, c.Pid())
	if len(before) < 2 {
		t.Fatalf("expected postmaster and children, got %v", before)
	}
	begin := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %v", time.Since(begin).Round(time.Millisecond))
	if alive := stillAlive(before); len(alive) > 0 {
		t.Fatalf("processes left after Stop: %v", alive)
	}
}

func TestKillThenStartWithStalePid(t *testing.T) {
	dir := testDir(t)
	c := startCluster(t, dir)
	exec1(t, c.DSN("postgres"), "CREATE DATABASE survivor")
	exec1(t, c.DSN("survivor"), "CREATE TABLE t (n int); INSERT INTO t VALUES (7)")
	conn, err := pgx.Connect(context.Background(), c.DSN("survivor"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	before := treeAlive(t, c.Pid())
	c.Kill()
	time.Sleep(50 * time.Millisecond) // SIGKILL is delivered asynchronously
	if alive := stillAlive(before); len(alive) > 0 {
		t.Fatalf("processes left after Kill: %v", alive)
	}
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("a killed postmaster leaves its pid file: %v", err)
	}
	// Make the stale file name a live, unrelated process, as happens when
	// the pid is reused: PostgreSQL alone would refuse to start.
	_, rest, _ := strings.Cut(string(b), "\n")
	if err := os.WriteFile(pidFile, []byte(fmt.Sprintf("%d\n%s", os.Getpid(), rest)), 0o600); err != nil {
		t.Fatal(err)
	}

	c2 := startCluster(t, dir)
	if n := queryInt(t, c2.DSN("survivor"), "SELECT n FROM t"); n != 7 {
		t.Fatalf("after crash recovery n = %d", n)
	}
}

func TestSecondStartOnRunningDirFails(t *testing.T) {
	dir := testDir(t)
	startCluster(t, dir)
	_, err := Start(context.Background(), Config{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Start on a running dir: err = %v", err)
	}
}
