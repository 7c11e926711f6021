package mailconv

import (
	"strings"
	"testing"
)

const inviteICS = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//test//EN
METHOD:REQUEST
BEGIN:VEVENT
UID:{81412D3C-2A24-4E9D-B20E-11F7BBE92799}
SEQUENCE:0
DTSTAMP:20260105T080000Z
DTSTART;TZID=Europe/Berlin:20260112T100000
DTEND;TZID=Europe/Berlin:20260112T110000
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:Planning
LOCATION:Room 1
ORGANIZER;CN=Bob:mailto:bob@example.test
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.test
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
`

func inviteMail(method, ics string) string {
	return "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: Invitation: Planning\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nYou are invited.\r\n--b\r\n" +
		"Content-Type: text/calendar; charset=utf-8; method=" + method + "\r\n\r\n" +
		strings.ReplaceAll(ics, "\n", "\r\n") + "--b--\r\n"
}

func TestMeetingRequestFromInvitation(t *testing.T) {
	for _, v := range []int{121, 141, 161} {
		e, err := Convert(strings.NewReader(inviteMail("REQUEST", inviteICS)), Meta{UID: 1}, Options{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		if e.MessageClass != "IPM.Schedule.Meeting.Request" || e.ContentClass != "urn:content-classes:calendarmessage" {
			t.Fatalf("%d: class %q %q", v, e.MessageClass, e.ContentClass)
		}
		mr := e.MeetingRequest
		if mr == nil || e.Meeting == nil {
			t.Fatalf("%d: no MeetingRequest", v)
		}
		if mr.StartTime != "2026-01-12T09:00:00.000Z" || mr.EndTime != "2026-01-12T10:00:00.000Z" ||
			mr.DtStamp != "2026-01-05T08:00:00.000Z" || mr.InstanceType != "1" || mr.Reminder != "900" ||
			mr.ResponseRequested != "1" || mr.TimeZone == "" || mr.Organizer != `"Bob" <bob@example.test>` {
			t.Errorf("%d: %+v", v, mr)
		}
		if mr.Recurrences == nil || mr.Recurrences.Recurrence[0].Type != "1" || mr.Recurrences.Recurrence[0].Occurrences != "4" {
			t.Errorf("%d: recurrences %+v", v, mr.Recurrences)
		}
		want := "BAAAAIIA4AB0xbcQGoLgCAAAAAAAAAAAAAAAAAAAAAAAAAAAMwAAAHZDYWwtVWlkAQAAAHs4MTQxMkQzQy0yQTI0LTRFOUQtQjIwRS0xMUY3QkJFOTI3OTl9AA=="
		if mr.GlobalObjID != want {
			t.Errorf("%d: GlobalObjId %s", v, mr.GlobalObjID)
		}
		if v >= 160 && (mr.Location16 == nil || mr.Location16.DisplayName != "Room 1") {
			t.Errorf("%d: location %+v", v, mr.Location16)
		}
		if v < 160 && mr.Location != "Room 1" {
			t.Errorf("%d: location %q", v, mr.Location)
		}
		if (v >= 141) != (mr.MeetingMessageType == "1") {
			t.Errorf("%d: MeetingMessageType %q", v, mr.MeetingMessageType)
		}
	}
	reply := strings.Replace(strings.Replace(inviteICS, "METHOD:REQUEST", "METHOD:REPLY", 1), "PARTSTAT=NEEDS-ACTION", "PARTSTAT=TENTATIVE", 1)
	e, _ := Convert(strings.NewReader(inviteMail("REPLY", reply)), Meta{UID: 1}, Options{Version: 141})
	if e.MessageClass != "IPM.Schedule.Meeting.Resp.Tent" {
		t.Errorf("reply class %q", e.MessageClass)
	}
	if got := CalendarObject([]byte(inviteMail("CANCEL", inviteICS))); !strings.Contains(string(got), "UID:{81412D3C") {
		t.Errorf("CalendarObject: %q", got)
	}
}
