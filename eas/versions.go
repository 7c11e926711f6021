package eas

import "strings"

// ProtocolVersions are the EAS versions easd speaks, oldest first, as
// advertised in MS-ASProtocolVersions.
var ProtocolVersions = []string{"2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"}

// parseVersion turns "14.1" into 141; it returns 0 for versions easd does
// not speak.
func parseVersion(v string) int {
	for _, known := range ProtocolVersions {
		if v == known {
			major, minor, _ := strings.Cut(v, ".")
			n := 0
			for _, c := range major + minor {
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}

// versionsUpTo lists the supported versions not above max (0: all).
func versionsUpTo(max int) []string {
	if max == 0 {
		return ProtocolVersions
	}
	var out []string
	for _, v := range ProtocolVersions {
		if parseVersion(v) <= max {
			out = append(out, v)
		}
	}
	return out
}

func joinComma(s []string) string { return strings.Join(s, ",") }
