package eas_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// requestLevels returns the levels of the access-log lines of cmd.
func requestLevels(logs, cmd string) []string {
	var out []string
	for line := range strings.SplitSeq(logs, "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil || e["msg"] != "request" || e["cmd"] != cmd {
			continue
		}
		out = append(out, e["level"].(string))
	}
	return out
}

// Normal Ping outcomes (2: changes, 1: heartbeat expired) and a command
// easd does not implement are logged at INFO, not WARN or ERROR: those
// are for what an operator must look at.
func TestLogLevelsOfNormalOutcomes(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	s.env.Append(t, "alice", "INBOX", testMail(1))
	wantChanged(t, answer(t, pingAsync(s.c, time.Minute, email(inbox)), wakeWithin), inbox)
	s.catchUp(t, inbox, s.start(t, inbox))
	if r := answer(t, pingAsync(s.c, time.Second, email(inbox)), 10*time.Second); r.err != nil || r.r.Status != 1 {
		t.Fatalf("expiring Ping: %+v %v", r.r, r.err)
	}
	if resp, _, err := s.c.DoRaw(context.Background(), "NoSuchCommand", nil, "", nil); err != nil || resp.StatusCode != 501 {
		t.Fatalf("unknown command: %v %v", resp, err)
	}
	logs := s.env.Logs()
	if got := requestLevels(logs, "Ping"); len(got) != 2 || got[0] != "INFO" || got[1] != "INFO" {
		t.Errorf("Ping request lines at %v, want INFO twice", got)
	}
	// Unknown names are logged as cmd "unknown" (a metric label must come
	// from the command table), the name in the note.
	if got := requestLevels(logs, "unknown"); len(got) != 1 || got[0] != "INFO" || !strings.Contains(logs, `NoSuchCommand`) {
		t.Errorf("unknown command logged at %v, want INFO", got)
	}
}
