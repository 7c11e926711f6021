package eas

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
)

// countingVerifier accepts one password per login and counts calls; it
// stands in for the IMAP server in these pure-logic tests (the end-to-end
// tests use Dovecot).
type countingVerifier struct {
	passwords map[string]string
	calls     atomic.Int32
	down      bool
}

func (v *countingVerifier) Verify(_ context.Context, login, password string) error {
	v.calls.Add(1)
	if v.down {
		return errors.New("connection refused")
	}
	if p, ok := v.passwords[login]; ok && p == password {
		return nil
	}
	return ErrBadCredentials
}

func TestAuthCacheAndForms(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"alice": "s3cret", "bob@example.com": "pw"}}
	a := NewAuthenticator(v, AuthOptions{Form: config.LoginLocal, Domain: "example.com", TTL: time.Minute})
	ctx := context.Background()

	for i := 0; i < 5; i++ {
		c, err := a.Authenticate(ctx, request("alice@example.com", "s3cret"), "10.0.0.1")
		if err != nil || c.Login != "alice" || c.Password != "s3cret" {
			t.Fatalf("login %d: %+v %v", i, c, err)
		}
	}
	if n := v.calls.Load(); n != 1 {
		t.Fatalf("%d IMAP logins for 5 requests, want 1 (cache)", n)
	}
	// Another password is not served from the cache.
	if _, err := a.Authenticate(ctx, request("alice", "wrong"), "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	// Windows DOMAIN\user form.
	if c, err := a.Authenticate(ctx, request(`CORP\alice`, "s3cret"), "10.0.0.1"); err != nil || c.Login != "alice" {
		t.Fatalf("domain form: %+v %v", c, err)
	}
	// Address form adds the domain.
	b := NewAuthenticator(v, AuthOptions{Form: config.LoginAddress, Domain: "example.com", TTL: time.Minute})
	if c, err := b.Authenticate(ctx, request("bob", "pw"), ""); err != nil || c.Login != "bob@example.com" {
		t.Fatalf("address form: %+v %v", c, err)
	}
	// Missing or malformed header.
	r := httptest.NewRequest("POST", "/", nil)
	if _, err := a.Authenticate(ctx, r, ""); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("no header: %v", err)
	}
	r.Header.Set("Authorization", "Basic !!!")
	if _, err := a.Authenticate(ctx, r, ""); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("bad header: %v", err)
	}
	// Server down: not a credential failure, nothing cached.
	v.down = true
	if _, err := a.Authenticate(ctx, request("bob@example.com", "pw"), ""); err == nil || errors.Is(err, ErrBadCredentials) {
		t.Fatalf("server down: %v", err)
	}
}

func request(user, pass string) *http.Request {
	r := httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync", nil)
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	return r
}

// Outlook sends credentials in ISO-8859-1.
func TestAuthLatin1(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"jürgen": "grüße"}}
	a := NewAuthenticator(v, AuthOptions{Form: config.LoginAsGiven, Domain: "", TTL: time.Minute})
	r := httptest.NewRequest("POST", "/", nil)
	latin1 := []byte{'j', 0xfc, 'r', 'g', 'e', 'n', ':', 'g', 'r', 0xfc, 0xdf, 'e'}
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(latin1))
	c, err := a.Authenticate(context.Background(), r, "")
	if err != nil || c.Login != "jürgen" {
		t.Fatalf("latin-1: %+v %v", c, err)
	}
	if c, err := a.Authenticate(context.Background(), request("jürgen", "grüße"), ""); err != nil || c.Login != "jürgen" {
		t.Fatalf("utf-8: %+v %v", c, err)
	}
}

// Failed logins lock the user and then the address out without asking the
// mail server, with growing back-off; a success resets the user's count.
func TestAuthThrottle(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"alice": "right"}}
	a := NewAuthenticator(v, AuthOptions{Form: config.LoginAsGiven, Domain: "", TTL: time.Minute})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	ctx := context.Background()

	for i := 0; i < userFreeFailures; i++ {
		if _, err := a.Authenticate(ctx, request("alice", "wrong"), "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	// One more failure locks the user for a second.
	if _, err := a.Authenticate(ctx, request("alice", "wrong"), "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	calls := v.calls.Load()
	_, err := a.Authenticate(ctx, request("alice", "right"), "192.0.2.9")
	if !errors.Is(err, ErrThrottled) {
		t.Fatalf("locked user: %v", err)
	}
	if v.calls.Load() != calls {
		t.Fatal("a locked-out login reached the mail server")
	}
	now = now.Add(2 * time.Second)
	if _, err := a.Authenticate(ctx, request("alice", "right"), "192.0.2.9"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// The lockout doubles with each further failure, capped.
	for i := 0; i < 30; i++ {
		now = now.Add(time.Hour + time.Minute) // failures are forgotten after an hour
		_, _ = a.Authenticate(ctx, request("mallory", "x"), "198.51.100.7")
	}
	for i := 0; i < 12; i++ {
		_, _ = a.Authenticate(ctx, request("mallory", "x"), "198.51.100.7")
		now = now.Add(maxLockout + time.Second)
	}
	if w := a.lockedFor("mallory", ""); w > maxLockout {
		t.Fatalf("lockout %v over the cap", w)
	}
	// Many users from one address: the address is locked after its allowance.
	for i := 0; i < addrFreeFailures+1; i++ {
		_, _ = a.Authenticate(ctx, request("user"+string(rune('a'+i)), "x"), "203.0.113.5")
	}
	if _, err := a.Authenticate(ctx, request("alice", "right"), "203.0.113.5"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("locked address: %v", err)
	}
}

// The logins tried for a name depend only on the mailbox, never on how the
// phone spelled it, so every spelling ends as the same canonical login.
func TestLoginsTried(t *testing.T) {
	auto := NewAuthenticator(nil, AuthOptions{Form: config.LoginAuto, Case: config.CaseLower, Domain: "Example.test"})
	keep := NewAuthenticator(nil, AuthOptions{Form: config.LoginAsGiven, Case: config.CaseAsGiven, Domain: "example.test"})
	for _, tc := range []struct {
		a    *Authenticator
		user string
		want string
	}{
		{auto, "demo", "demo demo@example.test"},
		{auto, "DEMO", "demo demo@example.test"},
		{auto, "Demo@EXAMPLE.test", "demo demo@example.test"},
		{auto, `CORP\Demo`, "demo demo@example.test"},
		{auto, " demo@example.test ", "demo demo@example.test"},
		{auto, "demo@other.org", "demo@other.org"},
		{auto, "@example.test", "@example.test"},
		{keep, "Demo", "Demo"},
		{keep, "Demo@example.test", "Demo@example.test"},
	} {
		if got := strings.Join(tc.a.Logins(tc.user), " "); got != tc.want {
			t.Errorf("%q: tried %q, want %q", tc.user, got, tc.want)
		}
	}
}

// Under auto, a server that knows only addresses is asked the bare name
// first once; later cache misses ask the address first.
func TestLoginAutoRemembersForm(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"carol@example.test": "pw"}}
	a := NewAuthenticator(v, AuthOptions{Form: config.LoginAuto, Domain: "example.test"})
	ctx := context.Background()
	c, err := a.Authenticate(ctx, request("Carol", "pw"), "")
	if err != nil || c.Login != "carol@example.test" || v.calls.Load() != 2 {
		t.Fatalf("first: %+v %v, %d calls", c, err, v.calls.Load())
	}
	a.cache = map[[32]byte]cached{} // the cache expired
	c, err = a.Authenticate(ctx, request("carol@example.test", "pw"), "")
	if err != nil || c.Login != "carol@example.test" || v.calls.Load() != 3 {
		t.Fatalf("second: %+v %v, %d calls", c, err, v.calls.Load())
	}
}
