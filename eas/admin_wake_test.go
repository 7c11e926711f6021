package eas_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
)

// waitingPhone provisions a phone, syncs its (empty) contacts folder to
// the end and returns it with that folder and the FolderSync key: a Ping
// on the folder waits.
func waitingPhone(t *testing.T, env *easdtest.Env, id, version string) (c *client.Client, contacts, fsKey string) {
	t.Helper()
	ctx := context.Background()
	c = env.Client("alice", id)
	if version != "" {
		c.Version = version
	}
	if err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fs, err := c.FolderSync(ctx, "0")
	if err != nil || fs.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", fs, err)
	}
	for _, f := range fs.Changes.Add {
		if f.Type == 9 {
			contacts = f.ServerID
		}
	}
	key := "0"
	for range 2 {
		r, err := c.SyncFolder(ctx, contacts, key, 100)
		if err != nil || len(r.Collections.Collection) != 1 || r.Collections.Collection[0].Status != 1 {
			t.Fatalf("sync contacts: %+v, %v", r, err)
		}
		key = r.Collections.Collection[0].SyncKey
	}
	return c, contacts, fs.SyncKey
}

// An administrative change ends the device's waiting Ping at once, on
// whichever instance it waits, and the phone's next request meets it:
// without the wake a lost phone would learn of its wipe only after its
// heartbeat, up to an hour later.
func TestAdminChangeEndsWaitingPing(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	store := env.App.EAS.Devices()
	cases := []struct {
		name, version string
		change        func(id string) error
		next          func(t *testing.T, c *client.Client, fsKey string)
	}{
		{"wipe", "", func(id string) error {
			_, err := store.Wipe(ctx, testAdmin, "alice", id, false)
			return err
		}, func(t *testing.T, c *client.Client, _ string) {
			if st := folderSyncStatus(t, c); st != 140 {
				t.Errorf("FolderSync after the wipe: %d, want 140", st)
			}
			if r, err := c.EmptyProvision(ctx); err != nil || !r.RemoteWipe {
				t.Errorf("Provision after the wipe: %+v, %v", r, err)
			}
		}},
		{"account-wipe", "16.1", func(id string) error {
			_, err := store.Wipe(ctx, testAdmin, "alice", id, true)
			return err
		}, func(t *testing.T, c *client.Client, _ string) {
			if st := folderSyncStatus(t, c); st != 140 {
				t.Errorf("FolderSync after the account wipe: %d, want 140", st)
			}
			if r, err := c.EmptyProvision(ctx); err != nil || !r.AccountOnlyRemoteWipe {
				t.Errorf("Provision after the account wipe: %+v, %v", r, err)
			}
		}},
		{"block", "", func(id string) error {
			_, err := store.Decide(ctx, testAdmin, "alice", id, device.Blocked)
			return err
		}, func(t *testing.T, c *client.Client, _ string) {
			if st := folderSyncStatus(t, c); st != 129 {
				t.Errorf("FolderSync after the block: %d, want 129", st)
			}
		}},
		{"resync", "", func(id string) error {
			_, err := store.Resync(ctx, testAdmin, "alice", id, "")
			return err
		}, func(t *testing.T, c *client.Client, fsKey string) {
			if r, err := c.FolderSync(ctx, fsKey); err != nil || r.Status != 9 {
				t.Errorf("FolderSync after the resync: %+v, %v; want Status 9", r, err)
			}
		}},
		{"remove", "", func(id string) error {
			return store.Delete(ctx, testAdmin, "alice", id)
		}, func(t *testing.T, c *client.Client, fsKey string) {
			if _, err := store.Get(ctx, "alice", c.DeviceID); !errors.Is(err, device.ErrNotFound) {
				t.Errorf("removed device still there: %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "wake" + tc.name
			c, contacts, fsKey := waitingPhone(t, env, id, tc.version)
			type result struct {
				p   *message.PingResponse
				err error
				at  time.Time
			}
			done := make(chan result, 1)
			go func() {
				p, err := c.Ping(ctx, 30*time.Minute, message.PingFolder{ID: contacts, Class: "Contacts"})
				done <- result{p, err, time.Now()}
			}()
			waitUntilWaiting(t, env, id)
			changed := time.Now()
			if err := tc.change(id); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-done:
				if r.err != nil || r.p.Status != 1 {
					t.Fatalf("woken Ping: %+v %v", r.p, r.err)
				}
				t.Logf("%s: the waiting Ping answered %v after the change", tc.name, r.at.Sub(changed))
			case <-time.After(20 * time.Second):
				t.Fatal("the waiting Ping did not end after the change")
			}
			tc.next(t, c, fsKey)
		})
	}
}

// waitUntilWaiting polls the device's mark of a waiting request: the
// Ping announced itself and is about to wait (or waits).
func waitUntilWaiting(t *testing.T, env *easdtest.Env, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting bool
		err := env.App.Pool.QueryRow(context.Background(), `SELECT p.waiting FROM ping_params p
			JOIN devices d ON d.id = p.device_id JOIN users u ON u.id = d.user_id
			WHERE u.login = 'alice' AND d.device_id = $1`, id).Scan(&waiting)
		if err == nil && waiting {
			// The mark is set before the request subscribes and compares:
			// leave it the time to reach its wait.
			time.Sleep(300 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Ping never waited: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
