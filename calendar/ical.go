package calendar

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/easd/easd/calendar/recur"
	"github.com/easd/easd/calendar/tz"
	"github.com/emersion/go-ical"
	"github.com/google/uuid"
)

// The iCalendar side: reading and writing one series' object, and the
// facts the store indexes. go-ical resolves a TZID only through
// time.LoadLocation and reads TEXT as a comma list; both are done here
// instead (Windows and Mozilla TZIDs and custom VTIMEZONEs through
// calendar/tz; TEXT unescaped whole).

const prodID = "-//easd//easd calendar//EN"

// maxExpand bounds the occurrences counted to find a finite series' last
// end; a longer series is indexed as open (it is in every window), which
// costs nothing but a wider listing.
const maxExpand = 20000

// allDaySlack widens an all-day event's dates, which have no zone, to
// every zone's day: UTC-12 to UTC+14.
const allDaySlack = 14 * time.Hour

func decodeObject(text string) (*ical.Calendar, error) {
	return ical.NewDecoder(strings.NewReader(text)).Decode()
}

func encodeObject(cal *ical.Calendar) (string, error) {
	var b bytes.Buffer
	if err := ical.NewEncoder(&b).Encode(cal); err != nil {
		return "", err
	}
	return b.String(), nil
}

// events returns the master VEVENT (the one without RECURRENCE-ID) and the
// overrides of the series.
func events(cal *ical.Calendar) (master *ical.Component, overrides []*ical.Component) {
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		if c.Props.Get(ical.PropRecurrenceID) != nil {
			overrides = append(overrides, c)
		} else if master == nil {
			master = c
		}
	}
	return master, overrides
}

// setUID gives every VEVENT of cal the UID uid; with uid empty it keeps
// the master's (or an override's, for a series of orphan instances) or
// makes one. Events with different UIDs are not one series.
func setUID(cal *ical.Calendar, uid string) error {
	var have string
	n := 0
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		n++
		if p := c.Props.Get(ical.PropUID); p != nil && p.Value != "" {
			if have != "" && p.Value != have {
				return fmt.Errorf("%w: VEVENTs with UIDs %q and %q", ErrBadObject, have, p.Value)
			}
			have = p.Value
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: no VEVENT", ErrBadObject)
	}
	if uid == "" {
		uid = have
	}
	if uid == "" {
		uid = uuid.NewString()
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			c.Props.SetText(ical.PropUID, uid)
		}
	}
	if cal.Props.Get(ical.PropProductID) == nil {
		cal.Props.SetText(ical.PropProductID, prodID)
	}
	if cal.Props.Get(ical.PropVersion) == nil {
		cal.Props.SetText(ical.PropVersion, "2.0")
	}
	return nil
}

// zones resolves the TZIDs of cal: names calendar/tz knows (IANA, Windows,
// Mozilla-style), then the object's own VTIMEZONEs.
type zones struct {
	vtz      map[string]*ical.Component
	cache    map[string]*time.Location
	fallback *time.Location
}

func zonesOf(cal *ical.Calendar, fallback *time.Location) *zones {
	z := &zones{vtz: map[string]*ical.Component{}, cache: map[string]*time.Location{}, fallback: fallback}
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			if p := c.Props.Get(ical.PropTimezoneID); p != nil {
				z.vtz[p.Value] = c
			}
		}
	}
	return z
}

func (z *zones) zone(tzid string) (*time.Location, error) {
	if loc, ok := z.cache[tzid]; ok {
		return loc, nil
	}
	loc, ok := tz.LoadTZID(tzid)
	if !ok {
		comp := z.vtz[tzid]
		if comp == nil {
			// An unknown TZID with no VTIMEZONE: the user's zone is a
			// better guess than UTC, which shifts the event by hours.
			if z.fallback == nil {
				return nil, fmt.Errorf("%w: unknown TZID %q", ErrBadObject, tzid)
			}
			loc = z.fallback
		} else {
			var err error
			if loc, err = tz.FromVTIMEZONE(comp); err != nil {
				return nil, fmt.Errorf("%w: VTIMEZONE %q: %w", ErrBadObject, tzid, err)
			}
		}
	}
	z.cache[tzid] = loc
	return loc, nil
}

// when is a DTSTART-like value: an instant, or a date (all day).
type when struct {
	t    time.Time // the instant; for a date, midnight UTC of the date
	date bool
}

// timeOf reads a DATE or DATE-TIME property; a floating time is read in
// the fallback zone (UTC without one).
func (z *zones) timeOf(p *ical.Prop) (when, error) {
	v := p.Value
	if p.ValueType() == ical.ValueDate || len(v) == 8 {
		t, err := time.Parse("20060102", v)
		if err != nil {
			return when{}, fmt.Errorf("%w: %s %q", ErrBadObject, p.Name, v)
		}
		return when{t: t, date: true}, nil
	}
	if strings.HasSuffix(v, "Z") {
		t, err := time.Parse("20060102T150405Z", v)
		if err != nil {
			return when{}, fmt.Errorf("%w: %s %q", ErrBadObject, p.Name, v)
		}
		return when{t: t}, nil
	}
	loc := z.fallback
	if tzid := p.Params.Get(ical.PropTimezoneID); tzid != "" {
		var err error
		if loc, err = z.zone(tzid); err != nil {
			return when{}, err
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("20060102T150405", v, loc)
	if err != nil {
		return when{}, fmt.Errorf("%w: %s %q", ErrBadObject, p.Name, v)
	}
	return when{t: t}, nil
}

// timesOf reads a list property (EXDATE, RDATE), possibly comma-separated
// (which go-ical does not split), possibly repeated.
func (z *zones) timesOf(comp *ical.Component, name string) ([]when, error) {
	var out []when
	for _, p := range comp.Props.Values(name) {
		for v := range strings.SplitSeq(p.Value, ",") {
			q := p
			q.Value = v
			w, err := z.timeOf(&q)
			if err != nil {
				return nil, err
			}
			out = append(out, w)
		}
	}
	return out, nil
}

// span is a VEVENT's start and end; the end defaults as RFC 5545 3.6.1
// says (a date: one day; a date-time: the start).
func (z *zones) span(c *ical.Component) (start, end when, err error) {
	p := c.Props.Get(ical.PropDateTimeStart)
	if p == nil {
		return when{}, when{}, fmt.Errorf("%w: VEVENT without DTSTART", ErrBadObject)
	}
	if start, err = z.timeOf(p); err != nil {
		return when{}, when{}, err
	}
	end = start
	if start.date {
		end.t = start.t.AddDate(0, 0, 1)
	}
	if p := c.Props.Get(ical.PropDateTimeEnd); p != nil {
		if end, err = z.timeOf(p); err != nil {
			return when{}, when{}, err
		}
	} else if p := c.Props.Get(ical.PropDuration); p != nil {
		d, err := p.Duration()
		if err != nil {
			return when{}, when{}, fmt.Errorf("%w: DURATION %q", ErrBadObject, p.Value)
		}
		end = when{t: start.t.Add(d), date: start.date}
	}
	if end.t.Before(start.t) {
		return when{}, when{}, fmt.Errorf("%w: ends before it starts", ErrBadObject)
	}
	return start, end, nil
}

// index is what the store keeps beside the object.
type index struct {
	uid   string
	first time.Time
	last  *time.Time // nil: no end
}

// indexOf computes the indexed columns of a series: its first start and
// the end of its last occurrence (expanding a finite rule, EXDATEs and
// overrides included). All-day dates are widened by allDaySlack, since
// they have no zone: the window test errs on the side of listing.
func indexOf(cal *ical.Calendar) (index, error) {
	master, overrides := events(cal)
	z := zonesOf(cal, nil)
	var ix index
	if p := firstEvent(cal).Props.Get(ical.PropUID); p != nil {
		ix.uid = p.Value
	}
	var first, last time.Time
	open := false
	widen := func(s, e when) (time.Time, time.Time) {
		if s.date {
			return s.t.Add(-allDaySlack), e.t.Add(allDaySlack)
		}
		return s.t, e.t
	}
	see := func(s, e time.Time) {
		if first.IsZero() || s.Before(first) {
			first = s
		}
		if e.After(last) {
			last = e
		}
	}
	if master != nil {
		s, e, err := z.span(master)
		if err != nil {
			return index{}, err
		}
		fs, fe := widen(s, e)
		see(fs, fe)
		if rr := master.Props.Get(ical.PropRecurrenceRule); rr != nil {
			up := strings.ToUpper(rr.Value)
			if !strings.Contains(up, "COUNT=") && !strings.Contains(up, "UNTIL=") {
				open = true
			} else {
				ex, err := z.timesOf(master, ical.PropExceptionDates)
				if err != nil {
					return index{}, err
				}
				occ, err := recur.Expand(s.t, rr.Value, nil, instants(ex), s.t, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), maxExpand+1)
				if err != nil {
					return index{}, fmt.Errorf("%w: RRULE %q: %w", ErrBadObject, rr.Value, err)
				}
				if len(occ) > maxExpand {
					open = true
				} else if len(occ) > 0 {
					_, le := widen(when{t: occ[len(occ)-1], date: s.date}, when{t: occ[len(occ)-1].Add(e.t.Sub(s.t)), date: s.date})
					see(fs, le)
				}
			}
		}
		rd, err := z.timesOf(master, ical.PropRecurrenceDates)
		if err != nil {
			return index{}, err
		}
		for _, r := range rd {
			rs, re := widen(r, when{t: r.t.Add(e.t.Sub(s.t)), date: r.date})
			see(rs, re)
		}
	}
	for _, o := range overrides {
		s, e, err := z.span(o)
		if err != nil {
			return index{}, err
		}
		see(widen(s, e))
	}
	ix.first = first.UTC()
	if !open {
		l := last.UTC()
		ix.last = &l
	}
	return ix, nil
}

func firstEvent(cal *ical.Calendar) *ical.Component {
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			return c
		}
	}
	return nil
}

func instants(ws []when) []time.Time {
	out := make([]time.Time, len(ws))
	for i, w := range ws {
		out[i] = w.t
	}
	return out
}

// textOf is a TEXT property's value unescaped whole: go-ical's Text would
// cut a value at its first comma, and an exporter that forgot to escape
// one ("Room 1, 2nd floor") must not lose half of it.
func textOf(c *ical.Component, name string) string {
	p := c.Props.Get(name)
	if p == nil {
		return ""
	}
	return unescapeText(p.Value)
}

func unescapeText(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// setText sets (or, for "", removes) a single TEXT property.
func setText(c *ical.Component, name, v string) {
	if v == "" {
		c.Props.Del(name)
		return
	}
	c.Props.SetText(name, v)
}

// categoriesOf reads every CATEGORIES property as one list.
func categoriesOf(c *ical.Component) []string {
	var out []string
	for _, p := range c.Props.Values(ical.PropCategories) {
		l, err := p.TextList()
		if err != nil {
			continue
		}
		for _, s := range l {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
