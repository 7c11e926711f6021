package message

import (
	"reflect"
	"strings"
	"testing"

	"github.com/easd/easd/wbxml"
)

type taskAdd struct {
	WBXMLName       Tag    `wbxml:"AirSync:Add"`
	ServerID        string `wbxml:"ServerId"`
	ApplicationData *Task  `wbxml:"ApplicationData"`
}

// fullTask fills every element once, 2.5 and 12.0+ forms alike.
func fullTask() *Task {
	return &Task{
		Body:           &Body{Type: BodyPlain, EstimatedDataSize: 4, Data: "a<&>"},
		Body25:         "2.5 <body>",
		BodySize:       99,
		BodyTruncated:  new(true),
		Categories:     &TaskCategories{Category: []string{"Red Category", "Work, urgent"}},
		Complete:       "1",
		DateCompleted:  "2026-03-09T16:00:00.000Z",
		DueDate:        "2026-03-10T00:00:00.000Z",
		UtcDueDate:     "2026-03-09T23:00:00.000Z",
		Importance:     "2",
		Recurrence:     fullRecurrence(),
		ReminderSet:    "1",
		ReminderTime:   "2026-03-10T07:00:00.000Z",
		Sensitivity:    "3",
		StartDate:      "2026-03-01T00:00:00.000Z",
		UtcStartDate:   "2026-02-28T23:00:00.000Z",
		Subject:        "File taxes",
		Rtf:            "e1xydGYxfQ==",
		OrdinalDate:    "2026-03-01T08:00:00.000Z",
		SubOrdinalDate: "5555555",
	}
}

func fullRecurrence() *TaskRecurrence {
	return &TaskRecurrence{Type: "3", Start: "2026-03-01T00:00:00.000Z", Until: "2027-03-01T00:00:00.000Z",
		Occurrences: "10", Interval: "1", DayOfMonth: "10", DayOfWeek: "2", WeekOfMonth: "5", MonthOfYear: "3",
		Regenerate: "0", DeadOccur: "0", CalendarType: "1", IsLeapMonth: "0", FirstDayOfWeek: "1"}
}

func TestFullTaskIsFull(t *testing.T) {
	for _, v := range []reflect.Value{reflect.ValueOf(fullTask()).Elem(), reflect.ValueOf(fullRecurrence()).Elem()} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("%s leaves %s unset", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
}

func TestTaskRoundTrip(t *testing.T) {
	for _, task := range []*Task{fullTask(), {Subject: "only", Complete: "0"}, {Categories: &TaskCategories{}, Recurrence: &TaskRecurrence{Type: "0"}}} {
		doc := &taskAdd{ServerID: "7:1", ApplicationData: task}
		b, err := wbxml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		back := &taskAdd{}
		if err := wbxml.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		back.WBXMLName = 0
		if !reflect.DeepEqual(doc, back) {
			t.Errorf("round trip changed it:\n got %+v\nwant %+v", back.ApplicationData, task)
		}
	}
}

func TestTaskEmptyElementsDecode(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[Task](), reflect.TypeFor[TaskRecurrence]()} {
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("wbxml"), ",")
			if name == "Tasks:BodySize" {
				continue // server-only integer
			}
			el := wbxml.NewElement(wbxml.MustTag(name))
			if typ.Name() == "TaskRecurrence" {
				el = wbxml.NewElement(wbxml.MustTag("Tasks:Recurrence"), el)
			}
			app := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), el)
			add := wbxml.NewElement(wbxml.MustTag("AirSync:Add"), wbxml.TextElement(wbxml.MustTag("AirSync:ServerId"), "1"), app)
			b, err := add.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if err := wbxml.Unmarshal(b, &taskAdd{}); err != nil {
				t.Errorf("empty %s: %v", name, err)
			}
		}
	}
}

// TestTaskLibwbxml checks every Tasks token against libwbxml. libwbxml
// 0.11.8 spells the recurrence children with a Recurrence_ prefix and
// the Utc dates UTCDueDate and UTCStartDate.
func TestTaskLibwbxml(t *testing.T) {
	rename := map[string]string{"UTCDueDate": "UtcDueDate", "UTCStartDate": "UtcStartDate"}
	for _, n := range []string{"Type", "Start", "Until", "Occurrences", "Interval", "DayOfMonth", "DayOfWeek",
		"WeekOfMonth", "MonthOfYear", "Regenerate", "DeadOccur", "CalendarType", "IsLeapMonth", "FirstDayOfWeek"} {
		rename["Recurrence_"+n] = n
	}
	lib, ours := libwbxmlRead(t, &taskAdd{ServerID: "7:1", ApplicationData: fullTask()}, rename)
	if lib != ours {
		t.Errorf("libwbxml reads the task differently:\n got %s\nwant %s", lib, ours)
	}
	if n := strings.Count(ours, "Tasks:"); n < 35 {
		t.Errorf("only %d Tasks elements compared", n)
	}
}
