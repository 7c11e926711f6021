package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// Every certificate problem a phone refuses is found and named, from the
// served chain alone.
func TestProbeCertChecks(t *testing.T) {
	k := newTestPKI(t)
	day := 24 * time.Hour
	chain := func(c tls.Certificate) []*x509.Certificate {
		var out []*x509.Certificate
		for _, der := range c.Certificate {
			x, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, x)
		}
		return out
	}
	good := chain(k.leaf(t, -day, 90*day, "mail.example.test"))
	other := newTestPKI(t)
	for _, c := range []struct {
		name          string
		host          string
		certs         []*x509.Certificate
		roots         *x509.CertPool
		problem, warn string
	}{
		{name: "good", host: "mail.example.test", certs: good, roots: k.roots},
		{name: "good, other case", host: "MAIL.example.test", certs: good, roots: k.roots},
		{name: "expiring", host: "mail.example.test", certs: chain(k.leaf(t, -80*day, 5*day+time.Hour, "mail.example.test")), roots: k.roots, warn: "expires in 5 days"},
		{name: "expired", host: "mail.example.test", certs: chain(k.leaf(t, -90*day, -2*day-time.Hour, "mail.example.test")), roots: k.roots, problem: "expired on"},
		{name: "not yet valid", host: "mail.example.test", certs: chain(k.leaf(t, day, 90*day, "mail.example.test")), roots: k.roots, problem: "check the server's clock"},
		{name: "wrong name", host: "mail.example.test", certs: chain(k.leaf(t, -day, 90*day, "www.example.test", "example.test")), roots: k.roots,
			problem: "issued for www.example.test, example.test, not for mail.example.test"},
		{name: "self-signed", host: "mail.example.test", certs: chain(selfSignedCert(t, "mail.example.test")), roots: k.roots, problem: "self-signed"},
		{name: "no intermediate", host: "mail.example.test", certs: good[:1], roots: k.roots, problem: `no intermediate certificate, and phones do not know its issuer "Test Intermediate"`},
		{name: "unknown CA", host: "mail.example.test", certs: good, roots: other.roots, problem: `issued by "Test Root", which phones do not trust`},
		{name: "none", host: "mail.example.test", problem: "no certificate"},
	} {
		got := checkCerts(c.host, c.certs, c.roots, time.Now())
		problems, warns := strings.Join(got.Problems, "; "), strings.Join(got.Warnings, "; ")
		switch {
		case c.problem == "" && problems != "", c.problem != "" && !strings.Contains(problems, c.problem):
			t.Errorf("%s: problems %q, want %q", c.name, problems, c.problem)
		case c.warn == "" && warns != "", c.warn != "" && !strings.Contains(warns, c.warn):
			t.Errorf("%s: warnings %q, want %q", c.name, warns, c.warn)
		case got.Trusted != (c.problem == ""):
			t.Errorf("%s: trusted %v", c.name, got.Trusted)
		}
	}
	// An expired certificate from an unknown CA is both.
	got := checkCerts("mail.example.test", chain(k.leaf(t, -90*day, -day, "mail.example.test")), other.roots, time.Now())
	if len(got.Problems) != 2 {
		t.Errorf("expired and untrusted: %q", got.Problems)
	}
}

// The scheme that does not match the port is named in one line, and
// nothing else is tried.
func TestProbeSchemeMismatch(t *testing.T) {
	k := newTestPKI(t)
	tlsSrv := tlsServer(t, k.leaf(t, -time.Hour, 90*24*time.Hour, "mail.example.test"), http.NotFoundHandler())
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	fn := newFakeNet()
	fn.route("mail.example.test:80", addrOf(tlsSrv))
	fn.route("mail.example.test:443", plain.Listener.Addr().String())

	code, out := probeText(t, fn.probeNet(k.roots), "http://mail.example.test", "--user", "alice")
	if v, d := stepLine(t, out, "Connect"); code != 1 || v != "FAIL" || d != "http:// to a port that speaks TLS: use https://mail.example.test:80" {
		t.Errorf("http to TLS: exit %d\n%s", code, out)
	}
	if v, d := stepLine(t, out, "OPTIONS"); v != "skip" || d != "not tried: wrong scheme" {
		t.Errorf("after the wrong scheme: %s %s", v, d)
	}
	code, out = probeText(t, fn.probeNet(k.roots), "https://mail.example.test", "--user", "alice")
	if v, d := stepLine(t, out, "Connect"); code != 1 || v != "FAIL" || !strings.HasPrefix(d, "https:// to a port that speaks plain HTTP: use http://mail.example.test:443") {
		t.Errorf("https to plain: exit %d\n%s", code, out)
	}
	t.Logf("report:\n%s", out)
}

// The probe behind TLS servers with each kind of certificate: a phone's
// refusal stops it, --insecure goes on and still says what a phone would
// refuse, a certificate about to expire is a warning.
func TestProbeTLS(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) { c.HeartbeatMin = time.Second })
	k := newTestPKI(t)
	day := 24 * time.Hour
	fn := newFakeNet()
	n := fn.probeNet(k.roots)
	serve := func(cert tls.Certificate) {
		fn.route("mail.example.test:443", addrOf(tlsServer(t, cert, proxyTo(t, env.URL))))
	}
	args := []string{"https://mail.example.test", "--user", "alice", "--ping-heartbeat", "1s"}

	serve(k.leaf(t, -day, 90*day, "mail.example.test"))
	code, out := probeText(t, n, args...)
	if v, d := stepLine(t, out, "Connect"); code != 0 || v != "ok" || !strings.Contains(d, "certificate for mail.example.test, valid until") || !strings.Contains(d, "issued by Test Intermediate") {
		t.Errorf("good certificate: exit %d\n%s", code, out)
	}
	if v, d := stepLine(t, out, "Autodiscover"); v != "ok" || d != "https://mail.example.test/Microsoft-Server-ActiveSync" {
		t.Errorf("Autodiscover through the proxy: %s %s", v, d)
	}
	passed(t, out, "Ping")
	t.Logf("report:\n%s", out)

	serve(k.leaf(t, -80*day, 3*day+time.Hour, "mail.example.test"))
	code, out = probeText(t, n, args...)
	if v, d := stepLine(t, out, "Connect"); code != 0 || v != "warn" || !strings.HasPrefix(d, "expires in 3 days") {
		t.Errorf("expiring: exit %d\n%s", code, out)
	}

	for _, c := range []struct {
		name string
		cert tls.Certificate
		why  string
	}{
		{"expired", k.leaf(t, -90*day, -day, "mail.example.test"), "expired on"},
		{"wrong name", k.leaf(t, -day, 90*day, "www.example.test"), "issued for www.example.test, not for mail.example.test"},
		{"self-signed", selfSignedCert(t, "mail.example.test"), "self-signed"},
	} {
		serve(c.cert)
		code, out = probeText(t, n, args...)
		if v, d := stepLine(t, out, "Connect"); code != 1 || v != "FAIL" || !strings.Contains(d, "a phone refuses the certificate of mail.example.test: ") || !strings.Contains(d, c.why) {
			t.Errorf("%s: exit %d\n%s", c.name, code, out)
		}
		if v, d := stepLine(t, out, "Autodiscover"); v != "skip" || !strings.Contains(d, "--insecure") {
			t.Errorf("%s, after Connect: %s %s", c.name, v, d)
		}
		code, out = probeText(t, n, append(args, "--insecure")...)
		if v, d := stepLine(t, out, "Connect"); code != 0 || v != "warn" || !strings.HasPrefix(d, "--insecure: a phone would refuse the certificate: ") || !strings.Contains(d, c.why) {
			t.Errorf("%s, --insecure: exit %d\n%s", c.name, code, out)
		}
		passed(t, out, "Sync Inbox")
	}
	t.Logf("report:\n%s", out)
}
