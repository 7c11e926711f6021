package calendar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/itemstore/itemstoretest"
	"github.com/easd/easd/internal/pgnotify"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a user with a Calendar folder "5" and a second calendar "6".
type fixture struct {
	pool   *pgxpool.Pool
	store  *Store
	userID int64

	mu       sync.Mutex
	notified []string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := testenv.PG(t)
	f := &fixture{pool: db.Pool}
	f.store = NewStore(db.Pool, func(_ context.Context, _ pgnotify.Execer, _ int64, folderID string) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.notified = append(f.notified, folderID)
		return nil
	})
	f.userID = f.newUser(t)
	return f
}

func (f *fixture) newUser(t testing.TB) int64 {
	t.Helper()
	return itemstoretest.NewUser(t, f.pool, "caluser",
		itemstoretest.Folder{ID: "5", Name: "Calendar", Type: 8},
		itemstoretest.Folder{ID: "6", Name: "Work", Type: 13})
}

// object parses an iCalendar object written with \n line ends.
func object(t testing.TB, text string) *ical.Calendar {
	t.Helper()
	cal, err := decodeObject(strings.ReplaceAll(strings.TrimSpace(text), "\n", "\r\n") + "\r\n")
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func simpleEvent(t testing.TB, uid, start, end, extra string) *ical.Calendar {
	return object(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:`+uid+`
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:`+start+`
DTEND;TZID=Europe/Berlin:`+end+`
SUMMARY:`+uid+`
`+extra+`END:VEVENT
END:VCALENDAR`)
}

func TestStoreCreateUpdateDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.store
	e, err := s.Create(ctx, f.pool, f.userID, "5", simpleEvent(t, "a", "20260105T090000", "20260105T100000", ""))
	if err != nil {
		t.Fatal(err)
	}
	if e.Version != 1 || !strings.HasPrefix(e.ServerID, "5:") {
		t.Fatalf("created %+v", e)
	}
	if ctag, _ := s.CTag(ctx, f.pool, f.userID, "5"); ctag != 1 {
		t.Fatalf("ctag %d", ctag)
	}
	// The UID is unique per user, across calendars: the existing event
	// comes back, nothing is written.
	dup, err := s.Create(ctx, f.pool, f.userID, "6", simpleEvent(t, "a", "20260105T090000", "20260105T100000", ""))
	if !errors.Is(err, ErrUIDExists) || dup.ServerID != e.ServerID {
		t.Fatalf("duplicate UID: %v %+v", err, dup)
	}
	if ctag, _ := s.CTag(ctx, f.pool, f.userID, "6"); ctag != 0 {
		t.Fatalf("refused create bumped ctag to %d", ctag)
	}
	// Another user may have the same UID.
	other := f.newUser(t)
	if _, err := s.Create(ctx, f.pool, other, "5", simpleEvent(t, "a", "20260105T090000", "20260105T100000", "")); err != nil {
		t.Fatal(err)
	}
	u, err := s.Update(ctx, f.pool, f.userID, "5", e.ServerID, simpleEvent(t, "changed-uid", "20260106T090000", "20260106T100000", ""))
	if err != nil {
		t.Fatal(err)
	}
	if u.Version != 2 || u.UID != "a" {
		t.Fatalf("updated %+v", u)
	}
	got, err := s.Get(ctx, f.pool, f.userID, "5", []string{e.ServerID, "5:999999", "6:1", "x"})
	if err != nil || len(got) != 1 {
		t.Fatalf("get: %v %d", err, len(got))
	}
	if m, _ := events(got[0].Cal); textOf(m, ical.PropUID) != "a" || textOf(m, ical.PropSummary) != "changed-uid" {
		t.Fatalf("stored %v", m.Props)
	}
	if _, err := s.Update(ctx, f.pool, f.userID, "6", e.ServerID, simpleEvent(t, "a", "20260106T090000", "20260106T100000", "")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update in the wrong calendar: %v", err)
	}
	if err := s.Delete(ctx, f.pool, f.userID, "5", e.ServerID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, f.pool, f.userID, "5", e.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if ctag, _ := s.CTag(ctx, f.pool, f.userID, "5"); ctag != 3 {
		t.Fatalf("ctag %d", ctag)
	}
	if len(f.notified) != 4 {
		t.Fatalf("notified %v", f.notified)
	}
	// A refused object writes nothing.
	bad := object(t, "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:b\nDTSTAMP:20260101T000000Z\nSUMMARY:no start\nEND:VEVENT\nEND:VCALENDAR")
	if _, err := s.Create(ctx, f.pool, f.userID, "5", bad); !errors.Is(err, ErrBadObject) {
		t.Fatalf("no DTSTART: %v", err)
	}
}

// The window is decided by the indexed last end: a finite series is in
// while an occurrence ends after Since, an open series always, and the
// indexed columns follow EXDATEs and overrides.
func TestStoreVersionsWindow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.store
	mk := func(uid, start, end, extra string) string {
		e, err := s.Create(ctx, f.pool, f.userID, "5", simpleEvent(t, uid, start, end, extra))
		if err != nil {
			t.Fatal(uid, err)
		}
		return e.ServerID
	}
	past := mk("past", "20250105T090000", "20250105T100000", "")
	future := mk("future", "20270105T090000", "20270105T100000", "")
	open := mk("open", "20200105T090000", "20200105T100000", "RRULE:FREQ=WEEKLY\n")
	counted := mk("counted", "20250105T090000", "20250105T100000", "RRULE:FREQ=DAILY;COUNT=400\n")
	// The last occurrence (2025-01-07) is deleted: the series ends on the 6th.
	exdated := mk("exdated", "20250105T090000", "20250105T100000", "RRULE:FREQ=DAILY;COUNT=3\nEXDATE;TZID=Europe/Berlin:20250107T090000\n")
	allDay := object(t, "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:allday\nDTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:20250106\nDTEND;VALUE=DATE:20250107\nEND:VEVENT\nEND:VCALENDAR")
	ad, err := s.Create(ctx, f.pool, f.userID, "5", allDay)
	if err != nil {
		t.Fatal(err)
	}
	var last *time.Time
	if err := f.pool.QueryRow(ctx, `SELECT last_end FROM events WHERE uid = 'exdated' AND user_id = $1`, f.userID).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC); last == nil || !last.Equal(want) {
		t.Fatalf("exdated last_end %v, want %v", last, want)
	}
	for _, c := range []struct {
		since time.Time
		in    []string
	}{
		{time.Time{}, []string{past, future, open, counted, exdated, ad.ServerID}},
		{time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC), []string{future, open, counted, ad.ServerID}},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), []string{future, open}},
	} {
		v, err := s.Versions(ctx, f.pool, f.userID, "5", c.since)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != len(c.in) {
			t.Errorf("since %v: %d items %v, want %v", c.since, len(v), v, c.in)
		}
		for _, id := range c.in {
			if _, ok := v[id]; !ok {
				t.Errorf("since %v: %s missing", c.since, id)
			}
		}
	}
}

func TestStoreMoveAndCascade(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.store
	e, err := s.Create(ctx, f.pool, f.userID, "5", simpleEvent(t, "m", "20260105T090000", "20260105T100000", ""))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Move(ctx, f.pool, f.userID, "5", "6", e.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.ServerID, "6:") || m.UID != "m" {
		t.Fatalf("moved %+v", m)
	}
	if got, _ := s.Get(ctx, f.pool, f.userID, "5", []string{e.ServerID}); len(got) != 0 {
		t.Fatal("still in the source")
	}
	if _, err := s.Move(ctx, f.pool, f.userID, "5", "6", e.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second move: %v", err)
	}
	if _, err := f.pool.Exec(ctx, `DELETE FROM folders WHERE user_id = $1 AND server_id = '6'`, f.userID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ByUID(ctx, f.pool, f.userID, "m"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("event outlived its folder: %v", err)
	}
}

// Concurrent writers of one calendar get distinct, increasing versions.
func TestStoreConcurrentVersions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	versions := make([]int64, 8)
	for i := range versions {
		wg.Go(func() {
			e, err := f.store.Create(ctx, f.pool, f.userID, "5", simpleEvent(t, fmt.Sprint("c", i), "20260105T090000", "20260105T100000", ""))
			if err != nil {
				t.Error(err)
			}
			versions[i] = e.Version
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, v := range versions {
		if seen[v] {
			t.Fatalf("version %d twice: %v", v, versions)
		}
		seen[v] = true
	}
}
