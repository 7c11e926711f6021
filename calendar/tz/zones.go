package tz

import (
	"fmt"
	"strings"
	"time"

	"github.com/easd/easd/calendar/recur"
	"github.com/emersion/go-ical"
)

// Zones resolves the TZIDs used in one iCalendar object: known names
// through LoadTZID (so a well-known zone keeps today's rules even when the
// sender's VTIMEZONE is stale), the rest from the object's own VTIMEZONEs.
type Zones struct {
	custom map[string]*time.Location
	errs   map[string]error
}

// CalendarZones reads the VTIMEZONEs of cal. A VTIMEZONE that cannot be
// built is remembered: Lookup of its TZID then reports the error.
func CalendarZones(cal *ical.Calendar) *Zones {
	z := &Zones{custom: map[string]*time.Location{}, errs: map[string]error{}}
	if cal == nil {
		return z
	}
	for _, c := range cal.Children {
		if !strings.EqualFold(c.Name, ical.CompTimezone) {
			continue
		}
		id := ""
		if p := c.Props.Get(ical.PropTimezoneID); p != nil {
			id = p.Value
		}
		if _, ok := LoadTZID(id); ok {
			continue
		}
		if loc, err := FromVTIMEZONE(c); err != nil {
			z.errs[id] = err
		} else {
			z.custom[id] = loc
		}
	}
	return z
}

// Lookup resolves a TZID.
func (z *Zones) Lookup(tzid string) (*time.Location, error) {
	if loc, ok := LoadTZID(tzid); ok {
		return loc, nil
	}
	if z != nil {
		if loc, ok := z.custom[tzid]; ok {
			return loc, nil
		}
		if err, ok := z.errs[tzid]; ok {
			return nil, err
		}
	}
	return nil, fmt.Errorf("tz: unknown TZID %q and no VTIMEZONE for it", tzid)
}

// Times reads a DATE / DATE-TIME property, including comma-separated lists
// (EXDATE, RDATE): UTC values in UTC, TZID values in that zone (a wall time
// in a DST gap moves forward, RFC 5545 3.3.5), floating values with isDate
// and floating false as wall clocks in UTC with floating true. DATE values
// are midnight UTC with isDate true.
func (z *Zones) Times(p *ical.Prop) (times []time.Time, isDate, floating bool, err error) {
	if p == nil {
		return nil, false, false, fmt.Errorf("tz: no property")
	}
	var loc *time.Location
	if id := p.Params.Get(ical.PropTimezoneID); id != "" {
		if loc, err = z.Lookup(id); err != nil {
			return nil, false, false, err
		}
	}
	isDate = strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE")
	for _, v := range strings.Split(p.Value, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if strings.EqualFold(p.Params.Get(ical.ParamValue), "PERIOD") {
			v, _, _ = strings.Cut(v, "/")
		}
		var t time.Time
		switch {
		case len(v) == 8:
			isDate = true
			t, err = time.Parse("20060102", v)
		case len(v) == 16 && (v[15] == 'Z' || v[15] == 'z'):
			t, err = time.Parse("20060102T150405", v[:15])
		case len(v) == 15:
			t, err = time.Parse("20060102T150405", v)
			if err == nil && loc != nil {
				t = recur.InZone(t, loc)
			} else {
				floating = loc == nil
			}
		default:
			err = fmt.Errorf("tz: %s value %q", p.Name, v)
		}
		if err != nil {
			return nil, false, false, fmt.Errorf("tz: %s: %w", p.Name, err)
		}
		times = append(times, t)
	}
	return times, isDate, floating, nil
}
