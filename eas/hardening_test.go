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
