package tz

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// Horde's TimezoneTest vectors (framework/Mapi/test/Horde/Mapi/TimezoneTest.php):
// blobs with empty names for four zones, encoded for 2011.
var hordeBlobs = map[string]string{
	"America/New_York":    "LAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAsAAAABAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAACAAIAAAAAAAAAxP///w==",
	"America/Los_Angeles": "4AEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAsAAAABAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAACAAIAAAAAAAAAxP///w==",
	"Europe/Berlin":       "xP///wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAoAAAAFAAMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAxP///w==",
	"America/Phoenix":     "pAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
}

// The decoded form Horde's test expects for each.
var hordeDecoded = map[string]Blob{
	"America/New_York":    {Bias: 300, StandardDate: SystemTime{Month: 11, Day: 1, Hour: 2}, DaylightDate: SystemTime{Month: 3, Day: 2, Hour: 2}, DaylightBias: -60},
	"America/Los_Angeles": {Bias: 480, StandardDate: SystemTime{Month: 11, Day: 1, Hour: 2}, DaylightDate: SystemTime{Month: 3, Day: 2, Hour: 2}, DaylightBias: -60},
	"Europe/Berlin":       {Bias: -60, StandardDate: SystemTime{Month: 10, Day: 5, Hour: 3}, DaylightDate: SystemTime{Month: 3, Day: 5, Hour: 2}, DaylightBias: -60},
	"America/Phoenix":     {Bias: 420},
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestHordeVectors(t *testing.T) {
	for name, b64 := range hordeBlobs {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseBlob(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b != hordeDecoded[name] {
			t.Errorf("%s: decoded %+v, want %+v", name, b, hordeDecoded[name])
		}
		if !bytes.Equal(b.Bytes(), raw) {
			t.Errorf("%s: re-encoded bytes differ", name)
		}
		// Encode the zone for Horde's year; Horde leaves the names empty.
		e := Encode(mustLoad(t, name), 2011)
		if e.StandardName == "" {
			t.Errorf("%s: no Windows name", name)
		}
		e.StandardName, e.DaylightName = "", ""
		if got := base64.StdEncoding.EncodeToString(e.Bytes()); got != b64 {
			t.Errorf("%s: Encode = %+v\n%s\nwant %s", name, e, got, b64)
		}
		// Without names, with and without the zone as fallback.
		for _, fb := range []*time.Location{nil, mustLoad(t, name)} {
			loc, err := Locate(b, 2011, fb)
			if err != nil {
				t.Fatal(err)
			}
			if fb != nil && loc.String() != name {
				t.Errorf("%s: Locate with fallback gave %s", name, loc)
			}
			sameOffsets(t, name, loc, mustLoad(t, name), 2011)
		}
	}
}

// A blob as a phone sends it: a display-style StandardName of exactly 32
// UTF-16 units with no NUL (Horde's older test vector, which had stray spaces
// in its base64).
func TestFullLengthName(t *testing.T) {
	b64 := strings.ReplaceAll("4AEAACgARwBNAFQALQAwADgAOgAwADAAKQAgAFAAYQBjAGkAZgBpAGMAIABUAGkAbQBlACAAKABVAFMAIAAmACAAQwAAA AsAAAABAAIAAAAAAAAAAAAAACgARwBNAFQALQAwADgAOgAwADAAKQAgAFAAYQBjAGkAZgBpAGMAIABUAGkAbQBlACAAKA BVAFMAIAAmACAAQwAAAAMAAAACAAIAAAAAAAAAxP///w==", " ", "")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBlob(raw)
	if err != nil {
		t.Fatal(err)
	}
	if b.StandardName != "(GMT-08:00) Pacific Time (US & C" {
		t.Errorf("name %q", b.StandardName)
	}
	if !bytes.Equal(b.Bytes(), raw) {
		t.Error("re-encoded bytes differ")
	}
	loc, err := Locate(b, 2024, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameOffsets(t, "LA display name", loc, mustLoad(t, "America/Los_Angeles"), 2024)
}

func TestParseBlobLength(t *testing.T) {
	for _, n := range []int{0, 171, 173, 228} {
		if _, err := ParseBlob(make([]byte, n)); err == nil {
			t.Errorf("%d bytes accepted", n)
		}
	}
}

// sameOffsets checks that two zones give the same UTC offset at every hour
// of year (and the hours around it, for zones whose year starts in DST).
func sameOffsets(t *testing.T, what string, got, want *time.Location, year int) {
	t.Helper()
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Add(-24 * time.Hour)
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC).Add(24 * time.Hour)
	for at := start; at.Before(end); at = at.Add(time.Hour) {
		_, o1 := at.In(got).Zone()
		_, o2 := at.In(want).Zone()
		if o1 != o2 {
			t.Errorf("%s %d: %s gives %d at %s, %s gives %d", what, year, got, o1, at, want, o2)
			return
		}
	}
}

// The zone matrix: with and without DST, both hemispheres, UTC-10 to
// UTC+14, half and quarter hours, and years with rules other than today's.
var matrix = []struct {
	zone  string
	years []int
}{
	{"America/New_York", []int{2006, 2007, 2011, 2024, 2030}},
	{"America/Los_Angeles", []int{2011, 2025}},
	{"America/Chicago", []int{2025}},
	{"America/Denver", []int{2025}},
	{"America/Phoenix", []int{2025}},
	{"America/Anchorage", []int{2025}},
	{"Pacific/Honolulu", []int{2025}},
	{"Europe/Berlin", []int{1995, 2011, 2025}},
	{"Europe/London", []int{2025}},
	{"Europe/Dublin", []int{2025}},
	{"Europe/Moscow", []int{2010, 2012, 2025}},
	{"Europe/Istanbul", []int{2025}},
	{"Africa/Cairo", []int{2025}},
	{"Asia/Kolkata", []int{2025}},
	{"Asia/Kathmandu", []int{2025}},
	{"Asia/Tokyo", []int{2025}},
	{"Asia/Shanghai", []int{2025}},
	{"Asia/Tehran", []int{2021, 2025}},
	{"Australia/Sydney", []int{2008, 2025}},
	{"Australia/Adelaide", []int{2025}},
	{"Australia/Brisbane", []int{2025}},
	{"Australia/Lord_Howe", []int{2025}},
	{"Pacific/Auckland", []int{2025}},
	{"Pacific/Chatham", []int{2025}},
	{"Pacific/Kiritimati", []int{2025}},
	{"Pacific/Tongatapu", []int{2025}},
	{"America/Sao_Paulo", []int{2017, 2018, 2020, 2025}},
	{"America/Santiago", []int{2025}},
	{"America/Mexico_City", []int{2021, 2023}},
	{"America/St_Johns", []int{2025}},
	{"Atlantic/Azores", []int{2025}},
	{"UTC", []int{2025}},
}

func TestEncodeLocateMatrix(t *testing.T) {
	n := 0
	for _, m := range matrix {
		want := mustLoad(t, m.zone)
		for _, y := range m.years {
			b := Encode(want, y)
			// Through the wire form, as a phone would send it back.
			b2, err := ParseBlob(b.Bytes())
			if err != nil || b2 != b {
				t.Fatalf("%s %d: round trip %+v -> %+v (%v)", m.zone, y, b, b2, err)
			}
			for _, strip := range []bool{false, true} {
				bb := b
				if strip {
					bb.StandardName, bb.DaylightName = "", ""
				}
				loc, err := Locate(bb, y, nil)
				if err != nil {
					t.Fatalf("%s %d: %v", m.zone, y, err)
				}
				sameOffsets(t, m.zone, loc, want, y)
				n++
			}
			// The blob's own rules give the zone's offsets too.
			for at := time.Date(y, 1, 1, 0, 0, 0, 0, want); at.Year() == y; at = at.Add(time.Hour) {
				if _, off := at.Zone(); b.Offset(at) != off {
					t.Errorf("%s %d: blob offset %d at %s, zone %d", m.zone, y, b.Offset(at), at, off)
					break
				}
			}
		}
	}
	t.Logf("%d blobs located, every hour of their year compared", n)
}

// The rules of the event's year, not today's: a 2006 New York blob has DST
// from April to October, a 2025 one from March to November.
func TestEncodeUsesEventYear(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	b06, b25 := Encode(ny, 2006), Encode(ny, 2025)
	if b06.DaylightDate.Month != 4 || b06.StandardDate.Month != 10 {
		t.Errorf("2006: %+v", b06)
	}
	if b25.DaylightDate.Month != 3 || b25.StandardDate.Month != 11 {
		t.Errorf("2025: %+v", b25)
	}
	sp := mustLoad(t, "America/Sao_Paulo")
	if b := Encode(sp, 2018); !b.HasDST() || b.Bias != 180 {
		t.Errorf("Sao Paulo 2018: %+v", b)
	}
	if b := Encode(sp, 2020); b.HasDST() || b.Bias != 180 {
		t.Errorf("Sao Paulo 2020: %+v", b)
	}
	// A 2018 Sao Paulo blob is not mistaken for a zone without DST.
	loc, err := Locate(Encode(sp, 2018), 2018, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameOffsets(t, "Sao Paulo", loc, sp, 2018)
}

// Motorola phones send DaylightBias +60 for a zone that gains an hour.
func TestPositiveDaylightBias(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(hordeBlobs["Europe/Berlin"])
	b, _ := ParseBlob(raw)
	b.DaylightBias = 60
	loc, err := Locate(b, 2025, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameOffsets(t, "Motorola Berlin", loc, mustLoad(t, "Europe/Berlin"), 2025)
}

// The StandardName picks the zone among those with the same rules: Paris,
// not the first UTC+1 zone of the table.
func TestLocatePrefersName(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	b := Encode(paris, 2025)
	if b.StandardName != "Romance Standard Time" {
		t.Fatalf("name %q", b.StandardName)
	}
	loc, err := Locate(b, 2025, nil)
	if err != nil || loc.String() != "Europe/Paris" {
		t.Errorf("Locate = %v, %v", loc, err)
	}
	// A name whose zone has other rules (a stale table on the phone) does
	// not win over the rules.
	b.StandardName = "Pacific Standard Time"
	loc, err = Locate(b, 2025, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameOffsets(t, "misnamed", loc, paris, 2025)
	// The user's zone is preferred over the scan when it fits.
	b.StandardName = ""
	if loc, _ := Locate(b, 2025, mustLoad(t, "Europe/Rome")); loc.String() != "Europe/Rome" {
		t.Errorf("fallback not used: %s", loc)
	}
	// ... and ignored when it does not.
	if loc, _ := Locate(b, 2025, mustLoad(t, "Asia/Tokyo")); loc.String() == "Asia/Tokyo" {
		t.Error("fallback with other rules used")
	}
}

// Blobs no zone has: daylight rules of their own get a zone built from them;
// a plain offset gets Etc/GMT+N or a fixed zone, never UTC.
func TestLocateLastResort(t *testing.T) {
	odd := Blob{Bias: 300, DaylightBias: -60,
		DaylightDate: SystemTime{Month: 4, Day: 3, DayOfWeek: 2, Hour: 1},
		StandardDate: SystemTime{Month: 9, Day: 5, DayOfWeek: 6, Hour: 1}}
	loc, err := Locate(odd, 2025, nil)
	if err != nil {
		t.Fatal(err)
	}
	for at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() == 2025; at = at.Add(time.Hour) {
		if _, off := at.In(loc).Zone(); off != odd.Offset(at) {
			t.Fatalf("built zone %s: %d at %s, blob says %d", loc, off, at, odd.Offset(at))
		}
	}
	if back, ok := LoadTZID(loc.String()); !ok {
		t.Errorf("LoadTZID(%q) failed", loc)
	} else {
		sameOffsets(t, "posix", back, loc, 2025)
	}
	// Bias 5 hours, no DST, an odd StandardName.
	if loc, _ := Locate(Blob{Bias: 300, StandardName: "Nowhere"}, 2025, nil); loc == time.UTC {
		t.Error("UTC for bias 300")
	} else if _, off := time.Date(2025, 6, 1, 0, 0, 0, 0, loc).Zone(); off != -5*3600 {
		t.Errorf("bias 300 -> %s", loc)
	}
	if loc, _ := Locate(Blob{Bias: -325}, 2025, nil); loc != nil {
		if _, off := time.Now().In(loc).Zone(); off != 325*60 {
			t.Errorf("bias -325 -> %s %d", loc, off)
		}
	}
	for _, bad := range []Blob{{Bias: 2000}, {Bias: 0, DaylightDate: SystemTime{Month: 3, Day: 9}, StandardDate: SystemTime{Month: 10, Day: 1}, DaylightBias: -60}} {
		if _, err := Locate(bad, 2025, nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
