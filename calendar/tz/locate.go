package tz

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadBlob is wrapped by Locate's error for blobs no zone can have.
var ErrBadBlob = errors.New("tz: invalid TimeZone blob")

// Locate picks the IANA zone for a blob whose rules are to hold in year (the
// year of the event it came with). In order: the zone CLDR gives for its
// StandardName, if that zone's rules in year are the blob's; the caller's
// fallback (the user's configured zone) if its rules match; the first zone of
// CLDR's table whose offsets and changes (month, weekday, week, hour) match.
// That is tried first with the changes' hours and then without, since phones
// get hours wrong more than dates. A blob with daylight time that matches
// nothing gets a zone built from its own rules (named by its POSIX rule,
// which LoadTZID reads back); one without gets Etc/GMT+N, or a fixed zone
// for offsets that are not whole hours. Never UTC for a non-zero bias.
func Locate(b Blob, year int, fallback *time.Location) (*time.Location, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	var named []string
	for _, n := range []string{b.StandardName, b.DaylightName} {
		n = strings.TrimSpace(n)
		if w := windowsKey(n); w != "" {
			named = append(named, windowsToIANA[w])
		} else if strings.Contains(n, "/") {
			// Some clients put the IANA name itself in the blob.
			if loc, ok := loadName(n); ok {
				named = append(named, loc.String())
			}
		}
	}
	for _, strict := range []bool{true, false} {
		for _, n := range named {
			if loc, ok := load(n); ok && b.matches(loc, year, strict) {
				return loc, nil
			}
		}
		if fallback != nil && b.matches(fallback, year, strict) {
			return fallback, nil
		}
		for _, n := range candidateZones {
			if loc, ok := load(n); ok && b.matches(loc, year, strict) {
				return loc, nil
			}
		}
	}
	std, _ := b.offsets()
	if b.HasDST() {
		p := b.posixString()
		return posixLocation(p, p)
	}
	if std%3600 == 0 {
		// Etc/GMT+5 is five hours west: the sign is POSIX's, not ISO's.
		name := "Etc/GMT"
		if std != 0 {
			name = fmt.Sprintf("Etc/GMT%+d", -std/3600)
		}
		if loc, ok := load(name); ok {
			return loc, nil
		}
	}
	return time.FixedZone(abbrev(std)+posixOffset(std), std), nil
}

func (b Blob) validate() error {
	if b.Bias < -14*60 || b.Bias > 12*60 {
		return fmt.Errorf("%w: bias %d minutes", ErrBadBlob, b.Bias)
	}
	if db := b.daylightBias(); db < -180 || db > 180 || b.StandardBias < -180 || b.StandardBias > 180 {
		return fmt.Errorf("%w: daylight bias %d, standard bias %d", ErrBadBlob, b.DaylightBias, b.StandardBias)
	}
	for _, st := range []SystemTime{b.StandardDate, b.DaylightDate} {
		if st.Month > 12 || st.Month == 0 {
			continue
		}
		if st.Year == 0 && (st.DayOfWeek > 6 || st.Day > 5) || st.Hour > 23 || st.Minute > 59 || st.Second > 59 {
			return fmt.Errorf("%w: transition %+v", ErrBadBlob, st)
		}
	}
	if b.StandardDate.Month > 12 || b.DaylightDate.Month > 12 {
		return fmt.Errorf("%w: month %d/%d", ErrBadBlob, b.StandardDate.Month, b.DaylightDate.Month)
	}
	return nil
}

// matches reports whether loc's rules in year are the blob's: the same
// standard and daylight offsets and, with daylight time, changes on the same
// days (and, if strict, at the same instants; a second apart is the same,
// for blobs that say 23:59:59.999 for midnight).
func (b Blob) matches(loc *time.Location, year int, strict bool) bool {
	e := Encode(loc, year)
	if e.HasDST() != b.HasDST() {
		return false
	}
	bs, bd := b.offsets()
	es, ed := e.offsets()
	if bs != es {
		return false
	}
	if !b.HasDST() {
		// The zone must also keep that offset all year: a zone that
		// changed its base offset mid-year is a different zone.
		return len(transitions(loc, year)) == 0
	}
	if bd != ed {
		return false
	}
	s1, e1, ok1 := b.changes(year)
	s2, e2, ok2 := e.changes(year)
	if !ok1 || !ok2 {
		return false
	}
	if !strict {
		return sameDay(s1, s2, bs) && sameDay(e1, e2, bd)
	}
	return near(s1, s2) && near(e1, e2)
}

func near(a, b time.Time) bool {
	d := a.Sub(b)
	return d < 2*time.Second && d > -2*time.Second
}

func sameDay(a, b time.Time, off int) bool {
	z := time.FixedZone("", off)
	y1, m1, d1 := a.In(z).Date()
	y2, m2, d2 := b.In(z).Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}
