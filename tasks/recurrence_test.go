package tasks

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/message"
)

const (
	mar10 = "2026-03-10T00:00:00.000Z" // a Tuesday
	mar01 = "2026-03-01T00:00:00.000Z"
)

// Every recurrence type from a phone: the RRULE a desktop reads, the
// extension properties, and the same Recurrence back at 16.1.
func TestRecurrenceEveryTypeFromPhone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cases := []struct {
		name  string
		r     message.TaskRecurrence
		rrule string
		props []string // extension properties that must be there
	}{
		{"daily", message.TaskRecurrence{Type: "0", Interval: "3", Occurrences: "10"}, "FREQ=DAILY;INTERVAL=3;COUNT=10", nil},
		{"weekly", message.TaskRecurrence{Type: "1", Interval: "2", DayOfWeek: "20", FirstDayOfWeek: "1"}, "FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2;WKST=MO", nil},
		{"weekdays until", message.TaskRecurrence{Type: "1", Interval: "1", DayOfWeek: "62", Until: "2026-06-30T00:00:00.000Z"}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20260630", nil},
		{"monthly by day", message.TaskRecurrence{Type: "2", Interval: "1", DayOfMonth: "10", CalendarType: "0"}, "FREQ=MONTHLY;BYMONTHDAY=10", nil},
		{"monthly second Tuesday", message.TaskRecurrence{Type: "3", Interval: "1", WeekOfMonth: "2", DayOfWeek: "4", CalendarType: "0"}, "FREQ=MONTHLY;BYDAY=2TU", nil},
		{"last day of month", message.TaskRecurrence{Type: "3", Interval: "1", WeekOfMonth: "5", DayOfWeek: "127", CalendarType: "0"}, "FREQ=MONTHLY;BYMONTHDAY=-1", nil},
		{"last weekday", message.TaskRecurrence{Type: "3", Interval: "1", WeekOfMonth: "5", DayOfWeek: "62", CalendarType: "0"}, "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", nil},
		{"yearly by date", message.TaskRecurrence{Type: "5", Interval: "1", DayOfMonth: "10", MonthOfYear: "3", CalendarType: "1"}, "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=10", []string{"X-EAS-CALENDARTYPE:1"}},
		{"yearly Nth", message.TaskRecurrence{Type: "6", Interval: "1", WeekOfMonth: "2", DayOfWeek: "4", MonthOfYear: "3", CalendarType: "0"}, "FREQ=YEARLY;BYMONTH=3;BYDAY=2TU", nil},
		{"hebrew leap month", message.TaskRecurrence{Type: "5", Interval: "1", DayOfMonth: "10", MonthOfYear: "6", CalendarType: "8", IsLeapMonth: "1"}, "RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=6L;BYMONTHDAY=10", nil},
		{"regenerating", message.TaskRecurrence{Type: "1", Interval: "2", DayOfWeek: "4", Regenerate: "1"}, "FREQ=WEEKLY;BYDAY=TU;INTERVAL=2", []string{"X-EAS-REGENERATE:1"}},
		{"dead, other start", message.TaskRecurrence{Type: "0", Interval: "1", Start: mar01, DeadOccur: "1"}, "FREQ=DAILY", []string{"X-EAS-DEAD-OCCUR:1", "X-EAS-RECURRENCE-START;VALUE=DATE:20260301"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			if r.Start == "" {
				r.Start = mar10
			}
			if r.Regenerate == "" {
				r.Regenerate = "0"
			}
			if r.DeadOccur == "" {
				r.DeadOccur = "0"
			}
			m := &message.Task{Subject: "s", Complete: "0", StartDate: mar10, DueDate: mar10, Recurrence: &r}
			todo := newTodo()
			if err := Apply(todo, Edit{Task: m, Zone: berlin, Now: now}); err != nil {
				t.Fatal(err)
			}
			if p := todo.Props.Get(ical.PropRecurrenceRule); p == nil || p.Value != c.rrule {
				t.Fatalf("RRULE %v, want %s", p, c.rrule)
			}
			ics := encodeTodo(t, todo)
			for _, want := range c.props {
				if !strings.Contains(ics, want+"\r\n") {
					t.Errorf("no %s in\n%s", want, ics)
				}
			}
			if strings.Contains(ics, "X-EAS-RECURRENCE:") {
				t.Errorf("legacy property written")
			}
			back := ToEAS(todo, RenderOptions{Version: 161, Zone: berlin}).Recurrence
			if back == nil || !reflect.DeepEqual(*back, r) {
				t.Fatalf("back:\n got %+v\nwant %+v", back, r)
			}
			// The phone's echo changes nothing.
			before := ics
			if err := Apply(todo, Edit{Task: m, Zone: berlin, Now: now}); err != nil {
				t.Fatal(err)
			}
			if after := encodeTodo(t, todo); after != before {
				t.Errorf("echo changed the task:\n%s\n%s", before, after)
			}
		})
	}
}

func encodeTodo(t *testing.T, todo *ical.Component) string {
	t.Helper()
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, prodID)
	cal.Children = append(cal.Children, todo)
	var b strings.Builder
	if err := ical.NewEncoder(&b).Encode(cal); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// desktopTodo is a VTODO as a desktop program writes it.
func desktopTodo(t *testing.T, rrule string) *ical.Component {
	t.Helper()
	todo := newTodo()
	todo.Props.SetDate(ical.PropDateTimeStart, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
	todo.Props.SetDate(ical.PropDue, time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))
	todo.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: rrule})
	return todo
}

// Every type from a desktop's RRULE, as phones see it.
func TestRecurrenceEveryTypeFromDesktop(t *testing.T) {
	for rrule, want := range map[string]message.TaskRecurrence{
		"FREQ=DAILY;COUNT=5":                          {Type: "0", Interval: "1", Occurrences: "5"},
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,FR":          {Type: "1", Interval: "2", DayOfWeek: "36"},
		"FREQ=WEEKLY;UNTIL=20260630":                  {Type: "1", Interval: "1", DayOfWeek: "4", Until: "2026-06-30T00:00:00.000Z"},
		"FREQ=MONTHLY":                                {Type: "2", Interval: "1", DayOfMonth: "10", CalendarType: "0"},
		"FREQ=MONTHLY;BYDAY=-1FR":                     {Type: "3", Interval: "1", DayOfWeek: "32", WeekOfMonth: "5", CalendarType: "0"},
		"FREQ=YEARLY":                                 {Type: "5", Interval: "1", DayOfMonth: "10", MonthOfYear: "3", CalendarType: "0"},
		"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH":            {Type: "6", Interval: "1", DayOfWeek: "16", WeekOfMonth: "4", MonthOfYear: "11", CalendarType: "0"},
		"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260630T215959Z": {Type: "1", Interval: "1", DayOfWeek: "2", Until: "2026-06-30T00:00:00.000Z"},
	} {
		todo := desktopTodo(t, rrule)
		berlin, _ := time.LoadLocation("Europe/Berlin")
		got := ToEAS(todo, RenderOptions{Version: 161, Zone: berlin}).Recurrence
		want.Start, want.Regenerate, want.DeadOccur = mar10, "0", "0"
		if got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", rrule, got, want)
		}
	}
}

// A rule EAS shows only approximately survives the phone's echo of that
// form; a pattern the phone changed replaces it.
func TestLossyRuleKeptOnEcho(t *testing.T) {
	const lossy = "FREQ=MONTHLY;BYMONTHDAY=10,25;COUNT=12"
	todo := desktopTodo(t, lossy)
	shown := ToEAS(todo, RenderOptions{Version: 141})
	if shown.Recurrence == nil || shown.Recurrence.Type != "2" {
		t.Fatalf("shown %+v", shown.Recurrence)
	}
	shown.Subject = "renamed"
	if err := Apply(todo, Edit{Task: shown, Now: now}); err != nil {
		t.Fatal(err)
	}
	if got := todo.Props.Get(ical.PropRecurrenceRule).Value; got != lossy {
		t.Fatalf("echo replaced the RRULE: %s", got)
	}
	shown.Recurrence.Occurrences = "6"
	if err := Apply(todo, Edit{Task: shown, Now: now}); err != nil {
		t.Fatal(err)
	}
	if got := todo.Props.Get(ical.PropRecurrenceRule).Value; got != "FREQ=MONTHLY;BYMONTHDAY=10;COUNT=6" {
		t.Fatalf("changed pattern: %s", got)
	}
	// Removing the recurrence on the phone removes the rule.
	shown.Recurrence = nil
	if err := Apply(todo, Edit{Task: shown, Now: now}); err != nil {
		t.Fatal(err)
	}
	if todo.Props.Get(ical.PropRecurrenceRule) != nil {
		t.Fatal("removed recurrence kept")
	}
}

// A task stored with the legacy X-EAS-RECURRENCE is shown as before and
// gets its RRULE at the next write.
func TestLegacyRecurrenceMigrated(t *testing.T) {
	todo := newTodo()
	todo.Props.SetDate(ical.PropDue, time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))
	todo.Props.Set(&ical.Prop{Name: propRecurrence, Params: ical.Params{},
		Value: "TYPE=1;START=2026-03-01T00:00:00.000Z;OCCURRENCES=10;INTERVAL=2;DAYOFWEEK=34;REGENERATE=0;DEADOCCUR=0;CALENDARTYPE=1;FIRSTDAYOFWEEK=1"})
	want := message.TaskRecurrence{Type: "1", Start: mar01, Occurrences: "10", Interval: "2", DayOfWeek: "34",
		Regenerate: "0", DeadOccur: "0", CalendarType: "1", FirstDayOfWeek: "1"}
	if got := ToEAS(todo, RenderOptions{Version: 161}).Recurrence; got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("legacy shown as %+v", got)
	}
	if err := Apply(todo, Edit{Task: &message.Task{Subject: "x"}, Sent: func(n string) bool { return n == "Subject" },
		Ghosted: func(n string) bool { return n != "Subject" }, Now: now}); err != nil {
		t.Fatal(err)
	}
	ics := encodeTodo(t, todo)
	for _, line := range []string{"RRULE:FREQ=WEEKLY;BYDAY=MO,FR;INTERVAL=2;COUNT=10;WKST=MO", "DTSTART;VALUE=DATE:20260310",
		"X-EAS-RECURRENCE-START;VALUE=DATE:20260301", "X-EAS-CALENDARTYPE:1"} {
		if !strings.Contains(ics, line+"\r\n") {
			t.Errorf("migrated task lacks %s:\n%s", line, ics)
		}
	}
	if strings.Contains(ics, "X-EAS-RECURRENCE:") {
		t.Error("legacy property kept")
	}
	if got := ToEAS(todo, RenderOptions{Version: 161}).Recurrence; got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("migrated shown as %+v", got)
	}
}

// complete marks todo complete as a phone does, on day.
func complete(t *testing.T, todo *ical.Component, done string) {
	t.Helper()
	shown := ToEAS(todo, RenderOptions{Version: 161})
	shown.Complete, shown.DateCompleted = "1", done
	if err := Apply(todo, Edit{Task: shown, Now: now}); err != nil {
		t.Fatal(err)
	}
}

func days2(todo *ical.Component) (string, string) {
	return todo.Props.Get(ical.PropDateTimeStart).Value, todo.Props.Get(ical.PropDue).Value
}

// Completing an occurrence: the occurrence becomes its own completed
// task, the series moves to its next occurrence with one occurrence
// fewer; a replay of the same completion changes nothing; the last
// occurrence completes the task and makes it dead.
func TestCompleteOccurrence(t *testing.T) {
	todo := desktopTodo(t, "FREQ=WEEKLY;BYDAY=TU;COUNT=2")
	todo.Children = append(todo.Children, alarmAt(time.Date(2026, 3, 10, 7, 0, 0, 0, time.UTC)))
	complete(t, todo, "2026-03-09T16:00:00.000Z")
	replayed := cloneComponent(todo)
	done, adv, err := CompleteOccurrence(todo, true, time.UTC)
	if err != nil || adv != Advanced {
		t.Fatalf("advance: %v %v", adv, err)
	}
	if s, d := days2(done); s != "20260310" || d != "20260311" || !IsComplete(done) || done.Props.Get(ical.PropRecurrenceRule) != nil ||
		text(done, ical.PropUID) != text(todo, ical.PropUID)+"-20260310" {
		t.Fatalf("completed occurrence:\n%s", encodeTodo(t, done))
	}
	if s, d := days2(todo); s != "20260317" || d != "20260318" || IsComplete(todo) {
		t.Fatalf("series not at the next occurrence:\n%s", encodeTodo(t, todo))
	}
	if r, _ := reminder(todo, time.UTC); !r.Equal(time.Date(2026, 3, 17, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("reminder %v", r)
	}
	if r, _ := reminder(done, time.UTC); !r.Equal(time.Date(2026, 3, 10, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("the occurrence's reminder moved: %v", r)
	}
	if got := todo.Props.Get(ical.PropRecurrenceRule).Value; got != "FREQ=WEEKLY;BYDAY=TU;COUNT=1" {
		t.Errorf("RRULE %s", got)
	}
	if r := ToEAS(todo, RenderOptions{Version: 161}).Recurrence; r.Start != "2026-03-17T00:00:00.000Z" || r.Occurrences != "1" {
		t.Errorf("shown pattern %+v", r)
	}

	// The same request again (client wins conflicts): the stored task is
	// the next occurrence, the phone's edit names the completed one.
	shownAgain := ToEAS(replayed, RenderOptions{Version: 161})
	again := cloneComponent(todo)
	if err := Apply(again, Edit{Task: shownAgain, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, adv, _ := CompleteOccurrence(again, true, time.UTC); adv != Replayed {
		t.Fatalf("replay: %v", adv)
	}

	// The last occurrence.
	complete(t, todo, "2026-03-17T10:00:00.000Z")
	if _, adv, err := CompleteOccurrence(todo, true, time.UTC); err != nil || adv != LastDone {
		t.Fatalf("last: %v %v", adv, err)
	}
	if e := ToEAS(todo, RenderOptions{Version: 161}); e.Complete != "1" || e.Recurrence.DeadOccur != "1" {
		t.Fatalf("last occurrence: %+v %+v", e, e.Recurrence)
	}
	// A dead series does not advance again.
	if _, adv, _ := CompleteOccurrence(todo, true, time.UTC); adv != NotAdvanced {
		t.Fatalf("dead: %v", adv)
	}
}

// A regenerating task's next due day is counted from the completion.
func TestCompleteRegenerating(t *testing.T) {
	todo := newTodo()
	m := &message.Task{Subject: "water plants", Complete: "0", StartDate: "2026-03-08T00:00:00.000Z", DueDate: mar10,
		Recurrence: &message.TaskRecurrence{Type: "0", Start: "2026-03-08T00:00:00.000Z", Interval: "10", Regenerate: "1"}}
	if err := Apply(todo, Edit{Task: m, Now: now}); err != nil {
		t.Fatal(err)
	}
	complete(t, todo, "2026-03-12T09:00:00.000Z") // two days late
	if _, adv, err := CompleteOccurrence(todo, true, time.UTC); err != nil || adv != Advanced {
		t.Fatalf("%v %v", adv, err)
	}
	// Due ten days after the 12th; started two days before, as before.
	if s, d := days2(todo); s != "20260320" || d != "20260323" {
		t.Fatalf("next: start %s due %s", s, d)
	}
	if r := ToEAS(todo, RenderOptions{Version: 161}).Recurrence; r.Regenerate != "1" || r.Start != "2026-03-20T00:00:00.000Z" {
		t.Fatalf("pattern %+v", r)
	}
}

// A completed task that was complete before, or does not recur, is not
// an occurrence to advance.
func TestCompleteNotAnOccurrence(t *testing.T) {
	todo := desktopTodo(t, "FREQ=DAILY")
	complete(t, todo, "2026-03-09T16:00:00.000Z")
	if _, adv, _ := CompleteOccurrence(todo, false, time.UTC); adv != NotAdvanced {
		t.Fatalf("already complete: %v", adv)
	}
	plain := newTodo()
	complete(t, plain, "2026-03-09T16:00:00.000Z")
	if _, adv, _ := CompleteOccurrence(plain, true, time.UTC); adv != NotAdvanced {
		t.Fatalf("plain task: %v", adv)
	}
	hebrew := desktopTodo(t, "RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=10")
	complete(t, hebrew, "2026-03-09T16:00:00.000Z")
	if _, adv, err := CompleteOccurrence(hebrew, true, time.UTC); err != nil || adv != NotAdvanced || !IsComplete(hebrew) {
		t.Fatalf("a rule that cannot be expanded: %v %v", adv, err)
	}
	until := desktopTodo(t, "FREQ=DAILY;UNTIL=20260310")
	complete(t, until, "2026-03-09T16:00:00.000Z")
	if _, adv, _ := CompleteOccurrence(until, true, time.UTC); adv != LastDone {
		t.Fatalf("until reached: %v", adv)
	}
}

func alarmAt(at time.Time) *ical.Component {
	a := ical.NewComponent(ical.CompAlarm)
	a.Props.SetText(ical.PropAction, "DISPLAY")
	tr := ical.NewProp(ical.PropTrigger)
	tr.SetDateTime(at)
	a.Props.Set(tr)
	return a
}
