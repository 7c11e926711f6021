package calendar

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/calendar/recur"
	"github.com/easd/easd/calendar/tz"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// ErrBadValue: a client's element cannot be stored as sent (a malformed
// time or TimeZone, Until before the start, too many exceptions). The
// backend answers it with Sync Status 6.
var ErrBadValue = errors.New("calendar: bad value")

func bad(elem, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadValue, elem, fmt.Sprintf(format, args...))
}

// Edit is a client's Add or Change of one event.
type Edit struct {
	Event *message.Calendar
	// Version is the request's protocol version times ten.
	Version int
	// Sent reports the element local names the client sent; nil: every
	// element counts as sent.
	Sent func(name string) bool
	// Ghosted reports the absent elements to keep as stored; nil: none.
	Ghosted func(name string) bool
	// Zone is the user's zone: the fallback for a TimeZone blob no zone
	// matches, and the zone of an event sent without one.
	Zone *time.Location
	// Now stamps DTSTAMP; zero: time.Now.
	Now time.Time
}

// quirkClientUID strips what iOS appends to its 16.x ClientUid: it sends
// 33 characters, the last one a NUL, which no UID may contain.
func quirkClientUID(s string) string { return strings.TrimRight(s, "\x00") }

// Apply merges a client's Add (base nil) or Change onto the stored series
// and returns the new object; base is not modified. Properties and
// components EAS does not know are kept.
func Apply(base *ical.Calendar, e Edit) (*ical.Calendar, error) {
	c := e.Event
	if c == nil {
		c = &message.Calendar{}
	}
	sent := e.Sent
	if sent == nil {
		sent = func(string) bool { return true }
	}
	ghosted := e.Ghosted
	if ghosted == nil {
		ghosted = func(string) bool { return false }
	}
	// take reports whether the element is to be applied: sent, or absent
	// and not ghosted (then cleared).
	take := func(name string) bool { return sent(name) || !ghosted(name) }
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	v := e.Version

	cal := ical.NewCalendar()
	var master *ical.Component
	var overrides []*ical.Component
	if base != nil {
		cal = cloneCalendar(base)
		master, overrides = events(cal)
	}
	if master == nil {
		master = ical.NewComponent(ical.CompEvent)
		cal.Children = append(cal.Children, master)
	}
	z := zonesOf(cal, e.Zone)

	// The zone: the blob's, else the stored one, else the user's.
	startT, err := parseTime("StartTime", c.StartTime)
	if err != nil {
		return nil, err
	}
	endT, err := parseTime("EndTime", c.EndTime)
	if err != nil {
		return nil, err
	}
	var oldStart, oldEnd when
	var stored bool
	if base != nil && master.Props.Get(ical.PropDateTimeStart) != nil {
		if oldStart, oldEnd, err = z.span(master); err != nil {
			return nil, err
		}
		stored = true
	}
	loc := zoneOfProp(master.Props.Get(ical.PropDateTimeStart), z, e.Zone)
	if c.Timezone != "" {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.Timezone))
		if err != nil {
			return nil, bad("Timezone", "not base64")
		}
		blob, err := tz.ParseBlob(raw)
		if err != nil {
			return nil, bad("Timezone", "%v", err)
		}
		year := time.Now().Year()
		if !startT.IsZero() {
			year = startT.Year()
		} else if stored {
			year = oldStart.t.Year()
		}
		if loc, err = tz.Locate(blob, year, e.Zone); err != nil {
			return nil, bad("Timezone", "%v", err)
		}
	}

	// Start, end, all day.
	allDay := stored && oldStart.date
	if sent("AllDayEvent") {
		allDay = c.AllDayEvent == "1"
	} else if !ghosted("AllDayEvent") {
		allDay = false
	}
	// 16.x sends the dates of an all-day event as midnight UTC.
	dayZone := loc
	if v >= 160 && c.Timezone == "" {
		dayZone = time.UTC
	}
	var start, end when
	switch {
	case !startT.IsZero():
		start = when{t: startT}
	case stored:
		start = oldStart
	default:
		return nil, bad("StartTime", "missing")
	}
	switch {
	case !endT.IsZero():
		end = when{t: endT}
	case stored && startT.IsZero():
		end = oldEnd
	case stored:
		end = when{t: start.t.Add(oldEnd.t.Sub(oldStart.t)), date: oldEnd.date}
	default:
		end = start
	}
	if allDay {
		start = when{t: dateOf(start, dayZone), date: true}
		end = when{t: dateOf(end, dayZone), date: true}
		if !end.t.After(start.t) {
			// Nokia sends start == end for a one-day event.
			end.t = start.t.AddDate(0, 0, 1)
		}
	} else if start.date || end.date {
		// An all-day event made timed without times: midnight to midnight.
		start = when{t: wallDate(start.t, loc)}
		end = when{t: wallDate(end.t, loc)}
	}
	if end.t.Before(start.t) {
		return nil, bad("EndTime", "before StartTime")
	}
	setWhen(master, ical.PropDateTimeStart, start, loc)
	setWhen(master, ical.PropDateTimeEnd, end, loc)
	master.Props.Del(ical.PropDuration)
	setDateTimeUTC(master, ical.PropDateTimeStamp, now)
	master.Props.Del(ical.PropLastModified)
	setDateTimeUTC(master, ical.PropLastModified, now)

	// UID: a 16.x client sends none, only its ClientUid, from which the
	// server makes the UID; an older client may send the invitation's
	// UID with an Add. A Change never changes it.
	if base == nil {
		uid := c.UID
		if v >= 160 {
			uid = quirkClientUID(c.ClientUID)
		}
		if uid != "" {
			master.Props.SetText(ical.PropUID, uid)
		}
	}

	if err := applyCommon(master, commonOf(c), take, v); err != nil {
		return nil, err
	}
	// A 16.x client does not send the organizer (MS-ASCAL 2.2.2.32):
	// what it leaves out is not a deletion.
	if v < 160 && (take("OrganizerEmail") || take("OrganizerName")) {
		master.Props.Del(ical.PropOrganizer)
		if c.OrganizerEmail != "" {
			p := ical.NewProp(ical.PropOrganizer)
			p.Value = "mailto:" + c.OrganizerEmail
			if c.OrganizerName != "" {
				p.Params.Set(ical.ParamCommonName, c.OrganizerName)
			}
			master.Props.Set(p)
		}
	}
	if take("MeetingStatus") {
		setText(master, xMeeting, c.MeetingStatus)
	}
	if v >= 140 {
		if take("DisallowNewTimeProposal") {
			if c.DisallowNewTimeProposal == "1" {
				master.Props.SetText(xDisallow, "TRUE")
			} else {
				master.Props.Del(xDisallow)
			}
		}
		if take("ResponseRequested") {
			setText(master, xRespReq, c.ResponseRequested)
		}
		if take("ResponseType") {
			setText(master, xRespType, c.ResponseType)
		}
		if take("AppointmentReplyTime") {
			setText(master, xReplyTime, c.AppointmentReplyTime)
		}
	}

	// Recurrence. A rule EAS cannot express was sent as its nearest EAS
	// form; the phone echoes that form back with every edit, and it must
	// not replace the stored rule.
	oldRule := ""
	if p := master.Props.Get(ical.PropRecurrenceRule); p != nil {
		oldRule = p.Value
	}
	newRule := oldRule
	if sent("Recurrence") && c.Recurrence != nil {
		r, err := ruleOf(c.Recurrence, start, loc, allDay)
		if err != nil {
			return nil, err
		}
		keep := false
		if oldRule != "" {
			if was, exact, err := recur.FromRRULE(oldRule, start.t.In(loc), allDay); err == nil && !exact && sameRule(was, r) {
				keep = true
			}
		}
		if !keep {
			if newRule, err = recur.ToRRULE(r, startInZone(start, loc), allDay); err != nil {
				return nil, bad("Recurrence", "%v", err)
			}
		}
	} else if take("Recurrence") {
		newRule = ""
	}
	if newRule == "" {
		master.Props.Del(ical.PropRecurrenceRule)
	} else if newRule != oldRule {
		p := ical.NewProp(ical.PropRecurrenceRule)
		p.Value = strings.TrimPrefix(newRule, "RRULE:")
		master.Props.Set(p)
	}
	ruleChanged := newRule != oldRule || (stored && !start.t.Equal(oldStart.t) && newRule != "")
	if newRule == "" || ruleChanged {
		// A new pattern, or none: the old occurrences' exceptions no
		// longer name occurrences of the series (MS-ASCAL 3.1.5.5).
		master.Props.Del(ical.PropExceptionDates)
		master.Props.Del(ical.PropRecurrenceDates)
		cal.Children = slices.DeleteFunc(cal.Children, func(x *ical.Component) bool { return slices.Contains(overrides, x) })
		overrides = nil
	}
	if newRule != "" && sent("Exceptions") && c.Exceptions != nil {
		if len(c.Exceptions.Exception) > MaxExceptions {
			return nil, bad("Exceptions", "%d exceptions, at most %d", len(c.Exceptions.Exception), MaxExceptions)
		}
		cal.Children = slices.DeleteFunc(cal.Children, func(x *ical.Component) bool { return slices.Contains(overrides, x) })
		master.Props.Del(ical.PropExceptionDates)
		for _, ex := range c.Exceptions.Exception {
			o, err := applyException(master, overrides, ex, loc, dayZone, allDay, v)
			if err != nil {
				return nil, err
			}
			if o != nil {
				cal.Children = append(cal.Children, o)
			}
		}
	} else if newRule != "" && !ruleChanged && take("Exceptions") && v < 160 {
		// Below 16.0 a client sends all its exceptions with every change;
		// none sent (and not ghosted) means there are none.
		master.Props.Del(ical.PropExceptionDates)
		cal.Children = slices.DeleteFunc(cal.Children, func(x *ical.Component) bool { return slices.Contains(overrides, x) })
	}
	ensureTimezone(cal, loc, start.t.Year())
	return cal, nil
}

// common are the elements a series and an Exception share.
type common struct {
	Subject, Location, Body25, BusyStatus, Sensitivity, Reminder string
	Location16                                                   *message.Location
	Body                                                         *message.Body
	BodyTruncated                                                bool
	Categories                                                   *message.CalendarCats
	Attendees                                                    *message.Attendees
}

func commonOf(c *message.Calendar) common {
	return common{Subject: c.Subject, Location: c.Location, Body25: c.Body25, BusyStatus: c.BusyStatus,
		Sensitivity: c.Sensitivity, Reminder: c.Reminder, Location16: c.Location16, Body: c.Body,
		BodyTruncated: c.BodyTrunc25 != nil && *c.BodyTrunc25, Categories: c.Categories, Attendees: c.Attendees}
}

func commonOfException(x message.Exception) common {
	return common{Subject: x.Subject, Location: x.Location, Body25: x.Body25, BusyStatus: x.BusyStatus,
		Sensitivity: x.Sensitivity, Reminder: x.Reminder, Location16: x.Location16, Body: x.Body,
		Categories: x.Categories, Attendees: x.Attendees}
}

// applyCommon writes the shared elements that take says to apply.
func applyCommon(ev *ical.Component, c common, take func(string) bool, v int) error {
	if take("Subject") {
		setText(ev, ical.PropSummary, c.Subject)
	}
	if take("Location") {
		if v >= 160 {
			applyLocation16(ev, c.Location16)
		} else {
			setText(ev, ical.PropLocation, c.Location)
		}
	}
	if take("Body") {
		switch {
		case c.Body != nil && c.Body.Truncated, c.Body == nil && c.BodyTruncated:
			// A truncated body is not the body: keep the stored one.
		case c.Body != nil && c.Body.Type == message.BodyHTML:
			setText(ev, ical.PropDescription, model.TextOfHTML(c.Body.Data))
		case c.Body != nil:
			setText(ev, ical.PropDescription, c.Body.Data)
		default:
			setText(ev, ical.PropDescription, c.Body25)
		}
	}
	if take("BusyStatus") {
		ev.Props.Del(xBusyStatus)
		ev.Props.Del(ical.PropTransparency)
		if c.BusyStatus != "" {
			n, err := strconv.Atoi(c.BusyStatus)
			if err != nil || n < 0 || n >= len(busyNames) {
				return bad("BusyStatus", "%q", c.BusyStatus)
			}
			ev.Props.SetText(xBusyStatus, busyNames[n])
			if n == 0 {
				ev.Props.SetText(ical.PropTransparency, "TRANSPARENT")
			} else {
				ev.Props.SetText(ical.PropTransparency, "OPAQUE")
			}
		}
	}
	if take("Sensitivity") {
		ev.Props.Del(xSensitivity)
		switch c.Sensitivity {
		case "", "0":
			ev.Props.Del(ical.PropClass)
			if c.Sensitivity == "0" {
				ev.Props.SetText(ical.PropClass, "PUBLIC")
			}
		case "1":
			ev.Props.SetText(ical.PropClass, "PRIVATE")
			ev.Props.SetText(xSensitivity, "1")
		case "2":
			ev.Props.SetText(ical.PropClass, "PRIVATE")
		case "3":
			ev.Props.SetText(ical.PropClass, "CONFIDENTIAL")
		default:
			return bad("Sensitivity", "%q", c.Sensitivity)
		}
	}
	if take("Reminder") {
		if err := applyReminder(ev, c.Reminder); err != nil {
			return err
		}
	}
	if take("Categories") {
		ev.Props.Del(ical.PropCategories)
		if c.Categories != nil && len(c.Categories.Category) > 0 {
			p := ical.NewProp(ical.PropCategories)
			p.SetTextList(c.Categories.Category)
			ev.Props.Set(p)
		}
	}
	if take("Attendees") {
		applyAttendees(ev, c.Attendees, v)
	}
	return nil
}

func applyLocation16(ev *ical.Component, l *message.Location) {
	if l == nil {
		l = &message.Location{}
	}
	setText(ev, ical.PropLocation, l.DisplayName)
	for _, p := range locParts {
		setText(ev, xLocPrefix+p.name, *p.get(l))
	}
	ev.Props.Del(ical.PropGeo)
	if l.Latitude != "" && l.Longitude != "" {
		p := ical.NewProp(ical.PropGeo)
		p.Value = l.Latitude + ";" + l.Longitude
		ev.Props.Set(p)
	}
}

// applyReminder sets the first start-relative alarm to minutes before
// the start, adding a display alarm when there is none; "" removes the
// alarms relative to the start. Other alarms are the user's and stay.
func applyReminder(ev *ical.Component, minutes string) error {
	var first *ical.Component
	var kept []*ical.Component
	for _, a := range ev.Children {
		if a.Name == ical.CompAlarm && first == nil {
			if p := a.Props.Get(ical.PropTrigger); p != nil && p.ValueType() != ical.ValueDateTime &&
				!strings.EqualFold(p.Params.Get(ical.ParamRelated), "END") {
				first = a
				continue
			}
		}
		kept = append(kept, a)
	}
	if minutes == "" {
		ev.Children = kept
		return nil
	}
	n, err := strconv.Atoi(minutes)
	if err != nil || n < 0 {
		return bad("Reminder", "%q", minutes)
	}
	if first == nil {
		first = ical.NewComponent(ical.CompAlarm)
		first.Props.SetText(ical.PropAction, "DISPLAY")
		first.Props.SetText(ical.PropDescription, "Reminder")
	}
	p := ical.NewProp(ical.PropTrigger)
	p.SetDuration(-time.Duration(n) * time.Minute)
	if n == 0 {
		p.Value = "PT0S"
	}
	first.Props.Set(p)
	ev.Children = append([]*ical.Component{first}, kept...)
	return nil
}

var partStatNames = map[string]string{"2": "TENTATIVE", "3": "ACCEPTED", "4": "DECLINED", "5": "NEEDS-ACTION"}

// applyAttendees replaces the attendees, keeping the parameters EAS does
// not carry (RSVP, DELEGATED-FROM ...) of those already there.
func applyAttendees(ev *ical.Component, a *message.Attendees, v int) {
	old := map[string]ical.Prop{}
	for _, p := range ev.Props.Values(ical.PropAttendee) {
		old[strings.ToLower(mailtoOf(p.Value))] = p
	}
	ev.Props.Del(ical.PropAttendee)
	if a == nil {
		return
	}
	for _, at := range a.Attendee {
		if at.Email == "" {
			continue
		}
		p := ical.NewProp(ical.PropAttendee)
		if o, ok := old[strings.ToLower(at.Email)]; ok {
			p.Params = o.Params
		}
		p.Value = "mailto:" + at.Email
		if at.Name != "" && at.Name != at.Email {
			p.Params.Set(ical.ParamCommonName, at.Name)
		}
		if v >= 120 {
			if s, ok := partStatNames[at.AttendeeStatus]; ok {
				p.Params.Set(ical.ParamParticipationStatus, s)
			} else if at.AttendeeStatus != "" {
				p.Params.Del(ical.ParamParticipationStatus)
			}
			switch at.AttendeeType {
			case "1":
				p.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
			case "2":
				p.Params.Set(ical.ParamRole, "OPT-PARTICIPANT")
			case "3":
				p.Params.Set(ical.ParamCalendarUserType, "RESOURCE")
				p.Params.Set(ical.ParamRole, "NON-PARTICIPANT")
			}
		}
		ev.Props.Add(p)
	}
}

// applyException turns one EAS exception into an EXDATE on the master or
// an override (returned). The override starts from the stored one for
// that occurrence, so what EAS does not carry survives; every element the
// exception leaves out is the series' (MS-ASCAL 2.2.2.21), copied from
// the master.
func applyException(master *ical.Component, stored []*ical.Component, x message.Exception, loc, dayZone *time.Location, allDay bool, v int) (*ical.Component, error) {
	return applyOccurrence(master, stored, x, loc, dayZone, allDay, v, true)
}

// applyOccurrence is applyException; with inherit false (a 16.x instance
// change) an override already stored keeps what the change leaves out.
func applyOccurrence(master *ical.Component, stored []*ical.Component, x message.Exception, loc, dayZone *time.Location, allDay bool, v int, inherit bool) (*ical.Component, error) {
	idText := x.ExceptionStartTime
	if idText == "" {
		idText = x.InstanceID
	}
	orig, err := parseTime("ExceptionStartTime", idText)
	if err != nil {
		return nil, err
	}
	if orig.IsZero() {
		return nil, bad("ExceptionStartTime", "missing")
	}
	rid := when{t: orig}
	if allDay {
		rid = when{t: dateOf(rid, dayZone), date: true}
	}
	if x.Deleted == "1" {
		addExdate(master, rid, loc)
		return nil, nil
	}
	var o *ical.Component
	for _, s := range stored {
		if p := s.Props.Get(ical.PropRecurrenceID); p != nil && sameInstant(p, rid, loc) {
			o = cloneComponent(s)
		}
	}
	if o == nil {
		o = ical.NewComponent(ical.CompEvent)
		inherit = true
	}
	if inherit {
		inheritMaster(o, master)
	}
	setWhen(o, ical.PropRecurrenceID, rid, loc)
	// Start and end: the exception's, else the occurrence's own.
	z := &zones{cache: map[string]*time.Location{}, fallback: loc}
	s0, e0, err := z.span(master)
	if err != nil {
		return nil, err
	}
	dur := e0.t.Sub(s0.t)
	exAllDay := allDay
	if x.AllDayEvent != "" {
		exAllDay = x.AllDayEvent == "1"
	}
	st, err := parseTime("StartTime", x.StartTime)
	if err != nil {
		return nil, err
	}
	et, err := parseTime("EndTime", x.EndTime)
	if err != nil {
		return nil, err
	}
	start := rid
	if !inherit {
		if ss, se, err := z.span(o); err == nil {
			start, dur = ss, se.t.Sub(ss.t)
		}
	}
	if !st.IsZero() {
		start = when{t: st}
	}
	end := when{t: start.t.Add(dur), date: start.date}
	if !et.IsZero() {
		end = when{t: et}
	}
	if exAllDay {
		start = when{t: dateOf(start, dayZone), date: true}
		end = when{t: dateOf(end, dayZone), date: true}
		if !end.t.After(start.t) {
			end.t = start.t.AddDate(0, 0, 1)
		}
	} else if start.date {
		start, end = when{t: wallDate(start.t, loc)}, when{t: wallDate(end.t, loc)}
	}
	if end.t.Before(start.t) {
		return nil, bad("EndTime", "exception ends before it starts")
	}
	setWhen(o, ical.PropDateTimeStart, start, loc)
	setWhen(o, ical.PropDateTimeEnd, end, loc)
	o.Props.Del(ical.PropDuration)
	// Only what the exception sent overrides the inherited values.
	c := commonOfException(x)
	sentEx := func(name string) bool {
		switch name {
		case "Subject":
			return x.Subject != ""
		case "Location":
			return x.Location != "" || x.Location16 != nil
		case "Body":
			return x.Body != nil || x.Body25 != ""
		case "BusyStatus":
			return x.BusyStatus != ""
		case "Sensitivity":
			return x.Sensitivity != ""
		case "Reminder":
			return x.Reminder != ""
		case "Categories":
			return x.Categories != nil
		case "Attendees":
			return x.Attendees != nil
		}
		return false
	}
	if err := applyCommon(o, c, sentEx, v); err != nil {
		return nil, err
	}
	if x.MeetingStatus != "" {
		setText(o, xMeeting, x.MeetingStatus)
	}
	if x.ResponseType != "" {
		setText(o, xRespType, x.ResponseType)
	}
	return o, nil
}

// inheritMaster copies the master's properties (and alarms) that an
// exception leaves to the series onto o, replacing o's: o is then the
// occurrence as the series has it, and applyCommon sets what differs.
func inheritMaster(o, master *ical.Component) {
	skip := map[string]bool{ical.PropRecurrenceRule: true, ical.PropExceptionDates: true, ical.PropRecurrenceDates: true,
		ical.PropDateTimeStart: true, ical.PropDateTimeEnd: true, ical.PropDuration: true, ical.PropRecurrenceID: true}
	for name, props := range master.Props {
		if skip[name] {
			continue
		}
		o.Props[name] = slices.Clone(props)
	}
	var alarms []*ical.Component
	for _, a := range master.Children {
		alarms = append(alarms, cloneComponent(a))
	}
	o.Children = alarms
}

func addExdate(master *ical.Component, rid when, loc *time.Location) {
	for _, p := range master.Props.Values(ical.PropExceptionDates) {
		if sameInstant(&p, rid, loc) {
			return
		}
	}
	p := ical.NewProp(ical.PropExceptionDates)
	setWhenProp(p, rid, loc)
	master.Props.Add(p)
}

func sameInstant(p *ical.Prop, w when, loc *time.Location) bool {
	z := &zones{cache: map[string]*time.Location{}, fallback: loc}
	for v := range strings.SplitSeq(p.Value, ",") {
		q := *p
		q.Value = v
		if got, err := z.timeOf(&q); err == nil && got.t.Equal(w.t) {
			return true
		}
	}
	return false
}

// setWhen writes a DATE, or a DATE-TIME in loc's TZID (UTC as Z).
func setWhen(c *ical.Component, name string, w when, loc *time.Location) {
	p := ical.NewProp(name)
	setWhenProp(p, w, loc)
	c.Props.Set(p)
}

func setWhenProp(p *ical.Prop, w when, loc *time.Location) {
	p.Params.Del(ical.PropTimezoneID)
	p.Params.Del(ical.ParamValue)
	if w.date {
		p.SetDate(w.t)
		return
	}
	if loc == nil || loc == time.UTC || loc.String() == "UTC" {
		p.SetDateTime(w.t.UTC())
		return
	}
	p.SetDateTime(w.t.In(loc))
}

func setDateTimeUTC(c *ical.Component, name string, t time.Time) {
	p := ical.NewProp(name)
	p.SetDateTime(t.UTC().Truncate(time.Second))
	c.Props.Set(p)
}

// dateOf is the date whose midnight in zone is nearest to w (a date is
// itself): local midnight, 23:59 of the day before the next, and a time a
// few hours off all name the day the client meant. The result is
// midnight UTC of that date.
func dateOf(w when, zone *time.Location) time.Time {
	if w.date {
		return w.t
	}
	y, m, d := w.t.In(zone).Add(12 * time.Hour).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// wallDate is midnight in loc of a date held as midnight UTC.
func wallDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func startInZone(w when, loc *time.Location) time.Time {
	if w.date {
		return wallDate(w.t, loc)
	}
	return w.t.In(loc)
}

// parseTime reads an MS-ASDTYPE date-time: compact ("20260114T090000Z")
// or, as some clients send, extended ("2026-01-14T09:00:00.000Z"). ""
// is the zero time.
func parseTime(elem, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{compact, "2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05Z", "20060102T150405"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, bad(elem, "%q is not a date-time", s)
}

// ruleOf reads a client's Recurrence.
func ruleOf(r *message.Recurrence, start when, loc *time.Location, allDay bool) (recur.Rule, error) {
	var out recur.Rule
	num := func(elem, s string, lo, hi int) (int, error) {
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < lo || n > hi {
			return 0, bad("Recurrence", "%s %q", elem, s)
		}
		return n, nil
	}
	var err error
	if r.Type == "" {
		return out, bad("Recurrence", "no Type")
	}
	if out.Type, err = num("Type", r.Type, 0, 6); err != nil || out.Type == 4 {
		return out, bad("Recurrence", "Type %q", r.Type)
	}
	for _, f := range []struct {
		elem   string
		s      string
		lo, hi int
		dst    *int
	}{
		{"Occurrences", r.Occurrences, 0, 999, &out.Occurrences},
		{"Interval", r.Interval, 0, 999, &out.Interval},
		{"WeekOfMonth", r.WeekOfMonth, 0, 5, &out.WeekOfMonth},
		{"DayOfWeek", r.DayOfWeek, 0, 127, &out.DayOfWeek},
		{"DayOfMonth", r.DayOfMonth, 0, 31, &out.DayOfMonth},
		{"MonthOfYear", r.MonthOfYear, 0, 12, &out.MonthOfYear},
		{"CalendarType", r.CalendarType, 0, 23, &out.CalendarType},
		{"FirstDayOfWeek", r.FirstDayOfWeek, 0, 6, &out.FirstDayOfWeek},
	} {
		if *f.dst, err = num(f.elem, f.s, f.lo, f.hi); err != nil {
			return out, err
		}
	}
	out.Interval = max(out.Interval, 1)
	out.IsLeapMonth = r.IsLeapMonth == "1"
	out.HasFirstDayOfWeek = r.FirstDayOfWeek != ""
	if out.Type == 1 && out.DayOfWeek == 0 {
		out.DayOfWeek = 1 << int(startInZone(start, loc).Weekday())
	}
	if r.Until != "" {
		u, err := parseTime("Until", r.Until)
		if err != nil {
			return out, err
		}
		if allDay {
			u = dateOf(when{t: u}, loc)
			u = wallDate(u, loc)
		}
		if u.Before(startInZone(start, loc)) {
			return out, bad("Until", "%s is before the start", r.Until)
		}
		out.Until = u
	}
	return out, nil
}

// sameRule reports whether a phone's rule is the EAS form a stored rule
// was sent as.
func sameRule(a, b recur.Rule) bool {
	ua, ub := a.Until, b.Until
	a.Until, b.Until = time.Time{}, time.Time{}
	if a.Interval == 0 {
		a.Interval = 1
	}
	if b.Interval == 0 {
		b.Interval = 1
	}
	// CalendarType and FirstDayOfWeek are not sent to every version.
	a.CalendarType, b.CalendarType = 0, 0
	if !a.HasFirstDayOfWeek || !b.HasFirstDayOfWeek {
		a.HasFirstDayOfWeek, b.HasFirstDayOfWeek, a.FirstDayOfWeek, b.FirstDayOfWeek = false, false, 0, 0
	}
	return a == b && (ua.IsZero() == ub.IsZero()) && (ua.IsZero() || ua.Sub(ub).Abs() < 24*time.Hour)
}

// ensureTimezone adds a VTIMEZONE for loc when the object names it and
// has none, so the object stands on its own for other iCalendar readers.
func ensureTimezone(cal *ical.Calendar, loc *time.Location, year int) {
	if loc == nil || loc == time.UTC || loc.String() == "UTC" {
		return
	}
	name := loc.String()
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			if p := c.Props.Get(ical.PropTimezoneID); p != nil && p.Value == name {
				return
			}
		}
	}
	cal.Children = append([]*ical.Component{vtimezone(loc, year)}, cal.Children...)
}

// vtimezone describes loc by its rules in year: a STANDARD and, where
// the zone has DST, a DAYLIGHT observance with yearly rules.
func vtimezone(loc *time.Location, year int) *ical.Component {
	tzc := ical.NewComponent(ical.CompTimezone)
	tzc.Props.SetText(ical.PropTimezoneID, loc.String())
	b := tz.Encode(loc, year)
	off := func(bias int32) string {
		m := -bias
		sign := "+"
		if m < 0 {
			sign, m = "-", -m
		}
		return fmt.Sprintf("%s%02d%02d", sign, m/60, m%60)
	}
	std, dst := off(b.Bias+b.StandardBias), off(b.Bias+b.DaylightBias)
	obs := func(name, from, to string, d tz.SystemTime) *ical.Component {
		c := ical.NewComponent(name)
		c.Props.SetText(ical.PropTimezoneOffsetFrom, from)
		c.Props.SetText(ical.PropTimezoneOffsetTo, to)
		start := ical.NewProp(ical.PropDateTimeStart)
		if d.Month == 0 {
			start.Value = "19700101T000000"
		} else {
			start.Value = fmt.Sprintf("1970%02d01T%02d%02d00", d.Month, d.Hour, d.Minute)
			week := int(d.Day)
			if week == 5 {
				week = -1
			}
			rr := ical.NewProp(ical.PropRecurrenceRule)
			rr.Value = fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", d.Month, week, rdays[d.DayOfWeek%7])
			c.Props.Set(rr)
		}
		c.Props.Set(start)
		return c
	}
	if b.DaylightDate.Month == 0 {
		tzc.Children = append(tzc.Children, obs(ical.CompTimezoneStandard, std, std, tz.SystemTime{}))
		return tzc
	}
	tzc.Children = append(tzc.Children, obs(ical.CompTimezoneStandard, dst, std, b.StandardDate),
		obs(ical.CompTimezoneDaylight, std, dst, b.DaylightDate))
	return tzc
}

func cloneCalendar(c *ical.Calendar) *ical.Calendar {
	return &ical.Calendar{Component: cloneComponent(c.Component)}
}

func cloneComponent(c *ical.Component) *ical.Component {
	out := &ical.Component{Name: c.Name, Props: make(ical.Props, len(c.Props))}
	for k, ps := range c.Props {
		cp := make([]ical.Prop, len(ps))
		for i, p := range ps {
			cp[i] = p
			if p.Params != nil {
				cp[i].Params = make(ical.Params, len(p.Params))
				for pk, pv := range p.Params {
					cp[i].Params[pk] = slices.Clone(pv)
				}
			}
		}
		out.Props[k] = cp
	}
	for _, ch := range c.Children {
		out.Children = append(out.Children, cloneComponent(ch))
	}
	return out
}

// ApplyInstance applies a 16.x Sync Change of one occurrence (the Change
// carries AirSyncBase:InstanceId, the occurrence's original start in
// UTC): the sent elements become, or change, the override for that
// occurrence; the series is otherwise untouched.
func ApplyInstance(base *ical.Calendar, instance time.Time, e Edit) (*ical.Calendar, error) {
	cal := cloneCalendar(base)
	master, overrides := events(cal)
	if master == nil || master.Props.Get(ical.PropRecurrenceRule) == nil {
		return nil, bad("InstanceId", "the event is not a series")
	}
	z := zonesOf(cal, e.Zone)
	s, _, err := z.span(master)
	if err != nil {
		return nil, err
	}
	loc := zoneOfProp(master.Props.Get(ical.PropDateTimeStart), z, e.Zone)
	dayZone := time.UTC // 16.x: all-day dates as midnight UTC
	c := e.Event
	if c == nil {
		c = &message.Calendar{}
	}
	x := message.Exception{InstanceID: instance.UTC().Format(compact), Subject: c.Subject, StartTime: c.StartTime,
		EndTime: c.EndTime, Location16: c.Location16, Categories: c.Categories, Sensitivity: c.Sensitivity,
		BusyStatus: c.BusyStatus, AllDayEvent: c.AllDayEvent, Reminder: c.Reminder, MeetingStatus: c.MeetingStatus,
		Attendees: c.Attendees, ResponseType: c.ResponseType, Body: c.Body, Location: c.Location}
	o, err := applyOccurrence(master, overrides, x, loc, dayZone, s.date, max(e.Version, 160), false)
	if err != nil {
		return nil, err
	}
	rid := o.Props.Get(ical.PropRecurrenceID)
	cal.Children = slices.DeleteFunc(cal.Children, func(x *ical.Component) bool {
		p := x.Props.Get(ical.PropRecurrenceID)
		return x.Name == ical.CompEvent && p != nil && p.Value == rid.Value
	})
	cal.Children = append(cal.Children, o)
	return cal, nil
}

// DeleteInstance deletes one occurrence of a series (a 16.x Sync Delete
// with InstanceId): an EXDATE at the occurrence's start, written as
// DTSTART is, and no override for it.
func DeleteInstance(base *ical.Calendar, instance time.Time, zone *time.Location) (*ical.Calendar, error) {
	cal := cloneCalendar(base)
	master, _ := events(cal)
	if master == nil || master.Props.Get(ical.PropRecurrenceRule) == nil {
		return nil, bad("InstanceId", "the event is not a series")
	}
	z := zonesOf(cal, zone)
	s, _, err := z.span(master)
	if err != nil {
		return nil, err
	}
	loc := zoneOfProp(master.Props.Get(ical.PropDateTimeStart), z, zone)
	rid := when{t: instance}
	if s.date {
		rid = when{t: dateOf(rid, time.UTC), date: true}
	}
	addExdate(master, rid, loc)
	cal.Children = slices.DeleteFunc(cal.Children, func(x *ical.Component) bool {
		p := x.Props.Get(ical.PropRecurrenceID)
		return x.Name == ical.CompEvent && p != nil && sameInstant(p, rid, loc)
	})
	return cal, nil
}

// rdays are RFC 5545's weekday names, indexed by SYSTEMTIME's wDayOfWeek
// (0 Sunday).
var rdays = []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}
