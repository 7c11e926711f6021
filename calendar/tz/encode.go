package tz

import (
	"strings"
	"time"
)

// transition is one change of a zone's UTC offset.
type transition struct {
	at       time.Time // instant of the change
	from, to int       // UTC offsets in seconds before and after
}

// transitions lists the offset changes of loc between the starts of the
// local years year and year+1, from Go's own zone data (so the rules are the
// ones in force that year, not today's).
func transitions(loc *time.Location, year int) []transition {
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)
	t := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	var out []transition
	for {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			return out
		}
		_, from := t.Zone()
		_, to := next.Zone()
		if from != to {
			out = append(out, transition{at: next, from: from, to: to})
		}
		t = next
	}
}

// Encode gives the blob for loc with the rules in force in year: Bias from
// the zone's standard (lower) offset, the two yearly changes as weekday
// rules. Names are the Windows zone's where CLDR knows one, because Exchange
// and Outlook peers find a zone by that name first.
func Encode(loc *time.Location, year int) Blob {
	if loc == nil {
		loc = time.UTC
	}
	var z Blob
	if w := WindowsName(loc); w != "" {
		z.StandardName = w
		z.DaylightName = strings.Replace(w, "Standard", "Daylight", 1)
	}
	tr := transitions(loc, year)
	std, dst := 0, 0
	var up, down *transition
	if len(tr) > 0 {
		std, dst = tr[0].from, tr[0].from
		for i := range tr {
			std, dst = min(std, tr[i].to, tr[i].from), max(dst, tr[i].to, tr[i].from)
		}
		for i := range tr {
			if up == nil && tr[i].to == dst && tr[i].from == std {
				up = &tr[i]
			}
			if down == nil && tr[i].to == std && tr[i].from == dst {
				down = &tr[i]
			}
		}
	}
	if up == nil || down == nil {
		// No daylight time that year (or only a one-off change of the
		// base offset): the offset the year ends with stands for it.
		_, off := time.Date(year, 12, 31, 12, 0, 0, 0, loc).Zone()
		z.Bias = int32(-off / 60)
		return z
	}
	z.Bias = int32(-std / 60)
	z.DaylightBias = int32(-(dst - std) / 60)
	z.DaylightDate = ruleFor(loc, year, *up, true)
	z.StandardDate = ruleFor(loc, year, *down, false)
	return z
}

// ruleFor turns one transition into a yearly SYSTEMTIME rule: the wall clock
// just before the change, and its weekday's week in the month.
func ruleFor(loc *time.Location, year int, t transition, up bool) SystemTime {
	wall := t.at.Add(time.Duration(t.from) * time.Second).UTC()
	st := SystemTime{
		Month:     uint16(wall.Month()),
		DayOfWeek: uint16(wall.Weekday()),
		Day:       uint16((wall.Day()-1)/7 + 1),
		Hour:      uint16(wall.Hour()),
		Minute:    uint16(wall.Minute()),
		Second:    uint16(wall.Second()),
	}
	if st.Day == 4 && wall.Day()+7 > daysIn(wall.Month(), wall.Year()) {
		// The 4th weekday is also the last: the neighbouring years tell
		// "last Sunday" (most rules) from "4th Sunday".
		st.Day = 5
		for _, y := range []int{year + 1, year - 1} {
			for _, o := range transitions(loc, y) {
				if (o.to > o.from) != up {
					continue
				}
				w := o.at.Add(time.Duration(o.from) * time.Second).UTC()
				if w.Month() == wall.Month() && w.Weekday() == wall.Weekday() && (w.Day()-1)/7 == 3 && w.Day()+7 <= daysIn(w.Month(), w.Year()) {
					st.Day = 4
				}
			}
		}
	}
	if st.Day > 5 {
		st.Day = 5
	}
	return st
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ruleWall is the wall clock (as UTC fields) at which a SYSTEMTIME rule
// fires in year; ok is false for "no rule".
func ruleWall(st SystemTime, year int) (time.Time, bool) {
	if st.Month < 1 || st.Month > 12 {
		return time.Time{}, false
	}
	m := time.Month(st.Month)
	clock := time.Duration(st.Hour)*time.Hour + time.Duration(st.Minute)*time.Minute +
		time.Duration(st.Second)*time.Second + time.Duration(st.Milliseconds)*time.Millisecond
	if st.Year != 0 {
		// An absolute date (Windows "dynamic DST" entries): its month
		// and day stand for the rule of that year.
		return time.Date(year, m, int(st.Day), 0, 0, 0, 0, time.UTC).Add(clock), true
	}
	first := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC)
	d := 1 + (int(st.DayOfWeek)-int(first.Weekday())+7)%7
	week := int(st.Day)
	if week < 1 {
		week = 1
	}
	d += 7 * (week - 1)
	for d > daysIn(m, year) {
		d -= 7
	}
	return time.Date(year, m, d, 0, 0, 0, 0, time.UTC).Add(clock), true
}

// offsets returns the blob's standard and daylight UTC offsets in seconds.
func (z Blob) offsets() (std, dst int) {
	std = -int(z.Bias+z.StandardBias) * 60
	dst = -int(z.Bias+z.daylightBias()) * 60
	return std, dst
}

// changes gives the instants daylight time starts and ends in year.
func (z Blob) changes(year int) (start, end time.Time, ok bool) {
	std, dst := z.offsets()
	ws, ok1 := ruleWall(z.DaylightDate, year)
	we, ok2 := ruleWall(z.StandardDate, year)
	if !ok1 || !ok2 {
		return time.Time{}, time.Time{}, false
	}
	return ws.Add(-time.Duration(std) * time.Second), we.Add(-time.Duration(dst) * time.Second), true
}

// Offset gives the UTC offset in seconds the blob's rules put at instant t.
func (z Blob) Offset(t time.Time) int {
	std, dst := z.offsets()
	if !z.HasDST() {
		return std
	}
	year := t.Add(time.Duration(std) * time.Second).UTC().Year()
	start, end, ok := z.changes(year)
	if !ok {
		return std
	}
	if start.Before(end) {
		if !t.Before(start) && t.Before(end) {
			return dst
		}
		return std
	}
	// Southern hemisphere: daylight time spans the new year.
	if !t.Before(start) || t.Before(end) {
		return dst
	}
	return std
}
