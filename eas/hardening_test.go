package eas_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/easd/easd/internal/easdtest"
)

// scrape returns the server's /metrics text.
func scrape(t *testing.T, env *easdtest.Env) string {
	t.Helper()
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var cmdLabel = regexp.MustCompile(`easd_http_requests_total\{cmd="([^"]*)"`)

// Made-up command names, signed in or not, never become metric labels:
// each would be a series kept for the life of the process (20,000 names
// once cost 80 MB of RSS and a 400 MB scrape).
func TestMetricLabelsOnlyKnownCommands(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	for i := 0; i < 300; i++ {
		user := ""
		if i%10 == 0 {
			user = "alice"
		}
		env.Raw(t, "POST", fmt.Sprintf("/Microsoft-Server-ActiveSync?Cmd=Made%dUp&User=x&DeviceId=d1&DeviceType=T", i),
			user, map[string]string{"MS-ASProtocolVersion": "14.1"}, "")
	}
	labels := map[string]bool{}
	for _, m := range cmdLabel.FindAllStringSubmatch(scrape(t, env), -1) {
		labels[m[1]] = true
	}
	for l := range labels {
		if regexp.MustCompile(`^Made\d+Up$`).MatchString(l) {
			t.Fatalf("a made-up command became a metric label: %q (%d labels)", l, len(labels))
		}
	}
	if !labels["unknown"] {
		t.Fatalf("unknown commands not counted under one label: %v", labels)
	}
}

// NUL bytes (and other control characters) in the Basic user name, the
// password or DeviceType are refused with 400 before they reach the mail
// server or PostgreSQL (which cannot store a NUL and answered 500).
func TestControlCharactersRefusedAtTheEdge(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	const q = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=dev1&DeviceType="
	for _, tc := range []struct {
		name, user, pass, deviceType string
	}{
		{"NUL in user name", "ali\x00ce", "alice", "TestPhone"},
		{"NUL after user name", "alice\x00", "alice", "TestPhone"},
		{"newline in user name", "alice\nx", "alice", "TestPhone"},
		{"NUL in password", "alice", "alice\x00", "TestPhone"},
		{"NUL in DeviceType", "alice", "alice", "Test%00Phone"},
		{"escape in DeviceType", "alice", "alice", "Test%1bPhone"},
	} {
		code, _, _ := env.Raw(t, "POST", q+tc.deviceType, "", map[string]string{
			"Authorization": basic(tc.user, tc.pass), "MS-ASProtocolVersion": "14.1",
			"Content-Type": "application/vnd.ms-sync.wbxml",
		}, "")
		if code != 400 {
			t.Errorf("%s: HTTP %d, want 400", tc.name, code)
		}
	}
	if code, _, _ := env.Raw(t, "POST", q+"TestPhone", "alice", map[string]string{"MS-ASProtocolVersion": "14.1"}, ""); code != 200 {
		t.Fatalf("a plain request afterwards: HTTP %d", code)
	}
}
