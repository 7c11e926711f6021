package recur

import (
	"testing"
	"time"
)

var (
	wide0 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	wide1 = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
)

func expand(t *testing.T, start time.Time, rule string) []time.Time {
	t.Helper()
	occ, err := Expand(start, rule, nil, nil, wide0, wide1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return occ
}

// A weekly series across both DST changes keeps its wall-clock time (the
// failure users of other servers report most).
func TestWeeklyKeepsWallClockAcrossDST(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Sao_Paulo"} {
		loc := load(t, zone)
		start := time.Date(2018, 1, 3, 9, 0, 0, 0, loc)
		occ := expand(t, start, "FREQ=WEEKLY;COUNT=60")
		if len(occ) != 60 {
			t.Fatalf("%s: %d occurrences", zone, len(occ))
		}
		offsets := map[int]bool{}
		for _, o := range occ {
			if h, m, _ := o.Clock(); h != 9 || m != 0 || o.Weekday() != time.Wednesday {
				t.Errorf("%s: occurrence at %s", zone, o)
			}
			_, off := o.Zone()
			offsets[off] = true
		}
		if len(offsets) != 2 {
			t.Errorf("%s: offsets %v, want both standard and daylight", zone, offsets)
		}
	}
}

// A wall time in the spring gap moves forward by the gap (RFC 5545 3.3.5);
// one in the autumn overlap is the first of the two.
func TestGapAndOverlap(t *testing.T) {
	ny := load(t, "America/New_York")
	occ := expand(t, time.Date(2025, 3, 8, 2, 30, 0, 0, ny), "FREQ=DAILY;COUNT=3")
	want := []string{"2025-03-08T02:30:00-05:00", "2025-03-09T03:30:00-04:00", "2025-03-10T02:30:00-04:00"}
	for i, o := range occ {
		if o.Format(time.RFC3339) != want[i] {
			t.Errorf("gap: %d = %s, want %s", i, o.Format(time.RFC3339), want[i])
		}
	}
	occ = expand(t, time.Date(2025, 11, 1, 1, 30, 0, 0, ny), "FREQ=DAILY;COUNT=2")
	if got := occ[1].Format(time.RFC3339); got != "2025-11-02T01:30:00-04:00" {
		t.Errorf("overlap: %s, want the first 01:30 (EDT)", got)
	}
	// DTSTART itself in the gap.
	in := InZone(time.Date(2025, 3, 9, 2, 15, 0, 0, time.UTC), ny)
	if in.Format(time.RFC3339) != "2025-03-09T03:15:00-04:00" {
		t.Errorf("InZone in gap: %s", in.Format(time.RFC3339))
	}
}

// UNTIL is inclusive; a DATE UNTIL covers its day, for all-day and timed
// series; the last occurrence is never lost.
func TestUntilKinds(t *testing.T) {
	berlin := load(t, "Europe/Berlin")
	start := time.Date(2025, 6, 2, 18, 0, 0, 0, berlin) // Monday
	for rule, n := range map[string]int{
		"FREQ=WEEKLY;UNTIL=20250630T160000Z": 5, // exactly the last start
		"FREQ=WEEKLY;UNTIL=20250630T155959Z": 4,
		"FREQ=WEEKLY;UNTIL=20250630":         5, // DATE on a timed series
		"FREQ=WEEKLY;UNTIL=20250630T180000":  5, // floating, in the zone
	} {
		if got := len(expand(t, start, rule)); got != n {
			t.Errorf("%s: %d occurrences, want %d", rule, got, n)
		}
	}
	day := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	if got := len(expand(t, day, "FREQ=WEEKLY;UNTIL=20250630")); got != 5 {
		t.Errorf("all-day DATE UNTIL: %d", got)
	}
}

// EAS Until as phones send it, to RRULE UNTIL and back, keeping the last
// occurrence in every form.
func TestToRRULEUntil(t *testing.T) {
	berlin := load(t, "Europe/Berlin")
	start := time.Date(2025, 6, 2, 18, 0, 0, 0, berlin)
	for _, until := range []time.Time{
		time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC),  // date as UTC midnight
		time.Date(2025, 6, 30, 0, 0, 0, 0, berlin),    // local midnight
		time.Date(2025, 6, 30, 23, 59, 59, 0, berlin), // end of the day
		time.Date(2025, 6, 30, 18, 0, 0, 0, berlin),   // last occurrence
		time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC), // any time that day
	} {
		rule, err := ToRRULE(Rule{Type: Weekly, Interval: 1, DayOfWeek: 2, Until: until}, start, false)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(expand(t, start, rule)); n != 5 {
			t.Errorf("Until %s -> %s: %d occurrences, want 5", until, rule, n)
		}
	}
	// All-day: a DATE, the one the phone meant.
	dayStart := time.Date(2025, 6, 2, 0, 0, 0, 0, berlin)
	for _, until := range []time.Time{
		time.Date(2025, 6, 30, 0, 0, 0, 0, berlin),
		time.Date(2025, 6, 29, 22, 0, 0, 0, time.UTC), // Berlin midnight in UTC
		time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 30, 23, 59, 0, 0, berlin),
	} {
		rule, _ := ToRRULE(Rule{Type: Weekly, Interval: 1, DayOfWeek: 2, Until: until}, dayStart, true)
		if rule != "FREQ=WEEKLY;BYDAY=MO;UNTIL=20250630" {
			t.Errorf("all-day Until %s: %s", until, rule)
		}
	}
	// Back: a DATE UNTIL is local midnight for all-day, end of day else.
	r, exact, err := FromRRULE("FREQ=WEEKLY;BYDAY=MO;UNTIL=20250630", dayStart, true)
	if err != nil || !exact || !r.Until.Equal(time.Date(2025, 6, 30, 0, 0, 0, 0, berlin)) {
		t.Errorf("FromRRULE all-day UNTIL: %+v %v %v", r, exact, err)
	}
	r, _, _ = FromRRULE("FREQ=WEEKLY;BYDAY=MO;UNTIL=20250630T160000Z", start, false)
	if !r.Until.Equal(time.Date(2025, 6, 30, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("FromRRULE UTC UNTIL: %s", r.Until)
	}
}

// Rules EAS cannot say come back as their nearest form with exact false.
func TestFromRRULEInexact(t *testing.T) {
	start := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	for _, rule := range []string{
		"FREQ=HOURLY;INTERVAL=4",
		"FREQ=DAILY;BYHOUR=9,17",
		"FREQ=MONTHLY;BYMONTHDAY=1,15",
		"FREQ=MONTHLY;BYDAY=MO",   // every Monday of the month
		"FREQ=MONTHLY;BYDAY=5FR",  // a fifth Friday, not "last"
		"FREQ=MONTHLY;BYDAY=-2FR", // second to last
		"FREQ=YEARLY;BYWEEKNO=20",
		"FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1",
		"FREQ=WEEKLY;COUNT=1500",
		"FREQ=DAILY;INTERVAL=2;BYDAY=MO,WE,FR",
		"FREQ=YEARLY;BYDAY=20MO",
	} {
		r, exact, err := FromRRULE(rule, start, false)
		if err != nil {
			t.Errorf("%s: %v", rule, err)
			continue
		}
		if exact {
			t.Errorf("%s: exact, as %+v", rule, r)
		}
		if _, err := ToRRULE(r, start, false); err != nil {
			t.Errorf("%s: nearest form %+v does not convert back: %v", rule, r, err)
		}
	}
	for _, bad := range []string{"", "FREQ=FORTNIGHTLY", "FREQ=DAILY;COUNT=2;UNTIL=20250101", "FREQ=DAILY;BYDAY=XX", "FREQ=WEEKLY;INTERVAL=0"} {
		if _, _, err := FromRRULE(bad, start, false); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, bad := range []Rule{{Type: 4}, {Type: 9}, {Type: MonthlyNth, DayOfWeek: 2}, {Type: YearlyNth, WeekOfMonth: 1}} {
		if _, err := ToRRULE(bad, start, false); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// Expansion limits: max, a rule that never matches, EXDATE and RDATE.
func TestExpandLimits(t *testing.T) {
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	occ, err := Expand(start, "FREQ=DAILY", nil, nil, wide0, wide1, 10)
	if err != nil || len(occ) != 10 {
		t.Fatalf("max: %d %v", len(occ), err)
	}
	// A rule that never matches ends (rrule-go gives up, or the step
	// bound does) with only DTSTART.
	if occ, err := Expand(start, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", nil, nil, wide0, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 10); err != nil && err != ErrTooMany || len(occ) > 1 {
		t.Errorf("never-matching rule: %v %v", occ, err)
	}
	rd := time.Date(2025, 1, 2, 15, 0, 0, 0, time.UTC)
	ex := time.Date(2025, 1, 3, 9, 0, 0, 0, time.UTC)
	occ, _ = Expand(start, "FREQ=DAILY;COUNT=3", []time.Time{rd}, []time.Time{ex}, wide0, wide1, 100)
	if len(occ) != 3 || !occ[2].Equal(rd) && !occ[1].Equal(rd) {
		t.Errorf("rdate/exdate: %v", occ)
	}
	// DTSTART not on the rule still counts as the first of COUNT.
	occ = expand(t, time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC), "FREQ=WEEKLY;BYDAY=FR;COUNT=3") // a Wednesday
	if len(occ) != 3 || occ[0].Weekday() != time.Wednesday {
		t.Errorf("unsynchronised DTSTART: %v", occ)
	}
}
