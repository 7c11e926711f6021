package model

import (
	"fmt"
	"strings"
	"time"
)

// dateTimeLayouts are the forms of MS-ASDTYPE dateTime that clients send:
// the specified one, RFC 3339 without milliseconds, and the compact form
// of Calendar and InstanceId values.
var dateTimeLayouts = []string{"2006-01-02T15:04:05.000Z", time.RFC3339Nano, "20060102T150405Z"}

// ParseDateTime reads an MS-ASDTYPE dateTime value, in UTC.
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a dateTime: %q", s)
}
