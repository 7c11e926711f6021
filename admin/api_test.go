package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// adminEnv is easd with its admin listener (and /metrics, /readyz moved
// there) and one admin token.
type adminEnv struct {
	*easdtest.Env
	Admin string // http://127.0.0.1:port of the admin listener
	Token string
}

func startAdmin(t *testing.T) *adminEnv {
	t.Helper()
	env := easdtest.Start(t, func(c *config.Config) {
		c.AdminListen = "127.0.0.1:0"
		c.MetricsOnAdmin = true
	})
	tok, err := admin.NewTokens(env.App.Pool).Create(context.Background(),
		audit.Who{Actor: "cli:test", Source: "local:test"}, "ops", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return &adminEnv{Env: env, Admin: "http://" + env.App.AdminAddr().String(), Token: tok}
}

// call sends a request to the admin listener with token (none when
// empty) and returns the status and body.
func (e *adminEnv) call(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.Admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// want calls and checks the status; on success it decodes the JSON body
// into v (when not nil).
func (e *adminEnv) want(t *testing.T, status int, method, path, body string, v any) string {
	t.Helper()
	code, got := e.call(t, method, path, e.Token, body)
	if code != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, got, status)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(got), v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, got)
		}
	}
	return got
}

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

func TestAPI(t *testing.T) {
	env := startAdmin(t)
	ctx := context.Background()
	phone := env.Client("alice", "phone1")
	if err := phone.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, phone); st != 1 {
		t.Fatalf("FolderSync: %d", st)
	}
	other := env.Client("bob", "tablet")
	other.DeviceType, other.Version = "Outlook", "14.1"
	if err := other.Provision(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("authentication", func(t *testing.T) {
		for _, tok := range []string{"", "easd_wrong", "not-a-token"} {
			code, body := env.call(t, "GET", "/api/v1/devices", tok, "")
			if code != 401 || !strings.Contains(body, `"error"`) {
				t.Errorf("token %q: %d %s", tok, code, body)
			}
		}
		// The admin API is not on the phones' port, nor are /metrics and
		// /readyz any more.
		for _, p := range []string{"/api/v1/devices", "/metrics", "/readyz"} {
			if code, _, _ := env.Raw(t, "GET", p, "", nil, ""); code != 404 {
				t.Errorf("phones' port %s: %d, want 404", p, code)
			}
		}
	})

	t.Run("ops", func(t *testing.T) {
		if code, body := env.call(t, "GET", "/readyz", "", ""); code != 200 || body != "ready\n" {
			t.Errorf("anonymous readyz: %d %q", code, body)
		}
		var r map[string]any
		env.want(t, 200, "GET", "/readyz", "", &r)
		if r["ready"] != true {
			t.Errorf("readyz with token: %v", r)
		}
		if code, _ := env.call(t, "GET", "/metrics", "", ""); code != 401 {
			t.Errorf("anonymous metrics: %d", code)
		}
		if body := env.want(t, 200, "GET", "/metrics", "", nil); !strings.Contains(body, "easd_http_requests_total") {
			t.Errorf("metrics: %.300s", body)
		}
		if code, body := env.call(t, "GET", "/api/v1/openapi.yaml", "", ""); code != 200 || !strings.HasPrefix(body, "openapi:") {
			t.Errorf("openapi: %d %.50s", code, body)
		}
	})

	t.Run("lists", func(t *testing.T) {
		var users []admin.User
		env.want(t, 200, "GET", "/api/v1/users", "", &users)
		if len(users) != 2 || users[0].Login != "alice" || users[0].Devices != 1 {
			t.Errorf("users: %+v", users)
		}
		for q, n := range map[string]int{
			"": 2, "?user=alice": 1, "?type=outlook": 1, "?protocol=14.1": 1, "?state=allowed": 2,
			"?state=blocked": 0, "?synced_after=2000-01-01": 2, "?synced_before=2000-01-01T00:00:00Z": 0,
		} {
			var ds []admin.Device
			env.want(t, 200, "GET", "/api/v1/devices"+q, "", &ds)
			if len(ds) != n {
				t.Errorf("devices%s: %d, want %d", q, len(ds), n)
			}
		}
		for _, q := range []string{"?state=lost", "?synced_before=yesterday", "?synced_after=2030-01-01&synced_before=2020-01-01"} {
			env.want(t, 400, "GET", "/api/v1/devices"+q, "", nil)
		}
	})

	t.Run("detail", func(t *testing.T) {
		var d admin.DeviceDetail
		env.want(t, 200, "GET", "/api/v1/devices/alice/phone1", "", &d)
		if d.DeviceType != "TestPhone" || d.ProtocolVersion != "16.1" || !d.Policy.UpToDate || d.Policy.Name != "default" ||
			d.Policy.Assigned || d.RecentErrors == nil {
			t.Errorf("detail: %+v", d)
		}
		if len(d.Collections) != 1 || d.Collections[0].Type != "hierarchy" || d.Collections[0].SyncKey == "" {
			t.Errorf("collections: %+v", d.Collections)
		}
		env.want(t, 404, "GET", "/api/v1/devices/alice/nope", "", nil)
		env.want(t, 404, "GET", "/api/v1/devices/nobody/phone1", "", nil)
		env.want(t, 404, "POST", "/api/v1/devices/alice/nope/wipe", "", nil)
		env.want(t, 404, "DELETE", "/api/v1/devices/alice/nope", "", nil)
	})

	t.Run("block and allow", func(t *testing.T) {
		var d admin.DeviceDetail
		env.want(t, 200, "POST", "/api/v1/devices/bob/tablet/block", "", &d)
		if d.Access != "blocked" {
			t.Fatalf("after block: %s", d.Access)
		}
		if st := folderSyncStatus(t, other); st == 1 {
			t.Errorf("blocked device synced")
		}
		// Safe to retry.
		env.want(t, 200, "POST", "/api/v1/devices/bob/tablet/block", "", nil)
		env.want(t, 200, "POST", "/api/v1/devices/bob/tablet/allow", "", &d)
		if d.Access != "allowed" {
			t.Fatalf("after allow: %s", d.Access)
		}
		if st := folderSyncStatus(t, other); st != 1 {
			t.Errorf("allowed device: FolderSync %d", st)
		}
	})

	t.Run("quarantine and access rules", func(t *testing.T) {
		var added admin.AddedRule
		env.want(t, 201, "POST", "/api/v1/device-rules", `{"device_type":"Sailfish*","action":"quarantine","note":"pilot"}`, &added)
		if added.Rule.ID == 0 || added.Rule.CreatedBy != "token:ops" || added.DevicesChanged != 0 {
			t.Errorf("added: %+v", added)
		}
		// A retry leaves one rule.
		var again admin.AddedRule
		env.want(t, 200, "POST", "/api/v1/device-rules", `{"device_type":"sailfish*","action":"quarantine","note":"pilot"}`, &again)
		if !again.Existed || again.Rule.ID != added.Rule.ID {
			t.Errorf("retried rule: %+v", again)
		}
		for body, status := range map[string]int{
			`{}`: 400, `{"device_type":"x","action":"maybe"}`: 400, `{"action":"block"}`: 400,
			`{"device_type":"x","action":"block","colour":"red"}`: 400, `{"device_type":"x",`: 400,
		} {
			env.want(t, status, "POST", "/api/v1/device-rules", body, nil)
		}
		var rules []map[string]any
		env.want(t, 200, "GET", "/api/v1/device-rules", "", &rules)
		if len(rules) != 1 || rules[0]["device_type"] != "Sailfish*" {
			t.Errorf("rules: %v", rules)
		}

		jolla := env.Client("alice", "jolla")
		jolla.DeviceType = "SailfishPhone"
		if err := jolla.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		var ds []admin.Device
		env.want(t, 200, "GET", "/api/v1/devices?state=quarantined", "", &ds)
		if len(ds) != 1 || ds[0].DeviceID != "jolla" || ds[0].AccessSource != "rule" || ds[0].AccessRuleID != added.Rule.ID {
			t.Fatalf("quarantined devices: %+v", ds)
		}
		var d admin.DeviceDetail
		env.want(t, 200, "POST", "/api/v1/devices/alice/jolla/approve", "", &d)
		if d.Access != "allowed" || d.AccessSource != "admin" {
			t.Fatalf("after approve: %+v", d.Device)
		}
		env.want(t, 200, "POST", "/api/v1/devices/alice/jolla/approve", "", nil) // a retry
		env.want(t, 404, "POST", "/api/v1/devices/alice/nope/approve", "", nil)
		if st := folderSyncStatus(t, jolla); st != 1 {
			t.Errorf("approved device: FolderSync %d", st)
		}

		env.want(t, 200, "POST", "/api/v1/devices/bob/tablet/quarantine", "", &d)
		env.want(t, 200, "GET", "/api/v1/devices?state=quarantined", "", &ds)
		if d.Access != "quarantined" || len(ds) != 1 || ds[0].DeviceID != "tablet" {
			t.Errorf("after quarantine: %s, list %+v", d.Access, ds)
		}
		env.want(t, 200, "POST", "/api/v1/devices/bob/tablet/allow", "", nil)

		env.want(t, 400, "DELETE", "/api/v1/device-rules/abc", "", nil)
		env.want(t, 404, "DELETE", "/api/v1/device-rules/999999", "", nil)
		env.want(t, 204, "DELETE", fmt.Sprintf("/api/v1/device-rules/%d", added.Rule.ID), "", nil)
		env.want(t, 404, "DELETE", fmt.Sprintf("/api/v1/device-rules/%d", added.Rule.ID), "", nil)
		// Removing the rule leaves the devices it decided alone.
		env.want(t, 200, "GET", "/api/v1/devices/alice/jolla", "", &d)
		if d.Access != "allowed" {
			t.Errorf("after removing the rule: %s", d.Access)
		}
	})

	t.Run("resync", func(t *testing.T) {
		contacts, key := syncContacts(t, phone)
		var d admin.DeviceDetail
		env.want(t, 200, "GET", "/api/v1/devices/alice/phone1", "", &d)
		if len(d.Collections) != 2 {
			t.Fatalf("collections before: %+v", d.Collections)
		}
		env.want(t, 404, "POST", "/api/v1/devices/alice/phone1/resync", `{"collection":"Nope"}`, nil)
		env.want(t, 400, "POST", "/api/v1/devices/alice/phone1/resync", `{"folder":"Contacts"}`, nil)
		env.want(t, 404, "POST", "/api/v1/devices/alice/nope/resync", "", nil)
		// One collection, by its name in any case: its next Sync starts over.
		env.want(t, 200, "POST", "/api/v1/devices/alice/phone1/resync", `{"collection":"contacts"}`, &d)
		if len(d.Collections) != 1 || d.Collections[0].Type != "hierarchy" {
			t.Errorf("collections after resyncing contacts: %+v", d.Collections)
		}
		r, err := phone.SyncFolder(ctx, contacts, key, 100)
		if err != nil || len(r.Collections.Collection) != 1 || r.Collections.Collection[0].Status != 3 {
			t.Fatalf("Sync with the old key after the resync: %+v, %v", r, err)
		}
		// The whole device, without a body.
		env.want(t, 200, "POST", "/api/v1/devices/alice/phone1/resync", "", &d)
		if len(d.Collections) != 0 {
			t.Errorf("collections after a full resync: %+v", d.Collections)
		}
	})

	t.Run("trace", func(t *testing.T) {
		var d admin.DeviceDetail
		env.want(t, 200, "PUT", "/api/v1/devices/alice/phone1/trace", `{"for":"1h"}`, &d)
		if d.TraceUntil == nil || time.Until(*d.TraceUntil) < 50*time.Minute {
			t.Errorf("trace: %v", d.TraceUntil)
		}
		for _, body := range []string{`{"for":"soon"}`, `{"for":"-1h"}`, `{"for":"200h"}`, `{}`} {
			env.want(t, 400, "PUT", "/api/v1/devices/alice/phone1/trace", body, nil)
		}
		var off admin.DeviceDetail
		env.want(t, 200, "DELETE", "/api/v1/devices/alice/phone1/trace", "", &off)
		if off.TraceUntil != nil {
			t.Errorf("trace off: %v", off.TraceUntil)
		}
	})

	t.Run("policies", func(t *testing.T) {
		big := `{"settings":{"ApprovedApplicationList":["` + strings.Repeat("a", 2<<20) + `"]}}`
		for body, status := range map[string]int{
			`{"settings":`: 400,
			`{"settings":{"MinDevicePasswordLenght":6}}`:  400,
			`{"settings":{"MinDevicePasswordLength":99}}`: 400,
			`{"colour":"red"}`:                            400,
			`{"settings":{}} {}`:                          400,
			`{"name":"other","settings":{}}`:              400,
			big:                                           413,
		} {
			env.want(t, status, "PATCH", "/api/v1/policies/default", body, nil)
		}
		env.want(t, 404, "PATCH", "/api/v1/policies/nope", `{"settings":{}}`, nil)
		env.want(t, 404, "GET", "/api/v1/policies/nope", "", nil)

		var before, after admin.Policy
		env.want(t, 200, "GET", "/api/v1/policies/default", "", &before)
		env.want(t, 200, "PATCH", "/api/v1/policies/default",
			`{"settings":{"DevicePasswordEnabled":true,"MinDevicePasswordLength":6}}`, &after)
		if after.Generation == before.Generation || !after.Settings.DevicePasswordEnabled ||
			after.Settings.MinDevicePasswordLength != 6 || after.Settings.AllowCamera != before.Settings.AllowCamera {
			t.Fatalf("edit: %+v", after)
		}
		// A retry changes nothing: no new generation, no changes.
		var again admin.PolicyEdit
		env.want(t, 200, "PATCH", "/api/v1/policies/default",
			`{"settings":{"DevicePasswordEnabled":true,"MinDevicePasswordLength":6}}`, &again)
		if again.Generation != after.Generation || len(again.Changes) != 0 {
			t.Fatalf("retried edit: %+v", again)
		}
		// The phone provisions again and gets the new value.
		if st := folderSyncStatus(t, phone); st != 143 {
			t.Fatalf("after the edit: FolderSync %d, want 143", st)
		}
		re, err := phone.RequestPolicy(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if doc := re.Policies.Policy.Data.EASProvisionDoc; doc.MinDevicePasswordLength != 6 || !doc.DevicePasswordEnabled {
			t.Fatalf("policy sent: %+v", doc)
		}
		if err := phone.Provision(ctx); err != nil {
			t.Fatal(err)
		}

		var p admin.Policy
		env.want(t, 201, "POST", "/api/v1/policies", `{"name":"strict","allow_non_provisionable":false,"settings":{"AllowCamera":false}}`, &p)
		if p.Name != "strict" || p.AllowNonProvisionable || p.Settings.AllowCamera || !p.Settings.AllowWiFi {
			t.Errorf("created: %+v", p)
		}
		env.want(t, 409, "POST", "/api/v1/policies", `{"name":"strict"}`, nil)
		env.want(t, 400, "POST", "/api/v1/policies", `{"name":"no spaces"}`, nil)
		var ps []admin.Policy
		env.want(t, 200, "GET", "/api/v1/policies", "", &ps)
		if len(ps) != 2 || !ps[0].Default {
			t.Errorf("policies: %+v", ps)
		}

		var d admin.DeviceDetail
		env.want(t, 200, "PUT", "/api/v1/devices/bob/tablet/policy", `{"policy":"strict"}`, &d)
		if d.Policy.Name != "strict" || !d.Policy.Assigned || d.Policy.Source != admin.SourceDevice || d.Policy.UpToDate {
			t.Errorf("assigned: %+v", d.Policy)
		}
		env.want(t, 404, "PUT", "/api/v1/devices/bob/tablet/policy", `{"policy":"nope"}`, nil)
		env.want(t, 404, "PUT", "/api/v1/devices/bob/nope/policy", `{"policy":"strict"}`, nil)
		env.want(t, 400, "PUT", "/api/v1/devices/bob/tablet/policy", `{}`, nil)
		env.want(t, 200, "PUT", "/api/v1/devices/bob/tablet/policy", `{"policy":""}`, &d)
		if d.Policy.Name != "default" || d.Policy.Assigned || d.Policy.Source != admin.SourceDefault {
			t.Errorf("back to default: %+v", d.Policy)
		}
	})

	t.Run("wipe", func(t *testing.T) {
		var d admin.DeviceDetail
		env.want(t, 200, "POST", "/api/v1/devices/alice/phone1/wipe", "", &d)
		if d.Wipe != "requested" {
			t.Fatalf("after wipe: %s", d.Wipe)
		}
		if st := folderSyncStatus(t, phone); st != 140 {
			t.Fatalf("FolderSync with a wipe pending: %d, want 140", st)
		}
		// An account-only wipe needs EAS 16.1: refused for the 14.1
		// tablet rather than wiping more than asked.
		env.want(t, 409, "POST", "/api/v1/devices/bob/tablet/account-wipe", "", nil)
		env.want(t, 200, "POST", "/api/v1/devices/alice/phone1/account-wipe", "", &d)
		if d.Wipe != "account_requested" {
			t.Fatalf("after account wipe: %s", d.Wipe)
		}
		var c admin.DeviceDetail
		env.want(t, 200, "POST", "/api/v1/devices/alice/phone1/cancel-wipe", "", &c)
		if c.Wipe != "none" || c.WipeRequestedAt != nil {
			t.Fatalf("after cancelling the wipe: %+v", c.Device)
		}
		if st := folderSyncStatus(t, phone); st != 1 {
			t.Fatalf("FolderSync after the wipe was cancelled: %d", st)
		}
		// Nothing to cancel any more.
		env.want(t, 409, "POST", "/api/v1/devices/alice/phone1/cancel-wipe", "", nil)
		env.want(t, 404, "POST", "/api/v1/devices/alice/nope/cancel-wipe", "", nil)
	})

	t.Run("audit", func(t *testing.T) {
		var es []audit.Entry
		env.want(t, 200, "GET", "/api/v1/audit?action=device.&limit=50", "", &es)
		seen := map[string]bool{}
		for _, e := range es {
			if e.Actor != "token:ops" || e.Source != "127.0.0.1" {
				t.Errorf("entry %+v", e)
			}
			seen[e.Action+" "+e.Target] = true
		}
		for _, want := range []string{"device.block bob/tablet", "device.allow bob/tablet", "device.wipe alice/phone1",
			"device.account_wipe alice/phone1", "device.wipe_cancel alice/phone1", "device.resync alice/phone1",
			"device.quarantine bob/tablet", "device.allow alice/jolla", "device.trace alice/phone1"} {
			if !seen[want] {
				t.Errorf("not audited: %s (have %v)", want, seen)
			}
		}
		env.want(t, 200, "GET", "/api/v1/audit?target=policy:default", "", &es)
		if len(es) != 1 || es[0].Action != "policy.edit" {
			t.Errorf("policy audit: %+v", es)
		}
		for _, q := range []string{"?limit=0", "?limit=x", "?before=-1", "?since=soon"} {
			env.want(t, 400, "GET", "/api/v1/audit"+q, "", nil)
		}
	})

	t.Run("live", func(t *testing.T) {
		var l admin.LiveView
		env.want(t, 200, "GET", "/api/v1/live", "", &l)
		if l.RequestsTotal == 0 || l.At.IsZero() {
			t.Errorf("live: %+v", l)
		}
	})

	t.Run("policy assignments", func(t *testing.T) {
		var r admin.AssignmentResult
		env.want(t, 200, "PUT", "/api/v1/users/bob/policy", `{"policy":"strict"}`, &r)
		if !r.Changed || r.Target.Login != "bob" || r.Policy != "strict" {
			t.Errorf("assign to user: %+v", r)
		}
		// Safe to retry: nothing changes, nothing is recorded.
		env.want(t, 200, "PUT", "/api/v1/users/bob/policy", `{"policy":"strict"}`, &r)
		if r.Changed {
			t.Errorf("retried assignment changed something: %+v", r)
		}
		var d admin.DeviceDetail
		env.want(t, 200, "GET", "/api/v1/devices/bob/tablet", "", &d)
		if d.Policy.Name != "strict" || d.Policy.Source != admin.SourceUser || d.Policy.Assigned {
			t.Errorf("policy from the user: %+v", d.Policy)
		}
		env.want(t, 200, "PUT", "/api/v1/device-types/TESTPHONE/policy", `{"policy":"strict"}`, &r)
		env.want(t, 200, "GET", "/api/v1/devices/alice/phone1", "", &d)
		if d.Policy.Name != "strict" || d.Policy.Source != admin.SourceDeviceType {
			t.Errorf("policy from the device type: %+v", d.Policy)
		}
		// A user who has never synced can be given a policy.
		env.want(t, 200, "PUT", "/api/v1/users/dave/policy", `{"policy":"strict"}`, nil)
		var p admin.Policy
		env.want(t, 200, "GET", "/api/v1/policies/strict", "", &p)
		if p.Usage == nil || p.Usage.Users != 2 || p.Usage.DeviceTypes != 1 || p.Usage.InEffect != 2 || len(p.Assignments) != 3 ||
			p.Assignments[0].Target.DeviceType != "testphone" || p.Assignments[1].Target.Login != "bob" {
			t.Errorf("policy view: usage %+v, assignments %+v", p.Usage, p.Assignments)
		}

		// Bad input.
		env.want(t, 404, "PUT", "/api/v1/users/bob/policy", `{"policy":"nope"}`, nil)
		env.want(t, 404, "PUT", "/api/v1/device-types/iPad/policy", `{"policy":"nope"}`, nil)
		env.want(t, 400, "PUT", "/api/v1/device-types/%20iPad/policy", `{"policy":"strict"}`, nil)
		env.want(t, 400, "PUT", "/api/v1/users/bob/policy", `{}`, nil)
		env.want(t, 400, "PUT", "/api/v1/users/bob/policy", `{"policy":"strict","device":"x"}`, nil)
		env.want(t, 404, "DELETE", "/api/v1/devices/bob/nope/policy", "", nil)
		env.want(t, 409, "DELETE", "/api/v1/policies/default", "", nil)
		env.want(t, 404, "DELETE", "/api/v1/policies/nope", "", nil)

		env.want(t, 200, "DELETE", "/api/v1/users/bob/policy", "", &r)
		if !r.Changed || r.Policy != "" {
			t.Errorf("unassign: %+v", r)
		}
		env.want(t, 200, "DELETE", "/api/v1/users/bob/policy", "", &r)
		if r.Changed {
			t.Errorf("retried unassign: %+v", r)
		}
		env.want(t, 200, "DELETE", "/api/v1/devices/bob/tablet/policy", "", &d)
		if d.Policy.Source != admin.SourceDefault {
			t.Errorf("after unassign: %+v", d.Policy)
		}

		// Removing the policy takes its assignments with it.
		env.want(t, 204, "DELETE", "/api/v1/policies/strict", "", nil)
		env.want(t, 404, "DELETE", "/api/v1/policies/strict", "", nil)
		env.want(t, 404, "GET", "/api/v1/policies/strict", "", nil)
		env.want(t, 200, "GET", "/api/v1/devices/alice/phone1", "", &d)
		if d.Policy.Name != "default" || d.Policy.Source != admin.SourceDefault {
			t.Errorf("after removing the policy: %+v", d.Policy)
		}

		// Each change was recorded once, in its transaction, as the token.
		var es []audit.Entry
		env.want(t, 200, "GET", "/api/v1/audit?action=policy.&limit=100", "", &es)
		count := map[string]int{}
		for _, e := range es {
			if e.Actor != "token:ops" {
				t.Errorf("entry %+v", e)
			}
			count[e.Action+" "+e.Target]++
		}
		for k, n := range map[string]int{"policy.create policy:strict": 1, "policy.assign user:bob": 1, "policy.unassign user:bob": 1,
			"policy.assign device-type:testphone": 1, "policy.assign user:dave": 1, "policy.remove policy:strict": 1,
			"policy.assign bob/tablet": 1, "policy.unassign bob/tablet": 1} {
			if count[k] != n {
				t.Errorf("audit %s: %d entries, want %d (all: %v)", k, count[k], n, count)
			}
		}
	})

	t.Run("remove and revoke", func(t *testing.T) {
		env.want(t, 204, "DELETE", "/api/v1/devices/bob/tablet", "", nil)
		env.want(t, 404, "DELETE", "/api/v1/devices/bob/tablet", "", nil)
		tokens := admin.NewTokens(env.App.Pool)
		if err := tokens.Revoke(ctx, audit.Who{Actor: "cli:test"}, "ops"); err != nil {
			t.Fatal(err)
		}
		if code, _ := env.call(t, "GET", "/api/v1/users", env.Token, ""); code != 401 {
			t.Errorf("revoked token: %d", code)
		}
	})
}

// syncContacts syncs the phone's contacts folder to its end and returns
// its id and sync key.
func syncContacts(t *testing.T, phone *client.Client) (string, string) {
	t.Helper()
	ctx := context.Background()
	fs, err := phone.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	var contacts string
	for _, f := range fs.Changes.Add {
		if f.Type == 9 {
			contacts = f.ServerID
		}
	}
	key := "0"
	for range 2 {
		r, err := phone.SyncFolder(ctx, contacts, key, 100)
		if err != nil || len(r.Collections.Collection) != 1 || r.Collections.Collection[0].Status != 1 {
			t.Fatalf("sync contacts: %+v, %v", r, err)
		}
		key = r.Collections.Collection[0].SyncKey
	}
	return contacts, key
}

// Live view: a Ping waiting on this instance shows, counted and listed
// with its user and device; once it ends it is gone.
func TestLiveShowsWaitingPing(t *testing.T) {
	env := startAdmin(t)
	ctx := context.Background()
	phone := env.Client("alice", "pinger")
	if err := phone.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fs, err := phone.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	// An empty, fully synced contacts folder: a Ping on it waits.
	var contacts string
	for _, f := range fs.Changes.Add {
		if f.Type == 9 {
			contacts = f.ServerID
		}
	}
	key := "0"
	for range 2 {
		r, err := phone.SyncFolder(ctx, contacts, key, 100)
		if err != nil || len(r.Collections.Collection) != 1 || r.Collections.Collection[0].Status != 1 {
			t.Fatalf("sync contacts: %+v, %v", r, err)
		}
		key = r.Collections.Collection[0].SyncKey
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := time.Now()
	pinged := make(chan struct{})
	go func() {
		defer close(pinged)
		_, _ = phone.Ping(pctx, time.Minute, message.PingFolder{ID: contacts, Class: "Contacts"})
	}()
	var l admin.LiveView
	deadline := time.Now().Add(10 * time.Second)
	for {
		l = admin.LiveView{}
		env.want(t, 200, "GET", "/api/v1/live", "", &l)
		if l.PingWaiting == 1 && len(l.Waiting) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live view never showed the waiting Ping: %+v", l)
		}
		time.Sleep(100 * time.Millisecond)
	}
	w := l.Waiting[0]
	if w.Kind != "ping" || w.User != "alice" || w.DeviceID != "pinger" || w.DeviceType != phone.DeviceType ||
		w.Heartbeat != 60 || w.Folders != 1 || w.Since.Before(started.Add(-time.Second)) || l.WaitingMore != 0 || l.Instance == "" {
		t.Fatalf("waiting Ping listed as %+v in %+v", w, l)
	}
	code, page := env.webGet(t, "/live")
	if code != 200 || !strings.Contains(page, `<td>alice</td>`) || !strings.Contains(page, ">pinger</a>") {
		t.Fatalf("live page: %d %s", code, page)
	}

	// A Sync of the device ends the Ping: the list empties.
	if _, err := phone.FolderSync(ctx, fs.SyncKey); err != nil {
		t.Fatal(err)
	}
	if r, err := phone.SyncFolder(ctx, contacts, key, 100); err != nil || r.Collections.Collection[0].Status != 1 {
		t.Fatalf("sync: %+v %v", r, err)
	}
	<-pinged
	deadline = time.Now().Add(10 * time.Second)
	for {
		l = admin.LiveView{}
		env.want(t, 200, "GET", "/api/v1/live", "", &l)
		if l.PingWaiting == 0 && len(l.Waiting) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ended Ping stays in the live view: %+v", l)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// webGet logs in to the web page with the token and fetches path.
func (e *adminEnv) webGet(t *testing.T, path string) (int, string) {
	t.Helper()
	c := webClient(t)
	if resp, _ := post(t, c, e.Admin+"/login", url.Values{"token": {e.Token}}, nil); resp.StatusCode != 303 {
		t.Fatalf("web login: %d", resp.StatusCode)
	}
	resp, body := get(t, c, e.Admin+path)
	return resp.StatusCode, body
}

// Recent errors: a Sync with a bad key or of an unknown folder is kept
// with the device and shown in its detail (API and page); a successful
// Sync writes nothing.
func TestDeviceRecentErrors(t *testing.T) {
	env := startAdmin(t)
	ctx := context.Background()
	phone := env.Client("alice", "flaky")
	if err := phone.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	contacts, key := syncedContacts(t, phone)
	kept := func() int {
		t.Helper()
		var n int
		if err := env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM device_errors e JOIN devices d ON d.id = e.device_id
			WHERE d.device_id = 'flaky'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 3 {
		if r, err := phone.SyncFolder(ctx, contacts, key, 100); err != nil || r.Collections.Collection[0].Status != 1 {
			t.Fatalf("quiet sync: %+v %v", r, err)
		}
	}
	if n := kept(); n != 0 {
		t.Fatalf("successful requests kept %d errors", n)
	}
	var d admin.DeviceDetail
	env.want(t, 200, "GET", "/api/v1/devices/alice/flaky", "", &d)
	if d.RecentErrors == nil || len(d.RecentErrors) != 0 {
		t.Fatalf("recent errors of a quiet device: %+v", d.RecentErrors)
	}

	if r, err := phone.SyncFolder(ctx, contacts, "999999", 100); err != nil || r.Collections.Collection[0].Status != 3 {
		t.Fatalf("sync with a bad key: %+v %v", r, err)
	}
	if r, err := phone.SyncFolder(ctx, "no-such-folder", key, 100); err != nil || r.Collections.Collection[0].Status != 8 {
		t.Fatalf("sync of an unknown folder: %+v %v", r, err)
	}
	env.want(t, 200, "GET", "/api/v1/devices/alice/flaky", "", &d)
	if len(d.RecentErrors) != 2 {
		t.Fatalf("recent errors: %+v", d.RecentErrors)
	}
	unknown, bad := d.RecentErrors[0], d.RecentErrors[1]
	if unknown.Command != "Sync" || unknown.EASStatus != 8 || unknown.HTTPStatus != 200 ||
		!strings.Contains(unknown.Reason, "no-such-folder") || time.Since(unknown.At) > time.Minute {
		t.Errorf("unknown folder kept as %+v", unknown)
	}
	if bad.Command != "Sync" || bad.EASStatus != 3 || !strings.Contains(bad.Reason, contacts) {
		t.Errorf("bad key kept as %+v", bad)
	}
	code, page := env.webGet(t, "/devices/alice/flaky")
	if code != 200 || !strings.Contains(page, `id="errors"`) || !strings.Contains(page, "no such folder") {
		t.Fatalf("device page: %d %s", code, page)
	}

	// An HTTP error of a known device is kept too: a body that is not
	// WBXML, from EAS 12.1 (from 14.0 on it is a Status 102).
	phone.Version = "12.1"
	resp, _, err := phone.DoRaw(ctx, "Sync", nil, "application/vnd.ms-sync.wbxml", []byte("not wbxml"))
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("Sync with a bad body: %v %v", resp, err)
	}
	env.want(t, 200, "GET", "/api/v1/devices/alice/flaky", "", &d)
	if len(d.RecentErrors) != 3 || d.RecentErrors[0].HTTPStatus != 400 || d.RecentErrors[0].Reason == "" {
		t.Fatalf("bad body kept as %+v", d.RecentErrors)
	}
	// One refused before the device is known (an unknown protocol
	// version) is not.
	phone.Version = "99.0"
	if _, err := phone.FolderSync(ctx, "0"); err == nil {
		t.Fatal("FolderSync in an unknown protocol version answered")
	}
	if n := kept(); n != 3 {
		t.Fatalf("a request refused before the device is known was kept: %d", n)
	}
}

// syncedContacts syncs the phone's contacts folder to its end and returns
// its id and sync key.
func syncedContacts(t *testing.T, phone *client.Client) (string, string) {
	t.Helper()
	ctx := context.Background()
	fs, err := phone.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	var contacts string
	for _, f := range fs.Changes.Add {
		if f.Type == 9 {
			contacts = f.ServerID
		}
	}
	key := "0"
	for range 2 {
		r, err := phone.SyncFolder(ctx, contacts, key, 100)
		if err != nil || len(r.Collections.Collection) != 1 || r.Collections.Collection[0].Status != 1 {
			t.Fatalf("sync contacts: %+v, %v", r, err)
		}
		key = r.Collections.Collection[0].SyncKey
	}
	return contacts, key
}
