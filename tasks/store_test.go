package tasks

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/itemstore/itemstoretest"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type fixture struct {
	pool   *pgxpool.Pool
	store  *Store
	userID int64
}

// newFixture is a user with the default Tasks folder "7" and a list "8"
// of type 15.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testenv.PG(t)
	f := &fixture{pool: db.Pool, store: NewStore(nil)}
	f.userID = itemstoretest.NewUser(t, f.pool, "user",
		itemstoretest.Folder{ID: "7", Name: "Tasks", Type: 7},
		itemstoretest.Folder{ID: "8", Name: "Errands", Type: 15})
	return f
}

func task(t *testing.T, m *message.Task) *ical.Calendar {
	t.Helper()
	cal := NewCalendar(now)
	if err := Apply(todoOf(cal), Edit{Task: m, Now: now}); err != nil {
		t.Fatal(err)
	}
	return cal
}

func TestTasksStoreMethods(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, u := f.store, f.userID
	open, err := s.Create(ctx, f.pool, u, "7", task(t, &message.Task{Subject: "open", DueDate: "2026-03-10T00:00:00.000Z"}))
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.Create(ctx, f.pool, u, "7", task(t, &message.Task{Subject: "done", Complete: "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, f.pool, u, "7", open.Cal); !errors.Is(err, ErrUIDExists) {
		t.Fatalf("same UID again: %v", err)
	}
	all, _ := s.Versions(ctx, f.pool, u, "7", false)
	inc, _ := s.Versions(ctx, f.pool, u, "7", true)
	if len(all) != 2 || len(inc) != 1 || inc[open.ServerID] == 0 {
		t.Fatalf("versions all %v incomplete %v", all, inc)
	}
	var due string
	if err := f.pool.QueryRow(ctx, `SELECT due::text FROM tasks WHERE uid = $1`, open.UID).Scan(&due); err != nil || due != "2026-03-10" {
		t.Fatalf("due column %q %v", due, err)
	}
	got, err := s.Get(ctx, f.pool, u, "7", []string{done.ServerID, "7:999", open.ServerID})
	if err != nil || len(got) != 2 || got[1].UID != open.UID || text(got[1].Todo(), ical.PropSummary) != "open" {
		t.Fatalf("Get: %+v %v", got, err)
	}
	cal := got[1].Cal
	todoOf(cal).Props.SetText(ical.PropUID, "someone-else") // the stored UID wins
	todoOf(cal).Props.SetText(ical.PropStatus, "COMPLETED")
	up, err := s.Update(ctx, f.pool, u, "7", open.ServerID, cal)
	if err != nil || up.UID != open.UID {
		t.Fatalf("Update: %+v %v", up, err)
	}
	if inc, _ := s.Versions(ctx, f.pool, u, "7", true); len(inc) != 0 {
		t.Fatalf("completed task still incomplete: %v", inc)
	}
	m, err := s.Move(ctx, f.pool, u, "7", "8", open.ServerID)
	if err != nil || !strings.HasPrefix(m.ServerID, "8:") {
		t.Fatalf("Move: %+v %v", m, err)
	}
	if c, _ := s.CTag(ctx, f.pool, u, "7"); c != 4 {
		t.Fatalf("ctag of 7: %d", c)
	}
	if err := s.Delete(ctx, f.pool, u, "8", m.ServerID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, f.pool, u, "8", m.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

const importFile = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Desk//EN\r\n" +
	"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
	"BEGIN:VTODO\r\nUID:a-1\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:Call the bank\\, today\r\nDUE;TZID=Europe/Berlin:20260310T170000\r\n" +
	"RRULE:FREQ=WEEKLY;BYDAY=MO\r\nGEO:52.5;13.4\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=END:-PT15M\r\nEND:VALARM\r\nEND:VTODO\r\n" +
	"BEGIN:VEVENT\r\nUID:e-1\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:20260301T100000Z\r\nEND:VEVENT\r\n" +
	"BEGIN:VTODO\r\nSUMMARY:No UID\r\nDESCRIPTION:a, b\r\n  continued\r\nEND:VTODO\r\n" +
	"END:VCALENDAR\r\n"

func TestTasksImportExport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.store.Import(ctx, f.pool, f.userID, "7", strings.NewReader(importFile), ImportOptions{})
	if err != nil || res.Created != 2 || res.Skipped != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	var out bytes.Buffer
	n, err := f.store.Export(ctx, f.pool, f.userID, "7", &out)
	if err != nil || n != 2 {
		t.Fatalf("export: %d %v", n, err)
	}
	exp := out.String()
	for _, want := range []string{"RRULE:FREQ=WEEKLY;BYDAY=MO", "GEO:52.5;13.4", "DUE;TZID=Europe/Berlin:20260310T170000", "TZID:Europe/Berlin", "UID:import-"} {
		if !strings.Contains(exp, want) {
			t.Errorf("export lacks %q:\n%s", want, exp)
		}
	}
	if strings.Count(exp, "BEGIN:VTIMEZONE") != 1 {
		t.Errorf("timezone not once:\n%s", exp)
	}
	list, _ := f.store.List(ctx, f.pool, f.userID, "7")
	if d := text(list[1].Todo(), ical.PropDescription); d != "a, b continued" {
		t.Errorf("description %q", d)
	}
	// The file again, and the export, change nothing.
	for _, file := range []string{importFile, exp} {
		res, err = f.store.Import(ctx, f.pool, f.userID, "7", strings.NewReader(file), ImportOptions{})
		if err != nil || res.Created != 0 || res.Unchanged != 2 {
			t.Fatalf("re-import: %+v %v", res, err)
		}
	}
}

func TestTasksImportBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bad := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" +
		"BEGIN:VTODO\r\nUID:ok\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:fine\r\nEND:VTODO\r\n" +
		"BEGIN:VTODO\r\nUID:d\r\nDTSTAMP:20260301T000000Z\r\nDUE:tomorrow\r\nEND:VTODO\r\n" +
		"BEGIN:VTODO\r\nUID:ok\r\nDTSTAMP:20260301T000000Z\r\nEND:VTODO\r\n" +
		"BEGIN:VTODO\r\nUID:z\r\nDTSTAMP:20260301T000000Z\r\nDUE;TZID=Mars/Olympus:20260301T100000\r\nEND:VTODO\r\n" +
		"BEGIN:VTODO\r\nUID:r\r\nDTSTAMP:20260301T000000Z\r\nRECURRENCE-ID:20260301T100000Z\r\nEND:VTODO\r\n" +
		"END:VCALENDAR\r\n"
	res, err := f.store.Import(ctx, f.pool, f.userID, "7", strings.NewReader(bad), ImportOptions{})
	if !errors.Is(err, ErrBadTasks) || len(res.Bad) != 4 {
		t.Fatalf("bad file: %+v %v", res, err)
	}
	want := []string{"task 2, line 12: DUE", "task 3, line 15: UID \"ok\" is also task 1's", "task 4, line 21: DUE", "task 5, line 26: an override"}
	for i, b := range res.Bad {
		if !strings.HasPrefix(b.String(), want[i]) {
			t.Errorf("bad %d: %q, want %q...", i, b, want[i])
		}
	}
	if v, _ := f.store.Versions(ctx, f.pool, f.userID, "7", false); len(v) != 0 {
		t.Fatalf("a bad file imported %d tasks", len(v))
	}
	res, err = f.store.Import(ctx, f.pool, f.userID, "7", strings.NewReader(bad), ImportOptions{SkipBad: true})
	if err != nil || res.Created != 1 {
		t.Fatalf("skip bad: %+v %v", res, err)
	}
	for _, file := range []string{"hello\r\n", "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\n"} {
		res, err := f.store.Import(ctx, f.pool, f.userID, "7", strings.NewReader(file), ImportOptions{})
		if !errors.Is(err, ErrBadTasks) || len(res.Bad) != 1 || res.Bad[0].Line == 0 {
			t.Errorf("%q: %+v %v", file, res, err)
		}
	}
}
