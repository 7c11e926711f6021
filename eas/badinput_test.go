package eas_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

// postRaw posts body as alice with the given query and headers.
func postRaw(t *testing.T, env *easdtest.Env, query string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/vnd.ms-sync.wbxml"}
	for k, v := range header {
		h[k] = v
	}
	code, hdr, b := env.Raw(t, http.MethodPost, "/Microsoft-Server-ActiveSync?"+query, "alice", h, body)
	return &http.Response{StatusCode: code, Header: hdr}, b
}

// Every malformed request gets the status the spec gives, is logged with
// user, device and command, and leaves the sync state as it was.
func TestBadInput(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.MaxBodyBytes = 64 << 10 })
	ctx := context.Background()
	c := env.Client("alice", "dev1")
	first, err := c.FolderSync(ctx, "0")
	if err != nil || first.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", first, err)
	}
	q := url.Values{"Cmd": {"FolderSync"}, "User": {"alice"}, "DeviceId": {"dev1"}, "DeviceType": {"TestPhone"}}
	v161 := map[string]string{"MS-ASProtocolVersion": "16.1"}
	v121 := map[string]string{"MS-ASProtocolVersion": "12.1"}
	garbage := "\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30" // truncated FolderSync

	// 16.1: malformed WBXML is Status 102 in the command's root element.
	resp, body := postRaw(t, env, q.Encode(), v161, garbage)
	if resp.StatusCode != 200 {
		t.Fatalf("malformed 16.1: HTTP %d", resp.StatusCode)
	}
	var fs message.FolderSyncResponse
	if err := wbxml.Unmarshal([]byte(body), &fs); err != nil || fs.Status != 102 {
		t.Fatalf("malformed 16.1: %+v %v", fs, err)
	}
	// 12.1: the same is HTTP 400.
	if resp, _ := postRaw(t, env, q.Encode(), v121, garbage); resp.StatusCode != 400 {
		t.Fatalf("malformed 12.1: HTTP %d", resp.StatusCode)
	}
	// Not WBXML at all.
	if resp, _ := postRaw(t, env, q.Encode(), v121, "<FolderSync/>"); resp.StatusCode != 400 {
		t.Fatalf("XML body 12.1: HTTP %d", resp.StatusCode)
	}
	// Unknown command: 501.
	uq := url.Values{"Cmd": {"Teleport"}, "User": {"alice"}, "DeviceId": {"dev1"}, "DeviceType": {"TestPhone"}}
	if resp, _ := postRaw(t, env, uq.Encode(), v161, ""); resp.StatusCode != 501 {
		t.Fatalf("unknown command: HTTP %d", resp.StatusCode)
	}
	// Missing DeviceId: 400.
	mq := url.Values{"Cmd": {"FolderSync"}, "User": {"alice"}, "DeviceType": {"TestPhone"}}
	if resp, _ := postRaw(t, env, mq.Encode(), v161, ""); resp.StatusCode != 400 {
		t.Fatalf("no DeviceId: HTTP %d", resp.StatusCode)
	}
	// Unsupported version: 400 naming the supported ones.
	resp, _ = postRaw(t, env, q.Encode(), map[string]string{"MS-ASProtocolVersion": "17.0"}, "")
	if resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("MS-ASProtocolVersions"), "16.1") {
		t.Fatalf("bad version: HTTP %d %v", resp.StatusCode, resp.Header)
	}
	// A body over the limit: 413, whether declared or streamed.
	big := strings.Repeat("x", 100<<10)
	if resp, _ := postRaw(t, env, q.Encode(), v161, big); resp.StatusCode != 413 {
		t.Fatalf("large body: HTTP %d", resp.StatusCode)
	}
	// Wrong password: 401 with a challenge.
	bad := env.Client("alice", "dev1")
	bad.Password = "nope"
	_, err = bad.FolderSync(ctx, first.SyncKey)
	if he, ok := err.(interface{ Error() string }); !ok || !strings.Contains(he.Error(), "401") {
		t.Fatalf("wrong password: %v", err)
	}

	// None of this moved the hierarchy state: the key still works and
	// reports no changes.
	next, err := c.FolderSync(ctx, first.SyncKey)
	if err != nil || next.Status != 1 || next.Changes.Count != 0 {
		t.Fatalf("state changed by bad requests: %+v %v", next, err)
	}

	logs := env.Logs()
	for _, want := range []string{
		`"user":"alice","device":"dev1","cmd":"FolderSync","eas_status":102`,
		`"cmd":"unknown"`,
		`"note":"unknown command \"Teleport\""`,
		`"status":413`,
		`"status":401`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

// A 12.1 client gets command statuses in the body like a 16.1 client: a
// stale FolderSync key is Status 9, not an HTTP error.
func TestCommandStatusOldVersion(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	c := env.Client("alice", "old")
	c.Version = "12.1"
	r, err := c.FolderSync(context.Background(), "{nope}3")
	if err != nil || r.Status != 9 {
		t.Fatalf("stale key on 12.1: %+v %v", r, err)
	}
}
