package eas_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/easd/easd/calendar/tz"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// berlinBlob is the TimeZone blob of Europe/Berlin (MS-ASDTYPE 2.7.6): UTC+1,
// DST from the last Sunday of March 02:00 to the last Sunday of October 03:00.
func berlinBlob() string {
	// As Windows phones send it: the zone's rules with its Windows names,
	// which the server sends back unchanged.
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(tz.Encode(loc, 2026).Bytes())
}

// fullEvent has a value in every element a phone of version v may send.
func fullEvent(v int, start time.Time) *message.Calendar {
	c := &message.Calendar{
		Timezone: berlinBlob(), AllDayEvent: "0", BusyStatus: "1", Sensitivity: "2", Subject: "Planning, weekly; <all>",
		StartTime: start.UTC().Format("20060102T150405Z"), EndTime: start.Add(90 * time.Minute).UTC().Format("20060102T150405Z"),
		Reminder: "10", MeetingStatus: "1", Categories: &message.CalendarCats{Category: []string{"Work", "A,B"}},
		Attendees: &message.Attendees{Attendee: []message.Attendee{{Email: "bob@example.test", Name: "Bob", AttendeeStatus: "3", AttendeeType: "1"}}},
		Body:      &message.Body{Type: message.BodyPlain, Data: "agenda\nitems"},
		Recurrence: &message.Recurrence{Type: "1", Interval: "1", DayOfWeek: fmt.Sprint(1 << int(start.In(berlin()).Weekday())),
			Occurrences: "10"},
		DisallowNewTimeProposal: "1", ResponseRequested: "1", ResponseType: "1",
	}
	if v >= 160 {
		c.Location16 = &message.Location{DisplayName: "Room 1", City: "Berlin"}
		// iOS adds a NUL as a 33rd character, which this client's encoder
		// cannot put in an inline string; the mapping test covers it.
		c.ClientUID = fmt.Sprintf("%032X", start.Unix())
	} else {
		c.Location, c.UID = "Room 1", fmt.Sprintf("uid-%d", start.Unix())
		c.OrganizerEmail, c.OrganizerName = "alice@example.test", "Alice"
		c.Exceptions = &message.Exceptions{Exception: []message.Exception{
			{ExceptionStartTime: start.AddDate(0, 0, 7).UTC().Format("20060102T150405Z"), Deleted: "1"},
			{ExceptionStartTime: start.AddDate(0, 0, 14).UTC().Format("20060102T150405Z"),
				StartTime: start.AddDate(0, 0, 14).Add(time.Hour).UTC().Format("20060102T150405Z"),
				EndTime:   start.AddDate(0, 0, 14).Add(150 * time.Minute).UTC().Format("20060102T150405Z"), Subject: "moved"},
		}}
	}
	return c
}

func berlin() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}

// calEnv is alice's Calendar folder on a phone of one version, synced.
type calEnv struct {
	*contactsEnv
}

func startCalendar(t *testing.T, s *syncEnv, version string, filter *int) *calEnv {
	t.Helper()
	s.c.Version = version
	ce := &calEnv{&contactsEnv{syncEnv: s, folder: s.ids["Calendar"]}}
	rc := s.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: ce.folder, Options: filterOpt(filter)})
	if rc.Status != 1 {
		t.Fatalf("key 0: %+v", rc)
	}
	ce.key = rc.SyncKey
	ce.pullF(t, filter)
	return ce
}

func filterOpt(filter *int) []message.SyncOptions {
	if filter == nil {
		return nil
	}
	return []message.SyncOptions{{FilterType: filter}}
}

func (ce *calEnv) pullF(t *testing.T, filter *int) message.SyncCommands {
	t.Helper()
	var all message.SyncCommands
	for range 100 {
		rc := ce.sync(t, message.SyncCollection{SyncKey: ce.key, CollectionID: ce.folder, WindowSize: 512, Options: filterOpt(filter)})
		if rc.Status != 1 {
			t.Fatalf("calendar sync: %+v", rc)
		}
		ce.key = rc.SyncKey
		c := commands(rc)
		all.Add = append(all.Add, c.Add...)
		all.Change = append(all.Change, c.Change...)
		all.Delete = append(all.Delete, c.Delete...)
		if !rc.MoreAvailable {
			return all
		}
	}
	t.Fatal("MoreAvailable forever")
	return all
}

func decodedEvent(t *testing.T, it message.SyncItem) *message.Calendar {
	t.Helper()
	el, ok := it.ApplicationData.(*wbxml.Element)
	if !ok {
		t.Fatalf("ApplicationData %T", it.ApplicationData)
	}
	b, err := el.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	c := &message.Calendar{}
	if err := wbxml.NewDecoder(bytes.NewReader(b), wbxml.Limits{}).Decode(c); err != nil {
		t.Fatal(err)
	}
	return c
}

func calAdd(id string, c *message.Calendar) message.SyncClientAdd {
	return message.SyncClientAdd{ClientID: id, ApplicationData: c}
}

// Every element goes phone -> store -> a second phone of the same
// version as sent; the adding phone does not get its event back.
func TestCalendarEveryFieldBetweenPhones(t *testing.T) {
	for _, v := range []struct {
		name string
		num  int
	}{{"14.1", 141}, {"16.1", 161}} {
		t.Run(v.name, func(t *testing.T) {
			s := startSync(t)
			a := startCalendar(t, s, v.name, nil)
			b := startCalendar(t, s.device(t, "phone-b"), v.name, nil)
			start := time.Date(2026, 3, 2, 9, 0, 0, 0, berlin()) // before the DST change
			want := fullEvent(v.num, start)
			id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("e1", want)}}))
			if cmds := a.pullF(t, nil); len(cmds.Add)+len(cmds.Change) != 0 {
				t.Fatalf("the adding phone got its event back: %+v", cmds)
			}
			cmds := b.pullF(t, nil)
			if len(cmds.Add) != 1 || cmds.Add[0].ServerID != id {
				t.Fatalf("second phone got %+v", cmds)
			}
			got := decodedEvent(t, cmds.Add[0])
			if got.Body == nil || got.Body.Data != want.Body.Data {
				t.Errorf("body %+v", got.Body)
			}
			if got.DtStamp == "" || got.UID == "" {
				t.Errorf("no DtStamp or UID: %+v", got)
			}
			if v.num >= 160 {
				if got.UID != fmt.Sprintf("%032X", start.Unix()) {
					t.Errorf("UID %q not made from the ClientUid", got.UID)
				}
				want.ClientUID = ""
				// A 16.x phone sends no organizer: the server makes the
				// user the organizer of the meeting (MeetingStatus 1).
				if got.OrganizerEmail != "alice@example.test" {
					t.Errorf("organizer %q", got.OrganizerEmail)
				}
				want.OrganizerEmail = got.OrganizerEmail
			} else if got.Exceptions == nil || len(got.Exceptions.Exception) != 2 {
				t.Errorf("exceptions %+v", got.Exceptions)
			} else {
				x := got.Exceptions.Exception
				if x[0].Deleted != "1" || x[1].Subject != "moved" || x[1].StartTime != want.Exceptions.Exception[1].StartTime {
					t.Errorf("exceptions %+v", x)
				}
				got.Exceptions, want.Exceptions = nil, nil
			}
			got.Body, want.Body, got.DtStamp, got.UID, want.UID = nil, nil, "", "", ""
			got.Recurrence.CalendarType, got.Recurrence.FirstDayOfWeek = "", ""
			if !reflect.DeepEqual(got, want) {
				t.Errorf("second phone's event differs:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// A Sync whose answer was lost is sent again: nothing is created twice.
// A second Add of the same UID (iOS's "Add to calendar") finds the event.
func TestCalendarLostResponseAndDuplicateUID(t *testing.T) {
	s := startSync(t)
	a := startCalendar(t, s, "14.1", nil)
	b := startCalendar(t, s.device(t, "phone-b"), "14.1", nil)
	ev := fullEvent(141, time.Date(2026, 5, 4, 9, 0, 0, 0, berlin()))
	add := &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("r1", ev)}}
	key := a.key
	first := added(t, a.send(t, add))
	a.key = key
	if again := added(t, a.send(t, add)); again != first {
		t.Fatalf("replayed Add made %s, first %s", again, first)
	}
	if dup := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("r2", ev)}})); dup != first {
		t.Fatalf("same UID made %s, first %s", dup, first)
	}
	if cmds := b.pullF(t, nil); len(cmds.Add) != 1 {
		t.Fatalf("other phone got %d adds, want 1", len(cmds.Add))
	}
}

// Two phones edit one series: the subject from one and the exceptions
// from the other both survive.
func TestCalendarTwoDevicesEditOneSeries(t *testing.T) {
	s := startSync(t)
	a := startCalendar(t, s, "14.1", nil)
	b := startCalendar(t, s.device(t, "phone-b"), "14.1", nil)
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, berlin())
	ev := fullEvent(141, start)
	ev.Exceptions = nil
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("s1", ev)}}))
	if cmds := b.pullF(t, nil); len(cmds.Add) != 1 {
		t.Fatalf("b got %+v", cmds)
	}

	ev.Subject = "renamed by a"
	a.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: ev}}})
	cmds := b.pullF(t, nil)
	if len(cmds.Change) != 1 || decodedEvent(t, cmds.Change[0]).Subject != "renamed by a" {
		t.Fatalf("b got %+v", cmds)
	}
	got := decodedEvent(t, cmds.Change[0])
	got.Exceptions = &message.Exceptions{Exception: []message.Exception{{Deleted: "1", ExceptionStartTime: start.AddDate(0, 0, 7).UTC().Format("20060102T150405Z")}}}
	b.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: got}}})
	cmds = a.pullF(t, nil)
	if len(cmds.Change) != 1 {
		t.Fatalf("a got %+v", cmds)
	}
	final := decodedEvent(t, cmds.Change[0])
	if final.Subject != "renamed by a" || final.Exceptions == nil || len(final.Exceptions.Exception) != 1 || final.Location != "Room 1" {
		t.Errorf("final %+v", final)
	}
}

// Bad input gets Status 6 per item and writes nothing.
func TestCalendarBadInputStatus6(t *testing.T) {
	s := startSync(t)
	a := startCalendar(t, s, "14.1", nil)
	b := startCalendar(t, s.device(t, "phone-b"), "14.1", nil)
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, berlin())
	badBlob := fullEvent(141, start)
	badBlob.Timezone = base64.StdEncoding.EncodeToString([]byte("short"))
	untilBefore := fullEvent(141, start)
	untilBefore.UID, untilBefore.Exceptions = "u2", nil
	untilBefore.Recurrence = &message.Recurrence{Type: "0", Interval: "1", Until: "20250101T000000Z"}
	many := fullEvent(141, start)
	many.UID = "u3"
	many.Recurrence = &message.Recurrence{Type: "0", Interval: "1"}
	many.Exceptions = &message.Exceptions{}
	for i := range 300 {
		many.Exceptions.Exception = append(many.Exceptions.Exception,
			message.Exception{Deleted: "1", ExceptionStartTime: start.AddDate(0, 0, i+1).UTC().Format("20060102T150405Z")})
	}
	rc := a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("b1", badBlob), calAdd("b2", untilBefore), calAdd("b3", many)}})
	if rc.Responses == nil || len(rc.Responses.Add) != 3 {
		t.Fatalf("answers %+v", rc.Responses)
	}
	for _, r := range rc.Responses.Add {
		if r.Status != 6 || r.ServerID != "" {
			t.Errorf("bad add answered %+v", r)
		}
	}
	if cmds := b.pullF(t, nil); len(cmds.Add) != 0 {
		t.Fatalf("bad input was stored: %+v", cmds)
	}
}

// FilterType 4 (two weeks) shows the events that end within the window
// and every open series; no filter shows all.
func TestCalendarFilterTypeTwoWeeks(t *testing.T) {
	s := startSync(t)
	a := startCalendar(t, s, "16.1", nil)
	now := time.Now().In(berlin())
	old := fullEvent(161, now.AddDate(-1, 0, 0))
	old.Recurrence = nil
	recent := fullEvent(161, now.AddDate(0, 0, -3))
	recent.Recurrence = nil
	open := fullEvent(161, now.AddDate(-2, 0, 0))
	open.Recurrence.Occurrences = ""
	finished := fullEvent(161, now.AddDate(-2, 0, 1)) // ten weeks, long over
	rc := a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("f1", old), calAdd("f2", recent), calAdd("f3", open), calAdd("f4", finished)}})
	ids := map[string]string{}
	for _, r := range rc.Responses.Add {
		if r.Status != 1 {
			t.Fatalf("add %+v", r)
		}
		ids[r.ClientID] = r.ServerID
	}
	two := 4
	c := s.device(t, "phone-c")
	c.c.Version = "16.1"
	ce := &calEnv{&contactsEnv{syncEnv: c, folder: c.ids["Calendar"]}}
	r0 := c.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: ce.folder, Options: filterOpt(&two)})
	ce.key = r0.SyncKey
	cmds := ce.pullF(t, &two)
	got := map[string]bool{}
	for _, it := range cmds.Add {
		got[it.ServerID] = true
	}
	if len(got) != 2 || !got[ids["f2"]] || !got[ids["f3"]] {
		t.Errorf("two weeks showed %v, want recent %s and open %s", got, ids["f2"], ids["f3"])
	}
}

// A 16.x phone changes and deletes single occurrences with InstanceId;
// another phone sees them as exceptions of the one series (no duplicate
// occurrence, no series turned into single events), and the answer to
// the Add carries the UID the server made.
func TestCalendarInstanceIdChangeAndDelete(t *testing.T) {
	s := startSync(t)
	a := startCalendar(t, s, "16.1", nil)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, berlin())
	ev := fullEvent(160, start)
	rc := a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("s1", ev)}})
	id := added(t, rc)
	data, ok := rc.Responses.Add[0].ApplicationData.(*wbxml.Element)
	if !ok || data.ChildText("Calendar:UID") != ev.ClientUID {
		t.Fatalf("Add answer without the UID made from the ClientUid: %+v", rc.Responses.Add[0].ApplicationData)
	}
	second := start.AddDate(0, 0, 7).UTC().Format("2006-01-02T15:04:05.000Z")
	third := start.AddDate(0, 0, 14).UTC().Format("2006-01-02T15:04:05.000Z")
	moved := start.AddDate(0, 0, 14).Add(time.Hour)
	rc = a.send(t, &message.SyncClientCommands{
		Change: []message.SyncClientChange{{ServerID: id, InstanceID: third, ApplicationData: &message.Calendar{
			Subject:   "moved",
			StartTime: moved.UTC().Format("20060102T150405Z"), EndTime: moved.Add(90 * time.Minute).UTC().Format("20060102T150405Z")}}},
		Delete: []message.SyncClientDelete{{ServerID: id, InstanceID: second}},
	})
	if rc.Responses != nil && len(rc.Responses.Change)+len(rc.Responses.Delete) > 0 {
		t.Fatalf("occurrence commands refused: %+v", rc.Responses)
	}
	d := s.device(t, "phone-b")
	d.c.Version = "14.1"
	b := &calEnv{&contactsEnv{syncEnv: d, folder: d.ids["Calendar"]}}
	rcb := d.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: b.folder})
	b.key = rcb.SyncKey
	cmds := b.pullF(t, nil)
	if len(cmds.Add) != 1 {
		t.Fatalf("14.1 phone got %d events, want the one series", len(cmds.Add))
	}
	got := decodedEvent(t, cmds.Add[0])
	if got.Exceptions == nil || len(got.Exceptions.Exception) != 2 {
		t.Fatalf("exceptions %+v", got.Exceptions)
	}
	var deleted, changed bool
	for _, x := range got.Exceptions.Exception {
		switch x.ExceptionStartTime {
		case start.AddDate(0, 0, 7).UTC().Format("20060102T150405Z"):
			deleted = x.Deleted == "1"
		case start.AddDate(0, 0, 14).UTC().Format("20060102T150405Z"):
			changed = x.Subject == "moved" && x.StartTime == moved.UTC().Format("20060102T150405Z")
		}
	}
	if !deleted || !changed {
		t.Fatalf("exceptions %+v: deleted %v, changed %v", got.Exceptions.Exception, deleted, changed)
	}
	// An InstanceId on a class without occurrences is refused.
	c := startContacts(t, s)
	cid := added(t, c.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("c", &message.Contact{FirstName: "X"})}}))
	rc = c.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: cid, InstanceID: second}}})
	if rc.Responses == nil || len(rc.Responses.Delete) != 1 || rc.Responses.Delete[0].Status != 6 {
		t.Fatalf("InstanceId on a contact: %+v", rc.Responses)
	}
}
