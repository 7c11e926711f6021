package eas_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/easd/easd/wbxml"
)

// MS-ASProtocolCommands lists exactly what easd implements in the version
// the client names: every advertised command answers something other
// than 501 / Status 137, and the commands of other versions are absent.
func TestAdvertisedCommandsAreImplemented(t *testing.T) {
	s := startSync(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	never := []string{"GetHierarchy", "CreateCollection", "DeleteCollection", "MoveCollection"}
	for _, v := range []string{"2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"} {
		s.c.Version = v
		_, cmds, err := s.c.Options(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range never {
			if slices.Contains(cmds, cmd) {
				t.Errorf("%s: advertises %s, which easd does not implement", v, cmd)
			}
		}
		if got := slices.Contains(cmds, "Find"); got != (v == "16.1") {
			t.Errorf("%s: Find advertised %v", v, got)
		}
		if got := slices.Contains(cmds, "GetAttachment"); got != (v < "16.0" || v == "2.5") {
			t.Errorf("%s: GetAttachment advertised %v", v, got)
		}
		for _, cmd := range cmds {
			if cmd == "Ping" || cmd == "Sync" {
				continue // an empty one may wait; both have tests of their own
			}
			resp, body, err := s.c.DoRaw(ctx, cmd, nil, "application/vnd.ms-sync.wbxml", nil)
			if err != nil {
				t.Fatalf("%s %s: %v", v, cmd, err)
			}
			if resp.StatusCode == 501 {
				t.Errorf("%s: %s is advertised but answers 501", v, cmd)
				continue
			}
			if el, err := wbxml.Parse(bytes.NewReader(body), wbxml.Limits{}); err == nil && el.ChildText("Status") == "137" {
				t.Errorf("%s: %s is advertised but answers Status 137", v, cmd)
			}
		}
	}
	// A command of another version is refused, not run.
	s.c.Version = "14.1"
	resp, body, err := s.c.DoRaw(ctx, "Find", nil, "application/vnd.ms-sync.wbxml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if el, err := wbxml.Parse(bytes.NewReader(body), wbxml.Limits{}); resp.StatusCode != 200 || err != nil || el.ChildText("Status") != "137" {
		t.Errorf("Find at 14.1: HTTP %d %v, want 200 with Status 137", resp.StatusCode, err)
	}
	s.c.Version = "12.1"
	if resp, _, err := s.c.DoRaw(ctx, "Find", nil, "application/vnd.ms-sync.wbxml", nil); err != nil || resp.StatusCode != 501 {
		t.Errorf("Find at 12.1: %v %v, want HTTP 501", resp, err)
	}
}
