package eas_test

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/tasks"
	"github.com/easd/easd/wbxml"
)

// recurringTask is due on Tuesday 10 March 2026 and every week after,
// three times in all.
func recurringTask() *message.Task {
	return &message.Task{
		Subject:      "Take out the bins",
		Complete:     "0",
		StartDate:    "2026-03-10T00:00:00.000Z",
		UtcStartDate: "2026-03-09T23:00:00.000Z",
		DueDate:      "2026-03-10T00:00:00.000Z",
		UtcDueDate:   "2026-03-09T23:00:00.000Z",
		Recurrence: &message.TaskRecurrence{Type: "1", Start: "2026-03-10T00:00:00.000Z", Occurrences: "3", Interval: "1",
			DayOfWeek: "4", Regenerate: "0", DeadOccur: "0", FirstDayOfWeek: "1"},
	}
}

func aliceID(t *testing.T, s *syncEnv) int64 {
	t.Helper()
	var id int64
	if err := s.env.DB.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE login = 'alice'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func exportTasks(t *testing.T, s *syncEnv, folder string) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := tasks.NewStore(nil).Export(context.Background(), s.env.DB.Pool, aliceID(t, s), folder, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A recurring task made on a 14.1 and on a 16.1 phone reaches another
// phone with its pattern and an iCalendar export with its RRULE; a
// desktop's RRULE reaches the phones.
func TestTasksRecurrenceBetweenPhonesAndExport(t *testing.T) {
	s := startSync(t, inBerlin)
	for _, v := range []string{"14.1", "16.1"} {
		t.Run(v, func(t *testing.T) {
			a := startFolder(t, s.device(t, "recur-a-"+v), "Tasks", v)
			b := startFolder(t, s.device(t, "recur-b-"+v), "Tasks", v)
			want := recurringTask()
			want.Subject += " " + v
			id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "r", ApplicationData: want}}}))
			_, cmds := b.pull(t)
			if len(cmds.Add) != 1 || cmds.Add[0].ServerID != id {
				t.Fatalf("second phone got %+v", cmds)
			}
			got := decodedAs[message.Task](t, cmds.Add[0].ApplicationData)
			if got.Recurrence == nil || !reflect.DeepEqual(*got.Recurrence, *want.Recurrence) {
				t.Fatalf("recurrence on the second phone:\n got %+v\nwant %+v", got.Recurrence, want.Recurrence)
			}
			ics := exportTasks(t, s, a.folder)
			if !strings.Contains(ics, "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3;WKST=MO\r\n") || !strings.Contains(ics, "DTSTART;VALUE=DATE:20260310\r\n") {
				t.Fatalf("export:\n%s", ics)
			}
			a.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: id}}})
			b.pull(t)
		})
	}

	// A desktop's task: the last Friday of every month.
	a := startFolder(t, s.device(t, "recur-desktop"), "Tasks", "16.1")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//desk//EN\r\nBEGIN:VTODO\r\nUID:desk-1\r\nDTSTAMP:20260301T000000Z\r\n" +
		"SUMMARY:Timesheet\r\nDTSTART;VALUE=DATE:20260327\r\nDUE;VALUE=DATE:20260328\r\nRRULE:FREQ=MONTHLY;BYDAY=-1FR\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	if _, err := tasks.NewStore(eas.NotifyFolderChanged).Import(context.Background(), s.env.DB.Pool, aliceID(t, s), a.folder,
		strings.NewReader(ics), tasks.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	_, cmds := a.pull(t)
	if len(cmds.Add) != 1 {
		t.Fatalf("desktop task: %+v", cmds)
	}
	r := decodedAs[message.Task](t, cmds.Add[0].ApplicationData).Recurrence
	if r == nil || r.Type != "3" || r.WeekOfMonth != "5" || r.DayOfWeek != "32" || r.Start != "2026-03-27T00:00:00.000Z" {
		t.Fatalf("desktop RRULE shown as %+v", r)
	}
}

// completion is phone A's Sync that completes the occurrence it shows.
func completion(a *contactsEnv, id string, shown *message.Task, conflict *int) message.SyncCollection {
	done := *shown
	done.Complete, done.DateCompleted = "1", "2026-03-10T17:00:00.000Z"
	col := message.SyncCollection{SyncKey: a.key, CollectionID: a.folder, WindowSize: 100,
		Commands: &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: &done}}}}
	if conflict != nil {
		col.Options = []message.SyncOptions{{Conflict: conflict}}
	}
	return col
}

// Completing an occurrence on a phone: the completing phone and every
// other phone get the completed occurrence as a task of its own and the
// series at its next occurrence, exactly once, also when the completing
// Sync is sent again after a lost response, whichever side wins
// conflicts.
func TestTasksCompleteOccurrence(t *testing.T) {
	s := startSync(t, inBerlin)
	for _, c := range []struct {
		name     string
		conflict *int
	}{{"server wins", nil}, {"client wins", ptr(0)}} {
		t.Run(c.name, func(t *testing.T) {
			a := startFolder(t, s.device(t, "complete-a-"+c.name), "Tasks", "16.1")
			b := startFolder(t, s.device(t, "complete-b-"+c.name), "Tasks", "14.1")
			id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "c", ApplicationData: recurringTask()}}}))
			b.pull(t)

			key := a.key
			first := a.sync(t, completion(a, id, recurringTask(), c.conflict))
			check := func(what string, rc message.SyncResponseCollection) string {
				t.Helper()
				if rc.Status != 1 || (rc.Responses != nil && len(rc.Responses.Change) > 0) {
					t.Fatalf("%s: %+v", what, rc)
				}
				cmds := commands(rc)
				if len(cmds.Add) != 1 || len(cmds.Change) != 1 || cmds.Change[0].ServerID != id {
					t.Fatalf("%s: completing phone got %+v", what, cmds)
				}
				done, next := decodedAs[message.Task](t, cmds.Add[0].ApplicationData), decodedAs[message.Task](t, cmds.Change[0].ApplicationData)
				if done.Complete != "1" || done.DueDate != "2026-03-10T00:00:00.000Z" || done.Recurrence != nil {
					t.Fatalf("%s: completed occurrence %+v", what, done)
				}
				if next.Complete != "0" || next.DueDate != "2026-03-17T00:00:00.000Z" || next.StartDate != "2026-03-17T00:00:00.000Z" ||
					next.Recurrence == nil || next.Recurrence.Occurrences != "2" || next.Recurrence.Start != "2026-03-17T00:00:00.000Z" {
					t.Fatalf("%s: series %+v %+v", what, next, next.Recurrence)
				}
				return cmds.Add[0].ServerID
			}
			doneID := check("first answer", first)
			// The answer was lost: the phone sends the same request.
			a.key = key
			again := a.sync(t, completion(a, id, recurringTask(), c.conflict))
			if got := check("replayed answer", again); got != doneID {
				t.Fatalf("replay made %s, first %s", got, doneID)
			}
			a.key = again.SyncKey
			var n int
			if err := s.env.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM tasks WHERE folder_id = $1`, a.folder).Scan(&n); err != nil || n != 2 {
				t.Fatalf("%d tasks stored, want 2 (%v)", n, err)
			}
			if _, cmds := a.pull(t); len(cmds.Add)+len(cmds.Change)+len(cmds.Delete) != 0 {
				t.Fatalf("completing phone afterwards: %+v", cmds)
			}
			_, cmds := b.pull(t)
			if len(cmds.Add) != 1 || cmds.Add[0].ServerID != doneID || len(cmds.Change) != 1 {
				t.Fatalf("other phone: %+v", cmds)
			}
			if next := decodedAs[message.Task](t, cmds.Change[0].ApplicationData); next.DueDate != "2026-03-17T00:00:00.000Z" || next.Complete != "0" {
				t.Fatalf("other phone's series %+v", next)
			}
			ics := exportTasks(t, s, a.folder)
			if !strings.Contains(ics, "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=2;WKST=MO\r\n") || !strings.Contains(ics, "DTSTART;VALUE=DATE:20260317\r\n") {
				t.Fatalf("export after the completion:\n%s", ics)
			}
			for _, del := range []string{id, doneID} {
				a.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: del}}})
			}
		})
	}
}

// Ghosting: a phone that lists the task elements it handles keeps the
// recurrence it did not list; without Supported a Change is the whole
// task and removes the recurrence.
func TestTasksGhosting(t *testing.T) {
	s := startSync(t, inBerlin)
	a := startFolder(t, s, "Tasks", "16.1")
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "g", ApplicationData: recurringTask()}}}))

	g := s.device(t, "phone-ghost")
	ge := &contactsEnv{syncEnv: g, folder: g.ids["Tasks"]}
	supported := wbxml.NewElement(wbxml.MustTag("AirSync:Supported"),
		wbxml.NewElement(wbxml.MustTag("Tasks:Subject")), wbxml.NewElement(wbxml.MustTag("Tasks:Complete")))
	rc := g.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: ge.folder, Supported: supported})
	ge.key = rc.SyncKey
	ge.pull(t)
	ge.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id,
		ApplicationData: &message.Task{Subject: "Bins", Complete: "0"}}}})
	_, cmds := a.pull(t)
	if len(cmds.Change) != 1 {
		t.Fatalf("after the ghosting change: %+v", cmds)
	}
	got := decodedAs[message.Task](t, cmds.Change[0].ApplicationData)
	if got.Subject != "Bins" || got.Recurrence == nil || got.Recurrence.Occurrences != "3" || got.DueDate != "2026-03-10T00:00:00.000Z" {
		t.Fatalf("ghosted elements lost: %+v %+v", got, got.Recurrence)
	}

	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id,
		ApplicationData: &message.Task{Subject: "Bins once", Complete: "0"}}}})
	if ics := exportTasks(t, s, a.folder); strings.Contains(ics, "RRULE") {
		t.Fatalf("a whole-task change without Recurrence kept the RRULE:\n%s", ics)
	}
}

// A Ping waiting on one instance is woken by a task change a phone makes
// through another instance.
func TestTasksPingWokenElsewhere(t *testing.T) {
	s := startPing(t)
	te := &contactsEnv{syncEnv: s, folder: s.ids["Tasks"]}
	te.key = te.start(t, te.folder)
	te.pull(t)
	// The change comes from another phone: a Sync of the waiting phone
	// itself would end its Ping.
	writer := &contactsEnv{syncEnv: s.device(t, "phone-writer"), folder: te.folder}
	writer.key = writer.start(t, writer.folder)
	other := easdtest.StartSecond(t, s.env)
	ping := pingAsync(other.Client("alice", "phone-ping"), time.Minute, message.PingFolder{ID: te.folder, Class: "Tasks"})
	stillWaiting(t, ping, time.Second)

	start := time.Now()
	writer.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "p", ApplicationData: recurringTask()}}})
	wantChanged(t, answer(t, ping, 5*time.Second), te.folder)
	t.Logf("woken %v after the change", time.Since(start).Round(time.Millisecond))
}
