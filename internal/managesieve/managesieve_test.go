package managesieve_test

import (
	"context"
	"net"
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
