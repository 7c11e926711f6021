// Package recur converts between EAS recurrences (MS-ASCAL Recurrence) and
// RFC 5545 RRULEs, and expands a series into its occurrences.
package recur

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// EAS recurrence types (MS-ASCAL 2.2.2.40 Type).
const (
	Daily          = 0
	Weekly         = 1
	MonthlyByDay   = 2
	MonthlyNth     = 3
	YearlyByDate   = 5
	YearlyNth      = 6
	LastWeek       = 5   // WeekOfMonth: the last week
	WeekdaysMask   = 62  // DayOfWeek: Monday to Friday
	WeekendMask    = 65  // DayOfWeek: Saturday and Sunday
	LastDayOfMonth = 127 // DayOfWeek with types 2/3 and WeekOfMonth 5
)

// Rule is the EAS form of a recurrence (MS-ASCAL Recurrence): Type 0 daily,
// 1 weekly, 2 monthly by day, 3 monthly Nth weekday, 5 yearly by date,
// 6 yearly Nth weekday; Interval, Occurrences, Until (zero if none),
// WeekOfMonth (5 = last), DayOfWeek bitmask (Sunday 1 .. Saturday 64; 127
// with types 2/3 = a day of the month), DayOfMonth, MonthOfYear,
// CalendarType, IsLeapMonth, FirstDayOfWeek (0 Sunday; only meaningful with
// HasFirstDayOfWeek).
type Rule struct {
	Type, Interval, Occurrences, WeekOfMonth, DayOfWeek, DayOfMonth, MonthOfYear, CalendarType, FirstDayOfWeek int
	IsLeapMonth                                                                                                bool
	Until                                                                                                      time.Time
	HasFirstDayOfWeek                                                                                          bool
}

// ErrRule is wrapped by the errors of rules that cannot be a recurrence.
var ErrRule = errors.New("recur: invalid recurrence")

// rscales maps MS-ASCAL CalendarType values of non-Gregorian month systems
// to RFC 7529 RSCALE names (CLDR calendar ids). Era calendars (Japanese,
// Taiwan, Korean, Thai) count Gregorian months and need none.
var rscales = map[int]string{6: "ISLAMIC-CIVIL", 8: "HEBREW", 14: "CHINESE", 15: "CHINESE", 20: "DANGI"}

func rscaleType(s string) (int, bool) {
	switch s {
	case "", "GREGORIAN":
		return 0, true
	case "ISLAMIC-CIVIL", "ISLAMIC":
		return 6, true
	case "HEBREW":
		return 8, true
	case "CHINESE":
		return 15, true
	case "DANGI":
		return 20, true
	}
	return 0, false
}

// ToRRULE turns an EAS rule into an RFC 5545 RRULE value for a series
// starting at dtstart (in the event's zone). Until becomes a DATE UNTIL for
// all-day series and a UTC one otherwise, covering the whole local day
// Until falls on: phones send Until as the last day at midnight (UTC or
// local), at the end of that day, or as the last occurrence's start, and
// reading any of those as the bare instant loses the last occurrence.
// Occurrences and Until are exclusive (MS-ASCAL); given both, Occurrences
// wins because a count is never ambiguous.
func ToRRULE(r Rule, dtstart time.Time, allDay bool) (string, error) {
	interval := r.Interval
	if interval == 0 {
		interval = 1
	}
	if interval < 0 || r.Occurrences < 0 {
		return "", fmt.Errorf("%w: interval %d, occurrences %d", ErrRule, r.Interval, r.Occurrences)
	}
	var parts []string
	if name, ok := rscales[r.CalendarType]; ok {
		parts = append(parts, "RSCALE="+name)
	}
	add := func(k, v string) { parts = append(parts, k+"="+v) }
	dow := r.DayOfWeek & 127
	switch r.Type {
	case Daily:
		if dow != 0 && dow != 127 {
			// "Every weekday" from phones that send it as daily.
			if interval != 1 {
				return "", fmt.Errorf("%w: daily every %d days on weekdays %d", ErrRule, interval, dow)
			}
			add("FREQ", "WEEKLY")
			add("BYDAY", days(dow, 0))
			break
		}
		add("FREQ", "DAILY")
	case Weekly:
		add("FREQ", "WEEKLY")
		if dow == 0 {
			dow = 1 << uint(dtstart.Weekday())
		}
		add("BYDAY", days(dow, 0))
	case MonthlyByDay:
		add("FREQ", "MONTHLY")
		if dow == LastDayOfMonth {
			add("BYMONTHDAY", "-1")
			break
		}
		add("BYMONTHDAY", strconv.Itoa(dayOfMonth(r, dtstart)))
	case MonthlyNth, YearlyNth:
		if r.Type == MonthlyNth {
			add("FREQ", "MONTHLY")
		} else {
			add("FREQ", "YEARLY")
			add("BYMONTH", month(r, dtstart))
		}
		week := r.WeekOfMonth
		if week < 1 || week > 5 {
			return "", fmt.Errorf("%w: WeekOfMonth %d", ErrRule, r.WeekOfMonth)
		}
		n := week
		if week == LastWeek {
			n = -1
		}
		switch {
		case dow == 0:
			return "", fmt.Errorf("%w: type %d without DayOfWeek", ErrRule, r.Type)
		case dow == LastDayOfMonth:
			// Every day of the week: the Nth (or last) day of the month.
			add("BYMONTHDAY", strconv.Itoa(n))
		case bits.OnesCount(uint(dow)) == 1:
			add("BYDAY", days(dow, n))
		default:
			// "The last weekday", "the second weekend day": the Nth of
			// the set, which only BYSETPOS says.
			add("BYDAY", days(dow, 0))
			add("BYSETPOS", strconv.Itoa(n))
		}
	case YearlyByDate:
		add("FREQ", "YEARLY")
		add("BYMONTH", month(r, dtstart))
		add("BYMONTHDAY", strconv.Itoa(dayOfMonth(r, dtstart)))
	default:
		return "", fmt.Errorf("%w: type %d", ErrRule, r.Type)
	}
	if interval != 1 {
		add("INTERVAL", strconv.Itoa(interval))
	}
	switch {
	case r.Occurrences > 0:
		add("COUNT", strconv.Itoa(r.Occurrences))
	case !r.Until.IsZero():
		add("UNTIL", untilValue(r.Until, dtstart, allDay))
	}
	if r.HasFirstDayOfWeek {
		if r.FirstDayOfWeek < 0 || r.FirstDayOfWeek > 6 {
			return "", fmt.Errorf("%w: FirstDayOfWeek %d", ErrRule, r.FirstDayOfWeek)
		}
		add("WKST", dayNames[r.FirstDayOfWeek])
	}
	return strings.Join(parts, ";"), nil
}

func dayOfMonth(r Rule, dtstart time.Time) int {
	if r.DayOfMonth >= 1 && r.DayOfMonth <= 31 {
		return r.DayOfMonth
	}
	return dtstart.Day()
}

func month(r Rule, dtstart time.Time) string {
	m := r.MonthOfYear
	if m < 1 || m > 13 {
		m = int(dtstart.Month())
	}
	s := strconv.Itoa(m)
	if r.IsLeapMonth {
		s += "L"
	}
	return s
}

// days writes a DayOfWeek mask as BYDAY, each with ordinal n if non-zero.
func days(mask, n int) string {
	var out []string
	// Monday first, as calendars write them.
	for _, d := range []int{1, 2, 3, 4, 5, 6, 0} {
		if mask&(1<<uint(d)) != 0 {
			p := dayNames[d]
			if n != 0 {
				p = strconv.Itoa(n) + p
			}
			out = append(out, p)
		}
	}
	return strings.Join(out, ",")
}

// untilValue reads the day an EAS Until means and writes the RRULE UNTIL
// that keeps every occurrence of that day.
func untilValue(until, dtstart time.Time, allDay bool) string {
	loc := dtstart.Location()
	local := until.In(loc)
	if allDay {
		d := nearestDate(local)
		return d.Format("20060102")
	}
	h, m, s := local.Clock()
	sh, sm, ss := dtstart.Clock()
	if h == sh && m == sm && s == ss {
		// The last occurrence's start: exact already.
		return until.UTC().Format("20060102T150405Z")
	}
	y, mo, d := local.Date()
	if u := until.UTC(); u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 {
		// Midnight UTC is a date sent as UTC (iOS, Outlook).
		y, mo, d = u.Date()
	}
	end := time.Date(y, mo, d, 23, 59, 59, 0, loc)
	return end.UTC().Format("20060102T150405Z")
}

// nearestDate is the date an all-day Until means: local midnight of that
// day, or its end (23:59), or a midnight in another zone within 12 hours.
func nearestDate(t time.Time) time.Time {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if h, _, _ := t.Clock(); h >= 12 && !(h == 23 && t.Minute() == 59) {
		return day.AddDate(0, 0, 1)
	}
	return day
}

// FromRRULE gives the EAS form of an RRULE for a series starting at dtstart.
// exact is false when EAS cannot express the rule; the nearest form is
// returned then, and the caller must keep the stored RRULE rather than take
// back a phone's echo of the lossy form.
func FromRRULE(s string, dtstart time.Time, allDay bool) (r Rule, exact bool, err error) {
	rr, err := parseRRULE(s)
	if err != nil {
		return Rule{}, false, err
	}
	exact = true
	lossy := func() { exact = false }
	r.Interval = rr.interval
	if rr.interval > 999 {
		r.Interval = 999
		lossy()
	}
	r.Occurrences = rr.count
	if rr.count > 999 {
		// MS-ASCAL caps Occurrences at 999.
		r.Occurrences = 999
		lossy()
	}
	switch rr.untilKind {
	case untilDate:
		y, m, d := rr.until.Date()
		if allDay {
			r.Until = time.Date(y, m, d, 0, 0, 0, 0, dtstart.Location())
		} else {
			r.Until = time.Date(y, m, d, 23, 59, 59, 0, dtstart.Location())
		}
	case untilUTC, untilFloating:
		r.Until = rr.untilIn(dtstart.Location())
	}
	if rr.hasWkst {
		r.FirstDayOfWeek, r.HasFirstDayOfWeek = int(rr.wkst), true
	}
	if ct, ok := rscaleType(rr.rscale); ok {
		r.CalendarType = ct
	} else {
		lossy()
	}
	if rr.skip != "" && rr.skip != "OMIT" {
		lossy()
	}
	r.IsLeapMonth = rr.leapMonth
	if len(rr.byHour)+len(rr.byMinute)+len(rr.bySecond)+len(rr.byYearDay)+len(rr.byWeekNo) > 0 {
		lossy()
	}
	plainDays, nthDays := 0, 0
	mask := 0
	for _, d := range rr.byDay {
		mask |= 1 << uint(d.wd)
		if d.n == 0 {
			plainDays++
		} else {
			nthDays++
		}
	}
	monthOf := func() int {
		switch len(rr.byMonth) {
		case 0:
			return int(dtstart.Month())
		case 1:
			return rr.byMonth[0]
		}
		lossy()
		return rr.byMonth[0]
	}
	dayOf := func() int {
		switch len(rr.byMonthDay) {
		case 0:
			return dtstart.Day()
		case 1:
			if d := rr.byMonthDay[0]; d > 0 {
				return d
			}
		}
		lossy()
		if d := rr.byMonthDay[0]; d > 0 {
			return d
		}
		return dtstart.Day()
	}
	// nth sets WeekOfMonth and DayOfWeek from BYDAY (and BYSETPOS); ok is
	// false when BYDAY is not an Nth-weekday rule at all.
	nth := func() bool {
		switch {
		case nthDays == 1 && plainDays == 0 && len(rr.bySetPos) == 0:
			r.DayOfWeek = mask
			r.WeekOfMonth = week(rr.byDay[0].n, lossy)
			return true
		case nthDays == 0 && plainDays > 0 && len(rr.bySetPos) == 1:
			r.DayOfWeek = mask
			if mask == 127 {
				r.DayOfWeek = LastDayOfMonth
			}
			r.WeekOfMonth = week(rr.bySetPos[0], lossy)
			return true
		case nthDays == 0 && plainDays == 0 && len(rr.bySetPos) == 0 && len(rr.byMonthDay) == 1 && rr.byMonthDay[0] == -1:
			r.DayOfWeek, r.WeekOfMonth = LastDayOfMonth, LastWeek
			return true
		}
		return false
	}
	switch rr.freq {
	case "DAILY":
		switch {
		case len(rr.byDay) == 0 && len(rr.byMonthDay)+len(rr.byMonth)+len(rr.bySetPos) == 0:
			r.Type = Daily
		case nthDays == 0 && rr.interval == 1 && len(rr.byMonthDay)+len(rr.byMonth)+len(rr.bySetPos) == 0:
			// Every given weekday is a weekly rule of those days.
			r.Type, r.DayOfWeek = Weekly, mask
		default:
			r.Type = Daily
			lossy()
		}
	case "WEEKLY":
		r.Type = Weekly
		r.DayOfWeek = mask
		if mask == 0 {
			r.DayOfWeek = 1 << uint(dtstart.Weekday())
		}
		if nthDays > 0 || len(rr.byMonthDay)+len(rr.byMonth)+len(rr.bySetPos) > 0 {
			lossy()
		}
	case "MONTHLY":
		if len(rr.byMonth) > 0 {
			lossy()
		}
		switch {
		case len(rr.byDay) == 0 && len(rr.bySetPos) == 0 && !(len(rr.byMonthDay) == 1 && rr.byMonthDay[0] == -1):
			r.Type = MonthlyByDay
			r.DayOfMonth = dayOf()
		case len(rr.byMonthDay) == 0 || len(rr.byDay) == 0:
			r.Type = MonthlyNth
			if !nth() {
				r.DayOfWeek, r.WeekOfMonth = mask, LastWeek
				lossy()
			}
		default:
			r.Type = MonthlyNth
			nth()
			lossy()
		}
	case "YEARLY":
		r.MonthOfYear = monthOf()
		switch {
		case len(rr.byDay) == 0 && len(rr.bySetPos) == 0 && !(len(rr.byMonthDay) == 1 && rr.byMonthDay[0] == -1):
			r.Type = YearlyByDate
			r.DayOfMonth = dayOf()
		case len(rr.byMonth) == 0 && len(rr.byDay) > 0:
			// The Nth weekday of the year: EAS counts within a month.
			r.Type = YearlyNth
			nth()
			lossy()
		case len(rr.byMonthDay) == 0 || len(rr.byDay) == 0:
			r.Type = YearlyNth
			if !nth() {
				r.DayOfWeek, r.WeekOfMonth = mask, LastWeek
				lossy()
			}
		default:
			r.Type = YearlyNth
			nth()
			lossy()
		}
	default:
		// Sub-daily series have no EAS form; daily is the nearest.
		r.Type = Daily
		r.Interval = 1
		lossy()
	}
	if r.Type == Daily || r.Type == Weekly {
		// MS-ASCAL: Weekly rules carry only the days; no month fields.
		r.MonthOfYear, r.DayOfMonth = 0, 0
	}
	if r.Type == MonthlyByDay || r.Type == MonthlyNth {
		r.MonthOfYear = 0
	}
	return r, exact, nil
}

// week maps an ordinal (1..4, -1) to WeekOfMonth; others are lossy.
func week(n int, lossy func()) int {
	switch {
	case n >= 1 && n <= 4:
		return n
	case n == -1:
		return LastWeek
	case n >= 5:
		lossy()
		return LastWeek
	}
	lossy()
	return LastWeek
}
