package migrations_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
	"github.com/easd/easd/migrations"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Migrating an empty database applies everything once, even when several
// easd instances start at the same moment; running again changes nothing.
func TestUpConcurrentAndRepeated(t *testing.T) {
	cluster := testenv.PGCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cluster.CreateDatabase(ctx, "empty_for_migrate", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.DropDatabase(context.Background(), "empty_for_migrate") })
	dsn := cluster.DSN("empty_for_migrate")

	const n = 4
	results := make([]migrations.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = migrations.Up(ctx, dsn)
		}(i)
	}
	wg.Wait()
	latest := migrations.Latest()
	applied := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		if results[i].Version != latest {
			t.Fatalf("migrator %d ended at version %d, want %d", i, results[i].Version, latest)
		}
		applied += len(results[i].Applied)
	}
	// Numbers may have gaps (ranges are reserved for work in progress):
	// count the files, not the latest number.
	files, err := filepath.Glob("*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Fatalf("%d migrations applied in all, want each of %d once", applied, len(files))
	}
	again, err := migrations.Up(ctx, dsn)
	if err != nil || len(again.Applied) != 0 || again.Version != latest {
		t.Fatalf("second run: %+v %v", again, err)
	}
}
