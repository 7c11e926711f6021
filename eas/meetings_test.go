package eas_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/smtpsink"
	"github.com/easd/easd/wbxml"
)

// invitation is a meeting mail from bob to alice with a calendar object
// of method, UID uid and SEQUENCE seq; partStat is alice's PARTSTAT
// (bob's for a REPLY from bob).
func invitation(method, uid string, seq int, who, partStat string) []byte {
	ics := fmt.Sprintf(`BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//test//EN
METHOD:%s
BEGIN:VEVENT
UID:%s
SEQUENCE:%d
DTSTAMP:20260105T080000Z
DTSTART;TZID=Europe/Berlin:20260112T100000
DTEND;TZID=Europe/Berlin:20260112T110000
SUMMARY:Planning
LOCATION:Room 1
ORGANIZER;CN=Bob:mailto:bob@example.test
ATTENDEE;PARTSTAT=%s;RSVP=TRUE:mailto:%s
END:VEVENT
END:VCALENDAR
`, method, uid, seq, partStat, who)
	msg := "From: Bob <bob@example.test>\nTo: alice@example.test\nSubject: Planning\nMessage-ID: <" + uid + fmt.Sprint(seq) + method + "@example.test>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n--b\n" +
		"Content-Type: text/plain; charset=utf-8\n\nPlanning meeting.\n--b\n" +
		"Content-Type: text/calendar; charset=utf-8; method=" + method + "\n\n" + ics + "--b--\n"
	return crlf(msg)
}

func decodedMail(t *testing.T, it message.SyncItem) *message.Email {
	t.Helper()
	el, ok := it.ApplicationData.(*wbxml.Element)
	if !ok {
		t.Fatalf("ApplicationData %T", it.ApplicationData)
	}
	b, err := el.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	e := &message.Email{}
	if err := wbxml.NewDecoder(bytes.NewReader(b), wbxml.Limits{}).Decode(e); err != nil {
		t.Fatal(err)
	}
	return e
}

// imipOf returns the messages the sink holds with METHOD:method.
func imipOf(msgs []smtpsink.Message, method string) []smtpsink.Message {
	var out []smtpsink.Message
	for _, m := range msgs {
		if bytes.Contains(m.Data, []byte("METHOD:"+method+"\r\n")) {
			out = append(out, m)
		}
	}
	return out
}

// settleSink waits a moment for any message still on its way: a test
// that wants none must not pass only because it looked too early.
func settleSink(s *syncEnv) []smtpsink.Message {
	time.Sleep(300 * time.Millisecond)
	return s.env.SMTP.Messages()
}

// An invitation appended over IMAP wakes a Ping, syncs as a meeting
// request with its MeetingRequest, and is in the calendar as a tentative,
// unanswered meeting; a second device syncing the same mail adds nothing.
func TestMeetingInvitationSyncsAsRequest(t *testing.T) {
	s := startPing(t)
	s.c.Version = "14.1"
	inbox := s.ids["Inbox"]
	ikey := s.catchUp(t, inbox, s.start(t, inbox))
	ce := startCalendar(t, s, "14.1", nil)
	ping := pingAsync(s.c, time.Minute, message.PingFolder{ID: inbox, Class: "Email"}, message.PingFolder{ID: ce.folder, Class: "Calendar"})
	stillWaiting(t, ping, time.Second)

	s.env.Append(t, "alice", "INBOX", invitation("REQUEST", "inv-1@example.test", 0, "alice@example.test", "NEEDS-ACTION"))
	wantChanged(t, answer(t, ping, wakeWithin), inbox)

	ikey, cmds := s.syncAll(t, inbox, ikey)
	if len(cmds.Add) != 1 {
		t.Fatalf("inbox: %+v", cmds)
	}
	e := decodedMail(t, cmds.Add[0])
	mr := e.MeetingRequest
	if e.MessageClass != "IPM.Schedule.Meeting.Request" || mr == nil {
		t.Fatalf("mail class %q, MeetingRequest %+v", e.MessageClass, mr)
	}
	if mr.StartTime != "2026-01-12T09:00:00.000Z" || mr.Organizer != `"Bob" <bob@example.test>` || mr.GlobalObjID == "" ||
		mr.ResponseRequested != "1" || mr.MeetingMessageType != "1" || mr.TimeZone == "" || mr.Location != "Room 1" {
		t.Errorf("MeetingRequest %+v", mr)
	}

	got := ce.pullF(t, nil)
	if len(got.Add) != 1 {
		t.Fatalf("calendar: %+v", got)
	}
	ev := decodedEvent(t, got.Add[0])
	if ev.UID != "inv-1@example.test" || ev.BusyStatus != "1" || ev.MeetingStatus != "3" || ev.ResponseType != "5" ||
		ev.OrganizerEmail != "bob@example.test" {
		t.Errorf("filed event %+v", ev)
	}

	// Another device syncs the mail: the calendar does not change.
	other := s.device(t, "phone-other")
	other.c.Version = "14.1"
	other.syncAll(t, other.ids["Inbox"], other.start(t, other.ids["Inbox"]))
	if again := ce.pullF(t, nil); len(again.Add)+len(again.Change) != 0 {
		t.Errorf("second sync of the mail changed the calendar: %+v", again)
	}

	// bob cancels: the mail is a cancellation, the meeting cancelled.
	s.env.Append(t, "alice", "INBOX", invitation("CANCEL", "inv-1@example.test", 1, "alice@example.test", "NEEDS-ACTION"))
	_, cmds = s.syncAll(t, inbox, ikey)
	if len(cmds.Add) != 1 || decodedMail(t, cmds.Add[0]).MessageClass != "IPM.Schedule.Meeting.Canceled" {
		t.Fatalf("cancellation mail: %+v", cmds)
	}
	got = ce.pullF(t, nil)
	if len(got.Change) != 1 {
		t.Fatalf("calendar after the cancellation: %+v", got)
	}
	if ev := decodedEvent(t, got.Change[0]); ev.MeetingStatus != "7" || ev.BusyStatus != "0" {
		t.Errorf("cancelled event %+v", ev)
	}
}

// respondEnv is alice at one version with her inbox and calendar synced.
type respondEnv struct {
	*syncEnv
	inbox, ikey string
	cal         *calEnv
}

func startRespond(t *testing.T, version string) *respondEnv {
	t.Helper()
	s := startSync(t)
	s.c.Version = version
	r := &respondEnv{syncEnv: s, inbox: s.ids["Inbox"]}
	r.ikey = s.start(t, r.inbox)
	r.ikey, _ = s.syncAll(t, r.inbox, r.ikey)
	r.cal = startCalendar(t, s, version, nil)
	return r
}

// invite delivers an invitation and returns its mail's ServerId.
func (r *respondEnv) invite(t *testing.T, uid string) string {
	t.Helper()
	r.env.Append(t, "alice", "INBOX", invitation("REQUEST", uid, 0, "alice@example.test", "NEEDS-ACTION"))
	var cmds message.SyncCommands
	r.ikey, cmds = r.syncAll(t, r.inbox, r.ikey)
	if len(cmds.Add) != 1 {
		t.Fatalf("inbox: %+v", cmds)
	}
	return cmds.Add[0].ServerID
}

func (r *respondEnv) respond(t *testing.T, item message.MeetingResponseRequestItem) message.MeetingResponseResult {
	t.Helper()
	resp, err := r.c.MeetingResponse(context.Background(), item)
	if err != nil || len(resp.Result) != 1 {
		t.Fatalf("MeetingResponse: %+v %v", resp, err)
	}
	return resp.Result[0]
}

// Up to 14.1 the phone sends its reply itself: the server updates the
// calendar and sends nothing.
func TestMeetingResponse141(t *testing.T) {
	r := startRespond(t, "14.1")
	if _, cmds, err := r.c.Options(context.Background()); err != nil || !slices.Contains(cmds, "MeetingResponse") {
		t.Fatalf("OPTIONS commands %v %v", cmds, err)
	}
	for _, tc := range []struct {
		answer             int
		busy, responseType string
	}{{1, "2", "3"}, {2, "1", "2"}, {3, "", ""}} {
		uid := fmt.Sprintf("r141-%d@example.test", tc.answer)
		mail := r.invite(t, uid)
		res := r.respond(t, message.MeetingResponseRequestItem{UserResponse: tc.answer, CollectionID: r.inbox, RequestID: mail})
		if res.Status != 1 || res.RequestID != mail || (res.CalendarID == "") != (tc.answer == 3) {
			t.Fatalf("answer %d: %+v", tc.answer, res)
		}
		cmds := r.cal.pullF(t, nil)
		if tc.answer == 3 {
			if len(cmds.Add) != 0 {
				t.Errorf("declined meeting in the calendar: %+v", cmds)
			}
			continue
		}
		if len(cmds.Add) != 1 || cmds.Add[0].ServerID != res.CalendarID {
			t.Fatalf("answer %d: calendar %+v, CalendarId %s", tc.answer, cmds, res.CalendarID)
		}
		ev := decodedEvent(t, cmds.Add[0])
		if ev.BusyStatus != tc.busy || ev.ResponseType != tc.responseType || ev.Attendees == nil ||
			ev.Attendees.Attendee[0].AttendeeStatus != tc.responseType {
			t.Errorf("answer %d: event %+v attendees %+v", tc.answer, ev, ev.Attendees)
		}
	}
	if msgs := settleSink(r.syncEnv); len(msgs) != 0 {
		t.Errorf("the server sent %d messages at 14.1", len(msgs))
	}
	// Not a meeting request: Status 2.
	if res := r.respond(t, message.MeetingResponseRequestItem{UserResponse: 1, CollectionID: r.inbox, RequestID: r.inbox + ":999"}); res.Status != 2 {
		t.Errorf("missing mail: %+v", res)
	}
}

// At 16.1 the server sends the REPLY when asked (SendResponse), once even
// when the phone sends the request again; answers from the calendar item
// work too, as Outlook sends them.
func TestMeetingResponse161(t *testing.T) {
	r := startRespond(t, "16.1")
	mail := r.invite(t, "r161@example.test")
	send := &message.MeetingSendResponse{Body: &message.MeetingResponseBody{Type: 1, Data: "See you there"}}
	accept := message.MeetingResponseRequestItem{UserResponse: 1, CollectionID: r.inbox, RequestID: mail, SendResponse: send}
	res := r.respond(t, accept)
	if res.Status != 1 || res.CalendarID == "" {
		t.Fatalf("accept: %+v", res)
	}
	msgs := waitMessages(t, r.env.SMTP, 1)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "bob@example.test" ||
		!bytes.Contains(msgs[0].Data, []byte("PARTSTAT=ACCEPTED")) || !bytes.Contains(msgs[0].Data, []byte("See you there")) ||
		len(imipOf(msgs, "REPLY")) != 1 {
		t.Fatalf("reply: %+v", msgs)
	}
	// As Exchange does, the answered request leaves the Inbox for Deleted
	// Items; a re-sent answer still finds it.
	var cmds message.SyncCommands
	r.ikey, cmds = r.syncAll(t, r.inbox, r.ikey)
	if len(cmds.Delete) != 1 || cmds.Delete[0].ServerID != mail {
		t.Fatalf("inbox after the answer: %+v", cmds)
	}
	if again := r.respond(t, accept); again.Status != 1 || again.CalendarID != res.CalendarID {
		t.Fatalf("re-sent accept: %+v", again)
	}
	if n := len(settleSink(r.syncEnv)); n != 1 {
		t.Fatalf("re-sent MeetingResponse sent again: %d messages", n)
	}

	// Tentative on the calendar item, with the calendar's CollectionId.
	res = r.respond(t, message.MeetingResponseRequestItem{UserResponse: 2, CollectionID: r.cal.folder, RequestID: res.CalendarID, SendResponse: send})
	if res.Status != 1 || res.CalendarID == "" {
		t.Fatalf("tentative: %+v", res)
	}
	msgs = waitMessages(t, r.env.SMTP, 2)
	if !bytes.Contains(msgs[1].Data, []byte("PARTSTAT=TENTATIVE")) {
		t.Fatalf("tentative reply: %s", msgs[1].Data)
	}
	// Outlook's form: a mail's request with the calendar folder named.
	res = r.respond(t, message.MeetingResponseRequestItem{UserResponse: 3, CollectionID: r.cal.folder, RequestID: mail, SendResponse: send})
	if res.Status != 1 || res.CalendarID != "" {
		t.Fatalf("decline: %+v", res)
	}
	msgs = waitMessages(t, r.env.SMTP, 3)
	if !bytes.Contains(msgs[2].Data, []byte("PARTSTAT=DECLINED")) {
		t.Fatalf("decline reply: %s", msgs[2].Data)
	}
	if cmds := r.cal.pullF(t, nil); len(cmds.Add) != 0 {
		t.Errorf("declined meeting still in the calendar: %+v", cmds)
	}
	// The declined meeting does not come back when its mail syncs again.
	other := r.device(t, "phone-other")
	other.c.Version = "16.1"
	other.syncAll(t, other.ids["Inbox"], other.start(t, other.ids["Inbox"]))
	if cmds := r.cal.pullF(t, nil); len(cmds.Add) != 0 {
		t.Errorf("declined meeting came back: %+v", cmds)
	}

	// The user changes their mind: accepting the mail again brings the
	// meeting back.
	if res := r.respond(t, message.MeetingResponseRequestItem{UserResponse: 1, CollectionID: r.inbox, RequestID: mail}); res.Status != 1 || res.CalendarID == "" {
		t.Fatalf("accept after decline: %+v", res)
	}
	if cmds := r.cal.pullF(t, nil); len(cmds.Add) != 1 {
		t.Errorf("accepted again: %+v", cmds)
	}

	// Without SendResponse nothing is sent.
	mail2 := r.invite(t, "r161-quiet@example.test")
	if res := r.respond(t, message.MeetingResponseRequestItem{UserResponse: 1, CollectionID: r.inbox, RequestID: mail2}); res.Status != 1 {
		t.Fatalf("quiet accept: %+v", res)
	}
	if n := len(settleSink(r.syncEnv)); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}

// A meeting made on the phone invites each attendee once; a replayed
// Sync and an unchanged edit send nothing; a new time sends updates; a
// delete cancels. A REPLY mail from an attendee updates the attendee.
func TestMeetingMadeOnPhone(t *testing.T) {
	s := startSync(t)
	ce := startCalendar(t, s, "14.1", nil)
	ev := fullEvent(141, time.Date(2026, 7, 6, 9, 0, 0, 0, berlin()))
	ev.Exceptions, ev.Recurrence = nil, nil
	ev.UID = "phone-meeting@example.test"
	ev.Attendees = &message.Attendees{Attendee: []message.Attendee{
		{Email: "bob@example.test", Name: "Bob", AttendeeType: "1"},
		{Email: "carol@example.test", Name: "Carol", AttendeeType: "2"}}}
	add := &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("m1", ev)}}
	key := ce.key
	id := added(t, ce.send(t, add))
	msgs := waitMessages(t, s.env.SMTP, 2)
	reqs := imipOf(msgs, "REQUEST")
	if len(reqs) != 2 || reqs[0].To[0] == reqs[1].To[0] {
		t.Fatalf("invitations: %+v", msgs)
	}
	for _, m := range reqs {
		if m.From != "alice@example.test" || !bytes.Contains(m.Data, []byte("ORGANIZER;CN=Alice:mailto:alice@example.test")) ||
			!bytes.Contains(m.Data, []byte("SEQUENCE:0")) || bytes.Contains(m.Data, []byte("X-EAS-")) {
			t.Errorf("invitation to %v:\n%s", m.To, m.Data)
		}
	}

	// The response was lost: the phone sends the same request again.
	ce.key = key
	if again := added(t, ce.send(t, add)); again != id {
		t.Fatalf("replayed Add made %s", again)
	}
	// The same event again (an echo of what the phone holds).
	ce.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: ev}}})
	if n := len(settleSink(s)); n != 2 {
		t.Fatalf("replay or unchanged edit sent: %d messages, want 2", n)
	}

	// bob accepts by mail.
	s.env.Append(t, "alice", "INBOX", invitation("REPLY", ev.UID, 0, "bob@example.test", "ACCEPTED"))
	inbox := s.ids["Inbox"]
	s.c.Version = "14.1"
	_, cmds := s.syncAll(t, inbox, s.start(t, inbox))
	if len(cmds.Add) != 1 || decodedMail(t, cmds.Add[0]).MessageClass != "IPM.Schedule.Meeting.Resp.Pos" {
		t.Fatalf("reply mail: %+v", cmds)
	}
	got := ce.pullF(t, nil)
	if len(got.Change) != 1 {
		t.Fatalf("calendar after the reply: %+v", got)
	}
	for _, a := range decodedEvent(t, got.Change[0]).Attendees.Attendee {
		want := map[string]string{"bob@example.test": "3", "carol@example.test": "5"}[a.Email]
		if a.AttendeeStatus != want {
			t.Errorf("attendee %s status %s, want %s", a.Email, a.AttendeeStatus, want)
		}
	}

	// A new time: each attendee gets the update (SEQUENCE 1).
	ev.StartTime = time.Date(2026, 7, 6, 11, 0, 0, 0, berlin()).UTC().Format("20060102T150405Z")
	ev.EndTime = time.Date(2026, 7, 6, 12, 0, 0, 0, berlin()).UTC().Format("20060102T150405Z")
	ce.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: id, ApplicationData: ev}}})
	msgs = waitMessages(t, s.env.SMTP, 4)
	if upd := imipOf(msgs[2:], "REQUEST"); len(upd) != 2 || !bytes.Contains(upd[0].Data, []byte("SEQUENCE:1")) {
		t.Fatalf("updates: %+v", msgs[2:])
	}
	// Deleted: cancelled to both.
	ce.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: id}}})
	msgs = waitMessages(t, s.env.SMTP, 6)
	if c := imipOf(msgs[4:], "CANCEL"); len(c) != 2 || !bytes.Contains(c[0].Data, []byte("STATUS:CANCELLED")) {
		t.Fatalf("cancellations: %+v", msgs[4:])
	}
	if n := len(settleSink(s)); n != 6 {
		t.Errorf("%d messages, want 6", n)
	}
}

// A 16.x phone sends no organizer: the server makes the user the
// organizer of a meeting (MeetingStatus 1).
func TestMeetingMadeOnPhone161(t *testing.T) {
	s := startSync(t)
	ce := startCalendar(t, s, "16.1", nil)
	ev := fullEvent(161, time.Date(2026, 7, 6, 9, 0, 0, 0, berlin()))
	ev.Recurrence = nil
	ev.Attendees = &message.Attendees{Attendee: []message.Attendee{{Email: "bob@example.test", Name: "Bob", AttendeeType: "1"}}}
	added(t, ce.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("m1", ev)}}))
	msgs := waitMessages(t, s.env.SMTP, 1)
	if len(msgs) != 1 || msgs[0].To[0] != "bob@example.test" || !strings.Contains(string(msgs[0].Data), "ORGANIZER:mailto:alice@example.test") {
		t.Fatalf("invitation: %+v", msgs)
	}
}
