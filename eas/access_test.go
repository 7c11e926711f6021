package eas_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// A blocked device gets Status 129 (14.0+) or HTTP 403 (older) and its
// state is left alone; allowing it again lets it continue with its key.
func TestBlockedDevice(t *testing.T) {
	env, c, first := startFolderSynced(t)
	ctx := context.Background()
	store := device.NewStore(env.App.Pool, 0)
	if err := store.SetAccess(ctx, "alice", "dev1", device.Blocked); err != nil {
		t.Fatal(err)
	}
	r, err := c.FolderSync(ctx, first.SyncKey)
	if err != nil || r.Status != 129 {
		t.Fatalf("blocked 16.1: %+v %v", r, err)
	}
	old := env.Client("alice", "dev1")
	old.Version = "12.1"
	_, err = old.FolderSync(ctx, first.SyncKey)
	var he *client.HTTPError
	if !errors.As(err, &he) || he.Code != 403 {
		t.Fatalf("blocked 12.1: %v", err)
	}
	if err := store.SetAccess(ctx, "alice", "dev1", device.Allowed); err != nil {
		t.Fatal(err)
	}
	r, err = c.FolderSync(ctx, first.SyncKey)
	if err != nil || r.Status != 1 || r.Changes.Count != 0 {
		t.Fatalf("allowed again: %+v %v", r, err)
	}
}

// Too many partnerships for one user: Status 177 for the new device only.
func TestMaxDevices(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.MaxDevices = 2 })
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if r, err := env.Client("alice", id).FolderSync(ctx, "0"); err != nil || r.Status != 1 {
			t.Fatalf("device %s: %+v %v", id, r, err)
		}
	}
	r, err := env.Client("alice", "c").FolderSync(ctx, "0")
	if err != nil || r.Status != 177 {
		t.Fatalf("third device: %+v %v", r, err)
	}
	if r, err := env.Client("bob", "c").FolderSync(ctx, "0"); err != nil || r.Status != 1 {
		t.Fatalf("other user: %+v %v", r, err)
	}
}

// The base64 query form (MS-ASHTTP 2.2.1.1.1.1) works like the plain one.
func TestBase64Query(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	c := env.Client("alice", "b64dev")
	c.Base64Query = true
	c.Version = "14.1"
	r, err := c.FolderSync(ctx, "0")
	if err != nil || r.Status != 1 || r.Changes.Count < 10 {
		t.Fatalf("base64 FolderSync: %+v %v", r, err)
	}
	d, err := device.NewStore(env.App.Pool, 0).Get(ctx, "alice", "b64dev")
	if err != nil || d.DeviceType != "TestPhone" || d.ProtocolVersion != "14.1" {
		t.Fatalf("device from base64 query: %+v %v", d, err)
	}
}

// A traced device's requests and responses appear in the log as XML.
func TestProtocolTrace(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	c := env.Client("alice", "traced")
	if _, err := c.FolderSync(ctx, "0"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(env.Logs(), "protocol trace") {
		t.Fatal("trace logged before it was switched on")
	}
	store := device.NewStore(env.App.Pool, 0)
	if err := store.SetTrace(ctx, "alice", "traced", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FolderSync(ctx, "0"); err != nil {
		t.Fatal(err)
	}
	logs := env.Logs()
	if !strings.Contains(logs, "protocol trace") || !strings.Contains(logs, `<SyncKey>0</SyncKey>`) ||
		!strings.Contains(logs, `<DisplayName>Inbox</DisplayName>`) {
		t.Fatalf("trace missing:\n%s", logs)
	}
	// Another device of the same user is not traced.
	before := strings.Count(logs, "protocol trace")
	if _, err := env.Client("alice", "quiet").FolderSync(ctx, "0"); err != nil {
		t.Fatal(err)
	}
	if strings.Count(env.Logs(), "protocol trace") != before {
		t.Fatal("untraced device was traced")
	}
}
