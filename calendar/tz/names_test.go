package tz

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

func TestLoadTZID(t *testing.T) {
	for tzid, want := range map[string]string{
		"Europe/Berlin":                                                "Europe/Berlin",
		"europe/berlin":                                                "Europe/Berlin",
		"Asia/Calcutta":                                                "Asia/Kolkata",
		"US/Eastern":                                                   "America/New_York",
		"W. Europe Standard Time":                                      "Europe/Berlin",
		"Pacific Standard Time":                                        "America/Los_Angeles",
		"E. South America Standard Time":                               "America/Sao_Paulo",
		"India Standard Time":                                          "Asia/Kolkata",
		"/mozilla.org/20050126_1/Europe/Berlin":                        "Europe/Berlin",
		"/mozilla.org/20070129_1/America/New_York":                     "America/New_York",
		"/softwarestudio.org/Olson_20011030_5/America/Chicago":         "America/Chicago",
		"/freeassociation.sourceforge.net/Tzfile/Europe/London":        "Europe/London",
		"/citadel.org/20190914_1/Australia/Sydney":                     "Australia/Sydney",
		"posix/Europe/Vaduz":                                           "Europe/Vaduz",
		`"Europe/Paris"`:                                               "Europe/Paris",
		"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": "Europe/Berlin",
		"(GMT-05:00) Eastern Time (US & Canada)":                       "America/New_York",
		"UTC":                                                          "UTC",
	} {
		loc, ok := LoadTZID(tzid)
		if !ok {
			t.Errorf("%q unknown", tzid)
			continue
		}
		w, _ := time.LoadLocation(want)
		sameOffsets(t, tzid, loc, w, 2025)
	}
	for _, bad := range []string{"", "Local", "Nowhere/Atlantis", "../../etc/passwd", "/etc/localtime", "custom_America/New_York"} {
		if loc, ok := LoadTZID(bad); ok {
			t.Errorf("%q resolved to %s", bad, loc)
		}
	}
}

func TestWindowsName(t *testing.T) {
	for zone, want := range map[string]string{
		"Europe/Berlin": "W. Europe Standard Time", "Asia/Kolkata": "India Standard Time",
		"Asia/Calcutta": "India Standard Time", "America/Sao_Paulo": "E. South America Standard Time",
		"Pacific/Kiritimati": "Line Islands Standard Time", "Asia/Kathmandu": "Nepal Standard Time",
		"UTC": "UTC", "Europe/Kyiv": "FLE Standard Time",
	} {
		if got := WindowsName(mustLoad(t, zone)); got != want {
			t.Errorf("%s: %q, want %q", zone, got, want)
		}
	}
	if got := WindowsName(time.FixedZone("x", 3600)); got != "" {
		t.Errorf("fixed zone: %q", got)
	}
	// Every Windows id of the table resolves, and back to itself.
	for w, iana := range windowsToIANA {
		loc, ok := LoadTZID(w)
		if !ok {
			t.Errorf("%s (%s) does not load", w, iana)
			continue
		}
		if back := WindowsName(loc); back != w {
			t.Errorf("%s -> %s -> %s", w, loc, back)
		}
	}
}

func readVTIMEZONE(t *testing.T, path string) *ical.Component {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The files carry deliberately broken events; only the VTIMEZONE
	// matters here.
	data, _ := os.ReadFile(path)
	s := string(data)
	i := strings.Index(s, "BEGIN:VTIMEZONE")
	j := strings.Index(s, "END:VTIMEZONE")
	cal, err := ical.NewDecoder(strings.NewReader("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + s[i:j] + "END:VTIMEZONE\r\nEND:VCALENDAR\r\n")).Decode()
	if err != nil {
		t.Fatal(err)
	}
	return cal.Children[0]
}

// python-icalendar's custom VTIMEZONEs (full US and Fiji rule histories;
// Fiji's is from tzdata 2014g, before Fiji moved its 2014 change)
// give the same offsets as tzdata, hour by hour.
func TestFromVTIMEZONE(t *testing.T) {
	for file, c := range map[string]struct {
		zone  string
		years [2]int
	}{
		"../recur/testdata/icalendar/america_new_york.ics":    {"America/New_York", [2]int{1968, 2030}},
		"../recur/testdata/icalendar/pacific_fiji.ics":        {"Pacific/Fiji", [2]int{1999, 2013}},
		"../recur/testdata/icalendar/timezone_same_start.ics": {"America/Los_Angeles", [2]int{2008, 2030}},
		"../recur/testdata/series/dst.ics":                    {"Europe/Berlin", [2]int{1997, 2030}},
	} {
		loc, err := FromVTIMEZONE(readVTIMEZONE(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		want := mustLoad(t, c.zone)
		for y := c.years[0]; y <= c.years[1]; y++ {
			sameOffsets(t, file, loc, want, y)
		}
	}
}
