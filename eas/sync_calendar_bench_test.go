package eas_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/internal/easdtest"
)

// fillCalendar imports n events into alice's Calendar folder: every tenth
// a weekly series without end, the others single meetings spread over
// the year around now (a typical calendar).
func fillCalendar(tb testing.TB, env *easdtest.Env, folder string, n int) {
	tb.Helper()
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n")
	base := time.Now().UTC().AddDate(0, -6, 0).Truncate(24 * time.Hour)
	for i := range n {
		start := base.Add(time.Duration(i) * (365 * 24 * time.Hour / time.Duration(n))).Add(9 * time.Hour)
		rule := ""
		if i%10 == 0 {
			rule = "RRULE:FREQ=WEEKLY\r\n"
		}
		fmt.Fprintf(&ics, "BEGIN:VEVENT\r\nUID:bench-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:%s\r\n"+
			"DTEND;TZID=Europe/Berlin:%s\r\n%sSUMMARY:Meeting %d\r\nLOCATION:Room %d\r\nDESCRIPTION:Agenda for meeting %d.\r\n"+
			"ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.test\r\nORGANIZER;CN=Alice:mailto:alice@example.test\r\nEND:VEVENT\r\n",
			i, start.Format("20060102T150405"), start.Add(time.Hour).Format("20060102T150405"), rule, i, i%20, i)
	}
	ics.WriteString("END:VCALENDAR\r\n")
	var userID int64
	ctx := context.Background()
	if err := env.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		tb.Fatal(err)
	}
	store := calendar.NewStore(env.DB.Pool, eas.NotifyFolderChanged)
	if _, err := store.Import(ctx, userID, folder, strings.NewReader(ics.String())); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSyncCalendarInitial: the initial sync of 5,000 events (500
// recurring series) in windows of 512, with FilterType two weeks and all.
// Figures only.
func BenchmarkSyncCalendarInitial(b *testing.B) {
	const n = 5000
	env := easdtest.Start(b, noPolicy)
	first := env.Client("alice", "bench-fill")
	ids := syncFolderIDs(b, first)
	fillCalendar(b, env, ids["Calendar"], n)
	for _, f := range []struct {
		name   string
		filter int
	}{{"twoweeks", 4}, {"all", 0}} {
		b.Run(fmt.Sprintf("window=512/filter=%s", f.name), func(b *testing.B) {
			var total time.Duration
			got := 0
			for i := range b.N {
				c := env.Client("alice", fmt.Sprintf("bench-%s-%d", f.name, i))
				opts := textBody32K()
				opts[0].FilterType = ptr(f.filter)
				var d time.Duration
				got, d = initialSync(b, &syncEnv{env: env, c: c, ids: syncFolderIDs(b, c)}, "Calendar", 512, opts)
				total += d
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/initial-sync")
			b.ReportMetric(float64(got), "events")
		})
	}
}

// BenchmarkSyncCalendarQuiet: a no-change Sync of a 5,000-event calendar
// from 100 devices at once, for 5 s. Figures only.
func BenchmarkSyncCalendarQuiet(b *testing.B) {
	const n, devices = 5000, 100
	env := easdtest.Start(b, noPolicy)
	first := env.Client("alice", "quiet-0")
	ids := syncFolderIDs(b, first)
	folder := ids["Calendar"]
	fillCalendar(b, env, folder, n)
	clients, key := quietFleet(b, env, first, ids, folder, devices)
	b.ResetTimer()
	proc0, pg0 := benchCPU(b, env)
	done, elapsed := quietSyncs(b, clients, key, folder)
	proc1, pg1 := benchCPU(b, env)
	b.ReportMetric(float64(done)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64((proc1-proc0).Microseconds())/float64(done), "go-CPU-µs/req")
	b.ReportMetric(float64((pg1-pg0).Microseconds())/float64(done), "pg-CPU-µs/req")
}
