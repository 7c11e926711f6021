package eas_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

// The conformance suite: request/response pairs written from the
// examples of the specifications (MS-ASCMD section 4, MS-ASPROV,
// MS-ASHTTP, ...), kept as XML in testdata/conformance, encoded to WBXML
// by package wbxml, replayed against a running easd and compared element
// by element with the expected answer.
//
// A pair file holds a few header lines, then sections:
//
//	# where the example comes from, and how it was adapted
//	cmd: Sync                  the command (Cmd=)
//	version: 14.1              MS-ASProtocolVersion
//	setup: mail                data the example needs: "mail" puts a
//	                           message into alice's Inbox first,
//	                           "meeting" an invitation from bob
//	ignore: SyncKey ServerId   elements whose content (text and children)
//	                           the server chooses: not compared
//	params: SaveInSent=T       extra query parameters
//	http: 200                  the expected HTTP status (default 200)
//	-- request.xml --          the request as XML (or request.mime: a raw
//	                           body sent as message/rfc822)
//	-- response.xml --         the expected answer; absent: an empty body
//
// In the request, {{folder:Inbox}} is the id of a folder (by display
// name, from a FolderSync the runner makes first), {{key:Inbox}} a sync
// key of it primed with Sync key 0, {{item:Inbox}} the ServerId of its
// first message, and {{folderkey}} the FolderSync key. Every pair runs
// against an easd of its own.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance pairs: %v", err)
	}
	var pairs []conformancePair
	for _, f := range files {
		p, err := readConformancePair(f)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p)
	}
	t.Run("coverage", func(t *testing.T) { conformanceCoverage(t, easdtest.Start(t, noPolicy), pairs) })
	for _, p := range pairs {
		// An easd (and mailbox) of its own: a pair's counts and ids do
		// not depend on which pairs ran before it.
		t.Run(p.name, func(t *testing.T) { p.run(t, easdtest.Start(t, noPolicy), "conformance") })
	}
}

// conformanceCoverage checks that every command easd advertises, and
// every version, has a pair, from what OPTIONS tells a client.
func conformanceCoverage(t *testing.T, env *easdtest.Env, pairs []conformancePair) {
	code, h, _ := env.Raw(t, http.MethodOptions, "/Microsoft-Server-ActiveSync", "alice", nil, "")
	if code != http.StatusOK {
		t.Fatalf("OPTIONS: %d", code)
	}
	var cmds, versions []string
	for _, p := range pairs {
		cmds, versions = append(cmds, p.cmd), append(versions, p.version)
	}
	for _, c := range strings.Split(h.Get("MS-ASProtocolCommands"), ",") {
		if !slices.Contains(cmds, c) {
			t.Errorf("advertised command %s has no conformance pair", c)
		}
	}
	for _, v := range strings.Split(h.Get("MS-ASProtocolVersions"), ",") {
		if !slices.Contains(versions, v) {
			t.Errorf("advertised version %s has no conformance pair", v)
		}
	}
}

type conformancePair struct {
	name, cmd, version string
	setup, ignore      []string
	params             url.Values
	httpStatus         int
	request            string // XML
	mime               string // raw message/rfc822 body
	response           string // XML; "" for an empty body
}

func readConformancePair(path string) (conformancePair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return conformancePair{}, err
	}
	p := conformancePair{name: strings.TrimSuffix(filepath.Base(path), ".txt"), httpStatus: 200, params: url.Values{}}
	sections := map[string]*strings.Builder{}
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "-- "); ok && strings.HasSuffix(name, " --") {
			cur = &strings.Builder{}
			sections[strings.TrimSuffix(name, " --")] = cur
			continue
		}
		if cur != nil {
			cur.WriteString(line)
			continue
		}
		key, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		value = strings.TrimSpace(value)
		switch key {
		case "", "#":
		case "cmd":
			p.cmd = value
		case "version":
			p.version = value
		case "setup":
			p.setup = strings.Fields(value)
		case "ignore":
			p.ignore = strings.Fields(value)
		case "params":
			if p.params, err = url.ParseQuery(value); err != nil {
				return p, fmt.Errorf("%s: params: %w", path, err)
			}
		case "http":
			if p.httpStatus, err = strconv.Atoi(value); err != nil {
				return p, fmt.Errorf("%s: http: %w", path, err)
			}
		default:
			if !strings.HasPrefix(key, "#") {
				return p, fmt.Errorf("%s: unknown header %q", path, key)
			}
		}
	}
	for name, sb := range sections {
		switch name {
		case "request.xml":
			p.request = sb.String()
		case "request.mime":
			p.mime = strings.ReplaceAll(strings.ReplaceAll(sb.String(), "\r\n", "\n"), "\n", "\r\n")
		case "response.xml":
			p.response = sb.String()
		default:
			return p, fmt.Errorf("%s: unknown section %q", path, name)
		}
	}
	if p.cmd == "" || p.version == "" {
		return p, fmt.Errorf("%s: cmd and version are required", path)
	}
	return p, nil
}

func (p conformancePair) run(t *testing.T, env *easdtest.Env, deviceID string) {
	ctx := context.Background()
	c := env.Client("alice", deviceID)
	c.Version = p.version
	if slices.Contains(p.setup, "mail") {
		env.Append(t, "alice", "INBOX", testMail(1))
	}
	if slices.Contains(p.setup, "meeting") {
		env.Append(t, "alice", "INBOX", invitation("REQUEST", "conformance@example.test", 0, "alice@example.test", "NEEDS-ACTION"))
	}
	vars := conformanceVars(t, c, p.request+p.mime)
	var ctype string
	var body []byte
	switch {
	case p.request != "":
		var buf bytes.Buffer
		if err := wbxml.ReadXML(&buf, strings.NewReader(vars.Replace(p.request))); err != nil {
			t.Fatalf("request: %v", err)
		}
		ctype, body = "application/vnd.ms-sync.wbxml", buf.Bytes()
	case p.mime != "":
		ctype, body = "message/rfc822", []byte(vars.Replace(p.mime))
	}
	for k, vs := range p.params {
		for i := range vs {
			vs[i] = vars.Replace(vs[i])
		}
		p.params[k] = vs
	}
	resp, data, err := c.DoRaw(ctx, p.cmd, p.params, ctype, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != p.httpStatus {
		t.Fatalf("HTTP %d, want %d", resp.StatusCode, p.httpStatus)
	}
	if p.response == "" {
		if len(data) != 0 {
			t.Errorf("want an empty body, got:\n%s", xmlOf(data))
		}
		return
	}
	var want bytes.Buffer
	if err := wbxml.ReadXML(&want, strings.NewReader(p.response)); err != nil {
		t.Fatalf("expected response: %v", err)
	}
	wantEl, err := wbxml.Parse(bytes.NewReader(want.Bytes()), wbxml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	gotEl, err := wbxml.Parse(bytes.NewReader(data), wbxml.Limits{})
	if err != nil {
		t.Fatalf("response is no WBXML document: %v (%q)", err, data)
	}
	if diffs := compareElements(wantEl, gotEl, p.ignore, wantEl.Name()); len(diffs) > 0 {
		t.Errorf("response differs:\n  %s\ngot:\n%s", strings.Join(diffs, "\n  "), xmlOf(data))
	}
}

// conformanceVars makes the values the placeholders of a request need.
func conformanceVars(t *testing.T, c *client.Client, text string) *strings.Replacer {
	t.Helper()
	if !strings.Contains(text, "{{") {
		return strings.NewReplacer()
	}
	ctx := context.Background()
	// The FolderSync is made as 14.1: older versions work as well, but
	// a pair of 2.5 must not depend on its own command for set-up.
	fc := *c
	fc.Version = "14.1"
	fr, err := fc.FolderSync(ctx, "0")
	if err != nil || fr.Status != 1 {
		t.Fatalf("set-up FolderSync: %+v %v", fr, err)
	}
	var repl []string
	repl = append(repl, "{{folderkey}}", fr.SyncKey)
	for _, f := range fr.Changes.Add {
		repl = append(repl, "{{folder:"+f.DisplayName+"}}", f.ServerID)
		if !strings.Contains(text, "{{key:"+f.DisplayName+"}}") && !strings.Contains(text, "{{item:"+f.DisplayName+"}}") {
			continue
		}
		sc := *c
		if v := parseVersionString(c.Version); v < 140 {
			sc.Version = "14.1" // a Class-less Sync; the state serves every version
		}
		r, err := sc.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{{SyncKey: "0", CollectionID: f.ServerID}}}})
		if err != nil || r.Collections == nil || len(r.Collections.Collection) != 1 {
			t.Fatalf("set-up Sync of %s: %+v %v", f.DisplayName, r, err)
		}
		key := r.Collections.Collection[0].SyncKey
		if strings.Contains(text, "{{item:"+f.DisplayName+"}}") {
			r, err = sc.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{{SyncKey: key, CollectionID: f.ServerID}}}})
			if err != nil || r.Collections == nil || len(r.Collections.Collection) != 1 {
				t.Fatalf("set-up Sync of %s: %+v %v", f.DisplayName, r, err)
			}
			rc := r.Collections.Collection[0]
			if rc.Commands == nil || len(rc.Commands.Add) == 0 {
				t.Fatalf("set-up: no item in %s", f.DisplayName)
			}
			key = rc.SyncKey
			repl = append(repl, "{{item:"+f.DisplayName+"}}", rc.Commands.Add[0].ServerID)
		}
		repl = append(repl, "{{key:"+f.DisplayName+"}}", key)
	}
	return strings.NewReplacer(repl...)
}

func parseVersionString(v string) int {
	major, minor, _ := strings.Cut(v, ".")
	a, _ := strconv.Atoi(major)
	b, _ := strconv.Atoi(minor)
	return a*10 + b
}

// compareElements lists how got differs from want: tags, text, and
// children in order. Elements named in ignore are compared by tag only.
func compareElements(want, got *wbxml.Element, ignore []string, path string) []string {
	if want.Tag != got.Tag {
		return []string{fmt.Sprintf("%s: element %s, want %s", path, got.Tag, want.Tag)}
	}
	if slices.Contains(ignore, want.Name()) {
		return nil
	}
	var diffs []string
	if w, g := contentOf(want), contentOf(got); w != g {
		diffs = append(diffs, fmt.Sprintf("%s: content %q, want %q", path, g, w))
	}
	for i := 0; i < max(len(want.Children), len(got.Children)); i++ {
		switch {
		case i >= len(got.Children):
			diffs = append(diffs, fmt.Sprintf("%s: missing %s", path, want.Children[i].Tag))
		case i >= len(want.Children):
			diffs = append(diffs, fmt.Sprintf("%s: extra %s", path, got.Children[i].Tag))
		default:
			diffs = append(diffs, compareElements(want.Children[i], got.Children[i], ignore, path+"/"+want.Children[i].Name())...)
		}
	}
	return diffs
}

func contentOf(e *wbxml.Element) string {
	if e.Opaque != nil {
		return string(e.Opaque)
	}
	return e.Text
}

func xmlOf(data []byte) string {
	var b strings.Builder
	if err := wbxml.WriteXML(&b, bytes.NewReader(data)); err != nil {
		return fmt.Sprintf("%q (%v)", data, err)
	}
	return b.String()
}
