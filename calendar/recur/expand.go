package recur

import (
	"errors"
	"fmt"
	"sort"
	"time"

	rrulego "github.com/teambition/rrule-go"
)

// ErrTooMany is returned when a series needs more work than Expand allows.
var ErrTooMany = errors.New("recur: series too long to expand")

// maxSteps bounds the candidates Expand walks through before giving up: a
// rule that matches nothing (FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30) would
// otherwise loop until the end of time.
const maxSteps = 2_000_000

// InZone gives the instant a wall clock (the fields of wall, whatever its
// location) means in loc, by RFC 5545's rules for the DST changes; see
// wallToInstant. Use it instead of time.Date to read iCalendar local times.
func InZone(wall time.Time, loc *time.Location) time.Time {
	return wallToInstant(floating(wall), loc)
}

// wallToInstant gives the instant a wall-clock time (given as UTC fields)
// means in loc, the way RFC 5545 3.3.5 says: a time that occurs twice (the
// autumn change) is the first of them; a time that does not exist (in the
// spring gap) is read with the offset before the gap, so it moves forward
// by the gap's length. Go's time.Date leaves the gap case unspecified.
func wallToInstant(wall time.Time, loc *time.Location) time.Time {
	w := wall.Unix()
	_, before := time.Unix(w-86400, 0).In(loc).Zone()
	_, after := time.Unix(w+86400, 0).In(loc).Zone()
	valid := func(off int) bool {
		_, o := time.Unix(w-int64(off), 0).In(loc).Zone()
		return o == off
	}
	ns := int64(wall.Nanosecond())
	switch vb, va := valid(before), valid(after); {
	case vb && va:
		// Both readings exist (an overlap) or they are the same: the
		// earlier instant is the first occurrence.
		return time.Unix(w-int64(max(before, after)), ns).In(loc)
	case vb:
		return time.Unix(w-int64(before), ns).In(loc)
	case va:
		return time.Unix(w-int64(after), ns).In(loc)
	}
	// In the gap.
	return time.Unix(w-int64(before), ns).In(loc)
}

// floating is t's wall clock as UTC fields: the rules are applied to wall
// clocks, where there is no DST, and only then placed in the zone.
func floating(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}

var freqs = map[string]rrulego.Frequency{
	"YEARLY": rrulego.YEARLY, "MONTHLY": rrulego.MONTHLY, "WEEKLY": rrulego.WEEKLY, "DAILY": rrulego.DAILY,
	"HOURLY": rrulego.HOURLY, "MINUTELY": rrulego.MINUTELY, "SECONDLY": rrulego.SECONDLY,
}

var rweekdays = [7]rrulego.Weekday{rrulego.SU, rrulego.MO, rrulego.TU, rrulego.WE, rrulego.TH, rrulego.FR, rrulego.SA}

// option builds rrule-go's form of the rule on the floating clock.
func (r *rrule) option(dtstart time.Time) (rrulego.ROption, error) {
	if t, _ := rscaleType(r.rscale); t != 0 {
		return rrulego.ROption{}, fmt.Errorf("recur: cannot expand RSCALE=%s", r.rscale)
	}
	o := rrulego.ROption{
		Freq:       freqs[r.freq],
		Dtstart:    floating(dtstart),
		Interval:   r.interval,
		Wkst:       rweekdays[r.wkst],
		Count:      r.count,
		Bysetpos:   r.bySetPos,
		Bymonth:    r.byMonth,
		Bymonthday: r.byMonthDay,
		Byyearday:  r.byYearDay,
		Byweekno:   r.byWeekNo,
		Byhour:     r.byHour,
		Byminute:   r.byMinute,
		Bysecond:   r.bySecond,
	}
	for _, d := range r.byDay {
		wd := rweekdays[d.wd]
		if d.n != 0 {
			wd = wd.Nth(d.n)
		}
		o.Byweekday = append(o.Byweekday, wd)
	}
	switch r.untilKind {
	case untilDate:
		o.Until = r.until.Add(24*time.Hour - time.Second)
	case untilUTC:
		o.Until = floating(r.until.In(dtstart.Location()))
	case untilFloating:
		o.Until = r.until
	}
	return o, nil
}

// Expand lists the occurrence starts of a series in [from, to), in
// dtstart's zone: DTSTART itself (RFC 5545 counts it as the first
// occurrence), the RRULE's, the RDATEs, minus the EXDATEs (matched by
// instant), sorted, at most max of them. The rule is applied to wall
// clocks and each result placed in the zone afterwards, so a weekly 09:00
// stays at 09:00 across DST changes and a time in a DST gap moves forward
// (rrule-go alone computes in the zone and shifts such series). rrule may
// be empty for a series of only DTSTART and RDATEs.
func Expand(dtstart time.Time, rule string, rdates, exdates []time.Time, from, to time.Time, limit int) ([]time.Time, error) {
	if limit <= 0 {
		return nil, nil
	}
	loc := dtstart.Location()
	excluded := make(map[int64]bool, len(exdates))
	for _, x := range exdates {
		excluded[x.UnixNano()] = true
	}
	seen := map[int64]bool{}
	var out []time.Time
	addOne := func(t time.Time) bool {
		k := t.UnixNano()
		if seen[k] || excluded[k] || t.Before(from) || !t.Before(to) {
			return false
		}
		seen[k] = true
		out = append(out, t.In(loc))
		return true
	}
	addOne(dtstart)
	for _, r := range rdates {
		addOne(r)
	}
	if rule != "" {
		rr, err := parseRRULE(rule)
		if err != nil {
			return nil, err
		}
		if err := rr.expandInto(dtstart, to, limit, addOne); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// expandInto feeds the rule's occurrences up to to (at most limit of them
// inside the window) to add, which reports whether it kept one.
func (rr *rrule) expandInto(dtstart, to time.Time, limit int, add func(time.Time) bool) error {
	loc := dtstart.Location()
	if rr.count > 0 {
		// DTSTART is the first of COUNT occurrences even when the rule
		// would not produce it.
		if rr.count = rr.countWithStart(dtstart); rr.count == 0 {
			return nil
		}
	}
	opt, err := rr.option(dtstart)
	if err != nil {
		return err
	}
	// Stop two days past the window on the floating clock: no zone is
	// more than a day from its wall clock.
	stop := floating(to.In(loc)).Add(48 * time.Hour)
	if opt.Until.IsZero() && opt.Count == 0 {
		// rrule-go ends an open series 290 years after DTSTART (the
		// longest time.Duration); Outlook's VTIMEZONEs start in 1601.
		opt.Until = stop
	}
	it, err := rrulego.NewRRule(opt)
	if err != nil {
		return fmt.Errorf("recur: %w", err)
	}
	next := it.Iterator()
	kept := 0
	for steps := 0; ; steps++ {
		f, ok := next()
		if !ok || f.After(stop) {
			return nil
		}
		if steps >= maxSteps {
			return ErrTooMany
		}
		if add(wallToInstant(f, loc)) {
			// Later ones sort after these: the first limit are found.
			if kept++; kept >= limit {
				return nil
			}
		}
	}
}

// countWithStart is the COUNT to give rrule-go: one less when DTSTART is
// not itself an occurrence of the rule, since it is added separately.
func (r *rrule) countWithStart(dtstart time.Time) int {
	probe := *r
	probe.count = 1
	opt, err := probe.option(dtstart)
	if err != nil {
		return r.count
	}
	it, err := rrulego.NewRRule(opt)
	if err != nil {
		return r.count
	}
	if first, ok := it.Iterator()(); ok && first.Equal(floating(dtstart)) {
		return r.count
	}
	return r.count - 1
}
