package calendar

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestFreeBusy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	add := func(folder string, cal string) {
		t.Helper()
		if _, err := f.store.Create(ctx, f.pool, f.userID, folder, object(t, cal)); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(uid, start, end, extra string) string {
		return `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:` + uid + `
DTSTAMP:20260101T000000Z
DTSTART:` + start + `
DTEND:` + end + `
` + extra + `END:VEVENT
END:VCALENDAR`
	}
	// Monday 2026-03-02, from 08:00 UTC, 8 hours: 16 slots.
	add("5", ev("busy", "20260302T080000Z", "20260302T090000Z", ""))                                          // slots 0-1
	add("5", ev("tent", "20260302T091500Z", "20260302T093000Z", "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\n"))    // slot 2
	add("6", ev("oof", "20260302T100000Z", "20260302T103000Z", "X-MICROSOFT-CDO-BUSYSTATUS:OOF\n"))           // slot 4, other calendar
	add("5", ev("free", "20260302T110000Z", "20260302T120000Z", "TRANSP:TRANSPARENT\n"))                      // free
	add("5", ev("cancelled", "20260302T120000Z", "20260302T130000Z", "STATUS:CANCELLED\n"))                   // free
	add("5", ev("overlap", "20260302T100000Z", "20260302T110000Z", "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\n")) // slots 4-5, OOF wins in 4
	// A daily series at 14:00, its Monday occurrence moved to 15:00 and
	// Tuesday's deleted.
	add("5", `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:daily
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260101T150000
DTEND;TZID=Europe/Berlin:20260101T153000
RRULE:FREQ=DAILY
EXDATE;TZID=Europe/Berlin:20260303T150000
END:VEVENT
BEGIN:VEVENT
UID:daily
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20260302T150000
DTSTART;TZID=Europe/Berlin:20260302T160000
DTEND;TZID=Europe/Berlin:20260302T163000
END:VEVENT
END:VCALENDAR`)
	from := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	got, err := f.store.FreeBusy(ctx, f.pool, f.userID, from, from.Add(8*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	//          08  09  10  11  12  13  14  15
	want := "2210310000000020"
	if got != want {
		t.Errorf("Monday:\n got %s\nwant %s", got, want)
	}
	// Tuesday's occurrence is deleted, Wednesday's is there (14:00 UTC).
	got, _ = f.store.FreeBusy(ctx, f.pool, f.userID, time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC))
	if got != "00" {
		t.Errorf("Tuesday %s", got)
	}
	got, _ = f.store.FreeBusy(ctx, f.pool, f.userID, time.Date(2026, 3, 4, 14, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 14, 45, 0, 0, time.UTC))
	if got != "20" {
		t.Errorf("Wednesday %s", got)
	}
	// A change is seen at once (the cache is keyed by version).
	e, err := f.store.ByUID(ctx, f.pool, f.userID, "busy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Update(ctx, f.pool, f.userID, e.FolderID, e.ServerID, object(t, ev("busy", "20260302T080000Z", "20260302T090000Z", "X-MICROSOFT-CDO-BUSYSTATUS:OOF\n"))); err != nil {
		t.Fatal(err)
	}
	if got, _ = f.store.FreeBusy(ctx, f.pool, f.userID, from, from.Add(time.Hour)); got != "33" {
		t.Errorf("after the change %s", got)
	}
}

// BenchmarkFreeBusy30Days: 30 days of a calendar of 5,000 events, 500 of
// them recurring series (weekly and daily, open and counted), the rest
// single events over two years around the window. "warm" is the usual
// case (series unchanged since the last request: shapes cached), "cold"
// decodes and expands every series in the window.
func BenchmarkFreeBusy30Days(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var sb strings.Builder
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5000 {
		sb.Reset()
		var start time.Time
		rule := ""
		if i < 500 {
			start = base.AddDate(0, -6-i%12, 0).Add(time.Duration(8+i%10) * time.Hour)
			switch i % 4 {
			case 0:
				rule = "RRULE:FREQ=WEEKLY\n"
			case 1:
				rule = "RRULE:FREQ=DAILY;COUNT=400\n"
			case 2:
				rule = "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20270101T000000Z\n"
			default:
				rule = "RRULE:FREQ=MONTHLY;BYDAY=2TU\n"
			}
		} else {
			start = base.AddDate(-1, 0, 0).Add(time.Duration(i) * 3 * time.Hour)
		}
		fmt.Fprintf(&sb, "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//b//EN\nBEGIN:VEVENT\nUID:b%d\nDTSTAMP:20260101T000000Z\n"+
			"DTSTART;TZID=Europe/Berlin:%s\nDTEND;TZID=Europe/Berlin:%s\nSUMMARY:event %d\n%sEND:VEVENT\nEND:VCALENDAR",
			i, start.Format("20060102T150405"), start.Add(time.Hour).Format("20060102T150405"), i, rule)
		if _, err := f.store.Create(ctx, tx, f.userID, "5", object(b, sb.String())); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `ANALYZE events`); err != nil {
		b.Fatal(err)
	}
	from, to := base, base.AddDate(0, 0, 30)
	b.Run("warm", func(b *testing.B) {
		if _, err := f.store.FreeBusy(ctx, f.pool, f.userID, from, to); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := f.store.FreeBusy(ctx, f.pool, f.userID, from, to); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			f.store.shapes.mu.Lock()
			f.store.shapes.m = map[fbKey]*fbSeries{}
			f.store.shapes.mu.Unlock()
			b.StartTimer()
			if _, err := f.store.FreeBusy(ctx, f.pool, f.userID, from, to); err != nil {
				b.Fatal(err)
			}
		}
	})
}
