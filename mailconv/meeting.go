package mailconv

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/eas/message"
	"github.com/emersion/go-message/textproto"
)

// maxCalendarObject bounds the calendar object of a meeting mail kept for
// its MeetingRequest: invitations are a few kilobytes, a series with
// hundreds of exceptions far below this.
const maxCalendarObject = 1 << 20

// meeting fills the MeetingRequest element of a meeting mail (MS-ASEMAIL
// 2.2.2.48) from its calendar object, and keeps the object for the
// server to file in the calendar. A REPLY gets the class of its answer
// (Resp.Pos, Resp.Tent, Resp.Neg). An object that does not parse leaves
// the mail a plain one: the phone offers a meeting it cannot answer
// otherwise.
func meeting(e *message.Email, obj []byte, opts Options) bool {
	inv, err := calendar.ParseInvitation(obj)
	if err != nil {
		return false
	}
	e.Meeting = obj
	if inv.Method == "REPLY" {
		e.MessageClass = replyClass(inv)
	}
	mr, err := calendar.MeetingRequest(inv, calendar.RenderOptions{Version: opts.Version})
	if err == nil {
		e.MeetingRequest = mr
	}
	return true
}

// replyClass is the class of a REPLY by its attendee's PARTSTAT.
func replyClass(inv *calendar.Invitation) string {
	for _, a := range inv.Event.Props.Values("ATTENDEE") {
		switch strings.ToUpper(a.Params.Get("PARTSTAT")) {
		case "TENTATIVE":
			return classMeetingTent
		case "DECLINED":
			return classMeetingNeg
		case "ACCEPTED":
			return classMeetingResp
		}
	}
	return classMeetingResp
}

// CalendarObject returns the first text/calendar part of a message,
// decoded, or nil: what MeetingResponse answers when the phone names a
// meeting mail.
func CalendarObject(msg []byte) []byte {
	br := bufio.NewReader(bytes.NewReader(msg))
	th, err := textproto.ReadHeader(br)
	if err != nil && th.Len() == 0 {
		return nil
	}
	var w walker // no text wanted: only the calendar part is kept
	_ = w.message(newEntity(th, "text/plain"), br)
	_, _ = io.Copy(io.Discard, br)
	return w.s.calendarObj
}

// HTMLText renders an HTML fragment as plain text (a meeting answer's
// comment that a phone sent as HTML).
func HTMLText(s string) string { return string(htmlToText([]byte(s))) }
