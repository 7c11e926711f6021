package calendar

// TEMPORARY STAND-IN — DELETE AT MERGE.
//
// The time-zone and recurrence packages (calendar/tz, calendar/recur) are
// written on another branch. Until they land, this file gives the names
// the rest of the package uses simple bodies with the same signatures.
// At merge, delete this file and add calendar/deps.go holding exactly:
//
//	package calendar
//
//	import (
//		"github.com/easd/easd/calendar/recur"
//		"github.com/easd/easd/calendar/tz"
//	)
//
//	type (
//		tzBlob     = tz.Blob
//		recurRule  = recur.Rule
//	)
//
//	var (
//		tzParseBlob     = tz.ParseBlob
//		tzEncode        = tz.Encode
//		tzLocate        = tz.Locate
//		tzLoadTZID      = tz.LoadTZID
//		tzFromVTIMEZONE = tz.FromVTIMEZONE
//		recurToRRULE    = recur.ToRRULE
//		recurFromRRULE  = recur.FromRRULE
//		recurExpand     = recur.Expand
//	)

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

type tzSystemTime struct {
	Year, Month, DayOfWeek, Day, Hour, Minute, Second, Milliseconds uint16
}

type tzBlob struct {
	Bias         int32
	StandardName string
	StandardDate tzSystemTime
	StandardBias int32
	DaylightName string
	DaylightDate tzSystemTime
	DaylightBias int32
}

func tzParseBlob(b []byte) (tzBlob, error) {
	if len(b) != 172 {
		return tzBlob{}, fmt.Errorf("tz: blob of %d bytes, want 172", len(b))
	}
	name := func(p []byte) string {
		u := make([]uint16, 32)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(p[2*i:])
		}
		if i := slices.Index(u, 0); i >= 0 {
			u = u[:i]
		}
		return string(utf16.Decode(u))
	}
	st := func(p []byte) tzSystemTime {
		v := make([]uint16, 8)
		for i := range v {
			v[i] = binary.LittleEndian.Uint16(p[2*i:])
		}
		return tzSystemTime{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}
	}
	bl := tzBlob{
		Bias: int32(binary.LittleEndian.Uint32(b)), StandardName: name(b[4:68]), StandardDate: st(b[68:84]),
		StandardBias: int32(binary.LittleEndian.Uint32(b[84:])), DaylightName: name(b[88:152]),
		DaylightDate: st(b[152:168]), DaylightBias: int32(binary.LittleEndian.Uint32(b[168:])),
	}
	if bl.Bias < -16*60 || bl.Bias > 16*60 || bl.StandardDate.Month > 12 || bl.DaylightDate.Month > 12 {
		return tzBlob{}, errors.New("tz: blob out of range")
	}
	return bl, nil
}

func (b tzBlob) Bytes() []byte {
	out := make([]byte, 172)
	name := func(p []byte, s string) {
		u := utf16.Encode([]rune(s))
		for i := 0; i < len(u) && i < 31; i++ {
			binary.LittleEndian.PutUint16(p[2*i:], u[i])
		}
	}
	st := func(p []byte, t tzSystemTime) {
		for i, v := range []uint16{t.Year, t.Month, t.DayOfWeek, t.Day, t.Hour, t.Minute, t.Second, t.Milliseconds} {
			binary.LittleEndian.PutUint16(p[2*i:], v)
		}
	}
	binary.LittleEndian.PutUint32(out, uint32(b.Bias))
	name(out[4:68], b.StandardName)
	st(out[68:84], b.StandardDate)
	binary.LittleEndian.PutUint32(out[84:], uint32(b.StandardBias))
	name(out[88:152], b.DaylightName)
	st(out[152:168], b.DaylightDate)
	binary.LittleEndian.PutUint32(out[168:], uint32(b.DaylightBias))
	return out
}

// tzEncode: the rules of loc in year, found by scanning the year's hours.
func tzEncode(loc *time.Location, year int) tzBlob {
	_, jan := time.Date(year, 1, 1, 0, 0, 0, 0, loc).Zone()
	_, jul := time.Date(year, 7, 1, 0, 0, 0, 0, loc).Zone()
	std := min(jan, jul)
	b := tzBlob{Bias: int32(-std / 60), StandardName: loc.String(), DaylightName: loc.String()}
	if jan == jul {
		return b
	}
	b.DaylightBias = int32(-(max(jan, jul) - std) / 60)
	t := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(std) * time.Second)
	_, prev := t.In(loc).Zone()
	for ; t.Year() <= year; t = t.Add(time.Hour) {
		_, off := t.In(loc).Zone()
		if off == prev {
			continue
		}
		before := t.Add(time.Duration(prev) * time.Second).UTC() // wall clock before the change
		week := uint16((before.Day()-1)/7 + 1)
		if before.AddDate(0, 0, 7).Month() != before.Month() {
			week = 5
		}
		s := tzSystemTime{Month: uint16(before.Month()), DayOfWeek: uint16(before.Weekday()), Day: week,
			Hour: uint16(before.Hour()), Minute: uint16(before.Minute())}
		if off > prev {
			b.DaylightDate = s
		} else {
			b.StandardDate = s
		}
		prev = off
	}
	return b
}

var standinZones = []string{"UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "America/New_York",
	"America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles", "Pacific/Honolulu",
	"America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "Pacific/Auckland",
	"Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu"}

func tzLocate(b tzBlob, year int, fallback *time.Location) (*time.Location, error) {
	if loc, err := time.LoadLocation(b.StandardName); err == nil && b.StandardName != "" && b.StandardName != "Local" {
		if tzEncode(loc, year).sameRules(b) {
			return loc, nil
		}
	}
	if fallback != nil && tzEncode(fallback, year).sameRules(b) {
		return fallback, nil
	}
	for _, n := range standinZones {
		loc, err := time.LoadLocation(n)
		if err == nil && tzEncode(loc, year).sameRules(b) {
			return loc, nil
		}
	}
	if b.DaylightDate.Month == 0 {
		return time.FixedZone(fmt.Sprintf("UTC%+03d%02d", -b.Bias/60, abs(b.Bias%60)), int(-b.Bias)*60), nil
	}
	return nil, errors.New("tz: no zone matches the blob")
}

func abs(i int32) int32 {
	if i < 0 {
		return -i
	}
	return i
}

func (b tzBlob) sameRules(o tzBlob) bool {
	if b.Bias != o.Bias || (b.DaylightDate.Month == 0) != (o.DaylightDate.Month == 0) {
		return false
	}
	if b.DaylightDate.Month == 0 {
		return true
	}
	eq := func(x, y tzSystemTime) bool {
		return x.Month == y.Month && x.DayOfWeek == y.DayOfWeek && x.Day == y.Day && x.Hour == y.Hour
	}
	return b.DaylightBias+b.StandardBias == o.DaylightBias+o.StandardBias && eq(b.DaylightDate, o.DaylightDate) && eq(b.StandardDate, o.StandardDate)
}

var windowsZones = map[string]string{
	"W. Europe Standard Time": "Europe/Berlin", "Eastern Standard Time": "America/New_York",
	"Pacific Standard Time": "America/Los_Angeles", "GMT Standard Time": "Europe/London",
	"AUS Eastern Standard Time": "Australia/Sydney", "Tokyo Standard Time": "Asia/Tokyo",
}

func tzLoadTZID(tzid string) (*time.Location, bool) {
	if tzid == "" {
		return nil, false
	}
	if n, ok := windowsZones[tzid]; ok {
		tzid = n
	}
	tzid = strings.TrimPrefix(tzid, "/mozilla.org/20050126_1/")
	loc, err := time.LoadLocation(tzid)
	return loc, err == nil && tzid != "Local"
}

func tzFromVTIMEZONE(comp *ical.Component) (*time.Location, error) {
	var std int
	found := false
	for _, c := range comp.Children {
		if c.Name == "STANDARD" {
			if p := c.Props.Get("TZOFFSETTO"); p != nil {
				v := p.Value
				if len(v) >= 5 {
					h, _ := strconv.Atoi(v[1:3])
					m, _ := strconv.Atoi(v[3:5])
					std = h*3600 + m*60
					if v[0] == '-' {
						std = -std
					}
					found = true
				}
			}
		}
	}
	if !found {
		return nil, errors.New("tz: VTIMEZONE without STANDARD")
	}
	return time.FixedZone(comp.Props.Get("TZID").Value, std), nil
}

type recurRule struct {
	Type, Interval, Occurrences, WeekOfMonth, DayOfWeek, DayOfMonth, MonthOfYear, CalendarType, FirstDayOfWeek int
	IsLeapMonth                                                                                                bool
	Until                                                                                                      time.Time
	HasFirstDayOfWeek                                                                                          bool
}

var rdays = []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

func recurToRRULE(r recurRule, dtstart time.Time, allDay bool) (string, error) {
	freq := map[int]string{0: "DAILY", 1: "WEEKLY", 2: "MONTHLY", 3: "MONTHLY", 5: "YEARLY", 6: "YEARLY"}[r.Type]
	if freq == "" {
		return "", fmt.Errorf("recur: type %d", r.Type)
	}
	parts := []string{"FREQ=" + freq}
	if r.Interval > 1 {
		parts = append(parts, "INTERVAL="+strconv.Itoa(r.Interval))
	}
	var days []string
	for i, d := range rdays {
		if r.DayOfWeek&(1<<i) != 0 {
			days = append(days, d)
		}
	}
	switch r.Type {
	case 0, 1:
		if len(days) > 0 {
			parts = append(parts, "BYDAY="+strings.Join(days, ","))
		}
	case 2:
		parts = append(parts, "BYMONTHDAY="+strconv.Itoa(r.DayOfMonth))
	case 3, 6:
		if r.Type == 6 {
			parts = append(parts, "BYMONTH="+strconv.Itoa(r.MonthOfYear))
		}
		w := r.WeekOfMonth
		if w == 5 {
			w = -1
		}
		if r.DayOfWeek == 127 {
			parts = append(parts, "BYMONTHDAY=-1")
		} else if len(days) == 1 {
			parts = append(parts, "BYDAY="+strconv.Itoa(w)+days[0])
		} else {
			parts = append(parts, "BYDAY="+strings.Join(days, ","), "BYSETPOS="+strconv.Itoa(w))
		}
	case 5:
		parts = append(parts, "BYMONTH="+strconv.Itoa(r.MonthOfYear), "BYMONTHDAY="+strconv.Itoa(r.DayOfMonth))
	}
	if r.Occurrences > 0 {
		parts = append(parts, "COUNT="+strconv.Itoa(r.Occurrences))
	} else if !r.Until.IsZero() {
		if allDay {
			parts = append(parts, "UNTIL="+r.Until.In(dtstart.Location()).Format("20060102"))
		} else {
			parts = append(parts, "UNTIL="+r.Until.UTC().Format("20060102T150405Z"))
		}
	}
	if r.HasFirstDayOfWeek {
		parts = append(parts, "WKST="+rdays[r.FirstDayOfWeek%7])
	}
	return strings.Join(parts, ";"), nil
}

func recurFromRRULE(s string, dtstart time.Time, allDay bool) (recurRule, bool, error) {
	var r recurRule
	exact := true
	kv := map[string]string{}
	for _, p := range strings.Split(strings.TrimPrefix(s, "RRULE:"), ";") {
		k, v, _ := strings.Cut(p, "=")
		kv[strings.ToUpper(k)] = strings.ToUpper(v)
	}
	r.Interval = 1
	if v, ok := kv["INTERVAL"]; ok {
		r.Interval, _ = strconv.Atoi(v)
	}
	if v, ok := kv["COUNT"]; ok {
		r.Occurrences, _ = strconv.Atoi(v)
	}
	if v, ok := kv["UNTIL"]; ok {
		var err error
		switch len(v) {
		case 8:
			r.Until, err = time.ParseInLocation("20060102", v, dtstart.Location())
			if err == nil && !allDay {
				r.Until = r.Until.Add(24*time.Hour - time.Second)
			}
		case 16:
			r.Until, err = time.Parse("20060102T150405Z", v)
		default:
			r.Until, err = time.ParseInLocation("20060102T150405", v, dtstart.Location())
		}
		if err != nil {
			return r, false, fmt.Errorf("recur: UNTIL %q", v)
		}
	}
	if v, ok := kv["WKST"]; ok {
		r.FirstDayOfWeek, r.HasFirstDayOfWeek = slices.Index(rdays, v), true
	}
	var mask, ord int
	if v, ok := kv["BYDAY"]; ok {
		for _, d := range strings.Split(v, ",") {
			n := strings.TrimLeft(d, "+-0123456789")
			if o := d[:len(d)-len(n)]; o != "" {
				ord, _ = strconv.Atoi(o)
			}
			if i := slices.Index(rdays, n); i >= 0 {
				mask |= 1 << i
			}
		}
	}
	if v, ok := kv["BYSETPOS"]; ok {
		ord, _ = strconv.Atoi(v)
	}
	if ord == -1 {
		ord = 5
	}
	md, _ := strconv.Atoi(kv["BYMONTHDAY"])
	mon, _ := strconv.Atoi(kv["BYMONTH"])
	switch kv["FREQ"] {
	case "DAILY":
		r.Type, r.DayOfWeek = 0, mask
	case "WEEKLY":
		r.Type, r.DayOfWeek = 1, mask
		if mask == 0 {
			r.DayOfWeek = 1 << int(dtstart.Weekday())
		}
	case "MONTHLY":
		switch {
		case md == -1:
			r.Type, r.DayOfWeek, r.WeekOfMonth = 3, 127, 5
		case mask != 0:
			r.Type, r.DayOfWeek, r.WeekOfMonth = 3, mask, ord
		default:
			r.Type, r.DayOfMonth = 2, cmpOr(md, dtstart.Day())
		}
	case "YEARLY":
		if mask != 0 {
			r.Type, r.DayOfWeek, r.WeekOfMonth, r.MonthOfYear = 6, mask, ord, cmpOr(mon, int(dtstart.Month()))
		} else {
			r.Type, r.DayOfMonth, r.MonthOfYear = 5, cmpOr(md, dtstart.Day()), cmpOr(mon, int(dtstart.Month()))
		}
	default:
		return r, false, fmt.Errorf("recur: FREQ %q", kv["FREQ"])
	}
	for k := range kv {
		if !slices.Contains([]string{"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", "BYSETPOS", "BYMONTHDAY", "BYMONTH"}, k) {
			exact = false
		}
	}
	if strings.Contains(kv["BYMONTHDAY"], ",") || strings.Contains(kv["BYMONTH"], ",") {
		exact = false
	}
	return r, exact, nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func recurExpand(dtstart time.Time, rr string, rdates, exdates []time.Time, from, to time.Time, max int) ([]time.Time, error) {
	opt, err := rrule.StrToROption(strings.TrimPrefix(rr, "RRULE:"))
	if err != nil {
		return nil, err
	}
	opt.Dtstart = dtstart
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	it := r.Iterator()
	for {
		t, ok := it()
		if !ok || !t.Before(to) || len(out) >= max {
			break
		}
		if t.Before(from) || slices.ContainsFunc(exdates, t.Equal) {
			continue
		}
		out = append(out, t)
	}
	for _, t := range rdates {
		if !t.Before(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out, nil
}
