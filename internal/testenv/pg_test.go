package testenv

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/migrations"
)

func TestMain(m *testing.M) { Main(m) }

func TestPGHasSchema(t *testing.T) {
	begin := time.Now()
	db := PG(t)
	t.Logf("first PG(t) (initdb, start, migrate, copy) took %v", time.Since(begin).Round(time.Millisecond))
	var version int64
	err := db.Pool.QueryRow(context.Background(),
		"SELECT max(version_id) FROM goose_db_version").Scan(&version)
	if err != nil {
		t.Fatal(err)
	}
	if version != migrations.Latest() {
		t.Fatalf("schema version %d, want %d", version, migrations.Latest())
	}
}

func TestPGDatabasesAreIsolated(t *testing.T) {
	ctx := context.Background()
	a := PG(t)
	begin := time.Now()
	b := PG(t)
	t.Logf("PG(t) from template took %v", time.Since(begin).Round(time.Millisecond))
	if a.Name == b.Name {
		t.Fatalf("two tests share database %s", a.Name)
	}
	if _, err := a.Pool.Exec(ctx, "CREATE TABLE only_in_a (n int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	err := b.Pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("a table created in one test database is visible in another")
	}
}

func TestPGParallel(t *testing.T) {
	for i := 0; i < 4; i++ {
		t.Run("db", func(t *testing.T) {
			t.Parallel()
			db := PG(t)
			if err := db.Pool.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPGSurvivesClusterRestart(t *testing.T) {
	ctx := context.Background()
	db := PG(t)
	if _, err := db.Pool.Exec(ctx, "CREATE TABLE r (n int); INSERT INTO r VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if err := PGCluster(t).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster restart took %v", time.Since(begin).Round(time.Millisecond))
	// The pool's old connections are gone; pgxpool replaces them, though
	// the first query on a dead connection may fail.
	var n int
	var err error
	for range 3 {
		if err = db.Pool.QueryRow(ctx, "SELECT n FROM r").Scan(&n); err == nil {
			break
		}
	}
	if err != nil || n != 1 {
		t.Fatalf("after restart: n=%d err=%v", n, err)
	}
}

func TestNewPGClusterKill(t *testing.T) {
	c := NewPGCluster(t)
	dsn := NewDatabase(t, c)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE k (n int); INSERT INTO k VALUES (5)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	c.Kill()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM k").Scan(&n); err != nil || n != 5 {
		t.Fatalf("after kill and restart: n=%d err=%v", n, err)
	}
}

// BenchmarkNewDatabase measures what PG(t) costs per test: a database
// copied from the migrated template, then dropped.
func BenchmarkNewDatabase(b *testing.B) {
	c := PGCluster(b) // start and migrate outside the timing
	ctx := context.Background()
	for b.Loop() {
		name := "bench" + strconv.FormatInt(dbSeq.Add(1), 10)
		if err := c.CreateDatabase(ctx, name, templateDB); err != nil {
			b.Fatal(err)
		}
		if err := c.DropDatabase(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
}
