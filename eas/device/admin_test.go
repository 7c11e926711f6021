package device

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/internal/testenv"
)

var admin = audit.Who{Actor: "test:admin", Source: "local:test"}

func TestRuleMatching(t *testing.T) {
	rules := []Rule{
		{ID: 1, DeviceType: "iPhone", Action: RuleAllow},
		{ID: 2, UserAgent: "Apple-iPhone*/15*", Action: RuleQuarantine},
		{ID: 3, DeviceType: "iphone", UserAgent: "Apple-iPhone9C1/*", Action: RuleBlock},
		{ID: 4, DeviceType: "SAMSUNG*", Action: RuleBlock},
		{ID: 5, DeviceType: "SAMSUNG*", Action: RuleAllow},
		{ID: 6, DeviceType: "Android?", Action: RuleQuarantine},
	}
	for _, c := range []struct {
		typ, ua   string
		access    string
		source    string
		rule      int64
		defAccess string
	}{
		{"iPhone", "Apple-iPhone13C2/1901.200", Allowed, SourceRule, 1, Quarantined},
		{"iPhone", "Apple-iPhone9C1/1602.92", Blocked, SourceRule, 3, Allowed}, // two fields beat one
		{"iPad", "Apple-iPhone12C1/15E148", Quarantined, SourceRule, 2, Allowed},
		{"SAMSUNGSMG991B", "Android-SAMSUNG/14", Blocked, SourceRule, 4, Allowed}, // block beats allow on a tie
		{"Android1", "x", Quarantined, SourceRule, 6, Allowed},
		{"Android12", "x", Allowed, SourceDefault, 0, Allowed}, // ? is one character
		{"Outlook", "Outlook-iOS/2.0", Quarantined, SourceDefault, 0, Quarantined},
	} {
		access, source, rule := decide(rules, c.typ, c.ua, c.defAccess)
		if access != c.access || source != c.source || rule != c.rule {
			t.Errorf("%s %s: got %s %s %d, want %s %s %d", c.typ, c.ua, access, source, rule, c.access, c.source, c.rule)
		}
	}
	for _, bad := range []Rule{{Action: RuleAllow}, {DeviceType: "x", Action: "permit"}, {DeviceType: "a\nb", Action: RuleBlock}} {
		if CheckRule(bad) == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
}

// New devices get the default or the rule; rules never override an
// administrator's decision; every change is in the audit log.
func TestAccessRulesAndDecisions(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 0)
	s.HoldNewDevices(true)
	ctx := context.Background()
	touch := func(login, id, typ, ua string) *Device {
		t.Helper()
		d, err := s.Touch(ctx, Seen{Login: login, DeviceID: id, DeviceType: typ, UserAgent: ua, ProtocolVersion: "14.1"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := touch("alice", "new1", "iPhone", "Apple-iPhone/1"); d.Access != Quarantined || d.AccessSource != SourceDefault {
		t.Fatalf("new device under approve: %s %s", d.Access, d.AccessSource)
	}
	r, n, err := s.AddRule(ctx, admin, Rule{DeviceType: "iPhone", Action: RuleAllow, Note: "company phones"}, false)
	if err != nil || n != 0 || r.ID == 0 {
		t.Fatalf("add rule: %+v %d %v", r, n, err)
	}
	if d := touch("alice", "new2", "iPhone", "Apple-iPhone/1"); d.Access != Allowed || d.AccessSource != SourceRule || d.AccessRuleID != r.ID {
		t.Fatalf("device under allow rule: %+v", d)
	}
	if d, _ := s.Get(ctx, "alice", "new1"); d.Access != Quarantined {
		t.Fatalf("a rule without --existing changed a registered device: %s", d.Access)
	}
	// An administrator blocks new2; a rule applied to existing devices
	// does not undo that, but releases new1.
	if _, err := s.Decide(ctx, admin, "alice", "new2", Blocked); err != nil {
		t.Fatal(err)
	}
	_, n, err = s.AddRule(ctx, admin, Rule{DeviceType: "iphone", UserAgent: "Apple-*", Action: RuleAllow}, true)
	if err != nil || n != 1 {
		t.Fatalf("rule applied to existing: %d %v", n, err)
	}
	if d, _ := s.Get(ctx, "alice", "new1"); d.Access != Allowed || d.AccessSource != SourceRule {
		t.Fatalf("new1 after --existing: %+v", d)
	}
	if d, _ := s.Get(ctx, "alice", "new2"); d.Access != Blocked || d.AccessSource != SourceAdmin {
		t.Fatalf("the administrator's block was overridden: %+v", d)
	}
	rules, err := s.Rules(ctx)
	if err != nil || len(rules) != 2 || rules[0].Note != "company phones" || rules[0].CreatedBy != admin.Actor {
		t.Fatalf("rules: %+v %v", rules, err)
	}
	if err := s.RemoveRule(ctx, admin, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRule(ctx, admin, r.ID); !errors.Is(err, ErrNoRule) {
		t.Fatalf("second removal: %v", err)
	}
	if _, err := s.Decide(ctx, admin, "alice", "nosuch", Allowed); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}

	entries, err := audit.NewStore(db.Pool).List(ctx, audit.Filter{Action: "device."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Target)
		if e.Actor != admin.Actor || e.Source != admin.Source {
			t.Errorf("entry %+v lacks who", e)
		}
	}
	want := "device.rule_remove device-rule:1|device.rule_add device-rule:2|device.block alice/new2|device.rule_add device-rule:1"
	if strings.Join(got, "|") != want {
		t.Fatalf("audit:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}

func TestWipeCancelAndResync(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 0)
	ctx := context.Background()
	old, err := s.Touch(ctx, Seen{Login: "bob", DeviceID: "old", DeviceType: "SAMSUNG", ProtocolVersion: "14.1"})
	if err != nil {
		t.Fatal(err)
	}
	// An account-only wipe a 14.1 device cannot carry is refused, naming
	// the version, and nothing changes.
	if _, err := s.Wipe(ctx, admin, "bob", "old", true); !errors.Is(err, ErrAccountWipeProto) || !strings.Contains(err.Error(), "14.1") {
		t.Fatalf("account wipe of 14.1: %v", err)
	}
	if _, err := s.CancelWipe(ctx, admin, "bob", "old"); !errors.Is(err, ErrNoWipe) {
		t.Fatalf("cancel without wipe: %v", err)
	}
	d, err := s.Wipe(ctx, admin, "bob", "old", false)
	if err != nil || d.Wipe != WipeRequested {
		t.Fatalf("wipe: %+v %v", d, err)
	}
	if d, err = s.CancelWipe(ctx, admin, "bob", "old"); err != nil || d.Wipe != WipeNone || d.WipeRequestedAt != nil {
		t.Fatalf("cancel: %+v %v", d, err)
	}
	if _, err := s.Wipe(ctx, admin, "bob", "old", false); err != nil {
		t.Fatal(err)
	}
	if err := s.AckWipe(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelWipe(ctx, admin, "bob", "old"); !errors.Is(err, ErrWipeDone) {
		t.Fatalf("cancel of a confirmed wipe: %v", err)
	}

	// Resync forgets sync states: one collection, or all.
	eng := syncstate.New(db.Pool, syncstate.Options{})
	for _, col := range []string{syncstate.HierarchyID, "1", "2"} {
		tx, err := eng.Begin(ctx, old.ID, col, "0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Commit(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO folders (user_id, server_id, display_name, type, source)
		VALUES ($1, '1', 'Inbox', 2, 'virtual'), ($1, '2', 'Work', 12, 'virtual'), ($1, '3', 'work', 12, 'virtual')`, old.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resync(ctx, admin, "bob", "old", "work"); !errors.Is(err, ErrAmbiguousFolder) {
		t.Fatalf("ambiguous name: %v", err)
	}
	if _, err := s.Resync(ctx, admin, "bob", "old", "Archive"); !errors.Is(err, ErrNoFolder) {
		t.Fatalf("unknown folder: %v", err)
	}
	if id, err := s.Resync(ctx, admin, "bob", "old", "INBOX"); err != nil || id != "1" {
		t.Fatalf("resync inbox: %q %v", id, err)
	}
	cols, _ := eng.Collections(ctx, old.ID)
	if len(cols) != 2 || cols[0].ID != syncstate.HierarchyID || cols[1].ID != "2" {
		t.Fatalf("after folder resync: %+v", cols)
	}
	if _, err := s.Resync(ctx, admin, "bob", "old", ""); err != nil {
		t.Fatal(err)
	}
	if cols, _ := eng.Collections(ctx, old.ID); len(cols) != 0 {
		t.Fatalf("after device resync: %+v", cols)
	}
	entries, _ := audit.NewStore(db.Pool).List(ctx, audit.Filter{Target: "bob/old"})
	var got []string
	for _, e := range entries {
		got = append(got, e.Action)
	}
	if strings.Join(got, " ") != "device.resync device.resync device.wipe device.wipe_cancel device.wipe" {
		t.Fatalf("audit of refused and done actions: %v", got)
	}
}

// A device whose user agent changes (an OS update) is judged by the rules
// again unless an administrator decided it.
func TestRulesFollowUserAgent(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 0)
	ctx := context.Background()
	if _, _, err := s.AddRule(ctx, admin, Rule{UserAgent: "Apple-iPhone*/1002.*", Action: RuleQuarantine}, false); err != nil {
		t.Fatal(err)
	}
	touch := func(id, ua string) *Device {
		t.Helper()
		d, err := s.Touch(ctx, Seen{Login: "carol", DeviceID: id, DeviceType: "iPhone", UserAgent: ua, ProtocolVersion: "14.1"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := touch("p1", "Apple-iPhone4C1/1002.142"); d.Access != Quarantined {
		t.Fatalf("old iOS: %s", d.Access)
	}
	if d := touch("p1", "Apple-iPhone4C1/1002.146"); d.Access != Quarantined || d.AccessSource != SourceRule {
		t.Fatalf("still old iOS: %+v", d)
	}
	if d := touch("p1", "Apple-iPhone4C1/1100.1"); d.Access != Allowed || d.AccessSource != SourceDefault {
		t.Fatalf("updated iOS: %s %s", d.Access, d.AccessSource)
	}
	// Back to a quarantined agent, but the administrator allowed it.
	if _, err := s.Decide(ctx, admin, "carol", "p1", Allowed); err != nil {
		t.Fatal(err)
	}
	if d := touch("p1", "Apple-iPhone4C1/1002.1"); d.Access != Allowed || d.AccessSource != SourceAdmin {
		t.Fatalf("administrator's decision overridden: %+v", d)
	}
}
