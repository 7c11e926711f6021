package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

// syncStatus runs a Sync of folder with key and returns the status the
// phone sees: the Sync Status, or the HTTP code of a non-200 answer (449
// before EAS 14.0), with the next key.
func syncStatus(t *testing.T, c *client.Client, folder, key string) (int, string) {
	t.Helper()
	r, err := c.SyncFolder(context.Background(), folder, key, 50)
	var he *client.HTTPError
	if errors.As(err, &he) {
		return he.Code, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 0 && r.Status != 1 {
		return r.Status, ""
	}
	if r.Collections == nil || len(r.Collections.Collection) != 1 {
		t.Fatalf("Sync: %+v", r)
	}
	col := r.Collections.Collection[0]
	return col.Status, col.SyncKey
}

// provisionDoc runs both Provision phases and returns the policy sent.
func provisionDoc(t *testing.T, c *client.Client) message.EASProvisionDoc {
	t.Helper()
	ctx := context.Background()
	first, err := c.RequestPolicy(ctx, nil)
	if err != nil || first.Policies == nil || first.Policies.Policy.Data == nil {
		t.Fatalf("Provision phase 1: %+v, %v", first, err)
	}
	key := strconv.FormatUint(uint64(first.Policies.Policy.PolicyKey), 10)
	second, err := c.AcknowledgePolicy(ctx, key, 1)
	if err != nil || second.Policies == nil || second.Policies.Policy.Status != 1 {
		t.Fatalf("Provision phase 2: %+v, %v", second, err)
	}
	c.PolicyKey = second.Policies.Policy.PolicyKey
	return first.Policies.Policy.Data.EASProvisionDoc
}

// A phone provisions and syncs on two instances; `easd policy edit`
// changes a setting; the phone's next Sync, on either instance, is told to
// provision again (Status 143 from 14.0 on, HTTP 449 before), and
// provisioning gets the new value. Assignments to the phone's device
// type, user and the phone itself do the same, in that order of precedence,
// and back; one that does not change the phone's policy changes nothing.
func TestPolicyEditReprovisionsPhone(t *testing.T) {
	env := easdtest.Start(t)
	second := easdtest.StartSecond(t, env)
	pol := policyCmdFor(env.DB)
	ctx := context.Background()

	for i, version := range []string{"14.1", "12.1"} {
		refresh := 143
		if version == "12.1" {
			refresh = 449
		}
		c := env.Client(easdtest.Users[i], "phone"+strings.ReplaceAll(version, ".", ""))
		c.Version = version
		c.DeviceType = "SAMSUNGSMG991B" + strconv.Itoa(i) // a type of its own per round
		on := func(e *easdtest.Env) *client.Client { cc := *c; cc.BaseURL = e.URL; return &cc }

		provisionDoc(t, c)
		fs, err := c.FolderSync(ctx, "0")
		if err != nil || fs.Status != 1 {
			t.Fatalf("%s FolderSync: %+v, %v", version, fs, err)
		}
		inbox := ""
		for _, f := range fs.Changes.Add {
			if f.Type == 2 {
				inbox = f.ServerID
			}
		}
		st, key := syncStatus(t, c, inbox, "0")
		if st != 1 {
			t.Fatalf("%s first Sync: %d", version, st)
		}
		if st, _ := syncStatus(t, on(second), inbox, key); st != 1 {
			t.Fatalf("%s Sync on the second instance: %d", version, st)
		}

		size := strconv.Itoa(1000 + i)
		code, out, errOut := pol("edit", "default", "--set", "MaxAttachmentSize="+size, "--set", "allowcamera=false")
		if code != 0 || !strings.Contains(out, "MaxAttachmentSize") || errOut != "" {
			t.Fatalf("%s edit: %d %q %q", version, code, out, errOut)
		}
		for _, e := range []*easdtest.Env{second, env} {
			if st, _ := syncStatus(t, on(e), inbox, key); st != refresh {
				t.Fatalf("%s Sync after the edit: %d, want %d", version, st, refresh)
			}
		}
		onSecond := on(second)
		doc := provisionDoc(t, onSecond)
		if doc.MaxAttachmentSize != size || doc.AllowCamera {
			t.Fatalf("%s re-provisioned policy: MaxAttachmentSize %q AllowCamera %v", version, doc.MaxAttachmentSize, doc.AllowCamera)
		}
		c.PolicyKey = onSecond.PolicyKey // provisioned on one instance, syncs on the other
		if st, _ := syncStatus(t, c, inbox, key); st != 1 {
			t.Fatalf("%s Sync after re-provisioning: %d", version, st)
		}

		// Assignments, up the rules and back down: device type (any case),
		// user, the device itself. Each policy has its own MaxAttachmentSize.
		for _, name := range []string{"type", "user", "own"} {
			size := map[string]string{"type": "111", "user": "222", "own": "333"}[name]
			if code, _, errOut := pol("create", name+strconv.Itoa(i), "--set", "MaxAttachmentSize="+size); code != 0 {
				t.Fatalf("create: %d %q", code, errOut)
			}
		}
		n := strconv.Itoa(i)
		device := c.User + "/" + c.DeviceID
		for _, step := range []struct {
			args     []string
			size     string // the phone's MaxAttachmentSize after the step
			reprov   bool   // whether the step changes the phone's policy
			describe string
		}{
			{[]string{"assign", "type" + n, "--device-type", strings.ToLower(c.DeviceType)}, "111", true, "type"},
			{[]string{"assign", "user" + n, "--user", c.User}, "222", true, "user over type"},
			{[]string{"assign", "own" + n, "--device", device}, "333", true, "device over user"},
			{[]string{"assign", "type" + n, "--user", c.User}, "333", false, "user change under the device's own"},
			{[]string{"assign", "user" + n, "--user", c.User}, "333", false, "user back"},
			{[]string{"unassign", "--device", device}, "222", true, "back to the user's"},
			{[]string{"remove", "user" + n}, "111", true, "user's policy removed: the type's"},
			{[]string{"unassign", "--device-type", c.DeviceType}, size, true, "back to the default"},
		} {
			if code, _, errOut := pol(step.args...); code != 0 {
				t.Fatalf("%s %v: %d %q", version, step.args, code, errOut)
			}
			st, _ := syncStatus(t, c, inbox, key)
			if !step.reprov {
				if st != 1 {
					t.Fatalf("%s Sync after %s: %d, want 1", version, step.describe, st)
				}
				continue
			}
			if st != refresh {
				t.Fatalf("%s Sync after %s: %d, want %d", version, step.describe, st, refresh)
			}
			if doc := provisionDoc(t, c); doc.MaxAttachmentSize != step.size {
				t.Fatalf("%s after %s: MaxAttachmentSize %q, want %q", version, step.describe, doc.MaxAttachmentSize, step.size)
			}
			if st, _ := syncStatus(t, c, inbox, key); st != 1 {
				t.Fatalf("%s Sync after re-provisioning (%s): %d", version, step.describe, st)
			}
		}
	}

	// Each change is in the audit log, which easd audit --json lists:
	// per round 1 edit, 3 creates, 7 assignment changes, 1 removal.
	var out, errb bytes.Buffer
	if code := runAudit([]string{"--action", "policy.", "--json", "--database-url", env.DB.DSN}, &out, &errb); code != 0 {
		t.Fatalf("easd audit: %d %q", code, errb.String())
	}
	var entries []audit.Entry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil || len(entries) != 2*(1+3+7+1) {
		t.Fatalf("audit: %d entries, %v\n%s", len(entries), err, out.String())
	}
}

// Every element of a policy reaches the phone, with its value, in each
// protocol version that has it, and no other: 12.0 gets only the password,
// encryption and attachment elements.
func TestProvisionRendersEveryElement(t *testing.T) {
	env := easdtest.Start(t)
	pol := policyCmdFor(env.DB)
	ctx := context.Background()

	// A policy in which every element differs from the built-in default.
	def := policy.Defaults()
	args := []string{"create", "all"}
	want := map[string]string{}
	for _, e := range policy.Elements() {
		var v string
		switch e.Kind {
		case policy.Bool:
			v = strconv.FormatBool(!e.Value(def).(bool))
			want[e.Name] = map[string]string{"true": "1", "false": "0"}[v]
		case policy.Int:
			n := e.Value(def).(int)
			switch {
			case e.Values != nil:
				v = strconv.Itoa(e.Values[len(e.Values)-1])
			case n != e.Max:
				v = strconv.Itoa(e.Max)
			default:
				v = strconv.Itoa(e.Min)
			}
			want[e.Name] = v
		case policy.List:
			v = "0123456789abcdef0123456789abcdef01234567,89abcdef0123456789abcdef0123456789abcdef"
			if e.Name == "UnapprovedInROMApplicationList" {
				v = "Solitaire,Browser"
			}
			want[e.Name] = v
		}
		args = append(args, "--set", e.Name+"="+v)
	}
	if code, _, errOut := pol(args...); code != 0 {
		t.Fatalf("create: %d %q", code, errOut)
	}
	if code, _, errOut := pol("assign", "all", "--user", "alice"); code != 0 {
		t.Fatalf("assign: %d %q", code, errOut)
	}

	for _, version := range []string{"12.0", "12.1", "14.1", "16.1"} {
		c := env.Client("alice", "v"+strings.ReplaceAll(version, ".", ""))
		c.Version = version
		var resp struct {
			WBXMLName wbxml.Tag `wbxml:"Provision:Provision"`
			Policies  struct {
				Policy struct {
					Data struct {
						EASProvisionDoc struct {
							All []*wbxml.Element `wbxml:",any"`
						}
					}
				}
			}
		}
		req := &message.ProvisionRequest{Policies: &message.PoliciesRequest{Policy: message.PolicyRequest{PolicyType: message.PolicyTypeWBXML}}}
		if err := c.Do(ctx, "Provision", req, &resp); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		var order []string
		for _, el := range resp.Policies.Policy.Data.EASProvisionDoc.All {
			name, text := el.Tag.Name(), el.Text
			if len(el.Children) > 0 {
				var items []string
				for _, ch := range el.Children {
					items = append(items, ch.Text)
				}
				text = strings.Join(items, ",")
			}
			got[name] = text
			order = append(order, name)
		}
		v, _ := strconv.ParseFloat(version, 64)
		var wantOrder []string
		for _, e := range policy.Elements() {
			if float64(e.Since)/10 > v {
				continue
			}
			wantOrder = append(wantOrder, e.Name)
			if got[e.Name] != want[e.Name] {
				t.Errorf("%s: %s=%q, want %q", version, e.Name, got[e.Name], want[e.Name])
			}
		}
		if strings.Join(order, " ") != strings.Join(wantOrder, " ") {
			t.Errorf("%s elements:\n got %v\nwant %v", version, order, wantOrder)
		}
	}
}
