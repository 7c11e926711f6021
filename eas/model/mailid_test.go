package model

import "testing"

func TestMailID(t *testing.T) {
	id := MailID{FolderID: "5", UID: 1234}
	back, err := ParseMailID(id.String())
	if err != nil || back != id || id.String() != "5:1234" {
		t.Fatalf("%v %v %v", id, back, err)
	}
	for _, bad := range []string{"", "5", ":7", "5:", "5:0", "5:x", "5:99999999999"} {
		if _, err := ParseMailID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
