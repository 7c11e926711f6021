package calendar

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const icsFile = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//other//EN
BEGIN:VTIMEZONE
TZID:Custom Zone
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0530
TZOFFSETTO:+0530
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:series-1
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260105T090000
DTEND;TZID=Europe/Berlin:20260105T100000
RRULE:FREQ=WEEKLY;COUNT=5
SUMMARY:weekly
X-CUSTOM:kept
END:VEVENT
BEGIN:VEVENT
UID:custom
DTSTAMP:20260101T000000Z
DTSTART;TZID=Custom Zone:20260105T090000
SUMMARY:custom zone
END:VEVENT
BEGIN:VEVENT
UID:series-1
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000
DTSTART;TZID=Europe/Berlin:20260112T110000
DTEND;TZID=Europe/Berlin:20260112T120000
SUMMARY:moved
END:VEVENT
END:VCALENDAR
`

func TestImportExportImportStable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bad := strings.Replace(icsFile, "DTSTART;TZID=Custom Zone:20260105T090000\n", "", 1)
	res, err := f.store.Import(ctx, f.userID, "5", strings.NewReader(strings.ReplaceAll(bad, "\n", "\r\n")))
	if !errors.Is(err, ErrBadEvents) || len(res.Bad) != 1 || !strings.Contains(res.Bad[0], "event 2") || !strings.Contains(res.Bad[0], "DTSTART") {
		t.Fatalf("bad file: %v %+v", err, res)
	}
	if n, _ := f.store.Count(ctx, f.pool, f.userID, "5"); n != 0 {
		t.Fatalf("half imported: %d events", n)
	}
	res, err = f.store.Import(ctx, f.userID, "5", strings.NewReader(strings.ReplaceAll(icsFile, "\n", "\r\n")))
	if err != nil || res.Created != 2 {
		t.Fatalf("import: %v %+v", err, res)
	}
	var first bytes.Buffer
	if err := f.store.Export(ctx, f.userID, "5", &first); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"X-CUSTOM:kept", "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000", "TZID:Custom Zone"} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("export lacks %q:\n%s", want, first.String())
		}
	}
	res, err = f.store.Import(ctx, f.userID, "5", bytes.NewReader(first.Bytes()))
	if err != nil || res.Updated != 2 || res.Created != 0 {
		t.Fatalf("re-import: %v %+v", err, res)
	}
	var second bytes.Buffer
	if err := f.store.Export(ctx, f.userID, "5", &second); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("export changed after a re-import:\n%s\n---\n%s", first.String(), second.String())
	}
	// The custom VTIMEZONE gives the event its +05:30 offset.
	evs, _ := f.store.Get(ctx, f.pool, f.userID, "5", func() []string {
		v, _ := f.store.Versions(ctx, f.pool, f.userID, "5", time.Time{})
		var ids []string
		for id := range v {
			ids = append(ids, id)
		}
		return ids
	}())
	for _, e := range evs {
		if e.UID == "custom" {
			out, err := ToEAS(e.Cal, RenderOptions{Version: 141})
			if err != nil || out.StartTime != "20260105T033000Z" {
				t.Errorf("custom zone start %v %v", out, err)
			}
		}
	}
}
