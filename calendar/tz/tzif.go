package tz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Go can only build a rule-following *time.Location from TZif data, so the
// zones this package makes itself (a custom VTIMEZONE, a blob no known zone
// matches) are written as TZif version 2: explicit transitions, then a POSIX
// TZ rule for every later time.

type zoneType struct {
	offset int // seconds east of UTC
	isDST  bool
	abbr   string
}

type zoneTrans struct {
	at   int64 // Unix seconds
	kind int   // index into the types
}

func tzif(types []zoneType, trans []zoneTrans, footer string) []byte {
	var chars bytes.Buffer
	abbrIdx := make([]int, len(types))
	for i, t := range types {
		abbrIdx[i] = chars.Len()
		chars.WriteString(t.abbr)
		chars.WriteByte(0)
	}
	var out bytes.Buffer
	header := func() {
		out.WriteString("TZif2")
		out.Write(make([]byte, 15))
		for _, n := range []int{0, 0, 0, len(trans), len(types), chars.Len()} {
			binary.Write(&out, binary.BigEndian, uint32(n))
		}
	}
	body := func(wide bool) {
		for _, t := range trans {
			if wide {
				binary.Write(&out, binary.BigEndian, t.at)
			} else {
				binary.Write(&out, binary.BigEndian, int32(max(min(t.at, 1<<31-1), -1<<31)))
			}
		}
		for _, t := range trans {
			out.WriteByte(byte(t.kind))
		}
		for i, t := range types {
			binary.Write(&out, binary.BigEndian, int32(t.offset))
			dst := byte(0)
			if t.isDST {
				dst = 1
			}
			out.WriteByte(dst)
			out.WriteByte(byte(abbrIdx[i]))
		}
		out.Write(chars.Bytes())
	}
	header()
	body(false)
	header()
	body(true)
	out.WriteString("\n" + footer + "\n")
	return out.Bytes()
}

// abbrev is a numeric zone abbreviation in POSIX's quoted form, "<+0530>".
func abbrev(offset int) string {
	sign := '+'
	if offset < 0 {
		sign, offset = '-', -offset
	}
	h, m := offset/3600, offset%3600/60
	if m == 0 {
		return fmt.Sprintf("<%c%02d>", sign, h)
	}
	return fmt.Sprintf("<%c%02d%02d>", sign, h, m)
}

// posixOffset writes a UTC offset the POSIX way: hours west, "-5:30".
func posixOffset(offset int) string {
	west := -offset
	sign := ""
	if west < 0 {
		sign, west = "-", -west
	}
	h, m, s := west/3600, west%3600/60, west%60
	switch {
	case s != 0:
		return fmt.Sprintf("%s%d:%02d:%02d", sign, h, m, s)
	case m != 0:
		return fmt.Sprintf("%s%d:%02d", sign, h, m)
	}
	return fmt.Sprintf("%s%d", sign, h)
}

// posixRule writes a yearly SYSTEMTIME rule as POSIX "Mm.w.d/hh:mm:ss".
func posixRule(st SystemTime) string {
	week := st.Day
	if week < 1 {
		week = 1
	}
	if week > 5 {
		week = 5
	}
	return fmt.Sprintf("M%d.%d.%d/%d:%02d:%02d", st.Month, week, st.DayOfWeek, st.Hour, st.Minute, st.Second)
}

// posixString is the POSIX TZ string with the blob's rules.
func (z Blob) posixString() string {
	std, dst := z.offsets()
	s := abbrev(std) + posixOffset(std)
	if z.HasDST() {
		s += abbrev(dst) + posixOffset(dst) + "," + posixRule(z.DaylightDate) + "," + posixRule(z.StandardDate)
	}
	return s
}

// posixLocation builds a location named name that follows a POSIX TZ
// string everywhere. It fails for strings Go's own parser rejects.
func posixLocation(name, posix string) (*time.Location, error) {
	if !strings.ContainsAny(posix, "0123456789") || strings.ContainsAny(posix, " /\\") && !strings.Contains(posix, ",") {
		return nil, fmt.Errorf("tz: %q is not a POSIX TZ rule", posix)
	}
	std, isDST, ok := firstPosixOffset(posix)
	if !ok {
		return nil, fmt.Errorf("tz: %q is not a POSIX TZ rule", posix)
	}
	data := tzif([]zoneType{{offset: std, isDST: isDST, abbr: "LMT"}}, nil, posix)
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("tz: POSIX rule %q: %w", posix, err)
	}
	// Go ignores a footer it cannot parse; reject those rather than
	// return a location stuck at one offset.
	if !posixValid(posix) {
		return nil, fmt.Errorf("tz: %q is not a POSIX TZ rule", posix)
	}
	return loc, nil
}

// firstPosixOffset reads the standard offset of a POSIX TZ string.
func firstPosixOffset(s string) (int, bool, bool) {
	i := 0
	if strings.HasPrefix(s, "<") {
		j := strings.IndexByte(s, '>')
		if j < 0 {
			return 0, false, false
		}
		i = j + 1
	} else {
		for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z') {
			i++
		}
		if i < 3 {
			return 0, false, false
		}
	}
	sign := -1 // POSIX offsets are hours west
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		if s[i] == '-' {
			sign = 1
		}
		i++
	}
	var parts [3]int
	p := 0
	digits := 0
	for ; i < len(s) && p < 3; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			parts[p] = parts[p]*10 + int(c-'0')
			digits++
		case c == ':':
			p++
		default:
			p = 3
		}
	}
	if digits == 0 || parts[0] > 24 {
		return 0, false, false
	}
	return sign * (parts[0]*3600 + parts[1]*60 + parts[2]), false, true
}

// posixValid checks the shape Go's tzset accepts: std offset [dst [offset]
// [,start[/time],end[/time]]], with M, J or plain day rules.
func posixValid(s string) bool {
	probe := tzif([]zoneType{{offset: 0, abbr: "X"}}, nil, s)
	loc, err := time.LoadLocationFromTZData("probe", probe)
	if err != nil {
		return false
	}
	// A footer Go could not parse leaves the placeholder type (offset 0,
	// "X") in force; a parsed one names its own abbreviations.
	for _, m := range []time.Month{1, 7} {
		if name, _ := time.Date(2030, m, 1, 0, 0, 0, 0, loc).Zone(); name == "X" {
			return false
		}
	}
	return true
}
