package eas_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

var testAdmin = audit.Who{Actor: "test:admin", Source: "local:test"}

// syncCol sends a Sync of one collection and returns the whole answer.
func syncCol(t *testing.T, c *client.Client, col message.SyncCollection) *message.SyncResponse {
	t.Helper()
	r, err := c.Sync(context.Background(), &message.SyncRequest{Collections: &message.SyncCollections{
		Collection: []message.SyncCollection{col}}})
	if err != nil {
		t.Fatalf("Sync %s with %q: %v", col.CollectionID, col.SyncKey, err)
	}
	return r
}

func oneCol(t *testing.T, r *message.SyncResponse) message.SyncResponseCollection {
	t.Helper()
	if r.Collections == nil || len(r.Collections.Collection) != 1 {
		t.Fatalf("Sync answer without one collection: %+v", r)
	}
	return r.Collections.Collection[0]
}

// With --new-devices=approve a new device provisions and lists its
// folders, shows only the quarantine notice in its Inbox, is refused
// (129, or 403 before 14.0) whatever it would change, waits out its Ping,
// and once approved starts its collections over and syncs normally.
func TestQuarantinedDevice(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) {
		c.NewDevices = "approve"
		c.HeartbeatMin = time.Second
	})
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		env.Append(t, "alice", "INBOX", testMail(i))
	}
	store := device.NewStore(env.App.Pool, 0)

	for _, v := range []string{"16.1", "14.1", "12.1"} {
		t.Run(v, func(t *testing.T) {
			id := "q" + strings.ReplaceAll(v, ".", "")
			c := env.Client("alice", id)
			c.Version = v
			fs, err := c.FolderSync(ctx, "0")
			if err != nil || fs.Status != 1 {
				t.Fatalf("FolderSync: %+v %v", fs, err)
			}
			folders := map[string]string{}
			for _, f := range fs.Changes.Add {
				folders[f.DisplayName] = f.ServerID
			}
			inbox, contacts := folders["Inbox"], folders["Contacts"]
			if d, err := store.Get(ctx, "alice", id); err != nil || d.Access != device.Quarantined || d.AccessSource != device.SourceDefault {
				t.Fatalf("registered as %+v %v", d, err)
			}

			// The Inbox holds the notice, and only it; other folders are empty.
			rc := oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: "0", CollectionID: inbox}))
			if rc.Status != 1 || rc.SyncKey == "0" || rc.Commands != nil {
				t.Fatalf("Inbox key 0: %+v", rc)
			}
			opts := []message.SyncOptions{{BodyPreference: []message.BodyPreference{{Type: message.BodyPlain}}}}
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: inbox, GetChanges: new(true), Options: opts}))
			if rc.Status != 1 || rc.Commands == nil || len(rc.Commands.Add) != 1 {
				t.Fatalf("Inbox: %+v", rc)
			}
			notice := decodedMail(t, rc.Commands.Add[0])
			text := notice.Body25
			if notice.Body != nil {
				text = notice.Body.Data
			}
			if !strings.Contains(notice.Subject, "waiting for approval") || !strings.Contains(text, id) ||
				!strings.Contains(text, "administrator") {
				t.Fatalf("notice: %+v %q", notice, text)
			}
			quarantineKey := rc.SyncKey
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: quarantineKey, CollectionID: inbox, GetChanges: new(true)}))
			if rc.Status != 1 || rc.Commands != nil || rc.SyncKey != quarantineKey {
				t.Fatalf("Inbox again: %+v", rc)
			}
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: "0", CollectionID: contacts}))
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: contacts, GetChanges: new(true)}))
			if rc.Status != 1 || rc.Commands != nil {
				t.Fatalf("Contacts: %+v", rc)
			}

			// An empty Sync has nothing cached; a hanging Sync with
			// nothing to send is held like a Ping.
			if r, err := c.SyncEmpty(ctx); err != nil || r.Status != 13 {
				t.Fatalf("empty Sync: %+v %v", r, err)
			}
			if v != "12.1" {
				start := time.Now()
				r, err := c.Sync(ctx, &message.SyncRequest{HeartbeatInterval: 2, Collections: &message.SyncCollections{
					Collection: []message.SyncCollection{{SyncKey: quarantineKey, CollectionID: inbox, GetChanges: new(true)}}}})
				if err != nil || r.Collections == nil || r.Collections.Collection[0].Commands != nil || time.Since(start) < 1900*time.Millisecond {
					t.Fatalf("hanging Sync: %+v %v after %v", r, err, time.Since(start))
				}
			}

			// Nothing the device sends is kept, and it is not told so.
			refused := func(what string, status int, err error) {
				t.Helper()
				var he *client.HTTPError
				if v == "12.1" {
					if !errors.As(err, &he) || he.Code != 403 {
						t.Fatalf("%s: %d %v, want HTTP 403", what, status, err)
					}
					return
				}
				if err != nil || status != 129 {
					t.Fatalf("%s: %d %v, want 129", what, status, err)
				}
			}
			r, err := c.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{{
				SyncKey: quarantineKey, CollectionID: inbox,
				Commands: &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: inbox + ":0"}, {ServerID: inbox + ":1"}}},
			}}}})
			status := 0
			if r != nil {
				status = r.Status
			}
			refused("Sync with a Delete", status, err)
			// The notice itself lives only on the phone: reading it is fine.
			read := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), wbxml.TextElement(wbxml.MustTag("Email:Read"), "1"))
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: quarantineKey, CollectionID: inbox,
				Commands: &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: inbox + ":0", ApplicationData: read}}}}))
			if rc.Status != 1 || rc.Responses != nil || rc.SyncKey != quarantineKey {
				t.Fatalf("notice marked read: %+v", rc)
			}
			if v == "12.1" {
				refused("SendMail", 0, c.SendMailRaw(ctx, "SendMail", url.Values{"SaveInSent": {"T"}}, testMail(9)))
			} else {
				status, err = c.SendMail(ctx, "q-"+id, testMail(9), true)
				refused("SendMail", status, err)
			}
			fc, err := c.FolderCreate(ctx, fs.SyncKey, "0", "New "+id, 12)
			status = 0
			if fc != nil {
				status = fc.Status
			}
			refused("FolderCreate", status, err)

			// A Ping is held for its heartbeat and answers "nothing changed".
			start := time.Now()
			p, err := c.Ping(ctx, 2*time.Second, message.PingFolder{ID: inbox, Class: "Email"})
			if err != nil || p.Status != 1 || time.Since(start) < 1900*time.Millisecond {
				t.Fatalf("held Ping: %+v %v after %v", p, err, time.Since(start))
			}

			// Approval ends a waiting Ping at once, naming its folders.
			type pingResult struct {
				p   *message.PingResponse
				err error
				at  time.Duration
			}
			done := make(chan pingResult, 1)
			start = time.Now()
			go func() {
				p, err := c.Ping(ctx, 120*time.Second, message.PingFolder{ID: inbox, Class: "Email"})
				done <- pingResult{p, err, time.Since(start)}
			}()
			time.Sleep(500 * time.Millisecond)
			if _, err := store.Approve(ctx, testAdmin, "alice", id); err != nil {
				t.Fatal(err)
			}
			var res pingResult
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Ping still held 30 s after the approval")
			}
			if res.err != nil || res.p.Status != 2 || res.p.Folders == nil || !slices.Contains(res.p.Folders.Folder, inbox) {
				t.Fatalf("Ping after approval: %+v %v", res.p, res.err)
			}
			t.Logf("Ping ended %v after it started", res.at)

			// The quarantine key is unknown now: the device starts the
			// Inbox over and gets the real mail, without the notice.
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: quarantineKey, CollectionID: inbox, GetChanges: new(true)}))
			if rc.Status != 3 {
				t.Fatalf("quarantine key after approval: %+v", rc)
			}
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: "0", CollectionID: inbox}))
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: inbox, GetChanges: new(true)}))
			if rc.Status != 1 || rc.Commands == nil || len(rc.Commands.Add) != 2 || slices.Contains(ids(rc.Commands.Add), inbox+":0") {
				t.Fatalf("Inbox after approval: %+v", rc)
			}
			if v == "12.1" {
				if err := c.SendMailRaw(ctx, "SendMail", url.Values{"SaveInSent": {"F"}}, testMail(10)); err != nil {
					t.Fatalf("SendMail after approval: %v", err)
				}
			} else if status, err := c.SendMail(ctx, "ok-"+id, testMail(10), false); err != nil || status != 1 {
				t.Fatalf("SendMail after approval: %d %v", status, err)
			}
		})
	}
	entries, err := audit.NewStore(env.App.Pool).List(ctx, audit.Filter{Action: "device.allow"})
	if err != nil || len(entries) != 3 || entries[0].Actor != testAdmin.Actor {
		t.Fatalf("audit of approvals: %+v %v", entries, err)
	}
}

// Access rules decide for new devices by type and user agent before the
// --new-devices default; a blocked device's requests get 129.
func TestAccessRules(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.NewDevices = "approve" })
	ctx := context.Background()
	store := device.NewStore(env.App.Pool, 0)
	if _, _, err := store.AddRule(ctx, testAdmin, device.Rule{DeviceType: "TestPhone", Action: device.RuleAllow}, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.AddRule(ctx, testAdmin, device.Rule{UserAgent: "BadMail/*", Action: device.RuleBlock}, false); err != nil {
		t.Fatal(err)
	}
	c := env.Client("alice", "typed")
	if r, err := c.FolderSync(ctx, "0"); err != nil || r.Status != 1 {
		t.Fatal(r, err)
	}
	ids := folderIDs(t, c)
	rc := oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: "0", CollectionID: ids["Inbox"]}))
	if d, _ := store.Get(ctx, "alice", "typed"); d.Access != device.Allowed || d.AccessSource != device.SourceRule ||
		strings.HasPrefix(rc.SyncKey, "Q") {
		t.Fatalf("allowed by type: %+v %+v", d, rc)
	}
	// Quarantined later by an administrator: its keys restart, and it gets
	// the notice.
	if _, err := store.Decide(ctx, testAdmin, "alice", "typed", device.Quarantined); err != nil {
		t.Fatal(err)
	}
	rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: ids["Inbox"], GetChanges: new(true)}))
	if rc.Status != 3 {
		t.Fatalf("old key of a device quarantined later: %+v", rc)
	}
	rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: "0", CollectionID: ids["Inbox"]}))
	rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: ids["Inbox"], GetChanges: new(true)}))
	if rc.Commands == nil || len(rc.Commands.Add) != 1 || rc.Commands.Add[0].ServerID != ids["Inbox"]+":0" {
		t.Fatalf("notice for a device quarantined later: %+v", rc)
	}

	bad := env.Client("alice", "agent")
	bad.UserAgent = "BadMail/3.0"
	if r, err := bad.FolderSync(ctx, "0"); err != nil || r.Status != 129 {
		t.Fatalf("blocked by user agent: %+v %v", r, err)
	}
	other := env.Client("alice", "other")
	other.DeviceType = "OtherPhone"
	if _, err := other.FolderSync(ctx, "0"); err != nil {
		t.Fatal(err)
	}
	if d, _ := store.Get(ctx, "alice", "other"); d.Access != device.Quarantined || d.AccessSource != device.SourceDefault {
		t.Fatalf("no rule: %+v", d)
	}
}

// A resync of one folder or of the whole device starts the device over
// without a new partnership; it ends with exactly the server's items.
func TestResync(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		env.Append(t, "alice", "INBOX", testMail(i))
	}
	store := device.NewStore(env.App.Pool, 0)
	for _, v := range []string{"16.1", "14.1"} {
		t.Run(v, func(t *testing.T) {
			id := "r" + strings.ReplaceAll(v, ".", "")
			c := env.Client("alice", id)
			c.Version = v
			fs, err := c.FolderSync(ctx, "0")
			if err != nil || fs.Status != 1 {
				t.Fatal(fs, err)
			}
			folders := map[string]string{}
			for _, f := range fs.Changes.Add {
				folders[f.DisplayName] = f.ServerID
			}
			inbox := folders["Inbox"]
			// fullSync syncs the Inbox from key 0 and returns what the
			// device holds: ServerIds, each once.
			fullSync := func() (string, []string) {
				t.Helper()
				rc := oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: "0", CollectionID: inbox}))
				var held []string
				key := rc.SyncKey
				for {
					rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: key, CollectionID: inbox, GetChanges: new(true), WindowSize: 2}))
					if rc.Status != 1 {
						t.Fatalf("sync: %+v", rc)
					}
					key = rc.SyncKey
					if rc.Commands != nil {
						for _, a := range rc.Commands.Add {
							if slices.Contains(held, a.ServerID) {
								t.Fatalf("%s sent twice", a.ServerID)
							}
							held = append(held, a.ServerID)
						}
					}
					if !rc.MoreAvailable {
						break
					}
				}
				slices.Sort(held)
				return key, held
			}
			key, before := fullSync()
			if len(before) != 3 {
				t.Fatalf("first sync: %v", before)
			}

			// One folder, by name.
			if got, err := store.Resync(ctx, testAdmin, "alice", id, "inbox"); err != nil || got != inbox {
				t.Fatalf("resync inbox: %q %v", got, err)
			}
			rc := oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: key, CollectionID: inbox, GetChanges: new(true)}))
			if rc.Status != 3 {
				t.Fatalf("old key after resync: %+v", rc)
			}
			// The folder hierarchy is untouched.
			if r, err := c.FolderSync(ctx, fs.SyncKey); err != nil || r.Status != 1 {
				t.Fatalf("FolderSync after a folder resync: %+v %v", r, err)
			}
			key, after := fullSync()
			if !slices.Equal(before, after) {
				t.Fatalf("after folder resync: %v, want %v", after, before)
			}

			// The whole device.
			if _, err := store.Resync(ctx, testAdmin, "alice", id, ""); err != nil {
				t.Fatal(err)
			}
			if r, err := c.FolderSync(ctx, fs.SyncKey); err != nil || r.Status != 9 {
				t.Fatalf("FolderSync after a device resync: %+v %v", r, err)
			}
			rc = oneCol(t, syncCol(t, c, message.SyncCollection{SyncKey: key, CollectionID: inbox, GetChanges: new(true)}))
			if rc.Status != 3 {
				t.Fatalf("Sync after a device resync: %+v", rc)
			}
			again, err := c.FolderSync(ctx, "0")
			if err != nil || again.Status != 1 || len(again.Changes.Add) != len(fs.Changes.Add) {
				t.Fatalf("FolderSync 0: %+v %v", again, err)
			}
			for _, f := range again.Changes.Add {
				if folders[f.DisplayName] != f.ServerID {
					t.Fatalf("folder %q changed id: %s, was %s", f.DisplayName, f.ServerID, folders[f.DisplayName])
				}
			}
			if _, after = fullSync(); !slices.Equal(before, after) {
				t.Fatalf("after device resync: %v, want %v", after, before)
			}
		})
	}
	entries, _ := audit.NewStore(env.App.Pool).List(ctx, audit.Filter{Action: "device.resync"})
	if len(entries) != 4 {
		t.Fatalf("resyncs recorded: %d", len(entries))
	}
}

// With policies enforced, a quarantined device provisions as any other
// (MS-ASPROV), so that an approval needs no new handshake.
func TestQuarantinedDeviceProvisions(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) { c.NewDevices = "approve" })
	ctx := context.Background()
	c := env.Client("alice", "prov")
	if r, err := c.FolderSync(ctx, "0"); err != nil || r.Status != 142 {
		t.Fatalf("before Provision: %+v %v", r, err)
	}
	if err := c.Provision(ctx); err != nil || c.PolicyKey == 0 {
		t.Fatalf("Provision: %v", err)
	}
	fs, err := c.FolderSync(ctx, "0")
	if err != nil || fs.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", fs, err)
	}
	if r, err := c.GetItemEstimate(ctx, fs.Changes.Add[0].ServerID, "0", nil); err != nil || r.Status != 129 {
		t.Fatalf("GetItemEstimate: %+v %v", r, err)
	}
	store := device.NewStore(env.App.Pool, 0)
	if _, err := store.Approve(ctx, testAdmin, "alice", "prov"); err != nil {
		t.Fatal(err)
	}
	if r, err := c.FolderSync(ctx, fs.SyncKey); err != nil || r.Status != 1 {
		t.Fatalf("FolderSync after approval: %+v %v", r, err)
	}
}
