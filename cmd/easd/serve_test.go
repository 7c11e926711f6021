package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
)

// Bad or missing configuration: one line naming the setting, exit code 2,
// nothing started.
func TestServeBadConfig(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "EASD_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "--database-url (EASD_DATABASE_URL): required"},
		{[]string{"--database-url=postgres://x/y"}, nil, "--imap-addr (EASD_IMAP_ADDR): required"},
		{[]string{"--database-url=postgres://x/y", "--imap-addr=imap:143"}, map[string]string{"EASD_SMTP_ADDR": "smtp:587", "EASD_IMAP_TLS": "sometimes"}, "--imap-tls (EASD_IMAP_TLS)"},
		{[]string{"--database-url=postgres://x/y", "--imap-addr=imap:143", "--smtp-addr=smtp:587", "--listen=nonsense"}, nil, "--listen (EASD_LISTEN)"},
		{[]string{"--database-url=postgres://x/y", "--imap-addr=imap:143", "--smtp-addr=smtp:587"}, map[string]string{"EASD_NEW_DEVICES": "maybe"}, "--new-devices (EASD_NEW_DEVICES)"},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		var out, errb bytes.Buffer
		code := run(append([]string{"serve"}, tc.args...), &out, &errb)
		msg := errb.String()
		if code != exitUsage || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("args %v env %v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, tc.env, code, msg, tc.want)
		}
		for k := range tc.env {
			os.Unsetenv(k)
		}
	}
	// Unknown subcommand and no subcommand are usage errors too.
	var errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &errb, &errb); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if code := run(nil, &errb, &errb); code != exitUsage {
		t.Errorf("no command: exit %d", code)
	}
}

// clearEASDEnv removes every EASD_* variable for the test, so the
// developer's own settings do not leak into a subcommand run in-process.
func clearEASDEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "EASD_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// A bad value on the command line is reported as the same single line as
// from the environment, naming --flag and its variable, never the usage.
func TestServeBadFlagOneLine(t *testing.T) {
	clearEASDEnv(t)
	base := []string{"--database-url=postgres://x/y", "--imap-addr=imap:143", "--smtp-addr=smtp:587"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--heartbeat-min=soon"}, "--heartbeat-min (EASD_HEARTBEAT_MIN)"},
		{[]string{"--max-devices", "many"}, "--max-devices (EASD_MAX_DEVICES)"},
		{[]string{"--enforce-provisioning=maybe"}, "--enforce-provisioning (EASD_ENFORCE_PROVISIONING)"},
		{[]string{"--imap-tls=sometimes"}, "--imap-tls (EASD_IMAP_TLS)"},
		{[]string{"--listen"}, "--listen (EASD_LISTEN)"},
		{[]string{"--no-such-setting=1"}, "--no-such-setting"},
	} {
		var out, errb bytes.Buffer
		code := run(append(append([]string{"serve"}, base...), tc.args...), &out, &errb)
		msg := errb.String()
		if code != exitUsage || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 || strings.Contains(msg, " -"+strings.TrimPrefix(tc.want, "--")) {
			t.Errorf("args %v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, msg, tc.want)
		}
	}
	// -h still prints the whole list, and is no error.
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "EASD_HEARTBEAT_MIN") {
		t.Errorf("serve -h: exit %d, %q", code, errb.String())
	}
}

// A certificate that does not load stops easd before anything is reported
// as serving, as a setting error.
func TestServeBadTLSCert(t *testing.T) {
	clearEASDEnv(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, []byte("not a certificate\n"), 0o600)
	os.WriteFile(key, []byte("not a key\n"), 0o600)
	args := []string{"serve", "--database-url=postgres://127.0.0.1:1/none", "--imap-addr=imap:143", "--smtp-addr=smtp:587",
		"--tls-cert=" + cert, "--tls-key=" + key}
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	msg := errb.String()
	if code != exitUsage || !strings.Contains(msg, "--tls-cert (EASD_TLS_CERT)") || strings.Count(msg, "\n") != 1 || strings.Contains(msg, "serving") {
		t.Errorf("exit %d, stderr %q; want exit 2 and one line naming --tls-cert", code, msg)
	}

	// A good certificate with a key that is not its own names --tls-key.
	certPEM, _ := selfSigned(t)
	_, otherKey := selfSigned(t)
	os.WriteFile(cert, certPEM, 0o600)
	os.WriteFile(key, otherKey, 0o600)
	errb.Reset()
	code = run(args, &out, &errb)
	if msg := errb.String(); code != exitUsage || !strings.Contains(msg, "--tls-key (EASD_TLS_KEY)") || strings.Count(msg, "\n") != 1 {
		t.Errorf("mismatched key: exit %d, stderr %q; want exit 2 and one line naming --tls-key", code, msg)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "easd.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"easd.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// --skip-migrations on a database without easd's schema refuses to start
// with one line that says what to do, instead of answering 500 to every
// request. The start-up line names easd's version.
func TestServeSchemaCheck(t *testing.T) {
	clearEASDEnv(t)
	c := testenv.PGCluster(t)
	ctx := context.Background()
	if err := c.CreateDatabase(ctx, "noschema", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropDatabase(context.Background(), "noschema") })
	var out, errb bytes.Buffer
	code := run([]string{"serve", "--database-url=" + c.DSN("noschema"), "--imap-addr=127.0.0.1:1", "--smtp-addr=127.0.0.1:1",
		"--listen=127.0.0.1:0", "--skip-migrations", "--log-format=text"}, &out, &errb)
	msg := errb.String()
	if code == 0 || !strings.Contains(msg, "run easd migrate") || strings.Contains(msg, "serving") {
		t.Errorf("exit %d, stderr %q; want a refusal that says to run easd migrate", code, msg)
	}
	if !strings.Contains(msg, "easd starting") || !strings.Contains(msg, "version="+version) {
		t.Errorf("no start-up line with the version: %q", msg)
	}
}

// Error lines say each prefix once, however the layers below wrapped it.
func TestOneLineCollapsesPrefixes(t *testing.T) {
	for in, want := range map[string]string{
		"easd device: device: list: boom":                  "easd device: list: boom",
		"imap: login: imap: NO [AUTHENTICATIONFAILED] bad": "imap: login: NO [AUTHENTICATIONFAILED] bad",
		"imap: imap: connect 1.2.3.4:143: refused":         "imap: connect 1.2.3.4:143: refused",
		"easd: invalid setting --listen (EASD_LISTEN): x":  "easd: invalid setting --listen (EASD_LISTEN): x",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
