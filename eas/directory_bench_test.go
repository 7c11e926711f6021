package eas_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/easd/easd/directory"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/easdtest"
)

// BenchmarkResolveRecipients10: one ResolveRecipients of 10 names with
// Availability for a working week, as a phone sends it when an invitation
// is addressed: alice by address (her calendar of 1,000 events, a tenth
// of them weekly series), four colleagues by address and five by full
// name, out of a directory of 2,000 people. Figures only: the median
// per request.
func BenchmarkResolveRecipients10(b *testing.B) {
	env := easdtest.Start(b, noPolicy)
	c := env.Client("alice", "bench-resolve")
	ids := syncFolderIDs(b, c)
	fillCalendar(b, env, ids["Calendar"], 1000)
	ctx := context.Background()
	first := []string{"Anna", "Bernd", "Carla", "David", "Elodie", "Frank", "Greta", "Hans", "Ines", "Jürgen", "Karin", "Lars"}
	last := []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"}
	var entries []directory.Entry
	for i := range 2000 {
		f, l := first[i%len(first)], fmt.Sprintf("%s%d", last[i%len(last)], i)
		entries = append(entries, directory.Entry{DirectoryEntry: model.DirectoryEntry{DisplayName: f + " " + l, FirstName: f,
			LastName: l, Emails: []string{fmt.Sprintf("user%d@example.test", i)}}})
	}
	dir := directory.NewStore(env.DB.Pool, directory.Options{Domain: "example.test", MaxResults: 100})
	if _, err := dir.Import(ctx, entries); err != nil {
		b.Fatal(err)
	}
	if _, err := env.DB.Pool.Exec(ctx, `VACUUM ANALYZE directory_entries, directory_terms`); err != nil {
		b.Fatal(err)
	}
	to := []string{"alice@example.test"}
	for i := range 4 {
		to = append(to, fmt.Sprintf("user%d@example.test", 100+i*397))
	}
	for i := range 5 {
		to = append(to, entries[50+i*311].DisplayName)
	}
	monday := time.Now().UTC().Truncate(24 * time.Hour)
	opts := &message.ResolveRecipientsOptions{Availability: &message.ResolveRecipientsWindow{
		StartTime: monday.Format("2006-01-02T15:04:05.000Z"), EndTime: monday.AddDate(0, 0, 5).Format("2006-01-02T15:04:05.000Z")}}
	check := func() {
		r, err := c.Resolve(ctx, opts, to...)
		if err != nil || r.Status != 1 || len(r.Response) != 10 {
			b.Fatalf("resolve: %+v %v", r, err)
		}
		for i, rr := range r.Response {
			if rr.Status != 1 || len(rr.Recipient) != 1 || rr.Recipient[0].Availability == nil {
				b.Fatalf("%s: %+v", to[i], rr)
			}
		}
		if a := r.Response[0].Recipient[0].Availability; a.Status != 1 || len(a.MergedFreeBusy) != 5*48 {
			b.Fatalf("alice: %+v", a)
		}
	}
	check()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		check()
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
