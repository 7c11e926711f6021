package tasks

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/message"
)

var now = time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)

// zones is the matrix: every whole offset from UTC-12 to UTC+14, the
// odd ones, and zones with DST.
func zones(t *testing.T) []*time.Location {
	var out []*time.Location
	for h := -12; h <= 14; h++ {
		out = append(out, time.FixedZone(fmt.Sprintf("UTC%+d", h), h*3600))
	}
	for _, name := range []string{"Pacific/Kiritimati", "Etc/GMT+12", "Pacific/Chatham", "Asia/Kathmandu",
		"America/St_Johns", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo"} {
		z, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, z)
	}
	return out
}

// days are the due days tried in every zone: ordinary, month and year
// ends, leap day, and days of DST changes.
var days = []civil{{2026, 3, 10}, {2026, 12, 31}, {2028, 2, 29}, {2026, 3, 29}, {2026, 10, 25}, {2026, 3, 8}, {2026, 11, 1}, {2027, 1, 1}}

func newTodo() *ical.Component { return todoOf(NewCalendar(now)) }

// EAS due and start days survive EAS -> VTODO -> EAS in every zone, with
// the local and UTC forms or the UTC form alone, and the VTODO holds the
// RFC 5545 reading: DTSTART the day, DUE the day after.
func TestDaysZoneMatrix(t *testing.T) {
	for _, z := range zones(t) {
		for _, d := range days {
			start := d.add(-3)
			local := d.midnight(time.UTC).Format(easTime)
			utc := d.midnight(z).UTC().Format(easTime)
			sLocal, sUTC := start.midnight(time.UTC).Format(easTime), start.midnight(z).UTC().Format(easTime)
			for _, onlyUTC := range []bool{false, true} {
				m := &message.Task{Subject: "x", DueDate: local, UtcDueDate: utc, StartDate: sLocal, UtcStartDate: sUTC}
				if onlyUTC {
					m.DueDate, m.StartDate = "", ""
				}
				todo := newTodo()
				if err := Apply(todo, Edit{Task: m, Zone: z, Now: now}); err != nil {
					t.Fatalf("%s %v: %v", z, d, err)
				}
				if got, want := todo.Props.Get(ical.PropDue).Value, d.add(1).midnight(time.UTC).Format("20060102"); got != want {
					t.Fatalf("%s %v only UTC %v: DUE %s, want %s", z, d, onlyUTC, got, want)
				}
				if got := todo.Props.Get(ical.PropDateTimeStart).Value; got != start.midnight(time.UTC).Format("20060102") {
					t.Fatalf("%s %v: DTSTART %s", z, d, got)
				}
				back := ToEAS(todo, RenderOptions{Version: 161, Zone: z})
				if back.DueDate != local || back.UtcDueDate != utc || back.StartDate != sLocal || back.UtcStartDate != sUTC {
					t.Fatalf("%s %v only UTC %v: back %s/%s %s/%s, want %s/%s %s/%s", z, d, onlyUTC,
						back.DueDate, back.UtcDueDate, back.StartDate, back.UtcStartDate, local, utc, sLocal, sUTC)
				}
			}
		}
	}
}

// A desktop's DUE with a time is shown as its day and kept as it is when
// the phone echoes that day; a new day replaces it.
func TestDueDateTimeKeptOnEcho(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	todo := newTodo()
	todo.Props.Set(&ical.Prop{Name: ical.PropDue, Params: ical.Params{ical.PropTimezoneID: {"Europe/Berlin"}}, Value: "20260310T170000"})
	todo.Props.Set(&ical.Prop{Name: ical.PropPriority, Params: ical.Params{}, Value: "3"})
	shown := ToEAS(todo, RenderOptions{Version: 161, Zone: berlin})
	if shown.DueDate != "2026-03-10T00:00:00.000Z" || shown.UtcDueDate != "2026-03-09T23:00:00.000Z" || shown.Importance != "2" {
		t.Fatalf("shown %+v", shown)
	}
	if err := Apply(todo, Edit{Task: shown, Zone: berlin, Now: now}); err != nil {
		t.Fatal(err)
	}
	if p := todo.Props.Get(ical.PropDue); p.Value != "20260310T170000" || todo.Props.Get(ical.PropPriority).Value != "3" {
		t.Fatalf("echo replaced DUE %v or PRIORITY", p)
	}
	shown.DueDate, shown.UtcDueDate = "2026-03-12T00:00:00.000Z", "2026-03-11T23:00:00.000Z"
	if err := Apply(todo, Edit{Task: shown, Zone: berlin, Now: now}); err != nil {
		t.Fatal(err)
	}
	if p := todo.Props.Get(ical.PropDue); p.Value != "20260313" || p.ValueType() != ical.ValueDate {
		t.Fatalf("new due day: %+v", p)
	}
	// DUE at midnight is due the day before.
	todo.Props.Set(&ical.Prop{Name: ical.PropDue, Params: ical.Params{}, Value: "20260311T000000Z"})
	if got := ToEAS(todo, RenderOptions{Version: 161}).DueDate; got != "2026-03-10T00:00:00.000Z" {
		t.Fatalf("midnight DUE shown as %s", got)
	}
}

// fullTask is every element a phone may send at 16.1.
func fullTask() *message.Task {
	return &message.Task{
		Body:           &message.Body{Type: message.BodyPlain, Data: "Forms A, B; and C\nsigned"},
		Categories:     &message.TaskCategories{Category: []string{"Red Category", "Work, urgent"}},
		Complete:       "1",
		DateCompleted:  "2026-03-09T16:00:00.000Z",
		DueDate:        "2026-03-10T00:00:00.000Z",
		UtcDueDate:     "2026-03-09T23:00:00.000Z",
		Importance:     "2",
		Recurrence:     &message.TaskRecurrence{Type: "3", Start: "2026-03-01T00:00:00.000Z", Until: "2027-03-01T00:00:00.000Z", Interval: "1", DayOfWeek: "2", WeekOfMonth: "5", Regenerate: "0", DeadOccur: "0", CalendarType: "1", FirstDayOfWeek: "1"},
		ReminderSet:    "1",
		ReminderTime:   "2026-03-10T07:00:00.000Z",
		Sensitivity:    "1",
		StartDate:      "2026-03-01T00:00:00.000Z",
		UtcStartDate:   "2026-02-28T23:00:00.000Z",
		Subject:        "File taxes",
		OrdinalDate:    "2026-03-01T08:00:00.000Z",
		SubOrdinalDate: "5555555",
	}
}

func TestEveryFieldRoundTrip(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	want := fullTask()
	todo := newTodo()
	if err := Apply(todo, Edit{Task: want, Zone: berlin, Now: now}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, prodID)
	cal.Children = append(cal.Children, todo)
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"STATUS:COMPLETED", "COMPLETED:20260309T160000Z", "PRIORITY:1", "CLASS:X-PERSONAL",
		"DUE;VALUE=DATE:20260311", "DTSTART;VALUE=DATE:20260301", "TRIGGER;VALUE=DATE-TIME:20260310T070000Z",
		`CATEGORIES:Red Category,Work\, urgent`, `DESCRIPTION:Forms A\, B\; and C\nsigned`, "RRULE:FREQ=MONTHLY;BYDAY=-1MO;UNTIL=20270301;WKST=MO", "X-EAS-CALENDARTYPE:1"} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("VTODO lacks %q:\n%s", line, buf.String())
		}
	}
	got := ToEAS(todo, RenderOptions{Version: 161, Zone: berlin})
	if got.Body == nil || got.Body.Data != want.Body.Data {
		t.Errorf("body %+v", got.Body)
	}
	got.Body, want.Body = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	// 14.0 has no FirstDayOfWeek; 12.1 no CalendarType either.
	if r := ToEAS(todo, RenderOptions{Version: 140}).Recurrence; r.FirstDayOfWeek != "" || r.CalendarType == "" {
		t.Errorf("14.0 recurrence %+v", r)
	}
	if r := ToEAS(todo, RenderOptions{Version: 121}).Recurrence; r.CalendarType != "" || r.IsLeapMonth != "" {
		t.Errorf("12.1 recurrence %+v", r)
	}
	// 2.5: the body as Tasks:Body.
	if b := ToEAS(todo, RenderOptions{Version: 25}); b.Body != nil || b.Body25 != "Forms A, B; and C\nsigned" {
		t.Errorf("2.5 body %+v %q", b.Body, b.Body25)
	}

	// Un-completing, clearing everything: a whole-item change of a
	// subject only.
	if err := Apply(todo, Edit{Task: &message.Task{Subject: "y", Complete: "0"}, Zone: berlin, Now: now}); err != nil {
		t.Fatal(err)
	}
	e := ToEAS(todo, RenderOptions{Version: 161, Zone: berlin})
	if e.Complete != "0" || e.DateCompleted != "" || e.DueDate != "" || e.ReminderSet != "0" || e.Importance != "1" ||
		e.Sensitivity != "0" || e.Recurrence != nil || e.Categories != nil || e.OrdinalDate != "" || IsComplete(todo) {
		t.Errorf("after clearing: %+v", e)
	}
}

func TestApplyRefuses(t *testing.T) {
	for name, m := range map[string]*message.Task{
		"complete 2":     {Complete: "2"},
		"bad due":        {DueDate: "tomorrow"},
		"due < start":    {StartDate: "2026-03-10T00:00:00.000Z", DueDate: "2026-03-09T00:00:00.000Z"},
		"importance":     {Importance: "5"},
		"sensitivity":    {Sensitivity: "x"},
		"reminder":       {ReminderSet: "1"},
		"rtf body":       {Body: &message.Body{Type: message.BodyRTF, Data: "x"}},
		"recur type 4":   {Recurrence: &message.TaskRecurrence{Type: "4"}},
		"recur until":    {Recurrence: &message.TaskRecurrence{Type: "0", Until: "never"}},
		"ordinal":        {OrdinalDate: "soon"},
		"long subject":   {Subject: strings.Repeat("s", maxSubject+1)},
		"done when":      {Complete: "1", DateCompleted: "2026-02-30T00:00:00Z"},
		"blank category": {Categories: &message.TaskCategories{Category: []string{" "}}},
	} {
		if err := Apply(newTodo(), Edit{Task: m, Now: now}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// An RRULE a phone cannot be shown (no day to count from) survives its
// edits; a phone's own Recurrence replaces it.
func TestRRuleKept(t *testing.T) {
	todo := newTodo()
	todo.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: "FREQ=WEEKLY;BYDAY=MO"})
	if err := Apply(todo, Edit{Task: &message.Task{Subject: "s"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if todo.Props.Get(ical.PropRecurrenceRule) == nil {
		t.Fatal("edit dropped the RRULE")
	}
	if err := Apply(todo, Edit{Task: &message.Task{Subject: "s", DueDate: "2026-03-10T00:00:00.000Z",
		Recurrence: &message.TaskRecurrence{Type: "0", Interval: "2", Start: "2026-03-10T00:00:00.000Z"}}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if p := todo.Props.Get(ical.PropRecurrenceRule); p == nil || p.Value != "FREQ=DAILY;INTERVAL=2" {
		t.Fatalf("phone's recurrence: %+v", todo.Props)
	}
}
