package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// JSON logs carry durations as Go duration strings, not nanoseconds.
func TestLogDurations(t *testing.T) {
	var b bytes.Buffer
	newLogger(&b, "json", "info").Info("x", "timeout", 1500*time.Millisecond)
	if !strings.Contains(b.String(), `"timeout":"1.5s"`) {
		t.Errorf("log line %q: want the duration as 1.5s", b.String())
	}
}

func TestVersionFlag(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		var out, errb bytes.Buffer
		if code := run([]string{arg}, &out, &errb); code != 0 || out.String() != "easd "+version+"\n" {
			t.Errorf("easd %s: exit %d, stdout %q, stderr %q", arg, code, out.String(), errb.String())
		}
	}
}
