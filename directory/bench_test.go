package directory

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/testenv"
)

// BenchmarkSearch measures GAL prefix searches over 50,000 entries in
// PostgreSQL, a page of 10 each, and reports the median latency.
func BenchmarkSearch(b *testing.B) {
	db := testenv.PG(b)
	ctx := context.Background()
	loadBench(b, db)
	s := NewStore(db.Pool, Options{MinQuery: 1, MaxResults: 100})
	queries := []string{"car", "müller1", "schmidt4", "elodie weber", "user4711@example.test", "jürgen", "a", "greta sch"}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := s.Search(ctx, queries[i%len(queries)], 0, 10); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	byQuery := map[string][]time.Duration{}
	for i, d := range lat {
		byQuery[queries[i%len(queries)]] = append(byQuery[queries[i%len(queries)]], d)
	}
	for q, l := range byQuery {
		slices.Sort(l)
		b.Logf("%-24q p50 %v", q, l[len(l)/2])
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// loadBench fills db's directory with 50,000 generated people (about six
// terms each), vacuumed and analysed as autovacuum leaves a table.
func loadBench(t testing.TB, db *testenv.PGDB) {
	ctx := context.Background()
	const n = 50000
	first := []string{"Anna", "Bernd", "Carla", "David", "Elodie", "Frank", "Greta", "Hans", "Ines", "Jürgen", "Karin", "Lars"}
	last := []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"}
	var entries, terms [][]any
	for i := range n {
		e := model.DirectoryEntry{FirstName: first[i%len(first)], LastName: fmt.Sprintf("%s%d", last[i%len(last)], i/100)}
		e.DisplayName = e.FirstName + " " + e.LastName
		e.Emails = []string{fmt.Sprintf("user%d@example.test", i)}
		entries = append(entries, []any{int64(i + 1), e.DisplayName, e.FirstName, e.LastName, e.Emails[0], sortKey(&e)})
		for _, t := range Terms(&e) {
			terms = append(terms, []any{t, int64(i + 1), sortKey(&e)})
		}
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"directory_entries"},
		[]string{"id", "display_name", "first_name", "last_name", "email", "sort_key"}, pgx.CopyFromRows(entries)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"directory_terms"}, []string{"term", "entry_id", "sort_key"}, pgx.CopyFromRows(terms)); err != nil {
		t.Fatal(err)
	}
	// What autovacuum does in production: the visibility map lets the
	// term lookups read the index alone.
	for _, table := range []string{"directory_entries", "directory_terms"} {
		if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
			t.Fatal(err)
		}
	}
}
