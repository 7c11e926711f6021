package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/internal/testenv"
)

// policyCmdFor runs `easd policy` against db as main would and returns the
// exit code and output.
func policyCmdFor(db *testenv.PGDB) func(args ...string) (int, string, string) {
	return func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runPolicy(append(args, "--database-url", db.DSN), &out, &errb)
		return code, out.String(), errb.String()
	}
}

func TestPolicyCommand(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	pol := policyCmdFor(db)
	devices := device.NewStore(db.Pool, 0)
	for _, s := range []device.Seen{
		{Login: "alice", DeviceID: "phone1", DeviceType: "iPhone"},
		{Login: "bob", DeviceID: "droid", DeviceType: "Android"},
	} {
		if _, err := devices.Touch(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	store := policy.NewStore(db.Pool)
	effective := func(login, id string) string {
		t.Helper()
		d, err := devices.Get(ctx, login, id)
		if err != nil {
			t.Fatal(err)
		}
		p, err := store.ForDevice(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Name
	}

	// create with --set and --from; the file may also be show --json output.
	file := filepath.Join(t.TempDir(), "sales.json")
	if err := os.WriteFile(file, []byte(`{"MaxEmailAgeFilter": 3, "UnapprovedInROMApplicationList": ["Solitaire"], "AllowNonProvisionableDevices": false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := pol("create", "sales", "--from", file, "--set", "DevicePasswordEnabled=true", "--set", "MinDevicePasswordLength=6")
	if code != 0 || !strings.Contains(out, "policy sales created with 4 settings different") || !strings.Contains(out, "MinDevicePasswordLength") || errOut != "" {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	p, err := store.Get(ctx, "sales")
	if err != nil || !p.Settings.DevicePasswordEnabled || p.Settings.MinDevicePasswordLength != 6 || p.Settings.MaxEmailAgeFilter != 3 ||
		len(p.Settings.UnapprovedInROMApplicationList) != 1 || p.AllowNonProvisionable {
		t.Fatalf("created: %+v %v", p, err)
	}

	// edit shows what changed; the same edit again changes nothing.
	code, out, _ = pol("edit", "sales", "--set", "MaxCalendarAgeFilter=5", "--set", "AllowBrowser=no")
	if code != 0 || !strings.Contains(out, "2 settings changed") || !strings.Contains(out, "MaxCalendarAgeFilter  0     5") {
		t.Fatalf("edit: %d\n%s", code, out)
	}
	if code, out, _ = pol("edit", "sales", "--set", "MaxCalendarAgeFilter=5"); code != 0 || !strings.Contains(out, "unchanged") {
		t.Fatalf("repeated edit: %d\n%s", code, out)
	}
	code, out, _ = pol("edit", "sales", "--json", "--set", "AllowNonProvisionableDevices=true")
	var edited struct {
		Policy  struct{ Generation int64 }
		Changes []policy.Change
	}
	if code != 0 || json.Unmarshal([]byte(out), &edited) != nil || len(edited.Changes) != 1 ||
		edited.Changes[0].Element != policy.AllowNonProvisionableElement {
		t.Fatalf("edit --json: %d\n%s", code, out)
	}

	// Precedence through the command: device > user > type > default.
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"create", "types"}, "default"},
		{[]string{"create", "users"}, "default"},
		{[]string{"assign", "types", "--device-type", "IPHONE"}, "types"},
		{[]string{"assign", "users", "--user", "alice"}, "users"},
		{[]string{"assign", "sales", "--device", "alice/phone1"}, "sales"},
		{[]string{"unassign", "--device", "alice/phone1"}, "users"},
		{[]string{"assign", "sales", "--device", "alice/phone1"}, "sales"},
		{[]string{"remove", "sales"}, "users"},
		{[]string{"unassign", "--user", "alice"}, "types"},
		{[]string{"assign", "users", "--user", "alice"}, "users"},
		{[]string{"remove", "users"}, "types"},
		{[]string{"unassign", "--device-type", "iphone"}, "default"},
	}
	for _, s := range steps {
		code, out, errOut := pol(s.args...)
		if code != 0 || errOut != "" || strings.Count(out, "\n") < 1 {
			t.Fatalf("%v: %d %q %q", s.args, code, out, errOut)
		}
		if got := effective("alice", "phone1"); got != s.want {
			t.Fatalf("after %v: alice/phone1 uses %s, want %s", s.args, got, s.want)
		}
	}
	if got := effective("bob", "droid"); got != "default" {
		t.Fatalf("bob/droid uses %s", got)
	}

	// list and show, as tables and as JSON.
	pol("assign", "types", "--user", "bob")
	code, out, _ = pol("list")
	if code != 0 || !strings.HasPrefix(out, "NAME") || strings.Count(out, "\n") != 3 || !strings.Contains(out, "default") {
		t.Fatalf("list:\n%s", out)
	}
	code, out, _ = pol("list", "--json")
	var list []struct {
		Name  string
		Usage policy.Usage
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[1].Name != "types" || list[1].Usage.Users != 1 ||
		list[1].Usage.InEffect != 1 {
		t.Fatalf("list --json: %d\n%s", code, out)
	}
	code, out, _ = pol("show", "types")
	for _, want := range []string{"Name:", "types", "MaxAttachmentSize", "AllowBluetooth", "Assigned to:", "user:bob"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = pol("show", "types", "--json")
	var shown struct {
		Name        string
		Settings    policy.Settings
		Assignments []policy.Assignment
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.Name != "types" || !shown.Settings.AllowCamera ||
		len(shown.Assignments) != 1 || shown.Assignments[0].Target.Login != "bob" {
		t.Fatalf("show --json: %d\n%s", code, out)
	}
	// show --json output feeds --from.
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := pol("create", "copy", "--from", file); code != 0 {
		t.Fatalf("create --from show output: %d %q", code, errOut)
	}
	if code, out, _ := pol("elements"); code != 0 || strings.Count(out, "\n") != 44 || !regexp.MustCompile(`MaxCalendarAgeFilter +12\.1 +one of 0, 4, 5, 6, 7 `).MatchString(out) {
		t.Fatalf("elements:\n%s", out)
	}

	// Invalid values and usage errors: exit 2, one line naming the problem.
	if err := os.WriteFile(file, []byte(`{"AllowCamra": false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"edit", "default", "--set", "MinDevicePasswordLength=20"}, "MinDevicePasswordLength=20: out of range, want 1 to 16"},
		{[]string{"edit", "default", "--set", "MaxCalendarAgeFilter=2"}, "one of 0, 4, 5, 6, 7"},
		{[]string{"edit", "default", "--set", "AllowCamera=perhaps"}, "AllowCamera=perhaps: want true or false"},
		{[]string{"edit", "default", "--set", "NoSuchThing=1"}, `unknown element "NoSuchThing"`},
		{[]string{"edit", "default", "--set", "AllowCamera"}, "want Element=value"},
		{[]string{"edit", "default", "--from", file}, `unknown field "AllowCamra"`},
		{[]string{"edit", "default"}, "needs --set or --from"},
		{[]string{"create", "bad name"}, "want up to 64 letters"},
		{[]string{"assign", "types"}, "exactly one of"},
		{[]string{"assign", "types", "--user", "a", "--device-type", "b"}, "exactly one of"},
		{[]string{"assign", "types", "--device", "alice"}, "USER/DEVICEID"},
		{[]string{"show"}, "takes 1 arguments"},
		{[]string{"frobnicate"}, "unknown action"},
	} {
		code, _, errOut := pol(c.args...)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %d %q, want %q", c.args, code, errOut, c.want)
		}
	}
	// Unknown names and refused changes: exit 1.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "nope"}, `no policy "nope"`},
		{[]string{"edit", "nope", "--set", "AllowCamera=0"}, `no policy "nope"`},
		{[]string{"remove", "default"}, "cannot be removed"},
		{[]string{"create", "types"}, "exists"},
		{[]string{"assign", "types", "--device", "alice/tablet"}, `no device "tablet" of user "alice"`},
		{[]string{"unassign", "--device", "alice/tablet"}, `no device "tablet" of user "alice"`},
		{[]string{"assign", "nope", "--user", "alice"}, `no policy "nope"`},
	} {
		code, _, errOut := pol(c.args...)
		if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %d %q, want %q", c.args, code, errOut, c.want)
		}
	}

	// Every change is in the audit log, as the command line's caller.
	entries, err := audit.NewStore(db.Pool).List(ctx, audit.Filter{Action: "policy."})
	if err != nil {
		t.Fatal(err)
	}
	cli := audit.CLI()
	// creates: sales, types, users, copy; edits: 2; assigns and unassigns:
	// 8 in the steps and bob's; removes: 2. Failed attempts record nothing.
	if len(entries) != 4+2+9+2 {
		t.Errorf("%d audit entries", len(entries))
	}
	for _, e := range entries {
		if e.Actor != cli.Actor || e.Source != cli.Source {
			t.Errorf("entry %+v", e)
		}
	}
}

func TestAuditCommand(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	as := audit.NewStore(db.Pool)
	for _, e := range []struct{ actor, action, target string }{
		{"cli:root", "device.wipe", "alice/phone"},
		{"token:ops", "policy.edit", "policy:sales"},
		{"cli:root", "device.block", "bob/tab"},
	} {
		if err := as.Record(ctx, audit.Who{Actor: e.actor, Source: "local:h"}, e.action, e.target, map[string]any{"n": 1}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runAudit(append(args, "--database-url", db.DSN), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, _ := run()
	if code != 0 || !strings.HasPrefix(out, "WHEN") || strings.Count(out, "\n") != 4 || strings.Index(out, "bob/tab") > strings.Index(out, "alice/phone") {
		t.Fatalf("audit:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--actor", "cli:root"}, 2},
		{[]string{"--action", "device."}, 2},
		{[]string{"--action", "device.wipe"}, 1},
		{[]string{"--target", "alice/"}, 1},
		{[]string{"--since", "1h", "--limit", "2"}, 2},
		{[]string{"--actor", "nobody"}, 0},
	} {
		code, out, errOut := run(append(c.args, "--json")...)
		var entries []audit.Entry
		if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != c.want {
			t.Errorf("%v: %d %d entries %q\n%s", c.args, code, len(entries), errOut, out)
		}
	}
	if code, out, _ := run("--actor", "nobody"); code != 0 || out != "no entries\n" {
		t.Errorf("empty: %d %q", code, out)
	}
	for _, args := range [][]string{{"--limit", "0"}, {"--since", "-1h"}, {"extra"}, {"--since", "soon"}} {
		if code, _, errOut := run(args...); code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
}
