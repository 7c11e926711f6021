package policy

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The default policy the migration writes is Defaults(), field by field,
// so that neither drifts from the other.
func TestDefaultPolicyMatchesDefaults(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool)
	ctx := context.Background()
	p, err := s.Default(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.UnapprovedInROMApplicationList, want.ApprovedApplicationList = []string{}, []string{}
	if !p.Default || !p.AllowNonProvisionable || !reflect.DeepEqual(p.Settings, want) {
		t.Fatalf("default policy:\n got %+v\nwant %+v", p.Settings, want)
	}
}

func TestUpdateAndAssign(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool)
	devices := device.NewStore(db.Pool, 0)
	ctx := context.Background()

	d, err := devices.Touch(ctx, device.Seen{Login: "alice", DeviceID: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := s.Default(ctx)
	if d.CurrentPolicyGeneration != def.Generation || d.PolicyID != 0 {
		t.Fatalf("device generation %d, default policy %d", d.CurrentPolicyGeneration, def.Generation)
	}

	set := def.Settings
	set.RequireDeviceEncryption = true
	up, err := s.UpdateDefault(ctx, false, set)
	if err != nil {
		t.Fatal(err)
	}
	if up.Generation == def.Generation || !up.Settings.RequireDeviceEncryption || up.AllowNonProvisionable {
		t.Fatalf("after update: %+v", up)
	}
	if d, _ = devices.Get(ctx, "alice", "phone"); d.CurrentPolicyGeneration != up.Generation {
		t.Fatalf("device sees generation %d, want %d", d.CurrentPolicyGeneration, up.Generation)
	}

	strict, err := s.Create(ctx, "strict", false, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Assign(ctx, "alice", "phone", "strict"); err != nil {
		t.Fatal(err)
	}
	if d, _ = devices.Get(ctx, "alice", "phone"); d.PolicyID != strict.ID || d.CurrentPolicyGeneration != strict.Generation {
		t.Fatalf("assigned: policy %d generation %d", d.PolicyID, d.CurrentPolicyGeneration)
	}
	if p, err := s.ForDevice(ctx, d.ID); err != nil || p.Name != "strict" {
		t.Fatalf("ForDevice: %+v, %v", p, err)
	}
	if err := s.Assign(ctx, "alice", "phone", ""); err != nil {
		t.Fatal(err)
	}
	if p, err := s.ForDevice(ctx, d.ID); err != nil || !p.Default {
		t.Fatalf("ForDevice after unassigning: %+v, %v", p, err)
	}
	if err := s.Assign(ctx, "alice", "phone", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown policy: %v", err)
	}
	if err := s.Assign(ctx, "alice", "tablet", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 2 || !list[0].Default {
		t.Fatalf("List: %v, %v", list, err)
	}
}
