package tz

import (
	"strings"
	"sync"
	"time"

	// Zone resolution must not depend on the host's tzdata: a minimal
	// container has none, and some distributions move the old names
	// (Asia/Calcutta, US/Eastern) peers still send into an extra package.
	_ "time/tzdata"
)

// WindowsName returns the Windows zone id for an IANA zone (CLDR's table),
// "" if there is none.
func WindowsName(loc *time.Location) string {
	if loc == nil {
		return ""
	}
	name := loc.String()
	if w, ok := ianaToWindows[name]; ok {
		return w
	}
	if m, ok := ianaAliases[strings.ToLower(name)]; ok {
		return ianaToWindows[m]
	}
	return ""
}

// IANAName returns the IANA zone CLDR gives as the main zone of a Windows
// zone id ("W. Europe Standard Time" -> "Europe/Berlin"), "" if unknown.
func IANAName(windows string) string {
	return windowsToIANA[windowsKey(windows)]
}

var windowsFold = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(windowsToIANA))
	for w := range windowsToIANA {
		m[strings.ToLower(w)] = w
	}
	return m
})

func windowsKey(s string) string {
	s = strings.TrimSpace(s)
	if _, ok := windowsToIANA[s]; ok {
		return s
	}
	if w, ok := windowsFold()[strings.ToLower(s)]; ok {
		return w
	}
	// Outlook writes display names as TZIDs; older versions said GMT.
	if strings.HasPrefix(s, "(GMT") {
		s = "(UTC" + s[4:]
	}
	return windowsDisplay[s]
}

var locCache sync.Map // name -> *time.Location

// load is time.LoadLocation with a cache: Locate compares a blob with
// hundreds of zones, and LoadLocation reads and parses a file each time.
func load(name string) (*time.Location, bool) {
	if v, ok := locCache.Load(name); ok {
		return v.(*time.Location), true
	}
	if name == "" || name == "Local" {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	locCache.Store(name, loc)
	return loc, true
}

// Shared reports whether loc is the one location this process holds for
// its name (UTC, or a zone loaded by name and cached): such a location is
// the same for every calendar and every database, and what is derived
// from it may be cached by name. A zone built from a VTIMEZONE or a blob
// is not.
func Shared(loc *time.Location) bool {
	if loc == time.UTC {
		return true
	}
	v, ok := locCache.Load(loc.String())
	return ok && v.(*time.Location) == loc
}

// LoadTZID resolves an iCalendar TZID: IANA names (any case, old aliases),
// Windows zone ids as Outlook and Exchange write them, TZIDs with a prefix
// such as Mozilla's "/mozilla.org/20050126_1/Europe/Berlin" or
// "/softwarestudio.org/Olson_20011030_5/America/New_York", and the POSIX
// rule names Locate gives zones it had to build. ok is false when the TZID
// is unknown: the caller then builds the zone from the VTIMEZONE
// (FromVTIMEZONE) rather than falling back to UTC.
func LoadTZID(tzid string) (*time.Location, bool) {
	s := strings.Trim(strings.TrimSpace(tzid), `"`)
	if s == "" {
		return nil, false
	}
	if loc, ok := loadName(s); ok {
		return loc, true
	}
	// Prefixed forms end with the IANA name: try each tail after a slash.
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && i+1 < len(s) {
			if loc, ok := loadName(s[i+1:]); ok && strings.Contains(s[i+1:], "/") {
				return loc, true
			}
		}
	}
	if loc, err := posixLocation(s, s); err == nil {
		return loc, true
	}
	return nil, false
}

func loadName(s string) (*time.Location, bool) {
	if strings.EqualFold(s, "Local") {
		return nil, false
	}
	if w := windowsKey(s); w != "" {
		return load(windowsToIANA[w])
	}
	if m, ok := ianaAliases[strings.ToLower(s)]; ok {
		if loc, ok := load(m); ok {
			return loc, true
		}
	}
	if strings.EqualFold(s, "UTC") || strings.EqualFold(s, "GMT") || s == "Z" {
		return time.UTC, true
	}
	// Only names that look like IANA ones reach LoadLocation, which would
	// otherwise accept a file path.
	if strings.Contains(s, "..") || strings.HasPrefix(s, "/") {
		return nil, false
	}
	return load(s)
}
