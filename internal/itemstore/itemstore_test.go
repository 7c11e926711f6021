package itemstore

import "testing"

func TestServerIDs(t *testing.T) {
	for _, c := range []struct {
		folder, sid string
		id          int64
		ok          bool
	}{
		{"7", "7:1234", 1234, true},
		{"7", "7:9223372036854775807", 9223372036854775807, true},
		{"17", "17:5", 5, true},
		{"7", "8:1234", 0, false},                // another folder
		{"7", "17:1234", 0, false},               // a folder whose id starts alike
		{"17", "7:1234", 0, false},               //
		{"7", "7:", 0, false},                    // no id
		{"7", "7", 0, false},                     // no colon
		{"7", ":1", 0, false},                    // no folder
		{"7", "7:0", 0, false},                   // ids start at 1
		{"7", "7:01", 0, false},                  // not canonical
		{"7", "7:+1", 0, false},                  // sign
		{"7", "7:-1", 0, false},                  //
		{"7", "7: 1", 0, false},                  // space
		{"7", "7:1:2", 0, false},                 // extra part
		{"7", "7:1x", 0, false},                  // trailing junk
		{"7", "7:9223372036854775808", 0, false}, // overflow
		{"7", "7:99999999999999999999", 0, false},
		{"7", "", 0, false},
		{"7", "7:१", 0, false}, // a non-ASCII digit
	} {
		id, ok := ParseServerID(c.folder, c.sid)
		if id != c.id || ok != c.ok {
			t.Errorf("ParseServerID(%q, %q) = %d, %v; want %d, %v", c.folder, c.sid, id, ok, c.id, c.ok)
		}
		if ok && ServerID(c.folder, id) != c.sid {
			t.Errorf("ServerID does not give back %q", c.sid)
		}
	}
}
