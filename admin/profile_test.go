package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// The runtime profiles are served to token holders only, and the command
// line (which may hold a secret given as a flag) not at all.
func TestProfilesNeedAToken(t *testing.T) {
	e := startAdmin(t)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/profile?seconds=1"} {
		if code, body := e.call(t, http.MethodGet, path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d %s", path, code, body)
		}
		if code, body := e.call(t, http.MethodGet, path, "not-a-token", ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d %s", path, code, body)
		}
	}
	got := e.want(t, http.StatusOK, http.MethodGet, "/debug/pprof/goroutine?debug=1", "", nil)
	if !strings.Contains(got, "goroutine profile:") {
		t.Errorf("goroutine dump: %.200s", got)
	}
	if got := e.want(t, http.StatusOK, http.MethodGet, "/debug/pprof/profile?seconds=1", "", nil); len(got) == 0 {
		t.Error("empty CPU profile")
	}
	if got := e.want(t, http.StatusOK, http.MethodGet, "/debug/pprof/heap", "", nil); len(got) == 0 {
		t.Error("empty heap profile")
	}
	if code, _ := e.call(t, http.MethodGet, "/debug/pprof/cmdline", e.Token, ""); code != http.StatusNotFound {
		t.Errorf("cmdline: %d, want 404", code)
	}
}
