package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

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
// provisioning gets the new value. Assigning a policy to the phone's
// device type and taking it away again does the same.
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
		c := env.Client("alice", "phone"+strings.ReplaceAll(version, ".", ""))
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

		// A policy for the phone's device type (any case), then back.
		name := "type" + strconv.Itoa(i)
		if code, _, errOut := pol("create", name, "--set", "AllowBrowser=false"); code != 0 {
			t.Fatalf("create: %d %q", code, errOut)
		}
		if code, _, errOut := pol("assign", name, "--device-type", strings.ToLower(c.DeviceType)); code != 0 {
			t.Fatalf("assign: %d %q", code, errOut)
		}
		if st, _ := syncStatus(t, c, inbox, key); st != refresh {
			t.Fatalf("%s Sync after assigning: %d, want %d", version, st, refresh)
		}
		if doc := provisionDoc(t, c); doc.AllowBrowser || !doc.AllowCamera {
			t.Fatalf("%s type policy not sent: %+v", version, doc)
		}
		if code, _, errOut := pol("unassign", "--device-type", c.DeviceType); code != 0 {
			t.Fatalf("unassign: %d %q", code, errOut)
		}
		if st, _ := syncStatus(t, c, inbox, key); st != refresh {
			t.Fatalf("%s Sync after unassigning: %d, want %d", version, st, refresh)
		}
		if doc := provisionDoc(t, c); !doc.AllowBrowser || doc.AllowCamera {
			t.Fatalf("%s default policy not sent again: %+v", version, doc)
		}
		if st, _ := syncStatus(t, c, inbox, key); st != 1 {
			t.Fatalf("%s Sync with the default policy again: %d", version, st)
		}
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
