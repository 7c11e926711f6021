package calendar

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// Meetings (RFC 5546 iTIP, RFC 6047 iMIP, MS-ASEMAIL's MeetingRequest).
//
// An invitation mail carries an iCalendar object with a METHOD: REQUEST
// (a new or changed meeting), CANCEL, or REPLY (an attendee's answer).
// The mail syncs as an Email of class IPM.Schedule.Meeting.* whose
// MeetingRequest element is rendered here from that object; the object
// itself is filed in the user's calendar when the mail is synced
// (invite.go), so the phone sees the meeting as tentative before the
// user answers, as Exchange does.

// globalObjClassID starts every GlobalObjId (MS-ASEMAIL 2.2.2.37) and
// every Outlook-made UID in its hex form.
var globalObjClassID = []byte{0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08}

// GlobalObjID is the GlobalObjId of the meeting with uid (MS-ASEMAIL
// 2.2.2.37 and 3.1.4.7): an Outlook-made UID is the hex form of the
// structure itself and is decoded; any other UID is wrapped as a
// "vCal-Uid". instance, when not zero, is the original start of the one
// occurrence the message is about (its date goes in the structure);
// the creation time stays zero, so the same meeting always gives the
// same bytes, and the phone matches mails to calendar items by them.
func GlobalObjID(uid string, instance time.Time) []byte {
	var out []byte
	if b, err := hex.DecodeString(uid); err == nil && len(b) >= 40 && bytes.HasPrefix(b, globalObjClassID) {
		out = b
	} else {
		data := make([]byte, 0, 13+len(uid))
		data = append(data, "vCal-Uid"...)
		data = append(data, 1, 0, 0, 0)
		data = append(data, uid...)
		data = append(data, 0)
		out = make([]byte, 40, 40+len(data))
		copy(out, globalObjClassID)
		binary.LittleEndian.PutUint32(out[36:], uint32(len(data)))
		out = append(out, data...)
	}
	if !instance.IsZero() {
		y, m, d := instance.UTC().Date()
		out[16], out[17], out[18], out[19] = byte(y>>8), byte(y), byte(m), byte(d)
	}
	return out
}

// UIDOfGlobalObjID is the inverse of GlobalObjID (MS-ASEMAIL 3.1.4.7):
// the vCal UID, or for an Outlook id its hex form with the instance date
// zeroed.
func UIDOfGlobalObjID(b []byte) (string, error) {
	if len(b) < 40 || !bytes.HasPrefix(b, globalObjClassID) {
		return "", fmt.Errorf("%w: not a GlobalObjId", ErrBadObject)
	}
	n := int(binary.LittleEndian.Uint32(b[36:]))
	if 40+n > len(b) {
		return "", fmt.Errorf("%w: GlobalObjId shorter than its count", ErrBadObject)
	}
	data := b[40 : 40+n]
	if n >= 13 && string(data[:8]) == "vCal-Uid" {
		return string(bytes.TrimRight(data[12:], "\x00")), nil
	}
	c := bytes.Clone(b[:40+n])
	c[16], c[17], c[18], c[19] = 0, 0, 0, 0
	return strings.ToUpper(hex.EncodeToString(c)), nil
}

// Invitation is a meeting mail's iCalendar object, parsed.
type Invitation struct {
	Method   string // REQUEST, CANCEL, REPLY, ... upper case
	UID      string
	Sequence int
	Cal      *ical.Calendar
	// Event is the VEVENT the message is about: the series' master, or
	// the one occurrence of a message about an occurrence only.
	Event *ical.Component
}

// ParseInvitation reads the iCalendar object of a meeting mail.
func ParseInvitation(ics []byte) (*Invitation, error) {
	cal, err := ical.NewDecoder(bytes.NewReader(ics)).Decode()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadObject, err)
	}
	master, overrides := events(cal)
	ev := master
	if ev == nil && len(overrides) > 0 {
		ev = overrides[0]
	}
	if ev == nil {
		return nil, fmt.Errorf("%w: no VEVENT", ErrBadObject)
	}
	inv := &Invitation{Method: strings.ToUpper(textOf(cal.Component, ical.PropMethod)), Cal: cal, Event: ev,
		UID: textOf(ev, ical.PropUID)}
	if inv.UID == "" {
		return nil, fmt.Errorf("%w: VEVENT without UID", ErrBadObject)
	}
	inv.Sequence = sequenceOf(ev)
	return inv, nil
}

func sequenceOf(c *ical.Component) int {
	n, _ := strconv.Atoi(strings.TrimSpace(textOf(c, ical.PropSequence)))
	return n
}

// dashed is the MS-ASDTYPE dateTime form of the Email namespace.
const dashed = "2006-01-02T15:04:05.000Z"

func compactToDashed(s string) string {
	t, err := model.ParseDateTime(s)
	if err != nil {
		return ""
	}
	return t.Format(dashed)
}

// MeetingRequest renders the MeetingRequest element of a meeting mail
// whose object is inv, for a client of o.Version.
func MeetingRequest(inv *Invitation, o RenderOptions) (*message.MeetingRequest, error) {
	// The Calendar mapping renders times, zone, recurrence and the shared
	// elements; a one-occurrence message renders that occurrence alone.
	view := inv.Cal
	master, _ := events(inv.Cal)
	if master == nil || inv.Event != master {
		view = &ical.Calendar{Component: &ical.Component{Name: ical.CompCalendar, Props: inv.Cal.Props}}
		for _, c := range inv.Cal.Children {
			if c.Name == ical.CompTimezone {
				view.Children = append(view.Children, c)
			}
		}
		ev := cloneComponent(inv.Event)
		view.Children = append(view.Children, ev)
	}
	c, err := ToEAS(view, RenderOptions{Version: max(o.Version, 140), Zone: o.Zone})
	if err != nil {
		return nil, err
	}
	ev := inv.Event
	v := o.Version
	mr := &message.MeetingRequest{
		AllDayEvent:  c.AllDayEvent,
		StartTime:    compactToDashed(c.StartTime),
		EndTime:      compactToDashed(c.EndTime),
		DtStamp:      compactToDashed(c.DtStamp),
		InstanceType: "0",
		Sensitivity:  c.Sensitivity,
		BusyStatus:   c.BusyStatus,
	}
	if s := strings.ToUpper(textOf(ev, "X-MICROSOFT-CDO-INTENDEDSTATUS")); s != "" {
		for i, n := range busyNames {
			if n == s {
				mr.BusyStatus = strconv.Itoa(i)
			}
		}
	}
	if v >= 160 {
		mr.Location16 = c.Location16
		if mr.Location16 == nil && c.Location != "" {
			mr.Location16 = &message.Location{DisplayName: c.Location}
		}
	} else {
		mr.Location = textOf(ev, ical.PropLocation)
	}
	if org := ev.Props.Get(ical.PropOrganizer); org != nil {
		a := mail.Address{Name: org.Params.Get(ical.ParamCommonName), Address: mailtoOf(org.Value)}
		mr.Organizer = a.String()
		if a.Name == "" {
			mr.Organizer = a.Address
		}
	}
	if c.Reminder != "" {
		if m, err := strconv.Atoi(c.Reminder); err == nil {
			mr.Reminder = strconv.Itoa(m * 60) // seconds here, minutes in the Calendar class
		}
	}
	mr.ResponseRequested = "0"
	if inv.Method == "REQUEST" {
		mr.ResponseRequested = "1"
		if textOf(ev, "X-MICROSOFT-CDO-REPLYREQUESTED") == "FALSE" {
			mr.ResponseRequested = "0"
		}
	}
	// The zone is required; the Calendar view leaves it out only for a
	// 16.x all-day event.
	mr.TimeZone = c.Timezone
	if mr.TimeZone == "" {
		z := zonesOf(view, o.Zone)
		loc := zoneOfProp(ev.Props.Get(ical.PropDateTimeStart), z, o.Zone)
		s, _, err := z.span(ev)
		if err != nil {
			return nil, err
		}
		mr.TimeZone = zoneBlob(loc, s.t.In(loc).Year())
	}
	var instance time.Time
	if p := ev.Props.Get(ical.PropRecurrenceID); p != nil {
		w, err := zonesOf(inv.Cal, o.Zone).timeOf(p)
		if err != nil {
			return nil, err
		}
		instance = w.t
		mr.RecurrenceID = w.t.UTC().Format(dashed)
		mr.InstanceType = "3"
	}
	if r := c.Recurrence; r != nil {
		mr.InstanceType = "1"
		mr.Recurrences = &message.MeetingRecurrences{Recurrence: []message.MeetingRecurrence{{
			Type: r.Type, Interval: r.Interval, Until: compactToDashed(r.Until), Occurrences: r.Occurrences,
			WeekOfMonth: r.WeekOfMonth, DayOfMonth: r.DayOfMonth, DayOfWeek: r.DayOfWeek, MonthOfYear: r.MonthOfYear,
		}}}
		if v >= 140 {
			mr.Recurrences.Recurrence[0].CalendarType = r.CalendarType
			mr.Recurrences.Recurrence[0].IsLeapMonth = r.IsLeapMonth
		}
		if v >= 141 {
			mr.Recurrences.Recurrence[0].FirstDayOfWeek = r.FirstDayOfWeek
		}
	}
	mr.GlobalObjID = base64.StdEncoding.EncodeToString(GlobalObjID(inv.UID, instance))
	if v >= 140 {
		mr.DisallowNewTimeProposal = c.DisallowNewTimeProposal
	}
	if v >= 141 {
		mr.MeetingMessageType = "0"
		if inv.Method == "REQUEST" {
			// A first request, or an update of one the user has seen.
			mr.MeetingMessageType = "1"
			if inv.Sequence > 0 {
				mr.MeetingMessageType = "2"
			}
		}
	}
	return mr, nil
}
