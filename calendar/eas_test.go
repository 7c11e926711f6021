package calendar

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/calendar/recur"
	"github.com/easd/easd/calendar/tz"
	"github.com/easd/easd/eas/message"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func blobOf(loc *time.Location, year int) string {
	return base64.StdEncoding.EncodeToString(tz.Encode(loc, year).Bytes())
}

func apply(t *testing.T, base *ical.Calendar, c *message.Calendar, v int, zone *time.Location) *ical.Calendar {
	t.Helper()
	cal, err := Apply(base, Edit{Event: c, Version: v, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepare(cal, "")
	if err != nil {
		t.Fatal(err)
	}
	// What the store would keep, read back.
	back, err := decodeObject(p.text)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func render(t *testing.T, cal *ical.Calendar, v int, zone *time.Location) *message.Calendar {
	t.Helper()
	out, err := ToEAS(cal, RenderOptions{Version: v, Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func occurrences(t *testing.T, cal *ical.Calendar, from, to time.Time) []time.Time {
	t.Helper()
	m, ov := events(cal)
	z := zonesOf(cal, nil)
	s, _, err := z.span(m)
	if err != nil {
		t.Fatal(err)
	}
	ex, _ := z.timesOf(m, ical.PropExceptionDates)
	occ, err := recur.Expand(s.t, m.Props.Get(ical.PropRecurrenceRule).Value, nil, instants(ex), from, to, 1000)
	if err != nil {
		t.Fatal(err)
	}
	_ = ov
	return occ
}

// Failure mode 1: a TZID that is a Windows name (or unknown) must not fall
// back to UTC and shift the event by hours.
func TestWindowsAndUnknownTZID(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	for _, tzid := range []string{"W. Europe Standard Time", "Europe/Berlin"} {
		cal := object(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:x
BEGIN:VEVENT
UID:w
DTSTAMP:20260101T000000Z
DTSTART;TZID="`+tzid+`":20260714T090000
DTEND;TZID="`+tzid+`":20260714T100000
END:VEVENT
END:VCALENDAR`)
		out := render(t, cal, 141, time.UTC)
		if out.StartTime != "20260714T070000Z" {
			t.Errorf("%s: start %s, want 07:00Z", tzid, out.StartTime)
		}
	}
	// Unknown TZID without VTIMEZONE: the user's zone, not UTC.
	cal := object(t, "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:u\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=Nowhere/Special:20260714T090000\nEND:VEVENT\nEND:VCALENDAR")
	if out := render(t, cal, 141, berlin); out.StartTime != "20260714T070000Z" {
		t.Errorf("unknown TZID: start %s, want 07:00Z (user's zone)", out.StartTime)
	}
	// A blob: the phone's Berlin blob lands in Berlin.
	c := apply(t, nil, &message.Calendar{Timezone: blobOf(berlin, 2026), StartTime: "20260714T070000Z", EndTime: "20260714T080000Z", Subject: "x"}, 141, time.UTC)
	m, _ := events(c)
	if p := m.Props.Get(ical.PropDateTimeStart); p.Params.Get(ical.PropTimezoneID) != "Europe/Berlin" || p.Value != "20260714T090000" {
		t.Errorf("DTSTART %v %q", p.Params, p.Value)
	}
}

// Failure mode 2: a weekly series created in winter keeps its wall clock
// after the DST change.
func TestWeeklySeriesAcrossDST(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	c := apply(t, nil, &message.Calendar{Timezone: blobOf(ny, 2026), StartTime: "20260302T140000Z", EndTime: "20260302T150000Z",
		Subject: "standup", Recurrence: &message.Recurrence{Type: "1", Interval: "1", DayOfWeek: "2", Occurrences: "4"}}, 141, time.UTC)
	occ := occurrences(t, c, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(occ) != 4 {
		t.Fatalf("%d occurrences", len(occ))
	}
	for _, o := range occ {
		if h := o.In(ny).Hour(); h != 9 {
			t.Errorf("occurrence %v at %d:00 New York, want 9:00", o, h)
		}
	}
	// And back out: the blob is New York's, the start the same instant.
	out := render(t, c, 141, time.UTC)
	if out.StartTime != "20260302T140000Z" || out.Timezone != blobOf(ny, 2026) {
		t.Errorf("rendered %s %s", out.StartTime, out.Timezone)
	}
}

// Failure mode 3: all-day events far from UTC, ends at 23:59, Nokia's
// start == end, 16.x dates.
func TestAllDayFarFromUTC(t *testing.T) {
	for _, zn := range []string{"Pacific/Kiritimati", "Pacific/Pago_Pago", "Australia/Sydney", "America/Los_Angeles"} {
		loc := mustLoad(t, zn)
		mid := func(d int) string { return time.Date(2026, 3, d, 0, 0, 0, 0, loc).UTC().Format(compact) }
		for name, ev := range map[string]*message.Calendar{
			"midnight": {StartTime: mid(10), EndTime: mid(11)},
			"23:59":    {StartTime: mid(10), EndTime: time.Date(2026, 3, 10, 23, 59, 0, 0, loc).UTC().Format(compact)},
			"nokia":    {StartTime: mid(10), EndTime: mid(10)},
		} {
			ev.Timezone, ev.AllDayEvent, ev.Subject = blobOf(loc, 2026), "1", "day"
			c := apply(t, nil, ev, 141, time.UTC)
			m, _ := events(c)
			if s, e := m.Props.Get(ical.PropDateTimeStart).Value, m.Props.Get(ical.PropDateTimeEnd).Value; s != "20260310" || e != "20260311" {
				t.Errorf("%s %s: stored %s..%s, want 20260310..20260311", zn, name, s, e)
			}
			out := render(t, c, 141, loc)
			if out.StartTime != mid(10) || out.EndTime != mid(11) || out.AllDayEvent != "1" {
				t.Errorf("%s %s: rendered %s..%s", zn, name, out.StartTime, out.EndTime)
			}
			out16 := render(t, c, 161, loc)
			if out16.StartTime != "20260310T000000Z" || out16.EndTime != "20260311T000000Z" || out16.Timezone != "" {
				t.Errorf("%s %s: 16.1 rendered %s..%s tz %q", zn, name, out16.StartTime, out16.EndTime, out16.Timezone)
			}
		}
	}
	// 16.x sends dates as midnight UTC without a TimeZone.
	c := apply(t, nil, &message.Calendar{AllDayEvent: "1", StartTime: "20260310T000000Z", EndTime: "20260311T000000Z", Subject: "d"}, 161, mustLoad(t, "Pacific/Kiritimati"))
	if m, _ := events(c); m.Props.Get(ical.PropDateTimeStart).Value != "20260310" {
		t.Errorf("16.x all-day start %s", m.Props.Get(ical.PropDateTimeStart).Value)
	}
}

// Failure mode 4: moving one occurrence, and deleting one, of an all-day
// series: right dates, no duplicate, not turned into a meeting.
func TestMoveAndDeleteOneOccurrence(t *testing.T) {
	syd := mustLoad(t, "Australia/Sydney")
	mid := func(d int) string { return time.Date(2026, 3, d, 0, 0, 0, 0, syd).UTC().Format(compact) }
	series := &message.Calendar{Timezone: blobOf(syd, 2026), AllDayEvent: "1", StartTime: mid(2), EndTime: mid(3), Subject: "gym",
		Recurrence: &message.Recurrence{Type: "0", Interval: "1", Occurrences: "5"}}
	c := apply(t, nil, series, 141, time.UTC)
	series.Exceptions = &message.Exceptions{Exception: []message.Exception{
		{ExceptionStartTime: mid(3), StartTime: mid(10), EndTime: mid(11)},
		{ExceptionStartTime: mid(4), Deleted: "1"},
	}}
	c = apply(t, c, series, 141, time.UTC)
	m, ov := events(c)
	if len(ov) != 1 || ov[0].Props.Get(ical.PropRecurrenceID).Value != "20260303" || ov[0].Props.Get(ical.PropDateTimeStart).Value != "20260310" {
		t.Fatalf("overrides %d", len(ov))
	}
	if textOf(ov[0], ical.PropSummary) != "gym" {
		t.Errorf("moved occurrence lost its subject: %q", textOf(ov[0], ical.PropSummary))
	}
	if ex := m.Props.Get(ical.PropExceptionDates); ex == nil || ex.Value != "20260304" {
		t.Errorf("EXDATE %v", ex)
	}
	out := render(t, c, 141, syd)
	if out.MeetingStatus != "0" || out.Exceptions == nil || len(out.Exceptions.Exception) != 2 {
		t.Fatalf("rendered %+v", out)
	}
	for _, x := range out.Exceptions.Exception {
		if x.MeetingStatus != "" || x.Attendees != nil {
			t.Errorf("exception became a meeting: %+v", x)
		}
	}
}

// Failure mode 5: a 16.x instance change carries only the changed
// fields; the occurrence keeps the rest, and there is one override.
func TestInstanceChangeVsExceptions(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	c := apply(t, nil, &message.Calendar{Timezone: blobOf(berlin, 2026), StartTime: "20260105T080000Z", EndTime: "20260105T090000Z",
		Subject: "weekly", Location: "Room 1", Recurrence: &message.Recurrence{Type: "1", Interval: "1", DayOfWeek: "2"}}, 141, time.UTC)
	inst := time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC)
	c2, err := ApplyInstance(c, inst, Edit{Event: &message.Calendar{StartTime: "20260112T100000Z", EndTime: "20260112T110000Z"}, Version: 161})
	if err != nil {
		t.Fatal(err)
	}
	c3, err := ApplyInstance(c2, inst, Edit{Event: &message.Calendar{Subject: "moved"}, Version: 161})
	if err != nil {
		t.Fatal(err)
	}
	_, ov := events(c3)
	if len(ov) != 1 {
		t.Fatalf("%d overrides", len(ov))
	}
	if textOf(ov[0], ical.PropSummary) != "moved" || textOf(ov[0], ical.PropLocation) != "Room 1" || ov[0].Props.Get(ical.PropDateTimeStart).Value != "20260112T110000" {
		t.Errorf("override %v", ov[0].Props)
	}
	out := render(t, c3, 161, time.UTC)
	if len(out.Exceptions.Exception) != 1 || out.Exceptions.Exception[0].InstanceID != "20260112T080000Z" || out.Exceptions.Exception[0].ExceptionStartTime != "" {
		t.Errorf("16.1 exceptions %+v", out.Exceptions)
	}
	out14 := render(t, c3, 141, time.UTC)
	if x := out14.Exceptions.Exception[0]; x.ExceptionStartTime != "20260112T080000Z" || x.StartTime != "20260112T100000Z" || x.Subject != "moved" {
		t.Errorf("14.1 exception %+v", x)
	}
}

// Failure mode 6: a deleted occurrence stays deleted, the EXDATE at the
// occurrence's local time in the series' zone.
func TestDeletedOccurrences(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	c := apply(t, nil, &message.Calendar{Timezone: blobOf(ny, 2026), StartTime: "20260302T140000Z", EndTime: "20260302T150000Z",
		Subject: "s", Recurrence: &message.Recurrence{Type: "0", Interval: "1", Occurrences: "20"}}, 141, time.UTC)
	// After the DST change (8 March) the occurrence is at 13:00Z.
	c, err := DeleteInstance(c, time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := events(c)
	if ex := m.Props.Get(ical.PropExceptionDates); ex.Value != "20260310T090000" || ex.Params.Get(ical.PropTimezoneID) != "America/New_York" {
		t.Errorf("EXDATE %v %s", ex.Params, ex.Value)
	}
	occ := occurrences(t, c, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(occ) != 19 {
		t.Errorf("%d occurrences, want 19", len(occ))
	}
	// A 14.1 phone's edit that re-sends the deletion keeps it, once.
	out := render(t, c, 141, time.UTC)
	c2 := apply(t, c, out, 141, time.UTC)
	m2, _ := events(c2)
	if n := len(m2.Props.Values(ical.PropExceptionDates)); n != 1 {
		t.Errorf("%d EXDATEs after the echo", n)
	}
}

// Failure mode 7: UNTIL is UTC for a timed series and a DATE for an
// all-day one, and the last occurrence is kept.
func TestUntilType(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	c := apply(t, nil, &message.Calendar{Timezone: blobOf(ny, 2026), StartTime: "20260302T140000Z", EndTime: "20260302T150000Z",
		Subject: "s", Recurrence: &message.Recurrence{Type: "0", Interval: "1", Until: "20260310T130000Z"}}, 141, time.UTC)
	m, _ := events(c)
	rr := m.Props.Get(ical.PropRecurrenceRule).Value
	if !strings.Contains(rr, "UNTIL=20260310T130000Z") {
		t.Errorf("RRULE %s", rr)
	}
	if occ := occurrences(t, c, time.Time{}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); len(occ) != 9 {
		t.Errorf("%d occurrences, want 9 (the last on the UNTIL instant)", len(occ))
	}
	syd := mustLoad(t, "Australia/Sydney")
	mid := func(d int) string { return time.Date(2026, 3, d, 0, 0, 0, 0, syd).UTC().Format(compact) }
	c = apply(t, nil, &message.Calendar{Timezone: blobOf(syd, 2026), AllDayEvent: "1", StartTime: mid(2), EndTime: mid(3),
		Subject: "d", Recurrence: &message.Recurrence{Type: "0", Interval: "1", Until: mid(6)}}, 141, time.UTC)
	m, _ = events(c)
	if rr := m.Props.Get(ical.PropRecurrenceRule).Value; !strings.Contains(rr, "UNTIL=20260306") || strings.Contains(rr, "UNTIL=20260306T") {
		t.Errorf("all-day RRULE %s", rr)
	}
	if out := render(t, c, 141, syd); out.Recurrence.Until != mid(6) {
		t.Errorf("all-day Until rendered %s, want %s", out.Recurrence.Until, mid(6))
	}
	// Until before the start is refused.
	if _, err := Apply(nil, Edit{Version: 141, Event: &message.Calendar{StartTime: "20260302T140000Z", EndTime: "20260302T150000Z",
		Recurrence: &message.Recurrence{Type: "0", Until: "20260301T000000Z"}}}); err == nil {
		t.Error("Until before start accepted")
	}
}

// A rule EAS cannot express is sent in its nearest form; the phone's
// echo of that form keeps the stored rule.
func TestLossyRuleSurvivesEcho(t *testing.T) {
	cal := object(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:x
BEGIN:VEVENT
UID:l
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260105T090000
DTEND;TZID=Europe/Berlin:20260105T100000
RRULE:FREQ=MONTHLY;BYMONTHDAY=5,20
X-OTHER:kept
END:VEVENT
END:VCALENDAR`)
	out := render(t, cal, 141, time.UTC)
	c := apply(t, cal, out, 141, time.UTC)
	m, _ := events(c)
	if rr := m.Props.Get(ical.PropRecurrenceRule).Value; rr != "FREQ=MONTHLY;BYMONTHDAY=5,20" {
		t.Errorf("stored rule replaced by the echo: %s", rr)
	}
	if textOf(m, "X-OTHER") != "kept" {
		t.Error("unknown property lost")
	}
}

// Failure mode 8 (mapping side): a 16.x Add's UID is made from its
// ClientUid, iOS's trailing NUL stripped, so a retried Add has the same
// UID and the store finds it.
func TestClientUIDQuirk(t *testing.T) {
	id := strings.Repeat("A", 32) + "\x00"
	c := apply(t, nil, &message.Calendar{ClientUID: id, StartTime: "20260302T140000Z", EndTime: "20260302T150000Z", UID: "ignored", OrganizerEmail: "x@y"}, 161, time.UTC)
	m, _ := events(c)
	if got := textOf(m, ical.PropUID); got != strings.Repeat("A", 32) {
		t.Errorf("UID %q", got)
	}
	if m.Props.Get(ical.PropOrganizer) != nil {
		t.Error("16.x organizer accepted")
	}
}

func TestBadInput(t *testing.T) {
	many := &message.Exceptions{}
	for i := range 300 {
		many.Exception = append(many.Exception, message.Exception{Deleted: "1", ExceptionStartTime: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(compact)})
	}
	for name, c := range map[string]*message.Calendar{
		"blob":       {Timezone: "AAAA", StartTime: "20260302T140000Z"},
		"blob64":     {Timezone: "!!", StartTime: "20260302T140000Z"},
		"until":      {StartTime: "20260302T140000Z", Recurrence: &message.Recurrence{Type: "0", Until: "20260201T000000Z"}},
		"exceptions": {StartTime: "20260101T090000Z", Recurrence: &message.Recurrence{Type: "0"}, Exceptions: many},
		"start":      {StartTime: "yesterday"},
		"busy":       {StartTime: "20260302T140000Z", BusyStatus: "9"},
	} {
		if _, err := Apply(nil, Edit{Event: c, Version: 141}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// Every element a 14.1 and a 16.1 phone may send comes back as sent.
func TestEveryFieldRoundTrip(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	full := func(v int) *message.Calendar {
		c := &message.Calendar{Timezone: blobOf(berlin, 2026), AllDayEvent: "0", BusyStatus: "3", Sensitivity: "1",
			Subject: "All, the; fields\nline2", StartTime: "20260105T080000Z", EndTime: "20260105T093000Z", Reminder: "15",
			Categories: &message.CalendarCats{Category: []string{"A,B", "Work"}}, MeetingStatus: "1",
			Attendees: &message.Attendees{Attendee: []message.Attendee{{Email: "a@example.test", Name: "A", AttendeeStatus: "3", AttendeeType: "1"},
				{Email: "r@example.test", Name: "Room", AttendeeStatus: "0", AttendeeType: "3"}}},
			Body:                    &message.Body{Type: message.BodyPlain, Data: "notes\nmore"},
			Recurrence:              &message.Recurrence{Type: "3", Interval: "1", WeekOfMonth: "5", DayOfWeek: "2", Occurrences: "6"},
			DisallowNewTimeProposal: "1", ResponseRequested: "1", ResponseType: "1", AppointmentReplyTime: "20260102T000000Z",
		}
		if v >= 160 {
			c.Location16 = &message.Location{DisplayName: "Room 1", City: "Berlin", Latitude: "52.5", Longitude: "13.4"}
			c.ClientUID = "cu-1"
		} else {
			c.Location, c.UID, c.OrganizerEmail, c.OrganizerName = "Room 1", "uid-1", "o@example.test", "Org"
		}
		return c
	}
	for _, v := range []int{141, 161} {
		in := full(v)
		c := apply(t, nil, in, v, time.UTC)
		out := render(t, c, v, time.UTC)
		check := func(name, got, want string) {
			if got != want {
				t.Errorf("%d %s: got %q want %q", v, name, got, want)
			}
		}
		check("Timezone", out.Timezone, in.Timezone)
		check("Subject", out.Subject, in.Subject)
		check("Start", out.StartTime, in.StartTime)
		check("End", out.EndTime, in.EndTime)
		check("Busy", out.BusyStatus, in.BusyStatus)
		check("Sensitivity", out.Sensitivity, in.Sensitivity)
		check("Reminder", out.Reminder, in.Reminder)
		check("Meeting", out.MeetingStatus, in.MeetingStatus)
		check("Body", out.Body.Data, in.Body.Data)
		check("Categories", strings.Join(out.Categories.Category, "|"), "A,B|Work")
		check("Attendees", strings.Join([]string{out.Attendees.Attendee[0].Email, out.Attendees.Attendee[0].AttendeeStatus,
			out.Attendees.Attendee[1].AttendeeType}, "|"), "a@example.test|3|3")
		check("Recurrence", out.Recurrence.Type+out.Recurrence.WeekOfMonth+out.Recurrence.DayOfWeek+out.Recurrence.Occurrences, "3526")
		check("Disallow", out.DisallowNewTimeProposal, "1")
		check("ResponseRequested", out.ResponseRequested, "1")
		check("ResponseType", out.ResponseType, "1")
		check("ReplyTime", out.AppointmentReplyTime, in.AppointmentReplyTime)
		if v >= 160 {
			if out.Location16 == nil || *out.Location16 != *in.Location16 {
				t.Errorf("16.1 location %+v", out.Location16)
			}
			check("UID", out.UID, "cu-1")
		} else {
			check("Location", out.Location, in.Location)
			check("UID", out.UID, "uid-1")
			check("Organizer", out.OrganizerEmail+out.OrganizerName, "o@example.testOrg")
		}
	}
}
