package eas_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/internal/easdtest"
)

func getDevice(t *testing.T, env *easdtest.Env, user, id string) *device.Device {
	t.Helper()
	d, err := env.App.EAS.Devices().Get(context.Background(), user, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// folderSyncStatus returns the FolderSync status, or the HTTP code for a
// non-200 answer.
func folderSyncStatus(t *testing.T, c *client.Client) int {
	t.Helper()
	r, err := c.FolderSync(context.Background(), "0")
	var he *client.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

func TestProvisionFlow(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	c := env.Client("alice", "phone1")

	if st := folderSyncStatus(t, c); st != 142 {
		t.Fatalf("FolderSync without key: %d, want 142", st)
	}
	old := env.Client("alice", "old")
	old.Version = "12.1"
	if st := folderSyncStatus(t, old); st != 449 {
		t.Fatalf("12.1 FolderSync without key: %d, want HTTP 449", st)
	}

	// Phase 1: policy and temporary key; the device information is stored.
	first, err := c.RequestPolicy(ctx, &message.DeviceInformationSet{Model: "Pixel 9", OS: "Android 15", UserAgent: "Mail/1"})
	if err != nil {
		t.Fatal(err)
	}
	p := first.Policies
	if first.Status != 1 || p == nil || p.Policy.Status != 1 || p.Policy.PolicyKey == 0 || p.Policy.Data == nil ||
		first.DeviceInformation == nil || first.DeviceInformation.Status != 1 {
		t.Fatalf("phase 1: %+v", first)
	}
	doc := p.Policy.Data.EASProvisionDoc
	if doc.DevicePasswordEnabled || !doc.AllowCamera || !doc.AttachmentsEnabled || doc.MaxEmailBodyTruncationSize != -1 ||
		doc.AllowBluetooth != 2 || doc.MaxAttachmentSize != "" {
		t.Errorf("default policy: %+v", doc)
	}
	if d := getDevice(t, env, "alice", "phone1"); d.Model != "Pixel 9" || d.OS != "Android 15" || d.Info.UserAgent != "Mail/1" || d.PolicyKey != 0 {
		t.Errorf("after phase 1: %+v", d)
	}
	// A re-sent phase 1 gets the same temporary key.
	again, err := c.RequestPolicy(ctx, nil)
	if err != nil || again.Policies.Policy.PolicyKey != p.Policy.PolicyKey {
		t.Fatalf("repeated phase 1: %+v, %v", again, err)
	}

	// Phase 2 with a wrong key: Policy Status 5, nothing changes.
	temp := strconv.FormatUint(uint64(p.Policy.PolicyKey), 10)
	bad, err := c.AcknowledgePolicy(ctx, temp+"1", 1)
	if err != nil || bad.Policies == nil || bad.Policies.Policy.Status != 5 || bad.Policies.Policy.PolicyKey != 0 {
		t.Fatalf("wrong key ack: %+v, %v", bad, err)
	}
	if d := getDevice(t, env, "alice", "phone1"); d.PolicyKey != 0 || d.PendingPolicyKey != p.Policy.PolicyKey {
		t.Fatalf("wrong key changed the device: key %d pending %d", d.PolicyKey, d.PendingPolicyKey)
	}
	if !strings.Contains(env.Logs(), "is not the one handed out") {
		t.Error("no log line for the wrong key")
	}

	// Phase 2: the key is confirmed; FolderSync works with it.
	second, err := c.AcknowledgePolicy(ctx, temp, 1)
	if err != nil || second.Policies.Policy.Status != 1 || second.Policies.Policy.PolicyKey == 0 || second.Policies.Policy.Data != nil {
		t.Fatalf("phase 2: %+v, %v", second, err)
	}
	c.PolicyKey = second.Policies.Policy.PolicyKey
	if st := folderSyncStatus(t, c); st != 1 {
		t.Fatalf("FolderSync after provisioning: %d", st)
	}
	// The acknowledgement re-sent (its answer was lost) succeeds again.
	replay, err := c.AcknowledgePolicy(ctx, temp, 1)
	if err != nil || replay.Policies.Policy.Status != 1 || replay.Policies.Policy.PolicyKey != c.PolicyKey {
		t.Fatalf("repeated phase 2: %+v, %v", replay, err)
	}
	if d := getDevice(t, env, "alice", "phone1"); d.PolicyKey != c.PolicyKey {
		t.Fatalf("device key %d, client %d", d.PolicyKey, c.PolicyKey)
	}

	// A key the device does not have: 144.
	stale := *c
	stale.PolicyKey = c.PolicyKey + 1
	if st := folderSyncStatus(t, &stale); st != 144 {
		t.Fatalf("stale key: %d, want 144", st)
	}

	// The policy changes: 143, then provisioning again gets the new one.
	store := policy.NewStore(env.App.Pool)
	def, err := store.Default(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set := def.Settings
	set.DevicePasswordEnabled, set.MinDevicePasswordLength, set.AllowCamera = true, 6, false
	if _, err := store.UpdateDefault(ctx, def.AllowNonProvisionable, set); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, c); st != 143 {
		t.Fatalf("after policy change: %d, want 143", st)
	}
	re, err := c.RequestPolicy(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc := re.Policies.Policy.Data.EASProvisionDoc; !doc.DevicePasswordEnabled || doc.MinDevicePasswordLength != 6 || doc.AllowCamera {
		t.Fatalf("changed policy not sent: %+v", doc)
	}
	if err := c.Provision(ctx, &message.DeviceInformationSet{Model: "Pixel 9a"}); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, c); st != 1 {
		t.Fatalf("FolderSync after re-provisioning: %d", st)
	}
	if d := getDevice(t, env, "alice", "phone1"); d.Model != "Pixel 9a" {
		t.Errorf("device information of the second provisioning: %q", d.Model)
	}

	// Another policy assigned to the device: 143 again.
	if _, err := store.Create(ctx, "strict", false, policy.Defaults()); err != nil {
		t.Fatal(err)
	}
	if err := store.Assign(ctx, "alice", "phone1", "strict"); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, c); st != 143 {
		t.Fatalf("after assigning a policy: %d, want 143", st)
	}
	if err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, c); st != 1 {
		t.Fatalf("FolderSync with the assigned policy: %d", st)
	}

	// A 12.1 client provisions too, and then syncs.
	if err := old.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, old); st != 1 {
		t.Fatalf("12.1 FolderSync after provisioning: %d", st)
	}
}

func TestProvisionNotApplied(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	store := policy.NewStore(env.App.Pool)

	// The default policy allows devices that cannot apply it.
	c := env.Client("alice", "partial")
	r, err := c.RequestPolicy(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := strconv.FormatUint(uint64(r.Policies.Policy.PolicyKey), 10)
	ack, err := c.AcknowledgePolicy(ctx, key, 3)
	if err != nil || ack.Policies.Policy.Status != 1 {
		t.Fatalf("ack with status 3 under a lenient policy: %+v, %v", ack, err)
	}

	// A policy that requires compliance refuses it with 139.
	if _, err := store.Create(ctx, "strict", false, policy.Defaults()); err != nil {
		t.Fatal(err)
	}
	d := env.Client("alice", "strict")
	if _, err := d.RequestPolicy(ctx, nil); err != nil { // registers the device
		t.Fatal(err)
	}
	if err := store.Assign(ctx, "alice", "strict", "strict"); err != nil {
		t.Fatal(err)
	}
	r, err = d.RequestPolicy(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	key = strconv.FormatUint(uint64(r.Policies.Policy.PolicyKey), 10)
	ack, err = d.AcknowledgePolicy(ctx, key, 2)
	if err != nil || ack.Status != 139 {
		t.Fatalf("ack with status 2 under a strict policy: %+v, %v", ack, err)
	}
	if dev := getDevice(t, env, "alice", "strict"); dev.PolicyKey != 0 {
		t.Fatalf("refused device got key %d", dev.PolicyKey)
	}
	// Complying afterwards works.
	if ack, err = d.AcknowledgePolicy(ctx, key, 1); err != nil || ack.Policies.Policy.Status != 1 {
		t.Fatalf("ack after complying: %+v, %v", ack, err)
	}
}

func TestProvisionRemoteWipe(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	devices := env.App.EAS.Devices()

	c := env.Client("alice", "lost")
	if err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := devices.RequestWipe(ctx, "alice", "lost", false); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, c); st != 140 {
		t.Fatalf("FolderSync with a wipe pending: %d, want 140", st)
	}
	if r, err := c.UserInformation(ctx); err != nil || r.Status != 140 || r.UserInformation != nil {
		t.Fatalf("Settings with a wipe pending: %+v, %v", r, err)
	}
	r, err := c.EmptyProvision(ctx)
	if err != nil || !r.RemoteWipe || r.AccountOnlyRemoteWipe || r.Policies != nil {
		t.Fatalf("Provision with a wipe pending: %+v, %v", r, err)
	}
	if err := c.Provision(ctx); !errors.As(err, new(*client.WipeRequestedError)) {
		t.Fatalf("policy request with a wipe pending: %v", err)
	}
	// A failed wipe is repeated and stays pending.
	if r, err = c.AcknowledgeWipe(ctx, false, 2); err != nil || r.Status != 2 || !r.RemoteWipe {
		t.Fatalf("failed wipe ack: %+v, %v", r, err)
	}
	if d := getDevice(t, env, "alice", "lost"); d.Wipe != device.WipeRequested {
		t.Fatalf("after failed wipe: %s", d.Wipe)
	}
	if r, err = c.AcknowledgeWipe(ctx, false, 1); err != nil || r.Status != 1 {
		t.Fatalf("wipe ack: %+v, %v", r, err)
	}
	if d := getDevice(t, env, "alice", "lost"); d.Wipe != device.Wiped || d.WipeAckedAt == nil {
		t.Fatalf("after wipe ack: %s", d.Wipe)
	}
	// The wiped device stays shut out until it is removed.
	if st := folderSyncStatus(t, c); st != 140 {
		t.Fatalf("FolderSync of a wiped device: %d, want 140", st)
	}

	// Before 14.0 the wipe is announced by HTTP 449.
	old := env.Client("alice", "old")
	old.Version = "12.1"
	if err := old.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := devices.RequestWipe(ctx, "alice", "old", false); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, old); st != 449 {
		t.Fatalf("12.1 FolderSync with a wipe pending: %d, want 449", st)
	}
	if r, err := old.EmptyProvision(ctx); err != nil || !r.RemoteWipe {
		t.Fatalf("12.1 Provision with a wipe pending: %+v, %v", r, err)
	}
}

func TestProvisionAccountOnlyRemoteWipe(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	devices := env.App.EAS.Devices()

	c := env.Client("bob", "phone")
	if err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := devices.RequestWipe(ctx, "bob", "phone", true); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, c); st != 140 {
		t.Fatalf("FolderSync with an account wipe pending: %d", st)
	}
	r, err := c.EmptyProvision(ctx)
	if err != nil || !r.AccountOnlyRemoteWipe || r.RemoteWipe {
		t.Fatalf("Provision with an account wipe pending: %+v, %v", r, err)
	}
	// Acknowledging the other kind of wipe is a protocol error.
	if r, err = c.AcknowledgeWipe(ctx, false, 1); err != nil || r.Status != 2 {
		t.Fatalf("mismatched ack: %+v, %v", r, err)
	}
	if r, err = c.AcknowledgeWipe(ctx, true, 1); err != nil || r.Status != 1 {
		t.Fatalf("account wipe ack: %+v, %v", r, err)
	}
	if d := getDevice(t, env, "bob", "phone"); d.Wipe != device.AccountWiped {
		t.Fatalf("after account wipe ack: %s", d.Wipe)
	}

	// A 14.1 device cannot receive an account-only wipe: it is refused
	// rather than wiped entirely.
	o := env.Client("bob", "tablet")
	o.Version = "14.1"
	if err := o.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := devices.RequestWipe(ctx, "bob", "tablet", true); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, o); st != 129 {
		t.Fatalf("14.1 FolderSync with an account wipe pending: %d, want 129", st)
	}
	if r, err := o.EmptyProvision(ctx); err != nil || r.Status != 129 || r.RemoteWipe {
		t.Fatalf("14.1 Provision with an account wipe pending: %+v, %v", r, err)
	}
}

func TestProvisionBadRequests(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	c := env.Client("alice", "odd")

	// Unknown policy type: Policy Status 3.
	var r message.ProvisionResponse
	err := c.Do(ctx, "Provision", &message.ProvisionRequest{Policies: &message.PoliciesRequest{
		Policy: message.PolicyRequest{PolicyType: message.PolicyTypeXML}}}, &r)
	if err != nil || r.Policies == nil || r.Policies.Policy.Status != 3 {
		t.Fatalf("unknown policy type: %+v, %v", r, err)
	}
	// A wipe acknowledgement without a wipe, and an empty Provision: 2.
	if r, err := c.AcknowledgeWipe(ctx, false, 1); err != nil || r.Status != 2 {
		t.Fatalf("unsolicited wipe ack: %+v, %v", r, err)
	}
	if r, err := c.EmptyProvision(ctx); err != nil || r.Status != 2 {
		t.Fatalf("empty Provision: %+v, %v", r, err)
	}
	if d := getDevice(t, env, "alice", "odd"); d.PolicyKey != 0 || d.PendingPolicyKey != 0 || d.Wipe != device.WipeNone {
		t.Fatalf("bad requests changed the device: %+v", d)
	}

	// Protocol 2.5: the XML policy document.
	v25 := env.Client("alice", "ancient")
	v25.Version = "2.5"
	x, err := v25.RequestPolicyXML(ctx)
	if err != nil || x.Policies == nil || x.Policies.Policy.PolicyType != message.PolicyTypeXML ||
		!strings.HasPrefix(x.Policies.Policy.Data, "<wap-provisioningdoc>") || x.Policies.Policy.PolicyKey == 0 {
		t.Fatalf("2.5 phase 1: %+v, %v", x, err)
	}
	var ack message.ProvisionResponseXML
	err = v25.Do(ctx, "Provision", &message.ProvisionRequest{Policies: &message.PoliciesRequest{Policy: message.PolicyRequest{
		PolicyType: message.PolicyTypeXML, PolicyKey: strconv.FormatUint(uint64(x.Policies.Policy.PolicyKey), 10), Status: 1}}}, &ack)
	if err != nil || ack.Policies == nil || ack.Policies.Policy.Status != 1 {
		t.Fatalf("2.5 phase 2: %+v, %v", ack, err)
	}
}
