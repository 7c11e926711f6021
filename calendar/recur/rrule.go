package recur

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// weekdayNum is one BYDAY entry: an optional ordinal and a weekday.
type weekdayNum struct {
	n  int // 0 = every such weekday
	wd time.Weekday
}

// rrule is a parsed RFC 5545 RRULE value (with RFC 7529's RSCALE and SKIP).
type rrule struct {
	freq       string
	interval   int
	count      int
	until      time.Time
	untilKind  int // 0 none, 1 DATE, 2 UTC date-time, 3 floating date-time
	byDay      []weekdayNum
	byMonthDay []int
	byMonth    []int
	leapMonth  bool
	bySetPos   []int
	byYearDay  []int
	byWeekNo   []int
	byHour     []int
	byMinute   []int
	bySecond   []int
	wkst       time.Weekday
	hasWkst    bool
	rscale     string
	skip       string
}

const (
	untilNone = iota
	untilDate
	untilUTC
	untilFloating
)

var dayNames = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

func parseWeekday(s string) (time.Weekday, bool) {
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

func parseInts(v string, lo, hi int, neg bool) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimPrefix(f, "+"))
		if err != nil {
			return nil, fmt.Errorf("recur: %q is not a number", f)
		}
		a := n
		if a < 0 {
			if !neg {
				return nil, fmt.Errorf("recur: %d out of range", n)
			}
			a = -a
		}
		if a < lo || a > hi {
			return nil, fmt.Errorf("recur: %d out of range", n)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseRRULE reads an RRULE value ("FREQ=...", an "RRULE:" prefix is
// allowed). A floating or DATE UNTIL is returned as wall-clock fields in UTC
// with untilKind saying which.
func parseRRULE(s string) (*rrule, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 6 && strings.EqualFold(s[:6], "RRULE:") {
		s = s[6:]
	}
	r := &rrule{interval: 1, wkst: time.Monday}
	for _, part := range strings.Split(s, ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("recur: bad RRULE part %q", part)
		}
		k = strings.ToUpper(k)
		var err error
		switch k {
		case "FREQ":
			r.freq = strings.ToUpper(v)
			switch r.freq {
			case "SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY":
			default:
				return nil, fmt.Errorf("recur: FREQ %q", v)
			}
		case "INTERVAL":
			r.interval, err = strconv.Atoi(v)
			if err == nil && r.interval < 1 {
				err = fmt.Errorf("recur: INTERVAL %d", r.interval)
			}
		case "COUNT":
			r.count, err = strconv.Atoi(v)
			if err == nil && r.count < 1 {
				err = fmt.Errorf("recur: COUNT %d", r.count)
			}
		case "UNTIL":
			err = r.parseUntil(v)
		case "BYDAY":
			for _, d := range strings.Split(v, ",") {
				d = strings.TrimSpace(d)
				if len(d) < 2 {
					return nil, fmt.Errorf("recur: BYDAY %q", d)
				}
				wd, ok := parseWeekday(d[len(d)-2:])
				if !ok {
					return nil, fmt.Errorf("recur: BYDAY %q", d)
				}
				n := 0
				if num := d[:len(d)-2]; num != "" {
					n, err = strconv.Atoi(strings.TrimPrefix(num, "+"))
					if err != nil || n == 0 || n > 53 || n < -53 {
						return nil, fmt.Errorf("recur: BYDAY %q", d)
					}
				}
				r.byDay = append(r.byDay, weekdayNum{n, wd})
			}
		case "BYMONTHDAY":
			r.byMonthDay, err = parseInts(v, 1, 31, true)
		case "BYMONTH":
			if strings.HasSuffix(strings.ToUpper(v), "L") && !strings.Contains(v, ",") {
				r.leapMonth = true
				v = v[:len(v)-1]
			}
			r.byMonth, err = parseInts(v, 1, 13, false)
		case "BYSETPOS":
			r.bySetPos, err = parseInts(v, 1, 366, true)
		case "BYYEARDAY":
			r.byYearDay, err = parseInts(v, 1, 366, true)
		case "BYWEEKNO":
			r.byWeekNo, err = parseInts(v, 1, 53, true)
		case "BYHOUR":
			r.byHour, err = parseInts(v, 0, 23, false)
		case "BYMINUTE":
			r.byMinute, err = parseInts(v, 0, 59, false)
		case "BYSECOND":
			r.bySecond, err = parseInts(v, 0, 60, false)
		case "WKST":
			r.wkst, ok = parseWeekday(v)
			if !ok {
				err = fmt.Errorf("recur: WKST %q", v)
			}
			r.hasWkst = true
		case "RSCALE":
			r.rscale = strings.ToUpper(v)
		case "SKIP":
			r.skip = strings.ToUpper(v)
		default:
			// RFC 5545 allows x-name parts; they change nothing we expand.
			if !strings.HasPrefix(k, "X-") {
				return nil, fmt.Errorf("recur: unknown RRULE part %q", k)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if r.freq == "" {
		return nil, fmt.Errorf("recur: RRULE %q has no FREQ", s)
	}
	if r.count > 0 && r.untilKind != untilNone {
		return nil, fmt.Errorf("recur: RRULE has both COUNT and UNTIL")
	}
	return r, nil
}

func (r *rrule) parseUntil(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case len(v) == 8:
		t, err := time.Parse("20060102", v)
		if err != nil {
			return fmt.Errorf("recur: UNTIL %q", v)
		}
		r.until, r.untilKind = t, untilDate
	case len(v) == 16 && (v[15] == 'Z' || v[15] == 'z'):
		t, err := time.Parse("20060102T150405", v[:15])
		if err != nil {
			return fmt.Errorf("recur: UNTIL %q", v)
		}
		r.until, r.untilKind = t, untilUTC
	case len(v) == 15:
		t, err := time.Parse("20060102T150405", v)
		if err != nil {
			return fmt.Errorf("recur: UNTIL %q", v)
		}
		r.until, r.untilKind = t, untilFloating
	default:
		return fmt.Errorf("recur: UNTIL %q", v)
	}
	return nil
}

// untilIn gives UNTIL as an instant for a series in loc. A DATE UNTIL covers
// its whole day: RFC 5545 makes UNTIL inclusive, and a DATE UNTIL on a timed
// series (common, though the RFC forbids it) means "up to that day".
func (r *rrule) untilIn(loc *time.Location) time.Time {
	switch r.untilKind {
	case untilUTC:
		return r.until
	case untilDate:
		y, m, d := r.until.Date()
		return time.Date(y, m, d, 23, 59, 59, 0, loc)
	case untilFloating:
		return wallToInstant(r.until, loc)
	}
	return time.Time{}
}
