package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/testenv"
	"github.com/easd/easd/notes"
)

func TestNotesCommand(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	cmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runNotes(append(args, "--database-url", db.DSN), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, errOut := cmd("export", "--user", "nobody"); code != 1 || !strings.Contains(errOut, `no user "nobody"`) {
		t.Fatalf("unknown user: %d %q", code, errOut)
	}
	if code, _, errOut := cmd("export", "--user", "x", "--format", "pdf"); code != exitUsage || !strings.Contains(errOut, "format") {
		t.Fatalf("bad format: %d %q", code, errOut)
	}
	if code, _, errOut := cmd("export", "--user", "x", "--format", "text"); code != exitUsage || !strings.Contains(errOut, "dir") {
		t.Fatalf("text without dir: %d %q", code, errOut)
	}
	userID, err := ensureUser(ctx, db.Pool, "dana")
	if err != nil {
		t.Fatal(err)
	}
	list, err := folders.NewStore(db.Pool).EnsurePIM(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	var notesID string
	for _, f := range list {
		if f.Type == model.FolderNotes {
			notesID = f.ServerID
		}
	}
	if code, _, errOut := cmd("export", "--user", "dana"); code != 1 || !strings.Contains(errOut, "no notes") {
		t.Fatalf("empty folder: %d %q", code, errOut)
	}
	st := notes.NewStore(nil)
	for _, n := range []notes.Note{{Subject: "Groceries", Body: "milk", Categories: []string{"Blue Category"}}, {Subject: "Ideas", Body: "<b>big</b>", BodyType: notes.BodyHTML}} {
		if _, err := st.Create(ctx, db.Pool, userID, notesID, n); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := cmd("export", "--user", "dana")
	if code != 0 || errOut != "" || strings.Count(out, "BEGIN:VJOURNAL") != 2 || !strings.Contains(out, "CATEGORIES:Blue Category") {
		t.Fatalf("ics export: %d %q\n%s", code, errOut, out)
	}
	dir := t.TempDir()
	if code, out, errOut := cmd("export", "--user", "dana", "--format", "text", "--dir", dir); code != 0 || !strings.Contains(out, "2 notes") {
		t.Fatalf("text export: %d %q %q", code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "Ideas.txt")); err != nil || string(b) != "Ideas\n\nbig\n" {
		t.Fatalf("Ideas.txt: %q %v", b, err)
	}
	if code, _, errOut := cmd("export", "--user", "dana", "--folder", "Nope"); code != 1 || !strings.Contains(errOut, `"Notes"`) {
		t.Fatalf("unknown folder: %d %q", code, errOut)
	}
}
