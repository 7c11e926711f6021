package eas

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/easd/easd/internal/config"
)

// Verifier checks credentials with the mail server. It returns
// ErrBadCredentials when the server refuses them and any other error when
// the server could not be asked.
type Verifier interface {
	Verify(ctx context.Context, login, password string) error
}

// Authentication errors.
var (
	ErrNoCredentials  = errors.New("no credentials")
	ErrBadCredentials = errors.New("bad credentials")
	ErrThrottled      = errors.New("too many failed logins")
)

// Authenticator verifies HTTP Basic credentials against the mail server.
// Successful checks are remembered for a short time under a keyed hash of
// login and password (never the password itself), so a busy phone costs one
// IMAP login per TTL, not one per request. Failures are throttled per user
// and per client address, and a locked-out client never reaches the mail
// server.
type Authenticator struct {
	verifier  Verifier
	form      config.LoginForm
	domain    string
	ttl       time.Duration
	now       func() time.Time
	key       [32]byte
	mu        sync.Mutex
	cache     map[[32]byte]time.Time
	failures  map[string]*failState
	maxCached int
}

type failState struct {
	count int
	last  time.Time
	until time.Time
}

// Throttling parameters: a user may fail a few times (a mistyped password),
// an address rather more (several users behind one NAT); after that each
// further failure doubles the lockout, up to maxLockout.
const (
	userFreeFailures = 3
	addrFreeFailures = 10
	maxLockout       = 15 * time.Minute
	failureMemory    = time.Hour
)

// NewAuthenticator returns an Authenticator that caches successes for ttl.
func NewAuthenticator(v Verifier, form config.LoginForm, domain string, ttl time.Duration) *Authenticator {
	a := &Authenticator{
		verifier: v, form: form, domain: domain, ttl: ttl, now: time.Now,
		cache: map[[32]byte]time.Time{}, failures: map[string]*failState{}, maxCached: 100000,
	}
	_, _ = rand.Read(a.key[:]) // never fails (crypto/rand crashes the program instead)
	return a
}

// Credentials are a verified login. The password is kept in memory for the
// request only (IMAP sessions open with it) and never logged.
type Credentials struct {
	Login    string // as the mail server knows the user
	Password string
}

// String keeps the password out of logs and traces that print a value.
func (c Credentials) String() string { return c.Login }

// Authenticate checks r's Basic credentials. remote is the client address
// used for throttling.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, remote string) (Credentials, error) {
	user, pass, ok := basicAuth(r.Header.Get("Authorization"))
	if !ok || user == "" {
		return Credentials{}, ErrNoCredentials
	}
	login := a.loginName(user)
	if wait := a.lockedFor(login, remote); wait > 0 {
		return Credentials{Login: login}, fmt.Errorf("%w: retry in %v", ErrThrottled, wait.Round(time.Second))
	}
	h := a.hash(login, pass)
	if a.cached(h) {
		return Credentials{Login: login, Password: pass}, nil
	}
	err := a.verifier.Verify(ctx, login, pass)
	switch {
	case err == nil:
		a.remember(h, login)
		return Credentials{Login: login, Password: pass}, nil
	case errors.Is(err, ErrBadCredentials):
		a.fail(login, remote)
		return Credentials{Login: login}, ErrBadCredentials
	default:
		return Credentials{Login: login}, err
	}
}

// loginName turns the name a phone signs in with into the IMAP login.
func (a *Authenticator) loginName(user string) string {
	// Windows-style DOMAIN\user (Outlook, some Android clients): the domain
	// part means nothing to an IMAP server.
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		user = user[i+1:]
	}
	user = strings.TrimSpace(user)
	switch a.form {
	case config.LoginLocal:
		if i := strings.LastIndexByte(user, '@'); i > 0 {
			return user[:i]
		}
	case config.LoginAddress:
		if !strings.Contains(user, "@") && a.domain != "" {
			return user + "@" + a.domain
		}
	}
	return user
}

// basicAuth decodes an Authorization: Basic header. Credentials are UTF-8,
// or ISO-8859-1 where they are not valid UTF-8 (Outlook sends Latin-1).
func basicAuth(header string) (user, pass string, ok bool) {
	const prefix = "basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	s := string(raw)
	if !utf8.Valid(raw) {
		runes := make([]rune, len(raw))
		for i, b := range raw {
			runes[i] = rune(b) // ISO-8859-1 maps bytes to the first 256 code points
		}
		s = string(runes)
	}
	user, pass, ok = strings.Cut(s, ":")
	return user, pass, ok
}

func (a *Authenticator) hash(login, pass string) [32]byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(login))
	m.Write([]byte{0})
	m.Write([]byte(pass))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

func (a *Authenticator) cached(h [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.cache[h]
	if ok && a.now().Before(exp) {
		return true
	}
	delete(a.cache, h)
	return false
}

func (a *Authenticator) remember(h [32]byte, login string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.cache) >= a.maxCached {
		for k, exp := range a.cache {
			if now.After(exp) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= a.maxCached {
			a.cache = map[[32]byte]time.Time{} // a flood of distinct logins; start over
		}
	}
	a.cache[h] = now.Add(a.ttl)
	delete(a.failures, "u:"+login)
}

// fail records a refused login for the user and the client address.
func (a *Authenticator) fail(login, remote string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.bump("u:"+login, userFreeFailures, now)
	if remote != "" {
		a.bump("a:"+remote, addrFreeFailures, now)
	}
	if len(a.failures) > 100000 {
		for k, f := range a.failures {
			if now.Sub(f.last) > failureMemory {
				delete(a.failures, k)
			}
		}
	}
}

func (a *Authenticator) bump(key string, free int, now time.Time) {
	f := a.failures[key]
	if f == nil || now.Sub(f.last) > failureMemory {
		f = &failState{}
		a.failures[key] = f
	}
	f.count++
	f.last = now
	if f.count > free {
		lock := time.Second << min(f.count-free-1, 20)
		f.until = now.Add(min(lock, maxLockout))
	}
}

// lockedFor says how long login or remote must still wait.
func (a *Authenticator) lockedFor(login, remote string) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	var wait time.Duration
	for _, k := range []string{"u:" + login, "a:" + remote} {
		if f := a.failures[k]; f != nil && f.until.After(now) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	return wait
}
