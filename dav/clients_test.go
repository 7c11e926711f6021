package dav_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
)

// need returns the path of an independent client the test runs; without
// it the test is skipped, except in CI, where it fails (scripts/deps.sh
// test installs them).
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (scripts/deps.sh test installs it)", tool)
		}
		t.Skipf("%s is not installed (scripts/deps.sh test installs it)", tool)
	}
	return p
}

// vdirsyncer is a two-way sync of alice's Contacts book with a local
// folder of .vcf files.
type vdirsyncer struct {
	bin, conf, local string
}

func newVdirsyncer(t *testing.T, e *env) *vdirsyncer {
	dir := t.TempDir()
	v := &vdirsyncer{bin: need(t, "vdirsyncer"), conf: filepath.Join(dir, "config"), local: filepath.Join(dir, "local")}
	if err := os.MkdirAll(v.local, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := `[general]
status_path = "` + filepath.Join(dir, "status") + `/"

[pair contacts]
a = "local"
b = "easd"
collections = null
conflict_resolution = "b wins"

[storage local]
type = "filesystem"
path = "` + v.local + `/"
fileext = ".vcf"

[storage easd]
type = "carddav"
url = "` + e.URL + e.bookPath() + `"
username = "alice"
password = "alice"
`
	if err := os.WriteFile(v.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	v.run(t, "discover")
	return v
}

func (v *vdirsyncer) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(v.bin, append([]string{"-c", v.conf}, args...)...)
	cmd.Stdin = strings.NewReader(strings.Repeat("y\n", 10))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vdirsyncer %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// files returns the local folder's cards by file name.
func (v *vdirsyncer) files(t *testing.T) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(v.local)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, en := range ents {
		b, err := os.ReadFile(filepath.Join(v.local, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[en.Name()] = string(b)
	}
	return out
}

// find returns the file name of the card whose text holds s.
func find(files map[string]string, s string) string {
	for n, b := range files {
		if strings.Contains(b, s) {
			return n
		}
	}
	return ""
}

func TestVdirsyncerWithPhone(t *testing.T) {
	e := start(t)
	v := newVdirsyncer(t, e)

	// The phone's contact reaches the local folder.
	sid := e.phoneAdd(t, &message.Contact{FirstName: "Phil", LastName: "Phone", Email1Address: "phil@example.test", FileAs: "Phone, Phil"})
	v.run(t, "sync")
	files := v.files(t)
	if len(files) != 1 || find(files, "phil@example.test") == "" {
		t.Fatalf("local after first sync: %v", files)
	}

	// A card written locally reaches the phone, with a property EAS
	// does not carry.
	local := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:local-desk-1\r\nFN:Dora Desk\r\nN:Desk;Dora;;;\r\nEMAIL:dora@example.test\r\nX-DESK-NOTE:only here\r\nEND:VCARD\r\n"
	if err := os.WriteFile(filepath.Join(v.local, "local-desk-1.vcf"), []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	v.run(t, "sync")
	cmds := e.pull(t)
	if len(cmds.Add) != 1 || decoded(t, cmds.Add[0]).Email1Address != "dora@example.test" {
		t.Fatalf("phone after local add: %+v", cmds)
	}
	dora := cmds.Add[0].ServerID

	// The phone edits both; the local folder follows, and the local-only
	// property survives the phone's edit.
	e.phoneChange(t, sid, &message.Contact{FirstName: "Phil", LastName: "Phone", Email1Address: "phil@new.test", FileAs: "Phone, Phil"})
	e.phoneChange(t, dora, &message.Contact{FirstName: "Dora", LastName: "Desk", Email1Address: "dora@new.test", FileAs: "Desk, Dora"})
	v.run(t, "sync")
	files = v.files(t)
	if len(files) != 2 || find(files, "phil@new.test") == "" || find(files, "dora@new.test") == "" ||
		!strings.Contains(files[find(files, "dora@new.test")], "X-DESK-NOTE:only here") {
		t.Fatalf("local after phone edits: %v", files)
	}

	// A local edit reaches the phone.
	name := find(files, "dora@new.test")
	edited := strings.Replace(files[name], "dora@new.test", "dora@desk.test", 1)
	if err := os.WriteFile(filepath.Join(v.local, name), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	v.run(t, "sync")
	cmds = e.pull(t)
	if len(cmds.Change) != 1 || decoded(t, cmds.Change[0]).Email1Address != "dora@desk.test" {
		t.Fatalf("phone after local edit: %+v", cmds)
	}

	// Repeated runs change nothing anywhere: no duplicates, nothing lost.
	before := v.files(t)
	for range 2 {
		v.run(t, "sync")
	}
	after := v.files(t)
	if len(after) != 2 || len(before) != len(after) {
		t.Fatalf("local changed by idle syncs: %v -> %v", before, after)
	}
	for n, b := range before {
		if after[n] != b {
			t.Fatalf("%s changed by idle syncs", n)
		}
	}
	if cmds := e.pull(t); len(cmds.Add)+len(cmds.Change)+len(cmds.Delete) != 0 {
		t.Fatalf("phone got changes from idle syncs: %+v", cmds)
	}
	all, _, _ := e.syncReport(t, "")
	if len(all) != 2 {
		t.Fatalf("server holds %d cards, want 2", len(all))
	}

	// Deletes both ways.
	if err := os.Remove(filepath.Join(v.local, find(after, "phil@new.test"))); err != nil {
		t.Fatal(err)
	}
	v.run(t, "sync")
	if cmds := e.pull(t); len(cmds.Delete) != 1 || cmds.Delete[0].ServerID != sid {
		t.Fatalf("phone after local delete: %+v", cmds)
	}
	e.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: dora}}})
	// The book is now empty, which vdirsyncer refuses to mirror unless
	// told to (its guard against a server that lost everything).
	v.run(t, "sync", "--force-delete")
	if files := v.files(t); len(files) != 0 {
		t.Fatalf("local after phone delete: %v", files)
	}
}

// TestLitmus runs the WebDAV conformance suites basic and props against
// alice's address book home. An address book holds only vCards and no
// dead properties, so many checks cannot pass; docs/dav.md explains
// each failure. The test pins the results: a check that starts failing
// (or passing) shows up here and the document is updated with it.
func TestLitmus(t *testing.T) {
	bin := need(t, "litmus")
	e := start(t)
	results := map[string]string{}
	for _, suite := range []string{"basic", "props"} {
		cmd := exec.Command(bin, "-k", e.URL+"/dav/addressbooks/alice/", "alice", "alice")
		cmd.Env = append(os.Environ(), "TESTS="+suite)
		cmd.Dir = t.TempDir() // litmus writes debug.log where it runs
		out, _ := cmd.CombinedOutput()
		t.Logf("litmus %s:\n%s", suite, out)
		for _, m := range litmusResult.FindAllStringSubmatch(string(out), -1) {
			results[suite+"/"+m[1]] = m[2]
		}
	}
	if len(results) == 0 {
		t.Fatal("no litmus results read")
	}
	for _, must := range litmusPass {
		if r := results[must]; r != "pass" {
			t.Errorf("litmus %s: %s, want pass", must, r)
		}
	}
}

// litmusResult is a check's outcome line: " 3. put_get....... FAIL (...)".
var litmusResult = regexp.MustCompile(`\b\d+\. (\w+)\.+ (pass|FAIL|SKIPPED)`)

// litmusPass are the checks that pass against an address book home
// (docs/dav.md lists the others with their reasons).
var litmusPass = []string{
	"basic/init", "basic/begin", "basic/delete_null", "basic/finish",
	"props/init", "props/begin", "props/propfind_invalid", "props/propfind_d0",
	"props/propextended", "props/propwformed", "props/propcleanup", "props/finish",
}
