package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// Each way a phone looks for its server from alice@example.test, in its
// order, stopping at the first answer; the ones that fail are named.
func TestProbeDiscover(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) {
		c.HeartbeatMin = time.Second
		c.PublicURL = "https://mail.example.test"
	})
	k := newTestPKI(t)
	year := 365 * 24 * time.Hour
	easd := proxyTo(t, env.URL)
	mail := addrOf(tlsServer(t, k.leaf(t, -time.Hour, year, "mail.example.test"), easd))
	adHost := addrOf(tlsServer(t, k.leaf(t, -time.Hour, year, "autodiscover.example.test"), easd))
	apex := addrOf(tlsServer(t, k.leaf(t, -time.Hour, year, "example.test"), easd))
	// The domain's web site: its own certificate, nothing at the
	// Autodiscover path, or a certificate only for www.
	website := addrOf(tlsServer(t, k.leaf(t, -time.Hour, year, "example.test", "www.example.test"), http.NotFoundHandler()))
	wwwOnly := addrOf(tlsServer(t, k.leaf(t, -time.Hour, year, "www.example.test"), http.NotFoundHandler()))
	redirectTo := func(loc string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
				t.Errorf("redirect method: %s with Authorization %q", r.Method, r.Header.Get("Authorization"))
			}
			http.Redirect(w, r, loc, http.StatusFound)
		}))
		t.Cleanup(s.Close)
		return s.Listener.Addr().String()
	}

	const ad = "/autodiscover/autodiscover.xml"
	for _, c := range []struct {
		name   string
		routes map[string]string
		srv    []*net.SRV
		want   string // the step's result
		detail string
		// attempts: result per method, in order
		attempts [4]string
		attempt  string // a detail one of them has
	}{
		{name: "domain", routes: map[string]string{"example.test:443": apex},
			want: "ok", detail: "alice@example.test leads phones here (domain)", attempts: [4]string{"ok", "skip", "skip", "skip"}},
		{name: "autodiscover host after a web site", routes: map[string]string{"example.test:443": website, "autodiscover.example.test:443": adHost},
			want: "ok", detail: "(autodiscover_host)", attempts: [4]string{"none", "ok", "skip", "skip"}, attempt: "HTTP 404: no Autodiscover here"},
		{name: "web site certificate without the domain", routes: map[string]string{"example.test:443": wwwOnly, "autodiscover.example.test:443": adHost},
			want: "warn", detail: "after a detour: https://example.test" + ad + ": a phone refuses its certificate: issued for www.example.test, not for example.test",
			attempts: [4]string{"fail", "ok", "skip", "skip"}},
		{name: "redirect", routes: map[string]string{"autodiscover.example.test:80": redirectTo("https://mail.example.test" + ad)},
			want: "ok", detail: "(redirect)", attempts: [4]string{"none", "none", "ok", "skip"},
			attempt: "redirects to https://mail.example.test" + ad + "; names https://mail.example.test/Microsoft-Server-ActiveSync"},
		{name: "redirect to http", routes: map[string]string{"autodiscover.example.test:80": redirectTo("http://mail.example.test" + ad)},
			want: "warn", detail: "phones cannot find the server from alice@example.test", attempts: [4]string{"none", "none", "fail", "none"},
			attempt: "phones follow only a redirect to https"},
		{name: "SRV", routes: map[string]string{"mail.example.test:8443": mail}, srv: []*net.SRV{{Target: "mail.example.test.", Port: 8443, Priority: 0, Weight: 0}},
			want: "ok", detail: "(srv)", attempts: [4]string{"none", "none", "none", "ok"},
			attempt: "points to https://mail.example.test:8443" + ad},
		{name: "nothing", want: "warn", detail: "phones cannot find the server from alice@example.test", attempts: [4]string{"none", "none", "none", "none"},
			attempt: "no SRV record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fn := newFakeNet()
			fn.route("mail.example.test:443", mail)
			for from, to := range c.routes {
				fn.route(from, to)
			}
			if c.srv != nil {
				fn.srv["example.test"] = c.srv
			}
			code, r, out := probeJSON(t, fn.probeNet(k.roots), "https://mail.example.test", "--user", "alice", "--email", "alice@example.test", "--ping-heartbeat", "1s")
			checkJSONReport(t, r, out)
			s := stepOf(t, r, "discover")
			var got [4]string
			details := ""
			for i, a := range s.Attempts {
				if i < 4 {
					got[i] = a.Result
				}
				details += a.Detail + "\n"
			}
			methods := []string{}
			for _, a := range s.Attempts {
				methods = append(methods, a.Method+" "+a.URL)
			}
			wantMethods := []string{"domain https://example.test" + ad, "autodiscover_host https://autodiscover.example.test" + ad,
				"redirect http://autodiscover.example.test" + ad, "srv _autodiscover._tcp.example.test"}
			switch {
			case code != 0 || r.Result == "fail":
				t.Errorf("exit %d, result %s", code, r.Result)
			case s.Result != c.want || !strings.Contains(s.Detail, c.detail):
				t.Errorf("step: %s %q; want %s %q", s.Result, s.Detail, c.want, c.detail)
			case got != c.attempts:
				t.Errorf("attempts %v, want %v\n%s", got, c.attempts, details)
			case fmt.Sprint(methods) != fmt.Sprint(wantMethods):
				t.Errorf("methods %q", methods)
			case !strings.Contains(details, c.attempt):
				t.Errorf("no attempt says %q:\n%s", c.attempt, details)
			}
			if t.Failed() {
				t.Logf("report:\n%s", out)
			}
		})
	}

	// The text form lists the attempts under the step.
	fn := newFakeNet()
	fn.route("mail.example.test:443", mail)
	fn.route("autodiscover.example.test:80", redirectTo("https://mail.example.test"+ad))
	code, out := probeText(t, fn.probeNet(k.roots), "https://mail.example.test", "--user", "alice", "--email", "alice@example.test", "--quick", "--ping-heartbeat", "1s")
	if v, _ := stepLine(t, out, "Discover"); code != 0 || v != "ok" ||
		!strings.Contains(out, "\n        ok   ") || !strings.Contains(out, "ms  http://autodiscover.example.test"+ad+": redirects to https://mail.example.test"+ad) {
		t.Errorf("text report: exit %d\n%s", code, out)
	}
	t.Logf("report:\n%s", out)
}
