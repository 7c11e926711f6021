package eas

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/testenv"
)

// countingVerifier accepts one password per login and counts calls; it
// stands in for the IMAP server in these pure-logic tests (the end-to-end
// tests use Dovecot).
type countingVerifier struct {
	passwords map[string]string
	calls     atomic.Int32
	down      bool
	delay     time.Duration // a mail server's time to answer
}

func (v *countingVerifier) Verify(_ context.Context, login, password string) error {
	v.calls.Add(1)
	time.Sleep(v.delay)
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

// throttled returns an Authenticator on a fresh database with a clock the
// test moves, and the clock.
func throttled(t *testing.T, v Verifier) (*Authenticator, *time.Time) {
	t.Helper()
	db := testenv.PG(t)
	a := NewAuthenticator(v, AuthOptions{Form: config.LoginAsGiven, TTL: time.Minute, Pool: db.Pool})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	return a, &now
}

// Parallel guesses of one user's password are counted before the mail
// server is asked: no more reach it than the allowance, however many
// arrive at once.
func TestThrottleParallelGuesses(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"alice": "right"}, delay: 20 * time.Millisecond}
	a, _ := throttled(t, v)
	var wg sync.WaitGroup
	var refused, wrong atomic.Int32
	for i := 0; i < 150; i++ {
		wg.Go(func() {
			_, err := a.Authenticate(context.Background(), request("alice", fmt.Sprint("guess", i)), "192.0.2.1")
			switch {
			case errors.Is(err, ErrThrottled):
				refused.Add(1)
			case errors.Is(err, ErrBadCredentials):
				wrong.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := v.calls.Load(); n > int32(pairRule.free) {
		t.Fatalf("%d of 150 parallel guesses reached the mail server, allowance %d", n, pairRule.free)
	}
	// The same wrong password sent at once by many requests is one check.
	v.calls.Store(0)
	b, _ := throttled(t, v)
	for i := 0; i < 20; i++ {
		wg.Go(func() { _, _ = b.Authenticate(context.Background(), request("bob", "same"), "192.0.2.2") })
	}
	wg.Wait()
	if n := v.calls.Load(); n > 5 {
		t.Fatalf("20 identical parallel logins asked the mail server %d times", n)
	}
}

// Delays grow with each further failure, up to a cap, and end: nothing is
// locked for good.
func TestThrottleGrowingDelays(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"alice": "right"}}
	a, now := throttled(t, v)
	ctx := context.Background()
	fail := func() error {
		_, err := a.Authenticate(ctx, request("alice", "wrong"), "192.0.2.1")
		return err
	}
	for i := 0; i < pairRule.free; i++ {
		if err := fail(); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	want := time.Second
	for i := 0; i < 14; i++ {
		var te *ThrottledError
		if err := fail(); !errors.As(err, &te) || te.Wait != want {
			t.Fatalf("after %d failures: %v, want a wait of %v", pairRule.free+i, err, want)
		}
		*now = now.Add(want)
		if err := fail(); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("after waiting %v: %v", want, err)
		}
		want = min(2*want, pairRule.maxDelay)
	}
	// The right password after the wait clears the pair.
	*now = now.Add(want)
	if _, err := a.Authenticate(ctx, request("alice", "right"), "192.0.2.1"); err != nil {
		t.Fatalf("right password after the wait: %v", err)
	}
	a.cache = map[[32]byte]cached{}
	if err := fail(); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a failure after a success: %v", err)
	}
	// An hour of quiet forgets everything.
	*now = now.Add(throttleMemory + time.Minute)
	for i := 0; i < pairRule.free; i++ {
		if err := fail(); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("after an hour, failure %d: %v", i, err)
		}
	}
}

// Failures from one address do not keep the user from signing in from
// another, and a phone whose password is cached is never held; an address
// trying many users is held, and a user tried from very many addresses
// only far later.
func TestThrottleStrangersCannotLockOut(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"alice": "right", "bob": "right"}}
	a, now := throttled(t, v)
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		_, _ = a.Authenticate(ctx, request("alice", "wrong"), "198.51.100.7")
		*now = now.Add(time.Second)
	}
	if _, err := a.Authenticate(ctx, request("alice", "right"), "192.0.2.1"); err != nil {
		t.Fatalf("alice from her own address after a stranger's failures: %v", err)
	}
	// One address, many users.
	for i := 0; i < addrRule.free; i++ {
		if _, err := a.Authenticate(ctx, request(fmt.Sprint("user", i), "x"), "203.0.113.5"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("user %d: %v", i, err)
		}
	}
	if _, err := a.Authenticate(ctx, request("carol", "x"), "203.0.113.5"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("address past its allowance: %v", err)
	}
	// Many addresses, one user: held only past the user-wide allowance.
	if _, err := a.Authenticate(ctx, request("bob", "right"), "192.0.2.50"); err != nil {
		t.Fatal(err) // bob's phone: cached from here on
	}
	for i := 0; i < userRule.free; i++ {
		_, err := a.Authenticate(ctx, request("bob", "wrong"), fmt.Sprintf("10.0.%d.%d", i/200, i%200))
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("bob from address %d: %v", i, err)
		}
	}
	if _, err := a.Authenticate(ctx, request("bob", "wrong"), "10.9.9.9"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("user past the user-wide allowance: %v", err)
	}
	if _, err := a.Authenticate(ctx, request("bob", "right"), "192.0.2.50"); err != nil {
		t.Fatalf("bob's cached phone during an attack on bob: %v", err)
	}
}

// Two instances share the throttle: moving to the other is no way around it.
func TestThrottleSharedByInstances(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{"alice": "right"}}
	a, now := throttled(t, v)
	b := NewAuthenticator(v, AuthOptions{Form: config.LoginAsGiven, TTL: time.Minute, Pool: a.throttle.pool})
	b.now = func() time.Time { return *now }
	ctx := context.Background()
	for i := 0; i < pairRule.free; i++ {
		_, _ = a.Authenticate(ctx, request("alice", "wrong"), "192.0.2.1")
	}
	calls := v.calls.Load()
	if _, err := b.Authenticate(ctx, request("alice", "wrong"), "192.0.2.1"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("second instance: %v", err)
	}
	if v.calls.Load() != calls {
		t.Fatal("a throttled login reached the mail server")
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

// Phones behind one carrier address whose cached logins expire together
// are asked of the mail server again without the throttle, even past the
// address's allowance; a password refused then is forgotten, and its next
// try meets the throttle.
func TestKnownCredentialsPassTheThrottle(t *testing.T) {
	v := &countingVerifier{passwords: map[string]string{}}
	for i := range 3 * addrRule.free {
		v.passwords[fmt.Sprint("phone", i)] = "right"
	}
	a, now := throttled(t, v)
	ctx := context.Background()
	const nat = "198.51.100.1"
	// Set up over time from their own addresses, then behind the carrier's.
	for i := range 3 * addrRule.free {
		if _, err := a.Authenticate(ctx, request(fmt.Sprint("phone", i), "right"), fmt.Sprintf("10.1.%d.%d", i/200, i%200)); err != nil {
			t.Fatal(err)
		}
	}
	// A stranger exhausts the carrier address's allowance.
	for i := 0; i < addrRule.free; i++ {
		_, _ = a.Authenticate(ctx, request(fmt.Sprint("guess", i), "x"), nat)
	}
	if _, err := a.Authenticate(ctx, request("newcomer", "x"), nat); !errors.Is(err, ErrThrottled) {
		t.Fatalf("an unknown login from the exhausted address: %v", err)
	}
	*now = now.Add(2 * time.Minute) // every cached login expired (TTL 1 min)
	calls := v.calls.Load()
	var wg sync.WaitGroup
	for i := range 3 * addrRule.free {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Authenticate(ctx, request(fmt.Sprint("phone", i), "right"), nat); err != nil {
				t.Errorf("phone %d behind the carrier address: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if got := v.calls.Load() - calls; got != int32(3*addrRule.free) {
		t.Errorf("%d logins asked of the mail server, want %d", got, 3*addrRule.free)
	}
	// The password changed on the mail server: refused once, then the
	// old password is a stranger's, which the throttle counts.
	v.passwords["phone0"] = "new"
	*now = now.Add(2 * time.Minute)
	if _, err := a.Authenticate(ctx, request("phone0", "right"), nat); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password after the change: %v", err)
	}
	if _, _, known := a.cached(a.hash("phone0", "right")); known {
		t.Fatal("a refused password is still known: its next try would pass the throttle")
	}
	// The mail server down: still known, asked again next time.
	v.down = true
	*now = now.Add(2 * time.Minute)
	if _, err := a.Authenticate(ctx, request("phone1", "right"), nat); err == nil || errors.Is(err, ErrThrottled) {
		t.Fatalf("mail server down: %v", err)
	}
	v.down = false
	if _, err := a.Authenticate(ctx, request("phone1", "right"), nat); err != nil {
		t.Fatalf("after the mail server came back: %v", err)
	}
}
