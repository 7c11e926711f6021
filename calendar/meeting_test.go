package calendar

import (
	"encoding/base64"
	"testing"
	"time"
)

// The worked examples of MS-ASEMAIL 4.3 ("Converting a GlobalObjId to a
// UID"), both directions.
func TestGlobalObjIDSpecExamples(t *testing.T) {
	for _, tc := range []struct {
		name, goid, uid string
		instance        time.Time
	}{
		{
			name:     "Outlook id of one instance",
			goid:     "BAAAAIIA4AB0xbcQGoLgCAfUCRDgQMnBJoXEAQAAAAAAAAAAEAAAAAvw7UtuTulOnjnjhns3jvM=",
			uid:      "040000008200E00074C5B7101A82E00800000000E040C9C12685C4010000000000000000100000000BF0ED4B6E4EE94E9E39E3867B378EF3",
			instance: time.Date(2004, 9, 16, 0, 0, 0, 0, time.UTC),
		},
		{
			name: "vCal id",
			goid: "BAAAAIIA4AB0xbcQGoLgCAAAAAAAAAAAAAAAAAAAAAAAAAAAMwAAAHZDYWwtVWlkAQAAAHs4MTQxMkQzQy0yQTI0LTRFOUQtQjIwRS0xMUY3QkJFOTI3OTl9AA==",
			uid:  "{81412D3C-2A24-4E9D-B20E-11F7BBE92799}",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := base64.StdEncoding.DecodeString(tc.goid)
			if err != nil {
				t.Fatal(err)
			}
			if got := base64.StdEncoding.EncodeToString(GlobalObjID(tc.uid, tc.instance)); got != tc.goid {
				t.Errorf("GlobalObjID(%q):\n got %s\nwant %s", tc.uid, got, tc.goid)
			}
			uid, err := UIDOfGlobalObjID(want)
			if err != nil || uid != tc.uid {
				t.Errorf("UIDOfGlobalObjID = %q, %v; want %q", uid, err, tc.uid)
			}
		})
	}
}
