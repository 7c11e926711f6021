package recur

import (
	"testing"
	"time"
)

func load(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Every EAS type both ways. The rules are MS-ASCAL's own examples (section
// 2.2.2.41 Type and the element descriptions: "every 2 weeks on Tuesday and
// Thursday", "the last day of every month", "the second Tuesday of
// November") and the cases peers get wrong.
func TestRuleRoundTrip(t *testing.T) {
	berlin := load(t, "Europe/Berlin")
	start := time.Date(2025, 1, 7, 9, 30, 0, 0, berlin) // a Tuesday
	cases := []struct {
		name  string
		rule  Rule
		rrule string
		back  *Rule // FromRRULE's canonical form, if not rule
	}{
		{"daily", Rule{Type: Daily, Interval: 1}, "FREQ=DAILY", nil},
		{"every 3 days, 10 times", Rule{Type: Daily, Interval: 3, Occurrences: 10}, "FREQ=DAILY;INTERVAL=3;COUNT=10", nil},
		{"weekly Tue Thu every 2 weeks", Rule{Type: Weekly, Interval: 2, DayOfWeek: 4 | 16}, "FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2", nil},
		{"weekdays", Rule{Type: Weekly, Interval: 1, DayOfWeek: WeekdaysMask}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", nil},
		{"weekly with WKST", Rule{Type: Weekly, Interval: 2, DayOfWeek: 1 | 2, FirstDayOfWeek: 0, HasFirstDayOfWeek: true}, "FREQ=WEEKLY;BYDAY=MO,SU;INTERVAL=2;WKST=SU", nil},
		{"monthly on the 15th", Rule{Type: MonthlyByDay, Interval: 1, DayOfMonth: 15}, "FREQ=MONTHLY;BYMONTHDAY=15", nil},
		{"last day of every month", Rule{Type: MonthlyNth, Interval: 1, WeekOfMonth: LastWeek, DayOfWeek: LastDayOfMonth}, "FREQ=MONTHLY;BYMONTHDAY=-1", nil},
		{"second Tuesday monthly", Rule{Type: MonthlyNth, Interval: 1, WeekOfMonth: 2, DayOfWeek: 4}, "FREQ=MONTHLY;BYDAY=2TU", nil},
		{"last Sunday monthly", Rule{Type: MonthlyNth, Interval: 1, WeekOfMonth: LastWeek, DayOfWeek: 1}, "FREQ=MONTHLY;BYDAY=-1SU", nil},
		{"last weekday of month", Rule{Type: MonthlyNth, Interval: 1, WeekOfMonth: LastWeek, DayOfWeek: WeekdaysMask}, "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", nil},
		{"second weekend day every 2 months", Rule{Type: MonthlyNth, Interval: 2, WeekOfMonth: 2, DayOfWeek: WeekendMask}, "FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=2;INTERVAL=2", nil},
		{"third day of month", Rule{Type: MonthlyNth, Interval: 1, WeekOfMonth: 3, DayOfWeek: LastDayOfMonth}, "FREQ=MONTHLY;BYMONTHDAY=3", &Rule{Type: MonthlyByDay, Interval: 1, DayOfMonth: 3}},
		{"yearly on 7 January", Rule{Type: YearlyByDate, Interval: 1, DayOfMonth: 7, MonthOfYear: 1}, "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=7", nil},
		{"second Tuesday of November", Rule{Type: YearlyNth, Interval: 1, WeekOfMonth: 2, DayOfWeek: 4, MonthOfYear: 11}, "FREQ=YEARLY;BYMONTH=11;BYDAY=2TU", nil},
		{"last Monday of May", Rule{Type: YearlyNth, Interval: 1, WeekOfMonth: LastWeek, DayOfWeek: 2, MonthOfYear: 5}, "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO", nil},
		{"first weekday of September", Rule{Type: YearlyNth, Interval: 1, WeekOfMonth: 1, DayOfWeek: WeekdaysMask, MonthOfYear: 9}, "FREQ=YEARLY;BYMONTH=9;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1", nil},
		{"Hebrew calendar leap month", Rule{Type: YearlyByDate, Interval: 1, DayOfMonth: 1, MonthOfYear: 5, CalendarType: 8, IsLeapMonth: true}, "RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=5L;BYMONTHDAY=1", nil},
	}
	for _, c := range cases {
		got, err := ToRRULE(c.rule, start, false)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got != c.rrule {
			t.Errorf("%s: ToRRULE = %s, want %s", c.name, got, c.rrule)
		}
		back, exact, err := FromRRULE(c.rrule, start, false)
		if err != nil || !exact {
			t.Errorf("%s: FromRRULE exact=%v err=%v", c.name, exact, err)
			continue
		}
		want := c.rule
		if c.back != nil {
			want = *c.back
		}
		if back != want {
			t.Errorf("%s: FromRRULE = %+v, want %+v", c.name, back, want)
		}
	}
}
