package message

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/easd/easd/wbxml"
)

// calendarAdd gives an event a document root for the tests, as a Sync Add
// of the server carries it.
type calendarAdd struct {
	WBXMLName       Tag       `wbxml:"AirSync:Add"`
	ServerID        string    `wbxml:"ServerId"`
	ApplicationData *Calendar `wbxml:"ApplicationData"`
}

func fullLocation() *Location {
	return &Location{DisplayName: "Room <1>", Annotation: "2nd floor", Street: "1 Main St", City: "Springfield",
		State: "IL", Country: "USA", PostalCode: "12345", Latitude: "39.78", Longitude: "-89.65",
		Accuracy: "10", Altitude: "180", AltitudeAccuracy: "5", LocationURI: "geo:39.78,-89.65"}
}

// fullException fills every element of an Exception once.
func fullException() Exception {
	return Exception{
		Deleted: "0", ExceptionStartTime: "20260115T090000Z", Subject: "moved <&>", StartTime: "20260115T100000Z",
		EndTime: "20260115T110000Z", Body25: "2.5 notes", Location: "Room 2",
		Categories: &CalendarCats{Category: []string{"Work"}}, Sensitivity: "2", BusyStatus: "1",
		AllDayEvent: "0", Reminder: "10", DtStamp: "20260101T000000Z", MeetingStatus: "1",
		Attendees:            &Attendees{Attendee: []Attendee{{Email: "b@example.test", Name: "B", AttendeeStatus: "3", AttendeeType: "1"}}},
		AppointmentReplyTime: "20260102T000000Z", ResponseType: "3",
		OnlineMeetingConfLink: "https://meet.example.test/c", OnlineMeetingExternalLink: "https://meet.example.test/e",
		Body: &Body{Type: BodyPlain, EstimatedDataSize: 5, Data: "notes"}, Location16: fullLocation(),
		InstanceID: "20260115T090000Z",
	}
}

// fullCalendar fills every element once, 2.5, 14.x and 16.x forms alike.
func fullCalendar() *Calendar {
	return &Calendar{
		Timezone:    "xP///0UAUwBUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALAAAAAQACAAAAAAAAAAAAAABFAEQAVAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwAAAAIAAgAAAAAAAAAAAAAA",
		AllDayEvent: "0",
		Attendees: &Attendees{Attendee: []Attendee{
			{Email: "a@example.test", Name: "A & Co", AttendeeStatus: "0", AttendeeType: "1"},
			{Email: "r@example.test", Name: "Room", AttendeeStatus: "5", AttendeeType: "3"},
		}},
		Body25:         "notes 2.5",
		BodyTrunc25:    new(false),
		BusyStatus:     "2",
		Categories:     &CalendarCats{Category: []string{"A,B", "C;D"}},
		Rtf:            "e1xydGYxfQ==",
		DtStamp:        "20260101T120000Z",
		EndTime:        "20260114T100000Z",
		Exceptions:     &Exceptions{Exception: []Exception{fullException(), {Deleted: "1", ExceptionStartTime: "20260122T090000Z"}}},
		Location:       "Room 1",
		MeetingStatus:  "1",
		OrganizerEmail: "o@example.test",
		OrganizerName:  "Org",
		Recurrence: &Recurrence{Type: "3", Occurrences: "10", Interval: "1", WeekOfMonth: "5", DayOfWeek: "2",
			MonthOfYear: "1", Until: "20261231T235959Z", DayOfMonth: "14", CalendarType: "1", IsLeapMonth: "0", FirstDayOfWeek: "1"},
		Reminder:                  "15",
		Sensitivity:               "0",
		Subject:                   "Weekly <sync> & more",
		StartTime:                 "20260114T090000Z",
		UID:                       "040000008200E00074C5B7101A82E008",
		DisallowNewTimeProposal:   "1",
		ResponseRequested:         "1",
		AppointmentReplyTime:      "20260102T000000Z",
		ResponseType:              "1",
		OnlineMeetingConfLink:     "https://meet.example.test/c",
		OnlineMeetingExternalLink: "https://meet.example.test/e",
		ClientUID:                 "client-uid-1",
		Body:                      &Body{Type: BodyPlain, EstimatedDataSize: 5, Data: "notes"},
		NativeBodyType:            1,
		Location16:                fullLocation(),
	}
}

func TestCalendarRoundTrip(t *testing.T) {
	for _, c := range []*Calendar{fullCalendar(), {Subject: "Only"}, {Attendees: &Attendees{}, Categories: &CalendarCats{}, Exceptions: &Exceptions{}}} {
		doc := &calendarAdd{ServerID: "8:1", ApplicationData: c}
		b, err := wbxml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		back := &calendarAdd{}
		if err := wbxml.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		back.WBXMLName = 0
		if !reflect.DeepEqual(doc, back) {
			t.Errorf("round trip changed it:\n got %+v\nwant %+v", back.ApplicationData, c)
		}
	}
}

// Every field of the full event, exception and location is set, so a
// field added without a value here fails instead of going untested.
func TestFullCalendarIsFull(t *testing.T) {
	for _, v := range []reflect.Value{reflect.ValueOf(fullCalendar()).Elem(), reflect.ValueOf(fullException()),
		reflect.ValueOf(*fullLocation()), reflect.ValueOf(*fullCalendar().Recurrence)} {
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).IsZero() {
				t.Errorf("%s leaves %s unset", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
}

// A client's empty element must decode without an error.
func TestCalendarEmptyElementsDecode(t *testing.T) {
	ct := reflect.TypeFor[Calendar]()
	for i := 0; i < ct.NumField(); i++ {
		f := ct.Field(i)
		if f.Name == "NativeBodyType" { // server only
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("wbxml"), ",")
		app := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), wbxml.NewElement(wbxml.MustTag(name)))
		add := wbxml.NewElement(wbxml.MustTag("AirSync:Add"), wbxml.TextElement(wbxml.MustTag("AirSync:ServerId"), "1"), app)
		b, err := add.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if err := wbxml.Unmarshal(b, &calendarAdd{}); err != nil {
			t.Errorf("empty %s: %v", name, err)
		}
	}
}

// TestCalendarLibwbxml checks the encoding against libwbxml (Debian
// package libwbxml2-utils), an independent implementation. libwbxml 0.11.8
// knows code page 4 up to 14.1 but none of the 16.x AirSyncBase tokens
// (Location and its parts, InstanceId), so it reads a 14.1-shaped event;
// the 16.x tokens are checked against the token table by the round trip.
// libCalNames maps its prefixed names to MS-ASWBXML's.
func TestCalendarLibwbxml(t *testing.T) {
	if _, err := exec.LookPath("wbxml2xml"); err != nil {
		msg := "wbxml2xml not found: install the Debian package libwbxml2-utils"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := fullCalendar()
	c.Location16 = nil
	for i := range c.Exceptions.Exception {
		c.Exceptions.Exception[i].Location16 = nil
		c.Exceptions.Exception[i].InstanceID = ""
	}
	doc := &calendarAdd{ServerID: "8:1", ApplicationData: c}
	b, err := wbxml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var ours bytes.Buffer
	if err := wbxml.WriteXML(&ours, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wbxml")
	out := filepath.Join(dir, "out.xml")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("wbxml2xml", "-m", "0", "-l", "ACTIVESYNC", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("wbxml2xml: %v: %s", err, msg)
	}
	lib, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(lib, []byte("<unknown")) {
		t.Fatalf("libwbxml does not know a token:\n%s", lib)
	}
	lib = libName.ReplaceAllFunc(lib, func(m []byte) []byte {
		sub := libName.FindSubmatch(m)
		if to, ok := libCalNames[string(sub[2])]; ok {
			return []byte("<" + string(sub[1]) + to)
		}
		return m
	})
	got, want := xmlLines(t, lib, true), xmlLines(t, ours.Bytes(), false)
	if got != want {
		t.Errorf("libwbxml reads the event differently:\n got %s\nwant %s", got, want)
	}
	if n := strings.Count(want, "\n"); n < 60 {
		t.Errorf("only %d elements compared", n)
	}
}

// libName matches an element name in a start or end tag.
var libName = regexp.MustCompile(`<(/?)([A-Za-z_]+)`)

// libCalNames maps libwbxml 0.11.8's Calendar element names to
// MS-ASWBXML's.
var libCalNames = map[string]string{
	"TimeZone":               "Timezone",
	"Attendee_Email":         "Email",
	"Attendee_Name":          "Name",
	"Attendee_Status":        "AttendeeStatus",
	"Attendee_Type":          "AttendeeType",
	"Compressed_RTF":         "CompressedRTF",
	"DTStamp":                "DtStamp",
	"Exception_Deleted":      "Deleted",
	"Exception_StartTime":    "ExceptionStartTime",
	"Organizer_Email":        "OrganizerEmail",
	"Organizer_Name":         "OrganizerName",
	"Recurrence_Type":        "Type",
	"Recurrence_Occurrences": "Occurrences",
	"Recurrence_Interval":    "Interval",
	"Recurrence_WeekOfMonth": "WeekOfMonth",
	"Recurrence_DayOfWeek":   "DayOfWeek",
	"Recurrence_MonthOfYear": "MonthOfYear",
	"Recurrence_Until":       "Until",
	"Recurrence_DayOfMonth":  "DayOfMonth",
}
