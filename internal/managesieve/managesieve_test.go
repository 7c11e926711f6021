package managesieve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/managesieve"
	"github.com/easd/easd/internal/testenv"
)

func startDovecot(t *testing.T) *dovecot.Server {
	sink := testenv.SMTP(t)
	return testenv.DovecotWith(t, dovecot.Config{Users: map[string]string{"alice": "alice"},
		Sieve: &dovecot.SieveConfig{SubmissionHost: sink.Addr()}})
}

// TestManageSieve runs every command the client has against Dovecot's
// ManageSieve: upload, check, list, read back, activate, delete.
func TestManageSieve(t *testing.T) {
	srv := startDovecot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := managesieve.Dial(ctx, srv.ManageSieveAddr(), managesieve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ext := strings.Join(c.Extensions(), " "); !strings.Contains(ext, "vacation") || !strings.Contains(ext, "include") {
		t.Fatalf("extensions: %s", ext)
	}
	if err := c.AuthenticatePlain("", "alice", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := c.AuthenticatePlain("", "alice", "alice"); err != nil {
		t.Fatal(err)
	}
	if list, err := c.ListScripts(); err != nil || len(list) != 0 {
		t.Fatalf("initial list: %v, %v", list, err)
	}
	// A script with quotes, backslashes, line breaks and non-ASCII text
	// travels as a literal and comes back byte for byte.
	script := "require [\"fileinto\"];\r\n# \"quoted\" \\ back-slash, Grüße\r\nif header :contains \"subject\" \"x\" { fileinto \"INBOX\"; }\r\n"
	if err := c.CheckScript(script); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckScript("this is not sieve;"); err == nil {
		t.Fatal("a broken script passed CHECKSCRIPT")
	}
	if err := c.PutScript("broken", "if {"); err == nil {
		t.Fatal("a broken script was stored")
	}
	if err := c.PutScript("my \"rules\"", script); err != nil {
		t.Fatal(err)
	}
	if err := c.SetActive("my \"rules\""); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetScript("my \"rules\"")
	if err != nil || got != script {
		t.Fatalf("GETSCRIPT: %q, %v", got, err)
	}
	if _, err := c.GetScript("missing"); !managesieve.IsCode(err, "NONEXISTENT") {
		t.Fatalf("missing script: %v", err)
	}
	if active, err := c.Active(); err != nil || active != "my \"rules\"" {
		t.Fatalf("active: %q, %v", active, err)
	}
	if err := c.SetActive(""); err != nil {
		t.Fatal(err)
	}
	if active, err := c.Active(); err != nil || active != "" {
		t.Fatalf("active after deactivation: %q, %v", active, err)
	}
	if err := c.DeleteScript("my \"rules\""); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(); err != nil {
		t.Fatal(err)
	}
}

// TestManageSieveStartTLSRequired: a server that offers no STARTTLS is
// refused in STARTTLS mode rather than spoken to in clear text.
func TestManageSieveStartTLSRequired(t *testing.T) {
	srv := startDovecot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := managesieve.Dial(ctx, srv.ManageSieveAddr(), managesieve.Options{TLS: managesieve.TLSStartTLS}); err == nil {
		c.Close()
		t.Fatal("STARTTLS mode accepted a server without STARTTLS")
	}
}

// TestManageSieveStartTLS: with STARTTLS offered, the client upgrades,
// verifies the certificate, reads the capabilities again and signs in
// over TLS; a certificate it cannot verify is refused.
func TestManageSieveStartTLS(t *testing.T) {
	dir := t.TempDir()
	pool := writeCert(t, dir)
	sink := testenv.SMTP(t)
	srv := testenv.DovecotWith(t, dovecot.Config{Users: map[string]string{"alice": "alice"},
		Sieve: &dovecot.SieveConfig{SubmissionHost: sink.Addr(),
			TLSCert: filepath.Join(dir, "cert.pem"), TLSKey: filepath.Join(dir, "key.pem")}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := managesieve.Dial(ctx, srv.ManageSieveAddr(), managesieve.Options{TLS: managesieve.TLSStartTLS,
		TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.Capability("STARTTLS"); ok {
		t.Error("STARTTLS still offered after the upgrade: the capabilities were not read again")
	}
	if err := c.AuthenticatePlain("", "alice", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListScripts(); err != nil {
		t.Fatal(err)
	}
	if c, err := managesieve.Dial(ctx, srv.ManageSieveAddr(), managesieve.Options{TLS: managesieve.TLSStartTLS}); err == nil {
		c.Close()
		t.Error("an unverifiable certificate was accepted")
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 to dir
// (cert.pem, key.pem) and returns a pool that trusts it.
func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// TestManageSieveDeadline: a server that never answers does not hang the
// client past its timeout.
func TestManageSieveDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	_, err = managesieve.Dial(context.Background(), ln.Addr().String(), managesieve.Options{Timeout: 300 * time.Millisecond})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("silent server: %v after %v", err, time.Since(start))
	}
}
