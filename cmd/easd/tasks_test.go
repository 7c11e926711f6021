package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/easd/easd/internal/testenv"
)

func TestTasksCommand(t *testing.T) {
	db := testenv.PG(t)
	cmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runTasks(append(args, "--database-url", db.DSN), &out, &errb)
		return code, out.String(), errb.String()
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "todo.ics")
	if err := os.WriteFile(good, []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t1\r\n"+
		"DTSTAMP:20260301T000000Z\r\nSUMMARY:Buy milk\r\nDUE;VALUE=DATE:20260311\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cmd("import", "--user", "erin", good)
	if code != 0 || !strings.Contains(out, "1 created") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	code, out, errOut = cmd("export", "--user", "erin")
	if code != 0 || !strings.Contains(out, "SUMMARY:Buy milk") || !strings.Contains(out, "DUE;VALUE=DATE:20260311") {
		t.Fatalf("export: %d %q\n%s", code, errOut, out)
	}
	bad := filepath.Join(dir, "bad.ics")
	if err := os.WriteFile(bad, []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t2\r\nDUE:soon\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cmd("import", "--user", "erin", bad)
	if code != 1 || !strings.Contains(errOut, "task 1, line 6: DUE") || !strings.Contains(errOut, "nothing imported") {
		t.Fatalf("bad import: %d %q", code, errOut)
	}
	if code, _, errOut := cmd("export", "--user", "nobody"); code != 1 || !strings.Contains(errOut, "no user") {
		t.Fatalf("unknown user: %d %q", code, errOut)
	}
	if code, _, _ := cmd("import", "--user", "erin"); code != exitUsage {
		t.Fatalf("import without file: %d", code)
	}
}
