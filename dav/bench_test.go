package dav_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/contacts"
)

// BenchmarkSyncCollection5000 is a sync-collection REPORT over HTTP on a
// book of 5,000 cards with 10 changed since the token: what a desktop
// client polling every few minutes costs (target <= 20 ms).
func BenchmarkSyncCollection5000(b *testing.B) {
	e := start(b)
	ctx := context.Background()
	var userID int64
	if err := e.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		b.Fatal(err)
	}
	var buf strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&buf, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:bench-%d\r\nFN:Person %d\r\nN:%d;Person;;;\r\nEMAIL:p%d@example.test\r\nTEL:+1 555 %04d\r\nEND:VCARD\r\n", i, i, i, i, i)
	}
	st := contacts.NewStore(e.DB.Pool, nil)
	if _, err := st.Import(ctx, userID, e.folder, strings.NewReader(buf.String()), contacts.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	_, _, tok := e.syncReport(b, "")
	// 10 changes: 6 edits, 2 new cards, 2 deletes.
	all, err := st.Resources(ctx, e.DB.Pool, userID, e.folder)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 6 {
		c := vcard.Card{}
		c.SetValue(vcard.FieldFormattedName, fmt.Sprintf("Edited %d", i))
		if _, err := st.Update(ctx, e.DB.Pool, userID, e.folder, all[i*700].ServerID, c); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 2 {
		c := vcard.Card{}
		c.SetValue(vcard.FieldFormattedName, fmt.Sprintf("New %d", i))
		if _, err := st.Create(ctx, e.DB.Pool, userID, e.folder, c); err != nil {
			b.Fatal(err)
		}
		if err := st.Delete(ctx, e.DB.Pool, userID, e.folder, all[i*900+1].ServerID); err != nil {
			b.Fatal(err)
		}
	}
	changed, removed, _ := e.syncReport(b, tok)
	if len(changed) != 8 || len(removed) != 2 {
		b.Fatalf("changes: %d changed, %d removed", len(changed), len(removed))
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		e.syncReport(b, tok)
	}
	b.StopTimer()
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/report")
	fmt.Printf("sync-collection, 5000 cards, 10 changes: %.2f ms per report (%d reports)\n", float64(per.Microseconds())/1000, b.N)
}

// BenchmarkCalendarQueryMonth5000 is a calendar-query REPORT over HTTP
// with a month's time range on a calendar of 5,000 events spread over
// two years, a tenth of them weekly series: what a desktop client asks
// when it opens a month view (target <= 20 ms).
func BenchmarkCalendarQueryMonth5000(b *testing.B) {
	e := start(b)
	ctx := context.Background()
	var userID int64
	if err := e.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		b.Fatal(err)
	}
	folder, _ := e.calFolder(b)
	var buf strings.Builder
	buf.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n")
	t0 := time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)
	for i := range 5000 {
		st := t0.Add(time.Duration(i) * (730 * 24 * time.Hour / 5000)).Truncate(time.Hour)
		rule := ""
		if i%10 == 0 {
			rule = "RRULE:FREQ=WEEKLY;COUNT=12\r\n"
		}
		fmt.Fprintf(&buf, "BEGIN:VEVENT\r\nUID:bench-%d\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\n%sSUMMARY:Event %d\r\nEND:VEVENT\r\n",
			i, st.Format("20060102T150405Z"), st.Add(time.Hour).Format("20060102T150405Z"), rule, i)
	}
	buf.WriteString("END:VCALENDAR\r\n")
	st := calendar.NewStore(e.DB.Pool, nil)
	if _, err := st.Import(ctx, userID, folder, strings.NewReader(buf.String())); err != nil {
		b.Fatal(err)
	}
	if n, err := st.Count(ctx, e.DB.Pool, userID, folder); err != nil || n != 5000 {
		b.Fatalf("imported %d: %v", n, err)
	}
	path := "/dav/calendars/alice/" + folder + "/"
	body := calQuery("20260301T000000Z", "20260401T000000Z")
	first := parseMS(b, e.dav(b, "alice", "REPORT", path, map[string]string{"Depth": "1"}, body))
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		e.dav(b, "alice", "REPORT", path, map[string]string{"Depth": "1"}, body)
	}
	b.StopTimer()
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/report")
	fmt.Printf("calendar-query, 5000 events, one month (%d found): %.2f ms per report (%d reports)\n",
		len(first.Responses), float64(per.Microseconds())/1000, b.N)
}
