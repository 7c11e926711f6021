package testenv

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/pgcluster"
	"github.com/easd/easd/migrations"
)

// templateDB is the migrated database every test database is copied from.
const templateDB = "tmpl"

// shared is the PostgreSQL cluster of this test binary, started on first use.
var shared struct {
	mu      sync.Mutex
	started bool
	cluster *pgcluster.Cluster
	dir     string
	err     error // a failed start is not retried: every test reports it
}

var dbSeq atomic.Int64

// PGDB is a fresh database for one test, copied from the migrated template.
type PGDB struct {
	Name string
	DSN  string
	Pool *pgxpool.Pool // closed, and the database dropped, when the test ends
}

// PG returns a new database with the current schema, on the cluster shared
// by this test binary.
func PG(t testing.TB) *PGDB {
	t.Helper()
	c := PGCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "t" + strconv.FormatInt(dbSeq.Add(1), 10)
	if err := c.CreateDatabase(ctx, name, templateDB); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	db := &PGDB{Name: name, DSN: c.DSN(name)}
	pool, err := pgxpool.New(ctx, db.DSN)
	if err != nil {
		t.Fatalf("testenv: pool for %s: %v", name, err)
	}
	db.Pool = pool
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Dropping keeps the disk use of a long test binary flat; a
		// failure (cluster killed by the test) is not the test's error.
		_ = c.DropDatabase(ctx, name)
	})
	return db
}

// PGCluster returns the cluster shared by this test binary, starting it
// (initdb and template migration) on first use. A test may Restart it
// (PostgreSQL-restart tests) but then must not run in parallel with others;
// it must never Stop or Kill it — use NewPGCluster for that.
func PGCluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		shared.started = true
		shared.cluster, shared.dir, shared.err = startMigratedCluster()
	}
	if shared.err != nil {
		failSetup(t, shared.err)
	}
	return shared.cluster
}

// NewPGCluster starts a private cluster with the migrated template database
// for tests that stop or kill PostgreSQL. It costs an initdb (about a
// second); it is stopped and removed when the test ends.
func NewPGCluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	c, dir, err := startMigratedCluster()
	if err != nil {
		failSetup(t, err)
	}
	t.Cleanup(func() {
		c.Stop()
		os.RemoveAll(dir)
	})
	return c
}

// NewDatabase creates a fresh database copied from the migrated template on
// c (a cluster from PGCluster or NewPGCluster) and returns its DSN.
func NewDatabase(t testing.TB, c *pgcluster.Cluster) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "t" + strconv.FormatInt(dbSeq.Add(1), 10)
	if err := c.CreateDatabase(ctx, name, templateDB); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return c.DSN(name)
}

func startMigratedCluster() (*pgcluster.Cluster, string, error) {
	dir, err := tempDir("easd-test-pg-")
	if err != nil {
		return nil, "", fmt.Errorf("testenv: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("testenv: %w", err)
	}
	if err := migrateTemplate(ctx, c); err != nil {
		c.Stop()
		os.RemoveAll(dir)
		return nil, "", err
	}
	return c, dir, nil
}

// migrateTemplate creates the template database and applies all
// migrations once; test databases are cheap file copies of it.
func migrateTemplate(ctx context.Context, c *pgcluster.Cluster) error {
	if err := c.CreateDatabase(ctx, templateDB, ""); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	if _, err := migrations.Up(ctx, c.DSN(templateDB)); err != nil {
		return fmt.Errorf("testenv: migrate template: %w", err)
	}
	return nil
}

func shutdownPG() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cluster != nil {
		shared.cluster.Stop()
		os.RemoveAll(shared.dir)
		shared.cluster = nil
	}
}
