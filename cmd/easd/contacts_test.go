package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/pgnotify"
	"github.com/easd/easd/internal/testenv"
)

func contactsCmdFor(db *testenv.PGDB) func(args ...string) (int, string, string) {
	return func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runContacts(append(args, "--database-url", db.DSN), &out, &errb)
		return code, out.String(), errb.String()
	}
}

const contactsFile = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Smith;Anna\r\nFN:Anna Smith\r\nTEL;HOME:+1 555 0199\r\n" +
	"NOTE;ENCODING=QUOTED-PRINTABLE:caf=C3=A9=\r\n au lait\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bert-1\r\nN:Brown;Bert;;;\r\nFN:Bert Brown\r\nEMAIL;TYPE=WORK:bert@example.org\r\nEND:VCARD\r\n"

func TestContactsCommand(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	cmd := contactsCmdFor(db)
	dir := t.TempDir()
	file := filepath.Join(dir, "people.vcf")
	if err := os.WriteFile(file, []byte(contactsFile), 0o600); err != nil {
		t.Fatal(err)
	}

	// A user who never connected: the user and the default folders are
	// made as the first FolderSync would.
	code, out, errOut := cmd("import", "--user", "carol", file)
	if code != 0 || errOut != "" || !strings.Contains(out, "2 created, 0 updated, 0 unchanged, 0 bad") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	var userID int64
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'carol'`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	fstore := folders.NewStore(db.Pool)
	list, err := fstore.List(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	var contactsID string
	types := map[model.FolderType]int{}
	for _, f := range list {
		types[f.Type]++
		if f.Type == model.FolderContacts {
			contactsID = f.ServerID
		}
	}
	if types[model.FolderContacts] != 1 || types[model.FolderCalendar] != 1 || types[model.FolderTasks] != 1 || types[model.FolderNotes] != 1 {
		t.Fatalf("folders after import: %+v", list)
	}

	// Export: vCard 4.0 on stdout; importing it again changes nothing.
	// The login is the canonical one, however it is spelled.
	code, exported, errOut := cmd("export", "--user", "CAROL")
	if code != 0 || errOut != "" || strings.Count(exported, "BEGIN:VCARD") != 2 || !strings.Contains(exported, "VERSION:4.0") ||
		!strings.Contains(exported, "café au lait") || !strings.Contains(exported, "UID:bert-1") {
		t.Fatalf("export: %d %q\n%s", code, errOut, exported)
	}
	exportFile := filepath.Join(dir, "export.vcf")
	if err := os.WriteFile(exportFile, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := cmd("import", exportFile, "--user", "carol"); code != 0 || !strings.Contains(out, "0 created, 0 updated, 2 unchanged") {
		t.Fatalf("re-import of the export: %d %q", code, out)
	}
	if code, again, _ := cmd("export", "--user", "carol"); code != 0 || again != exported {
		t.Fatalf("second export differs:\n%s", again)
	}

	// The phone's first FolderSync keeps the folder and so its cards.
	after, err := fstore.Reconcile(ctx, userID, []model.Mailbox{{Name: "INBOX", Type: model.FolderInbox}})
	if err != nil {
		t.Fatal(err)
	}
	kept := false
	for _, f := range after {
		if f.Type == model.FolderContacts {
			kept = f.ServerID == contactsID
		}
	}
	if !kept {
		t.Fatalf("FolderSync replaced the Contacts folder %s: %+v", contactsID, after)
	}
	if code, again, _ := cmd("export", "--user", "carol"); code != 0 || again != exported {
		t.Fatalf("export after FolderSync:\n%s", again)
	}

	// An import wakes waiting Pings on every instance.
	hub, err := pgnotify.New(ctx, db.DSN, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	sub := hub.Subscribe(eas.FolderChangedTopic(userID))
	defer sub.Close()
	changed := strings.Replace(contactsFile, "bert@example.org", "bert@example.com", 1)
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := cmd("import", "--user", "carol", file); code != 0 || !strings.Contains(out, "0 created, 1 updated, 1 unchanged") {
		t.Fatalf("import of a change: %d %q", code, out)
	}
	select {
	case p := <-sub.C():
		if p.Data != contactsID {
			t.Fatalf("notified %+v, want folder %s", p, contactsID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification after import")
	}

	// A second address book, by name; stdin as the file.
	friends, err := fstore.CreatePIM(ctx, userID, "0", "Friends", model.FolderUserContacts)
	if err != nil {
		t.Fatal(err)
	}
	var out2, err2 bytes.Buffer
	stdin, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	oldStdin := os.Stdin
	os.Stdin = stdin
	code = runContacts([]string{"import", "--user", "carol", "--folder", "Friends", "-", "--database-url", db.DSN}, &out2, &err2)
	os.Stdin = oldStdin
	stdin.Close()
	if code != 0 || !strings.Contains(out2.String(), "Friends") || !strings.Contains(out2.String(), "2 created") {
		t.Fatalf("import into Friends from stdin: %d %q %q", code, out2.String(), err2.String())
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE user_id = $1 AND folder_id = $2`,
		userID, friends.ServerID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("Friends holds %d cards: %v", n, err)
	}
	if code, out, _ := cmd("export", "--user", "carol", "--folder", "Friends"); code != 0 || strings.Count(out, "BEGIN:VCARD") != 2 {
		t.Fatalf("export of Friends: %d\n%s", code, out)
	}
	if code, _, errOut := cmd("export", "--user", "carol", "--folder", "Enemies"); code != 1 ||
		!strings.Contains(errOut, `"Enemies"`) || !strings.Contains(errOut, `"Friends"`) || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("unknown folder: %d %q", code, errOut)
	}

	// Bad cards: each reported with its place, nothing imported, exit 1;
	// --skip-bad imports the rest.
	bad := filepath.Join(dir, "bad.vcf")
	if err := os.WriteFile(bad, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Fine Person\r\nEND:VCARD\r\n"+
		"BEGIN:VCARD\r\nVERSION:3.0\r\nno colon here\r\nEND:VCARD\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cmd("import", "--user", "dave", bad)
	if code != 1 || !strings.Contains(errOut, "card 2, line 7") || !strings.Contains(errOut, "nothing imported") {
		t.Fatalf("bad file: %d %q", code, errOut)
	}
	if code, out, errOut := cmd("export", "--user", "dave"); code != 0 || out != "" {
		t.Fatalf("dave's book after a refused import: %d %q %q", code, out, errOut)
	}
	code, out, errOut = cmd("import", "--user", "dave", "--skip-bad", bad)
	if code != 0 || !strings.Contains(out, "1 created") || !strings.Contains(out, "1 bad skipped") || !strings.Contains(errOut, "card 2, line 7") {
		t.Fatalf("--skip-bad: %d %q %q", code, out, errOut)
	}

	// Export creates nothing for an unknown user.
	if code, _, errOut := cmd("export", "--user", "nobody"); code != 1 || !strings.Contains(errOut, `"nobody"`) {
		t.Fatalf("export of an unknown user: %d %q", code, errOut)
	}
	if code, _, errOut := cmd("import", "--user", "erin", filepath.Join(dir, "missing.vcf")); code != 1 || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("missing file: %d %q", code, errOut)
	}

	// Usage errors: exit 2, one line.
	for _, args := range [][]string{
		{"import", file}, {"import", "--user", "carol"}, {"import", "--user", "carol", file, file},
		{"export", "--user", "carol", "extra"}, {"frobnicate"}, {"export", "--no-such-flag"},
	} {
		code, _, errOut := cmd(args...)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
	var out3, err3 bytes.Buffer
	if code := run([]string{"contacts", "help"}, &out3, &err3); code != 0 || !strings.Contains(err3.String(), "easd contacts import") {
		t.Fatalf("help: %d %q", code, err3.String())
	}
}
