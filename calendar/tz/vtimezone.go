package tz

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/calendar/recur"
	"github.com/emersion/go-ical"
)

// vtzHorizon is how far a custom zone's yearly rules are written out. Go's
// locations hold explicit transitions; past the last one the last offset
// stays, which is harmless this far out.
var vtzHorizon = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// FromVTIMEZONE builds a location from a VTIMEZONE's own STANDARD and
// DAYLIGHT observances (DTSTART, TZOFFSETFROM/TO, RRULE, RDATE), for TZIDs
// LoadTZID does not know. The location is named by the TZID.
func FromVTIMEZONE(comp *ical.Component) (*time.Location, error) {
	if comp == nil || !strings.EqualFold(comp.Name, ical.CompTimezone) {
		return nil, fmt.Errorf("tz: not a VTIMEZONE")
	}
	tzid := ""
	if p := comp.Props.Get(ical.PropTimezoneID); p != nil {
		tzid = p.Value
	}
	if tzid == "" {
		return nil, fmt.Errorf("tz: VTIMEZONE without TZID")
	}
	type onset struct {
		at  time.Time
		typ zoneType
	}
	var onsets []onset
	for _, obs := range comp.Children {
		dst := strings.EqualFold(obs.Name, "DAYLIGHT")
		if !dst && !strings.EqualFold(obs.Name, "STANDARD") {
			continue
		}
		from, err := utcOffsetProp(obs, "TZOFFSETFROM")
		if err != nil {
			return nil, fmt.Errorf("tz: %s %s: %w", tzid, obs.Name, err)
		}
		to, err := utcOffsetProp(obs, "TZOFFSETTO")
		if err != nil {
			return nil, fmt.Errorf("tz: %s %s: %w", tzid, obs.Name, err)
		}
		typ := zoneType{offset: to, isDST: dst, abbr: abbrev(to)}
		if p := obs.Props.Get("TZNAME"); p != nil && p.Value != "" {
			typ.abbr = p.Value
		}
		p := obs.Props.Get(ical.PropDateTimeStart)
		if p == nil {
			return nil, fmt.Errorf("tz: %s %s: no DTSTART", tzid, obs.Name)
		}
		// Onsets are wall clocks of the offset in force before them.
		fromZone := time.FixedZone("", from)
		start, err := parseLocal(p.Value, fromZone)
		if err != nil {
			return nil, fmt.Errorf("tz: %s %s DTSTART: %w", tzid, obs.Name, err)
		}
		var rdates []time.Time
		for _, rd := range obs.Props.Values("RDATE") {
			for _, v := range strings.Split(rd.Value, ",") {
				v, _, _ = strings.Cut(v, "/") // a PERIOD's start
				t, err := parseLocal(v, fromZone)
				if err != nil {
					return nil, fmt.Errorf("tz: %s %s RDATE: %w", tzid, obs.Name, err)
				}
				rdates = append(rdates, t)
			}
		}
		rule := ""
		if rp := obs.Props.Get(ical.PropRecurrenceRule); rp != nil {
			rule = rp.Value
		}
		ats, err := recur.Expand(start, rule, rdates, nil, time.Time{}, vtzHorizon, 5000)
		if err != nil {
			return nil, fmt.Errorf("tz: %s %s: %w", tzid, obs.Name, err)
		}
		for _, at := range ats {
			onsets = append(onsets, onset{at, typ})
		}
	}
	if len(onsets) == 0 {
		return nil, fmt.Errorf("tz: VTIMEZONE %s has no observances", tzid)
	}
	sort.SliceStable(onsets, func(i, j int) bool { return onsets[i].at.Before(onsets[j].at) })
	// Before the first onset the zone is at that onset's TZOFFSETFROM;
	// type 0, which Go uses for times before all transitions.
	first := onsets[0]
	var initial zoneType
	for _, obs := range comp.Children {
		if from, err := utcOffsetProp(obs, "TZOFFSETFROM"); err == nil {
			if p := obs.Props.Get(ical.PropDateTimeStart); p != nil {
				if t, err := parseLocal(p.Value, time.FixedZone("", from)); err == nil && t.Equal(first.at) {
					initial = zoneType{offset: from, abbr: abbrev(from)}
				}
			}
		}
	}
	if initial.abbr == "" {
		initial = first.typ
	}
	types := []zoneType{initial}
	index := map[zoneType]int{}
	var trans []zoneTrans
	for _, o := range onsets {
		i, ok := index[o.typ]
		if !ok {
			i = len(types)
			index[o.typ] = i
			types = append(types, o.typ)
		}
		if n := len(trans); n > 0 && trans[n-1].at == o.at.Unix() {
			trans[n-1].kind = i
			continue
		}
		trans = append(trans, zoneTrans{at: o.at.Unix(), kind: i})
	}
	if len(types) > 255 {
		return nil, fmt.Errorf("tz: VTIMEZONE %s has too many observances", tzid)
	}
	return time.LoadLocationFromTZData(tzid, tzif(types, trans, ""))
}

// utcOffsetProp reads a UTC-OFFSET property: "+0100", "-0500", "+053000".
func utcOffsetProp(c *ical.Component, name string) (int, error) {
	p := c.Props.Get(name)
	if p == nil {
		return 0, fmt.Errorf("no %s", name)
	}
	v := strings.TrimSpace(p.Value)
	if len(v) != 5 && len(v) != 7 || v[0] != '+' && v[0] != '-' {
		return 0, fmt.Errorf("%s %q", name, v)
	}
	n := 0
	for i, unit := range []int{3600, 60, 1} {
		if 1+2*i+2 > len(v) {
			break
		}
		x, err := strconv.Atoi(v[1+2*i : 3+2*i])
		if err != nil {
			return 0, fmt.Errorf("%s %q", name, v)
		}
		n += x * unit
	}
	if v[0] == '-' {
		n = -n
	}
	return n, nil
}

// parseLocal reads a DATE-TIME (or DATE) as a wall clock in loc; a UTC
// value stays UTC.
func parseLocal(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	switch {
	case strings.HasSuffix(v, "Z"):
		return time.ParseInLocation("20060102T150405Z", v, time.UTC)
	case len(v) == 8:
		return time.ParseInLocation("20060102", v, loc)
	}
	return time.ParseInLocation("20060102T150405", v, loc)
}
