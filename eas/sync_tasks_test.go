package eas_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/wbxml"
)

// inBerlin makes the users' zone one east of UTC, so a due day sent as
// an instant (23:00Z the day before) would be a day off if read as UTC.
func inBerlin(c *config.Config) { c.TimeZone = "Europe/Berlin" }

// phoneTask has a value in every element a phone may send, in Berlin.
func phoneTask() *message.Task {
	return &message.Task{
		Body:           &message.Body{Type: message.BodyPlain, Data: "Forms A, B; and C\nsigned"},
		Categories:     &message.TaskCategories{Category: []string{"Red Category", "Work, urgent"}},
		Complete:       "0",
		DueDate:        "2026-03-10T00:00:00.000Z",
		UtcDueDate:     "2026-03-09T23:00:00.000Z",
		Importance:     "2",
		Recurrence:     &message.TaskRecurrence{Type: "1", Start: "2026-03-01T00:00:00.000Z", Occurrences: "10", Interval: "2", DayOfWeek: "34", Regenerate: "0", DeadOccur: "0", CalendarType: "1", FirstDayOfWeek: "1"},
		ReminderSet:    "1",
		ReminderTime:   "2026-03-10T07:00:00.000Z",
		Sensitivity:    "2",
		StartDate:      "2026-03-01T00:00:00.000Z",
		UtcStartDate:   "2026-02-28T23:00:00.000Z",
		Subject:        "File taxes",
		OrdinalDate:    "2026-03-01T08:00:00.000Z",
		SubOrdinalDate: "5555555",
	}
}

// Every element both ways at 14.1 and 16.1: phone A adds, phone B sees
// the same task, changes every element, phone A sees that.
func TestTasksEveryFieldBetweenPhones(t *testing.T) {
	s := startSync(t, inBerlin)
	for _, v := range []string{"14.1", "16.1"} {
		t.Run(v, func(t *testing.T) {
			a := startFolder(t, s.device(t, "tasks-a-"+v), "Tasks", v)
			b := startFolder(t, s.device(t, "tasks-b-"+v), "Tasks", v)
			want := phoneTask()
			id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "t1", ApplicationData: want}}}))
			_, cmds := b.pull(t)
			if len(cmds.Add) != 1 || cmds.Add[0].ServerID != id {
				t.Fatalf("second phone got %+v", cmds)
			}
			got := decodedAs[message.Task](t, cmds.Add[0].ApplicationData)
			compareTask(t, "add", got, want)

			change := &message.Task{
				Body:          &message.Body{Type: message.BodyHTML, Data: "<html><body>done <b>now</b></body></html>"},
				Categories:    &message.TaskCategories{Category: []string{"Blue Category"}},
				Complete:      "1",
				DateCompleted: "2026-03-09T16:30:00.000Z",
				DueDate:       "2026-03-31T00:00:00.000Z",
				UtcDueDate:    "2026-03-30T22:00:00.000Z", // after the DST change
				Importance:    "0",
				Recurrence:    &message.TaskRecurrence{Type: "5", Start: "2026-03-01T00:00:00.000Z", Interval: "1", DayOfMonth: "31", MonthOfYear: "3", Regenerate: "1", DeadOccur: "1", CalendarType: "1", FirstDayOfWeek: "1"},
				ReminderSet:   "0",
				Sensitivity:   "3",
				StartDate:     "2026-03-30T00:00:00.000Z",
				UtcStartDate:  "2026-03-29T22:00:00.000Z",
				Subject:       "File taxes (done)",
				OrdinalDate:   "2026-03-02T08:00:00.000Z",
			}
			b.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: change}}})
			rc := a.sync(t, message.SyncCollection{SyncKey: a.key, CollectionID: a.folder,
				Options: []message.SyncOptions{{BodyPreference: []message.BodyPreference{{Type: message.BodyHTML}}}}})
			a.key = rc.SyncKey
			c := commands(rc)
			if len(c.Change) != 1 {
				t.Fatalf("first phone after the change: %+v", c)
			}
			got = decodedAs[message.Task](t, c.Change[0].ApplicationData)
			change.ReminderSet = "0"
			compareTask(t, "change", got, change)

			// Clean up for the next version.
			a.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: id}}})
		})
	}
}

// compareTask compares a rendered task with what a phone sent.
func compareTask(t *testing.T, what string, got, want *message.Task) {
	t.Helper()
	if got.Body == nil || got.Body.Data != want.Body.Data || got.Body.Type != want.Body.Type {
		t.Errorf("%s: body %+v, want %+v", what, got.Body, want.Body)
	}
	g, w := *got, *want
	g.Body, w.Body = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: task differs:\n got %+v\nwant %+v", what, g, w)
		if g.Recurrence != nil && w.Recurrence != nil {
			t.Errorf("recurrence:\n got %+v\nwant %+v", *g.Recurrence, *w.Recurrence)
		}
	}
}

func TestTasksLostResponseReplays(t *testing.T) {
	s := startSync(t)
	a := startFolder(t, s, "Tasks", "16.1")
	b := startFolder(t, s.device(t, "phone-b"), "Tasks", "16.1")
	add := &message.SyncClientCommands{Add: []message.SyncClientAdd{
		{ClientID: "r1", ApplicationData: &message.Task{Subject: "One", Complete: "0"}},
		{ClientID: "r2", ApplicationData: &message.Task{Subject: "Two", Complete: "0"}}}}
	key := a.key
	first := a.send(t, add)
	a.key = key
	again := a.send(t, add)
	for i := range first.Responses.Add {
		if f, g := first.Responses.Add[i], again.Responses.Add[i]; f.ServerID != g.ServerID || g.Status != 1 {
			t.Fatalf("replayed Add %d: %+v, first %+v", i, g, f)
		}
	}
	if _, cmds := b.pull(t); len(cmds.Add) != 2 {
		t.Fatalf("other phone got %d adds, want 2", len(cmds.Add))
	}
	one := first.Responses.Add[0].ServerID
	change := &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: one, ApplicationData: &message.Task{Subject: "Uno", Complete: "1"}}}}
	key = a.key
	a.send(t, change)
	a.key = key
	a.send(t, change)
	if _, cmds := b.pull(t); len(cmds.Change) != 1 || decodedAs[message.Task](t, cmds.Change[0].ApplicationData).Complete != "1" {
		t.Fatalf("other phone after the replayed change: %+v", cmds)
	}
	deleteReplayed(t, a, b, one)
}

// Bad tasks are refused one by one with Status 6, nothing of them kept.
func TestTasksBadInput(t *testing.T) {
	s := startSync(t)
	a := startFolder(t, s, "Tasks", "16.1")
	unknown := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.TextElement(wbxml.MustTag("Tasks:Subject"), "odd"), wbxml.TextElement(wbxml.MustTag("Notes:Subject"), "x"))
	rc := a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{
		{ClientID: "due", ApplicationData: &message.Task{Subject: "due", DueDate: "next week"}},
		{ClientID: "order", ApplicationData: &message.Task{Subject: "order", StartDate: "2026-03-10T00:00:00.000Z", DueDate: "2026-03-01T00:00:00.000Z"}},
		{ClientID: "complete", ApplicationData: &message.Task{Subject: "complete", Complete: "yes"}},
		{ClientID: "reminder", ApplicationData: &message.Task{Subject: "reminder", ReminderSet: "1"}},
		{ClientID: "recur", ApplicationData: &message.Task{Subject: "recur", Recurrence: &message.TaskRecurrence{Type: "9"}}},
		{ClientID: "unknown", ApplicationData: unknown},
		{ClientID: "good", ApplicationData: &message.Task{Subject: "Good", Complete: "0"}},
	}})
	for _, r := range rc.Responses.Add {
		want := 6
		if r.ClientID == "good" {
			want = 1
		}
		if r.Status != want {
			t.Errorf("%s: Status %d, want %d", r.ClientID, r.Status, want)
		}
	}
	var n int
	if err := s.env.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM tasks`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d tasks stored, want 1 (%v)", n, err)
	}
	id := rc.Responses.Add[len(rc.Responses.Add)-1].ServerID
	rc = a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id,
		ApplicationData: &message.Task{Subject: "Changed", Importance: "7"}}}})
	if rc.Responses == nil || len(rc.Responses.Change) != 1 || rc.Responses.Change[0].Status != 6 {
		t.Fatalf("bad Change answered %+v", rc.Responses)
	}
	b := &contactsEnv{syncEnv: s.device(t, "phone-c"), folder: a.folder}
	b.key = b.start(t, b.folder)
	if _, cmds := b.pull(t); len(cmds.Add) != 1 || decodedAs[message.Task](t, cmds.Add[0].ApplicationData).Subject != "Good" {
		t.Fatalf("stored %+v", cmds.Add)
	}
}

// FilterType 8 shows incomplete tasks only: a task completed elsewhere
// leaves the phone, one reopened comes back; GetItemEstimate agrees.
func TestTasksFilterIncomplete(t *testing.T) {
	s := startSync(t)
	a := startFolder(t, s, "Tasks", "16.1")
	rc := a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{
		{ClientID: "open", ApplicationData: &message.Task{Subject: "Open", Complete: "0"}},
		{ClientID: "done", ApplicationData: &message.Task{Subject: "Done", Complete: "1", DateCompleted: "2026-03-01T10:00:00.000Z"}}}})
	open := rc.Responses.Add[0].ServerID
	f := s.device(t, "phone-filter")
	fe := &contactsEnv{syncEnv: f, folder: f.ids["Tasks"]}
	fe.key = fe.start(t, fe.folder)
	filtered := func() message.SyncCommands {
		t.Helper()
		var all message.SyncCommands
		for more := true; more; {
			rc := fe.sync(t, message.SyncCollection{SyncKey: fe.key, CollectionID: fe.folder, WindowSize: 100,
				Options: []message.SyncOptions{{FilterType: ptr(8)}}})
			if rc.Status != 1 {
				t.Fatalf("filtered sync: %+v", rc)
			}
			fe.key, more = rc.SyncKey, rc.MoreAvailable
			c := commands(rc)
			all.Add, all.Change, all.Delete = append(all.Add, c.Add...), append(all.Change, c.Change...), append(all.Delete, c.Delete...)
		}
		return all
	}
	if c := filtered(); len(c.Add) != 1 || c.Add[0].ServerID != open {
		t.Fatalf("FilterType 8 listed %+v, want the open task", c)
	}
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: open, ApplicationData: &message.Task{Subject: "Open", Complete: "1"}}}})
	r, err := f.c.GetItemEstimate(context.Background(), fe.folder, fe.key, ptr(8))
	if err != nil || len(r.Response) != 1 || r.Response[0].Collection.Estimate != 1 {
		t.Fatalf("GetItemEstimate: %+v %v", r, err)
	}
	if c := filtered(); len(c.Delete) != 1 || c.Delete[0].ServerID != open {
		t.Fatalf("completed elsewhere: %+v", c)
	}
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: open, ApplicationData: &message.Task{Subject: "Open again", Complete: "0"}}}})
	if c := filtered(); len(c.Add) != 1 || decodedAs[message.Task](t, c.Add[0].ApplicationData).Subject != "Open again" {
		t.Fatalf("reopened: %+v", c)
	}
}

// Task lists: FolderCreate type 15, MoveItems, FolderDelete.
func TestTasksLists(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	a := startFolder(t, s, "Tasks", "16.1")
	fs, err := s.c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := s.c.FolderCreate(ctx, fs.SyncKey, "0", "Errands", 15)
	if err != nil || fc.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", fc, err)
	}
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "m", ApplicationData: &message.Task{Subject: "Mover", Complete: "0"}}}}))
	r, err := s.c.MoveItems(ctx, message.MoveItem{SrcMsgID: id, SrcFldID: a.folder, DstFldID: fc.ServerID})
	if err != nil || r.Response[0].Status != 3 || !strings.HasPrefix(r.Response[0].DstMsgID, fc.ServerID+":") {
		t.Fatalf("MoveItems: %+v %v", r, err)
	}
	fs, err = s.c.FolderSync(ctx, fs.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := s.c.FolderDelete(ctx, fs.SyncKey, fc.ServerID); err != nil || fd.Status != 1 {
		t.Fatalf("FolderDelete: %+v %v", fd, err)
	}
	var n int
	if err := s.env.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM tasks`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d tasks left (%v)", n, err)
	}
}
