package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/easd/easd/directory"
	"github.com/easd/easd/internal/testenv"
)

func TestDirectoryCommand(t *testing.T) {
	db := testenv.PG(t)
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runDirectory(append(args, "--database-url", db.DSN, "--mail-domain", "example.test"), &out, &errb)
		return code, out.String(), errb.String()
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO users (login) VALUES ('alice')`); err != nil {
		t.Fatal(err)
	}
	// A certificate in PEM: any DER bytes do for storing.
	cert := write("c.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}})))
	pic := write("p.jpg", "\xff\xd8\xff\xe0jpeg")

	if code, out, errs := run("add", "--email", "Carla@Example.test", "--name", "Carla Núñez", "--title", "Engineer",
		"--cert", cert, "--picture", pic, "--other-emails", "cn@example.test"); code != 0 || !strings.Contains(out, "added") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	if code, _, errs := run("add", "--email", "carla@example.test"); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("duplicate: %d %s", code, errs)
	}
	if code, _, errs := run("add", "--name", "x"); code != 2 || !strings.Contains(errs, "--email") {
		t.Fatalf("no email: %d %s", code, errs)
	}
	if code, out, errs := run("edit", "cn@example.test", "--hidden", "--office", "B2", "--no-picture"); code != 0 || !strings.Contains(out, "updated") {
		t.Fatalf("edit: %d %s %s", code, out, errs)
	}
	e, err := directory.NewStore(db.Pool, directory.Options{}).Get(context.Background(), "carla@example.test")
	if err != nil || !e.Hidden || e.Office != "B2" || e.Title != "Engineer" || e.Picture != nil || len(e.Certificates) != 1 ||
		e.DisplayName != "Carla Núñez" || len(e.Emails) != 2 {
		t.Fatalf("after edit: %+v %v", e, err)
	}

	// Import: a file with bad lines imports nothing and names each line.
	badCSV := write("bad.csv", "display-name,email,hidden\nGood One,good@example.test,false\nNo Address,,\nBad Hidden,bh@example.test,maybe\nDup,good@example.test,\n")
	code, _, errs := run("import", badCSV)
	for _, want := range []string{"line 3:", "line 4:", "line 5:", "nothing imported"} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Fatalf("bad csv: %d, want %q in:\n%s", code, want, errs)
		}
	}
	if _, err := directory.NewStore(db.Pool, directory.Options{}).Get(context.Background(), "good@example.test"); err == nil {
		t.Fatal("bad csv half imported")
	}
	goodCSV := write("good.csv", "email,display-name,other-emails,kind,department\ngood@example.test,Good One,g1@example.test;g2@example.test,,Sales\nroom1@example.test,Room 1,,resource,\ncarla@example.test,Carla N.,,,\n")
	if code, out, errs := run("import", goodCSV); code != 0 || !strings.Contains(out, "2 added, 1 updated") {
		t.Fatalf("csv: %d %s %s", code, out, errs)
	}
	vcf := write("people.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Vera Card\r\nN:Card;Vera;;;\r\nEMAIL;TYPE=INTERNET:vera@example.test\r\n"+
		"ORG:Example;R&D\r\nTEL;TYPE=CELL:+1 555 0199\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Mail\r\nEND:VCARD\r\n")
	if code, _, errs := run("import", vcf); code != 1 || !strings.Contains(errs, "line 9:") {
		t.Fatalf("vcf without address: %d %s", code, errs)
	}
	vcf = write("people2.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Vera Card\r\nN:Card;Vera;;;\r\nEMAIL;TYPE=INTERNET:vera@example.test\r\n"+
		"ORG:Example;R&D\r\nTEL;TYPE=CELL:+1 555 0199\r\nEND:VCARD\r\n")
	if code, out, errs := run("import", vcf); code != 0 || !strings.Contains(out, "1 added") {
		t.Fatalf("vcf: %d %s %s", code, out, errs)
	}
	code, out, _ := run("list")
	for _, want := range []string{"Vera Card", "room1@example.test", "resource", "alice@example.test", "hidden", "Carla N."} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("list lacks %q:\n%s", want, out)
		}
	}
	v, _ := directory.NewStore(db.Pool, directory.Options{}).Get(context.Background(), "vera@example.test")
	if v.MobilePhone != "+1 555 0199" || v.Company != "Example" || v.Department != "R&D" || v.FirstName != "Vera" {
		t.Fatalf("vera: %+v", v)
	}
	if code, out, _ := run("remove", "vera@example.test"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: %d %s", code, out)
	}
	if code, _, errs := run("remove", "vera@example.test"); code != 1 || !strings.Contains(errs, "no such entry") {
		t.Fatalf("remove again: %d %s", code, errs)
	}
}
