package testenv

import (
	"context"
	"testing"
	"time"

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
