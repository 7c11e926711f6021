package calendar

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/calendar/recur"
	"github.com/easd/easd/calendar/tz"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// The EAS Calendar mapping (MS-ASCAL), both directions.
//
// Time: the stored truth is the iCalendar DTSTART/DTEND in the event's
// IANA zone (TZID) or a DATE for an all-day event. The EAS TimeZone blob
// is a view: outbound the zone's rules in the series' start year,
// inbound the zone calendar/tz locates for the blob, with the user's
// zone as the fallback.
//
// All-day events: below 16.0 EAS sends local midnight of the blob's zone
// as an instant; 16.x sends the dates as midnight UTC and no TimeZone. Any
// instant a client sends for an all-day event is read as the date whose
// midnight is nearest in the zone (so an end at 23:59 is the next
// midnight, and a client that got the zone wrong by a few hours still
// lands on the day it meant).
//
// EAS-only values without an iCalendar property are kept as X-EAS-*
// properties, so an export and re-import carries them too.

// X-properties of the mapping.
const (
	xBusyStatus   = "X-MICROSOFT-CDO-BUSYSTATUS" // Outlook's own, understood by other clients
	xDisallow     = "X-MICROSOFT-DISALLOW-COUNTER"
	xSensitivity  = "X-EAS-SENSITIVITY" // "1" personal: CLASS has no value for it
	xMeeting      = "X-EAS-MEETINGSTATUS"
	xRespReq      = "X-EAS-RESPONSEREQUESTED"
	xRespType     = "X-EAS-RESPONSETYPE"
	xReplyTime    = "X-EAS-APPOINTMENTREPLYTIME"
	xConfLink     = "X-EAS-ONLINEMEETINGCONFLINK"
	xExternalLink = "X-EAS-ONLINEMEETINGEXTERNALLINK"
	xLocPrefix    = "X-EAS-LOCATION-"
)

// MaxExceptions is the most exceptions one series may carry (the limit
// Exchange applies; a client sending more is refused).
const MaxExceptions = 256

const compact = "20060102T150405Z"

// RenderOptions say how to render an event for one request.
type RenderOptions struct {
	Version int // protocol version times ten
	Body    []message.BodyPreference
	// Zone is the user's zone: all-day events below 16.0 are sent as
	// midnight in it, and floating times are read in it.
	Zone *time.Location
}

var busyNames = []string{"FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE"}

// blobCache holds the base64 TimeZone blob per shared zone (tz.Shared:
// UTC and the zones loaded by name) and year: a calendar's events share
// a handful of zones, and computing a year's rules walks the zone's
// transitions, which is most of an event's cost to render when done per
// event. Zones built from a calendar's own VTIMEZONE are not cached: their
// names come from the data (any mail's invitation), so they would grow
// the process-wide cache without bound, and two calendars' zones of one
// name and the same January and July offsets may still change on other
// dates, which a cache by name would give one the other's blob. Years
// are bounded too: an event's year is data as well.
var blobCache sync.Map // blobKey -> string

type blobKey struct {
	loc  *time.Location
	year int
}

func zoneBlob(loc *time.Location, year int) string {
	if !tz.Shared(loc) || year < 1970 || year > 2100 {
		return base64.StdEncoding.EncodeToString(tz.Encode(loc, year).Bytes())
	}
	k := blobKey{loc, year}
	if v, ok := blobCache.Load(k); ok {
		return v.(string)
	}
	b := base64.StdEncoding.EncodeToString(tz.Encode(loc, year).Bytes())
	blobCache.Store(k, b)
	return b
}

// ToEAS renders a stored series as an EAS Calendar item.
func ToEAS(cal *ical.Calendar, o RenderOptions) (*message.Calendar, error) {
	master, overrides := events(cal)
	if master == nil {
		if len(overrides) == 0 {
			return nil, fmt.Errorf("%w: no VEVENT", ErrBadObject)
		}
		// A series the user was invited to one instance of only: show
		// that instance as an event.
		master, overrides = overrides[0], nil
	}
	z := zonesOf(cal, o.Zone)
	s, e, err := z.span(master)
	if err != nil {
		return nil, err
	}
	loc := zoneOfProp(master.Props.Get(ical.PropDateTimeStart), z, o.Zone)
	v := o.Version
	out := &message.Calendar{}
	allDay := s.date
	if !(allDay && v >= 160) {
		out.Timezone = zoneBlob(loc, s.t.In(loc).Year())
	}
	out.AllDayEvent = boolStr(allDay)
	out.StartTime, out.EndTime = easTime(s, loc, v), easTime(e, loc, v)
	// DTSTAMP, which stored events always have; an object from elsewhere
	// without one (an invitation mail) takes its last change, its
	// creation or its start: never the time of rendering, which would
	// make two renders of one object differ.
	for _, name := range []string{ical.PropDateTimeStamp, ical.PropLastModified, ical.PropCreated} {
		if p := master.Props.Get(name); p != nil && out.DtStamp == "" {
			if w, err := z.timeOf(p); err == nil {
				out.DtStamp = w.t.UTC().Format(compact)
			}
		}
	}
	if out.DtStamp == "" {
		out.DtStamp = s.t.UTC().Format(compact)
	}
	out.UID = textOf(master, ical.PropUID)
	renderCommon(out, master, v, o.Body)
	if org := master.Props.Get(ical.PropOrganizer); org != nil {
		out.OrganizerEmail = mailtoOf(org.Value)
		out.OrganizerName = org.Params.Get(ical.ParamCommonName)
	}
	out.MeetingStatus = meetingStatus(master)
	if v >= 140 {
		out.DisallowNewTimeProposal = boolStr(strings.EqualFold(textOf(master, xDisallow), "TRUE"))
		out.ResponseRequested = boolStr(textOf(master, xRespReq) == "1")
		out.ResponseType = textOf(master, xRespType)
		out.AppointmentReplyTime = textOf(master, xReplyTime)
	}
	if v >= 141 {
		out.OnlineMeetingConfLink = textOf(master, xConfLink)
		out.OnlineMeetingExternalLink = textOf(master, xExternalLink)
	}
	if rr := master.Props.Get(ical.PropRecurrenceRule); rr != nil {
		r, _, err := recur.FromRRULE(rr.Value, s.t.In(loc), allDay)
		if err != nil {
			return nil, fmt.Errorf("%w: RRULE %q: %w", ErrBadObject, rr.Value, err)
		}
		out.Recurrence = recurrenceOf(r, loc, allDay, v)
		ex, err := exceptionsOf(master, overrides, z, loc, allDay, v, o.Body)
		if err != nil {
			return nil, err
		}
		if len(ex) > 0 {
			out.Exceptions = &message.Exceptions{Exception: ex}
		}
	}
	return out, nil
}

// renderCommon fills the elements an Exception shares with its series.
func renderCommon(out *message.Calendar, c *ical.Component, v int, prefs []message.BodyPreference) {
	out.Subject = textOf(c, ical.PropSummary)
	loc := textOf(c, ical.PropLocation)
	if v >= 160 {
		out.Location16 = location16(c, loc)
	} else {
		out.Location = loc
	}
	out.Body25, out.BodyTrunc25, out.Body = renderBody(textOf(c, ical.PropDescription), v, prefs)
	out.BusyStatus = strconv.Itoa(busyStatus(c))
	out.Sensitivity = strconv.Itoa(sensitivity(c))
	if m, ok := reminder(c); ok {
		out.Reminder = strconv.Itoa(m)
	}
	if cats := categoriesOf(c); len(cats) > 0 {
		out.Categories = &message.CalendarCats{Category: cats}
	}
	if att := attendeesOf(c, v); att != nil {
		out.Attendees = att
	}
}

// zoneOfProp is the zone a DTSTART is written in: its TZID, else the
// user's zone, else UTC.
func zoneOfProp(p *ical.Prop, z *zones, user *time.Location) *time.Location {
	if p != nil {
		if tzid := p.Params.Get(ical.PropTimezoneID); tzid != "" {
			if loc, err := z.zone(tzid); err == nil {
				return loc
			}
		}
	}
	if user != nil {
		return user
	}
	return time.UTC
}

// easTime is a start or end as EAS sends it: the instant in UTC; a date
// as midnight in loc (below 16.0) or midnight UTC (16.x).
func easTime(w when, loc *time.Location, v int) string {
	if !w.date {
		return w.t.UTC().Format(compact)
	}
	if v >= 160 {
		return w.t.Format(compact)
	}
	y, m, d := w.t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc).UTC().Format(compact)
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func busyStatus(c *ical.Component) int {
	if i := slices.Index(busyNames, strings.ToUpper(textOf(c, xBusyStatus))); i >= 0 {
		return i
	}
	if strings.EqualFold(textOf(c, ical.PropTransparency), "TRANSPARENT") {
		return 0
	}
	if strings.EqualFold(textOf(c, ical.PropStatus), "TENTATIVE") {
		return 1
	}
	return 2
}

func sensitivity(c *ical.Component) int {
	if textOf(c, xSensitivity) == "1" {
		return 1
	}
	switch strings.ToUpper(textOf(c, ical.PropClass)) {
	case "PRIVATE":
		return 2
	case "CONFIDENTIAL":
		return 3
	}
	return 0
}

// reminder is the minutes before the start of the first alarm that is
// relative to the start.
func reminder(c *ical.Component) (int, bool) {
	for _, a := range c.Children {
		if a.Name != ical.CompAlarm {
			continue
		}
		p := a.Props.Get(ical.PropTrigger)
		if p == nil || p.ValueType() == ical.ValueDateTime || strings.EqualFold(p.Params.Get(ical.ParamRelated), "END") {
			continue
		}
		d, err := p.Duration()
		if err != nil || d > 0 {
			continue
		}
		return int(-d / time.Minute), true
	}
	return 0, false
}

func meetingStatus(c *ical.Component) string {
	if s := textOf(c, xMeeting); s != "" {
		return s
	}
	if c.Props.Get(ical.PropOrganizer) == nil && c.Props.Get(ical.PropAttendee) == nil {
		return "0"
	}
	if strings.EqualFold(textOf(c, ical.PropStatus), "CANCELLED") {
		return "5"
	}
	return "1"
}

func mailtoOf(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "mailto:") {
		return v[7:]
	}
	return v
}

var partStats = map[string]string{"TENTATIVE": "2", "ACCEPTED": "3", "DECLINED": "4", "NEEDS-ACTION": "5"}

func attendeesOf(c *ical.Component, v int) *message.Attendees {
	props := c.Props.Values(ical.PropAttendee)
	if len(props) == 0 {
		return nil
	}
	out := &message.Attendees{}
	for _, p := range props {
		a := message.Attendee{Email: mailtoOf(p.Value), Name: p.Params.Get(ical.ParamCommonName)}
		if a.Name == "" {
			a.Name = a.Email
		}
		if v >= 120 {
			a.AttendeeStatus = partStats[strings.ToUpper(p.Params.Get(ical.ParamParticipationStatus))]
			if a.AttendeeStatus == "" {
				a.AttendeeStatus = "0"
			}
			switch {
			case slices.Contains([]string{"RESOURCE", "ROOM"}, strings.ToUpper(p.Params.Get(ical.ParamCalendarUserType))):
				a.AttendeeType = "3"
			case strings.EqualFold(p.Params.Get(ical.ParamRole), "OPT-PARTICIPANT"), strings.EqualFold(p.Params.Get(ical.ParamRole), "NON-PARTICIPANT"):
				a.AttendeeType = "2"
			default:
				a.AttendeeType = "1"
			}
		}
		out.Attendee = append(out.Attendee, a)
	}
	return out
}

// locParts are the 16.x structured location's parts kept as X-properties;
// DisplayName is LOCATION, latitude and longitude are GEO.
var locParts = []struct {
	name string
	get  func(*message.Location) *string
}{
	{"ANNOTATION", func(l *message.Location) *string { return &l.Annotation }},
	{"STREET", func(l *message.Location) *string { return &l.Street }},
	{"CITY", func(l *message.Location) *string { return &l.City }},
	{"STATE", func(l *message.Location) *string { return &l.State }},
	{"COUNTRY", func(l *message.Location) *string { return &l.Country }},
	{"POSTALCODE", func(l *message.Location) *string { return &l.PostalCode }},
	{"ACCURACY", func(l *message.Location) *string { return &l.Accuracy }},
	{"ALTITUDE", func(l *message.Location) *string { return &l.Altitude }},
	{"ALTITUDEACCURACY", func(l *message.Location) *string { return &l.AltitudeAccuracy }},
	{"URI", func(l *message.Location) *string { return &l.LocationURI }},
}

func location16(c *ical.Component, display string) *message.Location {
	l := &message.Location{DisplayName: display}
	for _, p := range locParts {
		*p.get(l) = textOf(c, xLocPrefix+p.name)
	}
	if g := c.Props.Get(ical.PropGeo); g != nil {
		l.Latitude, l.Longitude, _ = strings.Cut(g.Value, ";")
	}
	if *l == (message.Location{}) {
		return nil
	}
	return l
}

// renderBody puts the description in the version's form: Calendar:Body
// for 2.5, AirSyncBase:Body after it, in the first preferred type we have
// (plain text, or HTML made of the escaped text).
func renderBody(text string, v int, prefs []message.BodyPreference) (string, *bool, *message.Body) {
	switch {
	case text == "":
		return "", nil, nil
	case v == 25:
		data, truncated := model.Truncate(text, model.TextPreference(prefs).TruncationSize)
		return data, &truncated, nil
	}
	return "", nil, model.RenderBody(text, message.BodyPlain, v, prefs)
}

// recurrenceOf renders a rule in the version's elements.
func recurrenceOf(r recur.Rule, loc *time.Location, allDay bool, v int) *message.Recurrence {
	out := &message.Recurrence{Type: strconv.Itoa(r.Type), Interval: strconv.Itoa(max(r.Interval, 1))}
	itoa := func(i int) string {
		if i == 0 {
			return ""
		}
		return strconv.Itoa(i)
	}
	out.Occurrences = itoa(r.Occurrences)
	out.WeekOfMonth = itoa(r.WeekOfMonth)
	out.DayOfWeek = itoa(r.DayOfWeek)
	out.MonthOfYear = itoa(r.MonthOfYear)
	out.DayOfMonth = itoa(r.DayOfMonth)
	if !r.Until.IsZero() {
		u := r.Until
		if allDay {
			out.Until = easTime(when{t: time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC), date: true}, loc, v)
		} else {
			out.Until = u.UTC().Format(compact)
		}
	}
	if v >= 140 {
		if r.Type == 2 || r.Type == 3 || r.Type == 5 || r.Type == 6 {
			out.CalendarType = strconv.Itoa(r.CalendarType) // required for these types
		}
		if r.IsLeapMonth {
			out.IsLeapMonth = "1"
		}
	}
	if v >= 141 && r.HasFirstDayOfWeek {
		out.FirstDayOfWeek = strconv.Itoa(r.FirstDayOfWeek)
	}
	return out
}

// exceptionsOf renders EXDATEs as deleted exceptions and overrides as
// changed ones, each naming its occurrence by its original start in UTC
// (ExceptionStartTime below 16.0, InstanceId in 16.x). An override's
// elements are sent where they differ from the series'; start and end
// always.
func exceptionsOf(master *ical.Component, overrides []*ical.Component, z *zones, loc *time.Location, allDay bool, v int, prefs []message.BodyPreference) ([]message.Exception, error) {
	var out []message.Exception
	name := func(ex *message.Exception, w when) {
		t := easTime(w, loc, v)
		if v >= 160 {
			ex.InstanceID = t
		} else {
			ex.ExceptionStartTime = t
		}
	}
	exd, err := z.timesOf(master, ical.PropExceptionDates)
	if err != nil {
		return nil, err
	}
	for _, w := range exd {
		ex := message.Exception{Deleted: "1"}
		name(&ex, when{t: w.t, date: allDay})
		out = append(out, ex)
	}
	base := &message.Calendar{}
	renderCommon(base, master, v, prefs)
	for _, o := range overrides {
		rid, err := z.timeOf(o.Props.Get(ical.PropRecurrenceID))
		if err != nil {
			return nil, err
		}
		ex := message.Exception{}
		name(&ex, when{t: rid.t, date: allDay})
		if strings.EqualFold(textOf(o, ical.PropStatus), "CANCELLED") {
			ex.Deleted = "1"
			out = append(out, ex)
			continue
		}
		s, e, err := z.span(o)
		if err != nil {
			return nil, err
		}
		ex.StartTime, ex.EndTime = easTime(s, loc, v), easTime(e, loc, v)
		if s.date != allDay {
			ex.AllDayEvent = boolStr(s.date)
		}
		c := &message.Calendar{}
		renderCommon(c, o, v, prefs)
		diff := func(a, b string) string {
			if a == b {
				return ""
			}
			return a
		}
		ex.Subject = diff(c.Subject, base.Subject)
		ex.Location = diff(c.Location, base.Location)
		if !reflectEqualLoc(c.Location16, base.Location16) {
			ex.Location16 = c.Location16
		}
		ex.BusyStatus = diff(c.BusyStatus, base.BusyStatus)
		ex.Sensitivity = diff(c.Sensitivity, base.Sensitivity)
		ex.Reminder = diff(c.Reminder, base.Reminder)
		if textOf(o, ical.PropDescription) != textOf(master, ical.PropDescription) {
			ex.Body25, ex.Body = c.Body25, c.Body
		}
		if !slices.Equal(categoriesOf(o), categoriesOf(master)) {
			ex.Categories = c.Categories
			if ex.Categories == nil {
				ex.Categories = &message.CalendarCats{}
			}
		}
		if v >= 140 {
			ex.ResponseType = diff(textOf(o, xRespType), textOf(master, xRespType))
		}
		out = append(out, ex)
	}
	return out, nil
}

func reflectEqualLoc(a, b *message.Location) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
