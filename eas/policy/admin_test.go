package policy

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/testenv"
)

// Settings, the element table and the EASProvisionDoc Provision renders
// name the same elements (the last two in the same order), so none is
// forgotten.
func TestElementsCoverEASProvisionDoc(t *testing.T) {
	var names []string
	for _, e := range Elements() {
		names = append(names, e.Name)
	}
	fields := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			out = append(out, rt.Field(i).Name)
		}
		return out
	}
	if s := fields(Settings{}); !slices.Equal(slices.Sorted(slices.Values(s)), slices.Sorted(slices.Values(names))) {
		t.Errorf("Settings fields:\n%v\nelements:\n%v", s, names)
	}
	doc := fields(message.EASProvisionDoc{})
	if !slices.Equal(doc, names) {
		t.Errorf("EASProvisionDoc fields:\n%v\nelements:\n%v", doc, names)
	}
	if len(names) != 42 {
		t.Errorf("%d elements, MS-ASPROV has 42", len(names))
	}
	if err := Defaults().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		element, value, want string
	}{
		{"MinDevicePasswordLength", "0", "MinDevicePasswordLength=0: out of range, want 1 to 16"},
		{"MinDevicePasswordLength", "17", "1 to 16"},
		{"MaxDevicePasswordFailedAttempts", "3", "4 to 16"},
		{"MaxCalendarAgeFilter", "3", "one of 0, 4, 5, 6, 7"},
		{"MaxEmailAgeFilter", "6", "0 to 5"},
		{"AllowBluetooth", "3", "0 to 2"},
		{"MaxEmailBodyTruncationSize", "-2", "-1 to"},
		{"MaxAttachmentSize", "-1", "0 to"},
		{"RequireEncryptionSMIMEAlgorithm", "5", "0 to 4"},
		{"MinDevicePasswordComplexCharacters", "0", "1 to 4"},
		{"AllowCamera", "maybe", "AllowCamera=maybe: want true or false"},
		{"MaxAttachmentSize", "10MB", "want 0 to"},
		{"ApprovedApplicationList", "abc", `"abc": want a SHA-1 hash`},
	} {
		e, ok := LookupElement(c.element)
		if !ok {
			t.Fatalf("no element %s", c.element)
		}
		s := Defaults()
		err := e.Set(&s, c.value)
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Element != c.element || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v, want %q", c.element, c.value, err, c.want)
		}
	}
	s := Defaults()
	s.MinDevicePasswordLength, s.AllowBluetooth = 40, 9
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "MinDevicePasswordLength=40") || !strings.Contains(err.Error(), "AllowBluetooth=9") {
		t.Errorf("Validate: %v", err)
	}
	e, _ := LookupElement("unapprovedinromapplicationlist")
	if err := e.Set(&s, " Solitaire, Browser ,"); err != nil || !slices.Equal(s.UnapprovedInROMApplicationList, []string{"Solitaire", "Browser"}) {
		t.Errorf("list: %v %q", err, s.UnapprovedInROMApplicationList)
	}
}

// A device gets its own assignment, else its user's, else its type's (any
// case), else the default; every change of its effective policy, and only
// such a change, gives it another current generation.
func TestAssignmentPrecedence(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool)
	devices := device.NewStore(db.Pool, 0)
	ctx := context.Background()
	who := audit.Who{Actor: "cli:test", Source: "local:test"}

	d, err := devices.Touch(ctx, device.Seen{Login: "alice", DeviceID: "phone", DeviceType: "iPhone"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := devices.Touch(ctx, device.Seen{Login: "bob", DeviceID: "droid", DeviceType: "Android"})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := s.Default(ctx)
	mk := func(name string) *Policy {
		p, err := s.CreateBy(ctx, who, name, true, Defaults())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	byType, byUser, own := mk("by-type"), mk("by-user"), mk("own")
	effective := func(want *Policy) {
		t.Helper()
		p, err := s.ForDevice(ctx, d.ID)
		if err != nil || p.ID != want.ID {
			t.Fatalf("ForDevice: %+v, %v; want %s", p, err, want.Name)
		}
		got, _ := devices.Get(ctx, "alice", "phone")
		if got.CurrentPolicyGeneration != want.Generation {
			t.Fatalf("current generation %d, want %d (%s)", got.CurrentPolicyGeneration, want.Generation, want.Name)
		}
	}
	assign := func(tg Target, name string, wantChanged bool) {
		t.Helper()
		changed, err := s.AssignBy(ctx, who, tg, name)
		if err != nil || changed != wantChanged {
			t.Fatalf("assign %s to %s: changed %v, %v", name, tg, changed, err)
		}
	}
	effective(def)
	assign(Target{DeviceType: "IPHONE"}, "by-type", true)
	effective(byType)
	assign(Target{DeviceType: "iphone"}, "by-type", false) // a retry changes nothing
	assign(Target{Login: "alice"}, "by-user", true)
	effective(byUser)
	assign(Target{Login: "alice", DeviceID: "phone"}, "own", true)
	effective(own)
	// A user assignment under a device's own changes nothing for it.
	assign(Target{Login: "alice"}, "by-type", true)
	effective(own)
	assign(Target{Login: "alice"}, "by-user", true)
	// Back down the rules.
	assign(Target{Login: "alice", DeviceID: "phone"}, "", true)
	effective(byUser)
	assign(Target{Login: "alice"}, "", true)
	assign(Target{Login: "alice"}, "", false)
	effective(byType)
	// Editing the effective policy changes the generation; editing another
	// does not touch this device.
	set := Defaults()
	set.AllowCamera = false
	up, changes, err := s.UpdateBy(ctx, who, "by-type", true, set)
	if err != nil || len(changes) != 1 || changes[0] != (Change{"AllowCamera", "true", "false"}) || up.Generation == byType.Generation {
		t.Fatalf("edit: %+v %v %v", up, changes, err)
	}
	effective(up)
	if again, changes, err := s.UpdateBy(ctx, who, "by-type", true, set); err != nil || len(changes) != 0 || again.Generation != up.Generation {
		t.Fatalf("repeated edit: %+v %v %v", again, changes, err)
	}
	// Removing a policy moves what used it to the next rule.
	assign(Target{Login: "alice"}, "by-user", true)
	assign(Target{Login: "alice", DeviceID: "phone"}, "own", true)
	for _, step := range []struct {
		remove string
		then   *Policy
	}{{"own", byUser}, {"by-user", up}, {"by-type", def}} {
		if err := s.RemoveBy(ctx, who, step.remove); err != nil {
			t.Fatal(err)
		}
		effective(step.then)
	}
	if err := s.RemoveBy(ctx, who, "default"); !errors.Is(err, ErrDefault) {
		t.Fatalf("remove default: %v", err)
	}
	if err := s.RemoveBy(ctx, who, "own"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	if p, err := s.ForDevice(ctx, other.ID); err != nil || !p.Default {
		t.Fatalf("bob's device: %+v %v", p, err)
	}

	// A user who has not synced yet can be assigned a policy.
	assign(Target{Login: "carol"}, "default", true)
	if list, err := s.Assignments(ctx, ""); err != nil || len(list) != 1 || list[0].Target.Login != "carol" {
		t.Fatalf("assignments: %+v %v", list, err)
	}

	// Each change is in the audit log.
	entries, err := audit.NewStore(db.Pool).List(ctx, audit.Filter{Action: "policy."})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		if e.Actor != "cli:test" || e.Source != "local:test" {
			t.Errorf("entry %+v", e)
		}
		count[e.Action]++
	}
	want := map[string]int{"policy.create": 3, "policy.assign": 8, "policy.unassign": 2, "policy.edit": 1, "policy.remove": 3}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("audit actions %v, want %v", count, want)
	}
}

func TestInvalidChanges(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool)
	ctx := context.Background()
	who := audit.Who{Actor: "cli:test"}
	bad := Defaults()
	bad.MaxEmailAgeFilter = 9
	if _, err := s.CreateBy(ctx, who, "x", true, bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "MaxEmailAgeFilter=9") {
		t.Errorf("create invalid: %v", err)
	}
	if _, _, err := s.UpdateBy(ctx, who, "default", true, bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("edit invalid: %v", err)
	}
	for _, name := range []string{"", "a b", "-x", strings.Repeat("x", 65), "a/b"} {
		if _, err := s.CreateBy(ctx, who, name, true, Defaults()); !errors.Is(err, ErrInvalid) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if _, err := s.CreateBy(ctx, who, "sales", true, Defaults()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBy(ctx, who, "sales", true, Defaults()); !errors.Is(err, ErrExists) {
		t.Errorf("create twice: %v", err)
	}
	for _, tg := range []Target{{}, {Login: "a", DeviceType: "x"}, {DeviceID: "x"}} {
		if _, err := s.AssignBy(ctx, who, tg, "sales"); !errors.Is(err, ErrInvalid) {
			t.Errorf("target %+v: %v", tg, err)
		}
	}
	if _, err := s.AssignBy(ctx, who, Target{Login: "alice", DeviceID: "nope"}, "sales"); !errors.Is(err, ErrNotFound) ||
		!errors.Is(err, ErrDeviceNotFound) || !strings.Contains(err.Error(), "device not found") {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := s.AssignBy(ctx, who, Target{Login: "alice"}, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown policy: %v", err)
	}
	// Nothing of the failed attempts was recorded.
	entries, _ := audit.NewStore(db.Pool).List(ctx, audit.Filter{})
	if len(entries) != 1 || entries[0].Action != "policy.create" {
		t.Errorf("audit: %+v", entries)
	}
}
