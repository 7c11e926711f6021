package eas

import (
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
)

// A Ping is stored only when it changes what is stored: a device repeating
// its full request costs no write.
func TestMergePingFresh(t *testing.T) {
	stored := pingParams{heartbeat: time.Minute, folders: []pingFolder{{ID: "1", Class: "Email"}}}
	req := func(hb int, ids ...string) message.PingRequest {
		r := message.PingRequest{HeartbeatInterval: hb}
		if len(ids) > 0 {
			r.Folders = &message.PingFolders{}
			for _, id := range ids {
				r.Folders.Folder = append(r.Folders.Folder, message.PingFolder{ID: id, Class: "Email"})
			}
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		req   message.PingRequest
		fresh bool
	}{
		{"empty", req(0), false},
		{"same", req(60, "1"), false},
		{"same twice", req(60, "1", "1"), false},
		{"heartbeat", req(120), true},
		{"folders", req(0, "1", "2"), true},
	} {
		_, fresh, prob := mergePing(tc.req, stored, Limits{})
		if prob != nil || fresh != tc.fresh {
			t.Errorf("%s: fresh %v, problem %+v; want fresh %v", tc.name, fresh, prob, tc.fresh)
		}
	}
	if _, fresh, _ := mergePing(req(60, "1"), pingParams{}, Limits{}); !fresh {
		t.Error("first Ping not fresh")
	}
}
