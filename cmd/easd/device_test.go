package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// deviceCmdFor runs `easd device` against db as main would and returns
// the exit code and output.
func deviceCmdFor(db *testenv.PGDB) func(args ...string) (int, string, string) {
	return func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runDevice(append(args, "--database-url", db.DSN), &out, &errb)
		return code, out.String(), errb.String()
	}
}

func TestDeviceCommand(t *testing.T) {
	db := testenv.PG(t)
	store := device.NewStore(db.Pool, 0)
	ctx := context.Background()
	for _, s := range []device.Seen{
		{Login: "alice", DeviceID: "phone1", DeviceType: "iPhone", ProtocolVersion: "16.1"},
		{Login: "alice", DeviceID: "phone2", DeviceType: "SAMSUNG", ProtocolVersion: "14.1"},
		{Login: "bob", DeviceID: "tab1", DeviceType: "Outlook"},
	} {
		if _, err := store.Touch(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	dev := deviceCmdFor(db)
	get := func(user, id string) *device.Device {
		t.Helper()
		d, err := store.Get(ctx, user, id)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	code, out, _ := dev("list")
	if code != 0 || !strings.HasPrefix(out, "USER") || strings.Count(out, "\n") != 4 ||
		!strings.Contains(out, "phone1") || !strings.Contains(out, "tab1") || !strings.Contains(out, "just now") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	code, out, _ = dev("list", "--user", "bob")
	if code != 0 || strings.Count(out, "\n") != 2 || strings.Contains(out, "alice") {
		t.Fatalf("list --user bob: %d\n%s", code, out)
	}
	code, out, _ = dev("show", "alice", "phone1")
	for _, want := range []string{"Device:", "phone1", "iPhone", "16.1", "Access:", "allowed", "Trace:", "off", "Recent errors:", "none"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("show lacks %q: %d\n%s", want, code, out)
		}
	}
	// The device's failed requests show, newest first.
	for _, e := range []device.RequestError{
		{Command: "FolderSync", HTTPStatus: 200, EASStatus: 9, Reason: "stale hierarchy key"},
		{Command: "Sync", HTTPStatus: 200, EASStatus: 3, Reason: `collection 5: unknown key "7"`},
	} {
		if err := store.RecordError(ctx, get("alice", "phone1").ID, e); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ = dev("show", "alice", "phone1")
	if i, j := strings.Index(out, "unknown key"), strings.Index(out, "stale hierarchy key"); code != 0 ||
		!strings.Contains(out, "2, newest first") || i < 0 || j < i {
		t.Fatalf("show with errors: %d\n%s", code, out)
	}
	var shown struct {
		RecentErrors []struct {
			Command   string `json:"command"`
			EASStatus int    `json:"eas_status"`
		} `json:"recent_errors"`
	}
	if _, out, _ = dev("show", "alice", "phone1", "--json"); json.Unmarshal([]byte(out), &shown) != nil ||
		len(shown.RecentErrors) != 2 || shown.RecentErrors[0].Command != "Sync" || shown.RecentErrors[0].EASStatus != 3 {
		t.Fatalf("show --json with errors: %s", out)
	}

	// Each change reaches the registry and is confirmed in one line.
	steps := []struct {
		args  []string
		check func(*device.Device) bool
	}{
		{[]string{"block", "alice", "phone1"}, func(d *device.Device) bool { return d.Access == device.Blocked }},
		{[]string{"allow", "alice", "phone1"}, func(d *device.Device) bool { return d.Access == device.Allowed }},
		{[]string{"account-wipe", "alice", "phone1"}, func(d *device.Device) bool { return d.Wipe == device.WipeAccountRequested }},
		{[]string{"wipe", "alice", "phone1"}, func(d *device.Device) bool { return d.Wipe == device.WipeRequested && d.WipeRequestedAt != nil }},
		{[]string{"trace", "alice", "phone1", "--for", "30m"}, func(d *device.Device) bool {
			return d.Tracing() && time.Until(*d.TraceUntil) > 29*time.Minute && time.Until(*d.TraceUntil) <= 30*time.Minute
		}},
		{[]string{"trace", "--off", "alice", "phone1"}, func(d *device.Device) bool { return !d.Tracing() && d.TraceUntil == nil }},
		{[]string{"trace", "alice", "phone1"}, func(d *device.Device) bool { return time.Until(*d.TraceUntil) > 59*time.Minute }},
	}
	for _, s := range steps {
		code, out, errOut := dev(s.args...)
		if code != 0 || strings.Count(out, "\n") != 1 || errOut != "" {
			t.Fatalf("%v: %d %q %q", s.args, code, out, errOut)
		}
		if d := get("alice", "phone1"); !s.check(d) {
			t.Fatalf("%v: registry has %+v", s.args, d)
		}
	}
	if code, out, _ := dev("show", "alice", "phone1"); code != 0 || !strings.Contains(out, "requested") || !strings.Contains(out, "until") {
		t.Fatalf("show after changes:\n%s", out)
	}
	if code, _, _ := dev("remove", "alice", "phone2"); code != 0 {
		t.Fatalf("remove: %d", code)
	}
	if _, err := store.Get(ctx, "alice", "phone2"); !errors.Is(err, device.ErrNotFound) {
		t.Fatalf("after remove: %v", err)
	}

	// An unknown device: exit 1, one line naming it.
	for _, action := range []string{"show", "wipe", "block", "remove", "trace"} {
		code, _, errOut := dev(action, "alice", "phone2")
		if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, `"phone2"`) {
			t.Errorf("%s of a removed device: %d %q", action, code, errOut)
		}
	}

	// Usage errors: exit 2, one line.
	for _, args := range [][]string{
		{"show", "alice"}, {"list", "extra"}, {"frobnicate"}, {"trace", "alice", "phone1", "--for", "-1h"},
		{"list", "--no-such-flag"},
	} {
		code, _, errOut := dev(args...)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}

	// The database may come from the environment, as for easd migrate.
	t.Setenv("EASD_DATABASE_URL", db.DSN)
	var out2, err2 bytes.Buffer
	if code := runDevice([]string{"list", "--user", "alice"}, &out2, &err2); code != 0 || !strings.Contains(out2.String(), "phone1") {
		t.Fatalf("database from the environment: %d %s %s", code, out2.String(), err2.String())
	}
	t.Setenv("EASD_DATABASE_URL", "")
	if code := runDevice([]string{"list"}, &out2, &err2); code != exitUsage || !strings.Contains(err2.String(), "EASD_DATABASE_URL") {
		t.Fatalf("no database: %d %s", code, err2.String())
	}
}

// The administration added for fleets: access decisions, rules, wipe
// cancel, resync, --json on every action, and the audit history.
func TestDeviceCommandAdmin(t *testing.T) {
	db := testenv.PG(t)
	store := device.NewStore(db.Pool, 0)
	store.HoldNewDevices(true)
	ctx := context.Background()
	for _, s := range []device.Seen{
		{Login: "alice", DeviceID: "phone1", DeviceType: "iPhone", UserAgent: "Apple-iPhone/2101", ProtocolVersion: "16.1"},
		{Login: "alice", DeviceID: "phone2", DeviceType: "SAMSUNG", ProtocolVersion: "14.1"},
	} {
		if _, err := store.Touch(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	dev := deviceCmdFor(db)
	ok := func(args ...string) string {
		t.Helper()
		code, out, errOut := dev(args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: %d %q %q", args, code, out, errOut)
		}
		return out
	}

	var show map[string]any
	if err := json.Unmarshal([]byte(ok("show", "alice/phone1", "--json")), &show); err != nil ||
		show["access"] != "quarantined" || show["access_source"] != "default" || show["protocol"] != "16.1" {
		t.Fatalf("show --json: %v %v", show, err)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(ok("list", "--json")), &list); err != nil || len(list) != 2 {
		t.Fatalf("list --json: %v %v", list, err)
	}

	out := ok("approve", "alice", "phone1")
	if out != "alice/phone1 is now allowed\n" {
		t.Fatalf("approve: %q", out)
	}
	var act struct {
		Action, Target string
		Device         struct{ Access, AccessSource string }
	}
	if err := json.Unmarshal([]byte(ok("quarantine", "alice/phone1", "--json")), &act); err != nil ||
		act.Action != "quarantine" || act.Target != "alice/phone1" || act.Device.Access != "quarantined" {
		t.Fatalf("quarantine --json: %+v %v", act, err)
	}

	// An account-only wipe a 14.1 device cannot carry: refused, naming it.
	code, _, errOut := dev("account-wipe", "alice", "phone2")
	if code != 1 || !strings.Contains(errOut, "16.1") || !strings.Contains(errOut, "14.1") {
		t.Fatalf("account-wipe of 14.1: %d %q", code, errOut)
	}
	code, _, errOut = dev("wipe", "--cancel", "alice", "phone2")
	if code != 1 || !strings.Contains(errOut, "no wipe is pending") {
		t.Fatalf("cancel without wipe: %d %q", code, errOut)
	}
	ok("wipe", "alice", "phone2")
	if out := ok("cancel-wipe", "alice", "phone2"); !strings.Contains(out, "withdrawn") {
		t.Fatalf("cancel-wipe: %q", out)
	}
	if d, _ := store.Get(ctx, "alice", "phone2"); d.Wipe != device.WipeNone {
		t.Fatalf("wipe after cancel: %s", d.Wipe)
	}
	ok("resync", "alice", "phone2")
	code, _, errOut = dev("resync", "alice", "phone2", "--folder", "Nope")
	if code != 1 || !strings.Contains(errOut, "no such folder") {
		t.Fatalf("resync of an unknown folder: %d %q", code, errOut)
	}

	// Rules.
	if out := ok("rule", "list"); !strings.Contains(out, "no access rules") {
		t.Fatalf("empty rule list: %q", out)
	}
	out = ok("rule", "add", "--type", "SAMSUNG*", "--action", "block", "--note", "not supported", "--existing")
	if !strings.HasPrefix(out, "rule 1 added") || !strings.Contains(out, "1 registered devices changed") {
		t.Fatalf("rule add: %q", out)
	}
	if d, _ := store.Get(ctx, "alice", "phone2"); d.Access != device.Blocked || d.AccessRuleID != 1 {
		t.Fatalf("phone2 after a block rule: %+v", d)
	}
	var rules []device.Rule
	if err := json.Unmarshal([]byte(ok("rule", "list", "--json")), &rules); err != nil || len(rules) != 1 || rules[0].Action != "block" {
		t.Fatalf("rule list --json: %+v %v", rules, err)
	}
	ok("rule", "remove", "1")
	for _, args := range [][]string{
		{"rule", "add", "--action", "block"}, {"rule", "add", "--type", "x", "--action", "maybe"}, {"rule", "remove", "1"},
	} {
		if code, _, errOut := dev(args...); code != 1 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
	for _, args := range [][]string{{"rule"}, {"rule", "remove"}, {"rule", "remove", "x"}, {"rule", "frob"}, {"resync", "alice"}} {
		if code, _, errOut := dev(args...); code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}

	// Every change, and who made it, is in the audit log.
	entries, err := audit.NewStore(db.Pool).List(ctx, audit.Filter{Action: "device."})
	if err != nil || len(entries) != 7 {
		t.Fatalf("audit: %d %v", len(entries), err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Target)
		if !strings.HasPrefix(e.Actor, "cli:") || !strings.HasPrefix(e.Source, "local:") {
			t.Errorf("entry without who: %+v", e)
		}
	}
	want := "device.rule_remove device-rule:1|device.rule_add device-rule:1|device.resync alice/phone2|" +
		"device.wipe_cancel alice/phone2|device.wipe alice/phone2|device.quarantine alice/phone1|device.allow alice/phone1"
	if strings.Join(got, "|") != want {
		t.Fatalf("audit:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}
