// Package tz converts between IANA time zones (what easd stores) and the
// forms phones and iCalendar peers send: the 172-byte EAS TimeZone blob
// (MS-ASDTYPE 2.7.6), Windows zone names, Mozilla-style TZIDs and custom
// VTIMEZONEs.
//
// The blob is only a view: it carries one year's rules, so it is computed
// from the zone for the year of the series it describes, and read back to a
// real zone by matching those rules, never by offset alone and never by
// defaulting to GMT.
package tz

//go:generate go run ./internal/gen -o windows_table.go

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// BlobSize is the length of an encoded TimeZone blob.
const BlobSize = 172

// SystemTime is Windows' SYSTEMTIME as the blob uses it. With Year 0 it is a
// yearly rule: Month, DayOfWeek (0 Sunday), Day = week of the month (1-4,
// 5 = last), Hour/Minute the local wall clock before the change. With Year
// set it is that one date. Month 0 means the zone has no daylight time.
type SystemTime struct {
	Year, Month, DayOfWeek, Day, Hour, Minute, Second, Milliseconds uint16
}

// Blob is MS-ASDTYPE 2.7.6's TimeZone structure, decoded. Biases are in
// minutes with UTC = local + bias.
type Blob struct {
	Bias         int32
	StandardName string
	StandardDate SystemTime
	StandardBias int32
	DaylightName string
	DaylightDate SystemTime
	DaylightBias int32
}

// ParseBlob decodes the raw 172 bytes (the caller base64-decodes).
func ParseBlob(b []byte) (Blob, error) {
	if len(b) != BlobSize {
		return Blob{}, fmt.Errorf("tz: TimeZone blob is %d bytes, want %d", len(b), BlobSize)
	}
	le := binary.LittleEndian
	var z Blob
	z.Bias = int32(le.Uint32(b[0:]))
	z.StandardName = utf16String(b[4:68])
	z.StandardDate = readSystemTime(b[68:84])
	z.StandardBias = int32(le.Uint32(b[84:]))
	z.DaylightName = utf16String(b[88:152])
	z.DaylightDate = readSystemTime(b[152:168])
	z.DaylightBias = int32(le.Uint32(b[168:]))
	return z, nil
}

// Bytes encodes the blob. Names are cut to the field's 32 UTF-16 units; a
// name that fills the field has no NUL, as some phones send it, so a parsed
// blob encodes back to the same bytes.
func (z Blob) Bytes() []byte {
	b := make([]byte, BlobSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(z.Bias))
	putUTF16(b[4:68], z.StandardName)
	putSystemTime(b[68:84], z.StandardDate)
	le.PutUint32(b[84:], uint32(z.StandardBias))
	putUTF16(b[88:152], z.DaylightName)
	putSystemTime(b[152:168], z.DaylightDate)
	le.PutUint32(b[168:], uint32(z.DaylightBias))
	return b
}

// HasDST reports whether the blob describes a zone with daylight time.
func (z Blob) HasDST() bool {
	return z.DaylightDate.Month != 0 && z.StandardDate.Month != 0 && z.daylightBias() != z.StandardBias
}

// daylightBias is DaylightBias with Motorola's sign error undone: those
// phones send +60 for a zone whose clocks go forward an hour, and daylight
// time moving clocks back is not something any real zone does in summer.
func (z Blob) daylightBias() int32 {
	if z.DaylightBias > 0 && z.StandardBias == 0 {
		return -z.DaylightBias
	}
	return z.DaylightBias
}

func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

func putUTF16(b []byte, s string) {
	u := utf16.Encode([]rune(s))
	if max := len(b) / 2; len(u) > max {
		u = u[:max]
	}
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
}

func readSystemTime(b []byte) SystemTime {
	le := binary.LittleEndian
	return SystemTime{
		Year: le.Uint16(b[0:]), Month: le.Uint16(b[2:]), DayOfWeek: le.Uint16(b[4:]), Day: le.Uint16(b[6:]),
		Hour: le.Uint16(b[8:]), Minute: le.Uint16(b[10:]), Second: le.Uint16(b[12:]), Milliseconds: le.Uint16(b[14:]),
	}
}

func putSystemTime(b []byte, t SystemTime) {
	le := binary.LittleEndian
	for i, v := range []uint16{t.Year, t.Month, t.DayOfWeek, t.Day, t.Hour, t.Minute, t.Second, t.Milliseconds} {
		le.PutUint16(b[2*i:], v)
	}
}
