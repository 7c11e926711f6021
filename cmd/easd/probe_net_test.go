package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test network for the probe: made-up host names (example.test) that lead
// to loopback servers, and SRV answers from a table. Nothing leaves the
// machine.

// fakeNet maps "host:port" to a loopback address; any other name has no
// address, as in DNS.
type fakeNet struct {
	mu    sync.Mutex
	hosts map[string]string
	srv   map[string][]*net.SRV // by name, e.g. example.test
}

func newFakeNet() *fakeNet {
	return &fakeNet{hosts: map[string]string{}, srv: map[string][]*net.SRV{}}
}

func (f *fakeNet) route(hostPort, to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hosts[hostPort] = to
}

func (f *fakeNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	to, ok := f.hosts[addr]
	f.mu.Unlock()
	if !ok {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, to)
}

func (f *fakeNet) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cname := "_" + service + "._" + proto + "." + name
	if recs, ok := f.srv[name]; ok {
		return cname, recs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: cname, IsNotFound: true}
}

func (f *fakeNet) probeNet(roots *x509.CertPool) probeNet {
	return probeNet{dial: f.dial, srv: f, roots: roots}
}

// testPKI is a root CA, an intermediate, and leaf certificates signed by
// the intermediate, as a public CA issues them.
type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey *ecdsa.PrivateKey
	roots             *x509.CertPool
}

var serial int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func makeCert(t *testing.T, tmpl, parent *x509.Certificate, pub, signer any) *x509.Certificate {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	k := &testPKI{rootKey: newKey(t), interKey: newKey(t), roots: x509.NewCertPool()}
	now := time.Now()
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-365 * 24 * time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	rt := ca("Test Root")
	k.root = makeCert(t, rt, rt, &k.rootKey.PublicKey, k.rootKey)
	k.inter = makeCert(t, ca("Test Intermediate"), k.root, &k.interKey.PublicKey, k.rootKey)
	k.roots.AddCert(k.root)
	return k
}

// leaf issues a server certificate valid from notBefore to notAfter
// (relative to now) for names, served with its intermediate.
func (k *testPKI) leaf(t *testing.T, notBefore, notAfter time.Duration, names ...string) tls.Certificate {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	c := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: now.Add(notBefore), NotAfter: now.Add(notAfter),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		k.inter, &key.PublicKey, k.interKey)
	return tls.Certificate{Certificate: [][]byte{c.Raw, k.inter.Raw}, PrivateKey: key, Leaf: c}
}

// selfSignedCert is a certificate for names that signs itself.
func selfSignedCert(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	c := makeCert(t, tmpl, tmpl, &key.PublicKey, key)
	return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: key, Leaf: c}
}

// tlsServer serves h over TLS with cert on a loopback port.
func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	// Refused handshakes are what these servers are for, not news.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// proxyTo is a reverse proxy to easd at target that tells it the scheme
// and host the client used, as a TLS-terminating proxy in production does.
func proxyTo(t *testing.T, target string) http.Handler {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.SetXForwarded()
	}}
}

func addrOf(s *httptest.Server) string {
	return s.Listener.Addr().String()
}

// probeJSON runs the probe with --json on n and decodes its report.
func probeJSON(t *testing.T, n probeNet, args ...string) (int, *probeReport, string) {
	t.Helper()
	t.Setenv("EASD_PROBE_PASSWORD", "alice")
	var out, errb bytes.Buffer
	code := runProbeNet(append(args, "--json"), &out, &errb, n)
	var r probeReport
	dec := json.NewDecoder(strings.NewReader(out.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("report: %v\n%s\n%s", err, out.String(), errb.String())
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("more than one JSON document:\n%s", out.String())
	}
	return code, &r, out.String()
}

// probeText runs the probe on n and returns its text report.
func probeText(t *testing.T, n probeNet, args ...string) (int, string) {
	t.Helper()
	t.Setenv("EASD_PROBE_PASSWORD", "alice")
	var out, errb bytes.Buffer
	code := runProbeNet(args, &out, &errb, n)
	if errb.Len() > 0 {
		t.Errorf("stderr: %s", errb.String())
	}
	return code, out.String()
}

// stepOf finds step id in a report.
func stepOf(t *testing.T, r *probeReport, id string) *probeStep {
	t.Helper()
	for i := range r.Steps {
		if r.Steps[i].ID == id {
			return &r.Steps[i]
		}
	}
	t.Fatalf("no step %s in %+v", id, r.Steps)
	return nil
}
