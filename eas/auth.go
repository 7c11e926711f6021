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
	lower     bool // config.CaseLower
	domain    string
	ttl       time.Duration
	now       func() time.Time
	key       [32]byte
	mu        sync.Mutex
	cache     map[[32]byte]cached
	won       map[string]string // first login tried -> the form the mail server took
	failures  map[string]*failState
	maxCached int
}

// cached is a verified login: the canonical name, valid until exp.
type cached struct {
	login string
	exp   time.Time
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

// AuthOptions configure an Authenticator.
type AuthOptions struct {
	Form   config.LoginForm
	Case   config.LoginCase
	Domain string        // the users' mail domain
	TTL    time.Duration // how long a success is trusted without asking the mail server
}

// NewAuthenticator returns an Authenticator checking credentials with v.
func NewAuthenticator(v Verifier, o AuthOptions) *Authenticator {
	a := &Authenticator{
		verifier: v, form: o.Form, lower: o.Case != config.CaseAsGiven, domain: strings.ToLower(o.Domain),
		ttl: o.TTL, now: time.Now, cache: map[[32]byte]cached{}, won: map[string]string{},
		failures: map[string]*failState{}, maxCached: 100000,
	}
	_, _ = rand.Read(a.key[:]) // never fails (crypto/rand crashes the program instead)
	return a
}

// Credentials are a verified login. The password is kept in memory for the
// request only (IMAP sessions open with it) and never logged.
type Credentials struct {
	// Login is the canonical name of the mailbox: the form the mail server
	// took, normalised by the case rule. It keys every piece of state
	// (user row, devices, throttle), so however a phone spells the name,
	// one mailbox is one user.
	Login    string
	Password string
	// Tried lists the logins asked of the mail server, for the log line
	// of a refusal.
	Tried []string
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
	tries := a.Logins(user)
	first := tries[0]
	if wait := a.lockedFor(first, remote); wait > 0 {
		return Credentials{Login: first}, fmt.Errorf("%w: retry in %v", ErrThrottled, wait.Round(time.Second))
	}
	h := a.hash(first, pass)
	if login, ok := a.cached(h); ok {
		return Credentials{Login: login, Password: pass}, nil
	}
	tries = a.preferWinner(tries)
	var err error
	for i, login := range tries {
		err = a.verifier.Verify(ctx, login, pass)
		switch {
		case err == nil:
			a.remember(h, first, login)
			return Credentials{Login: login, Password: pass, Tried: tries[:i+1]}, nil
		case errors.Is(err, ErrBadCredentials):
			continue // the next form, if any
		default:
			return Credentials{Login: first, Tried: tries[:i+1]}, err
		}
	}
	a.fail(first, remote)
	return Credentials{Login: first, Tried: tries}, err
}

// Logins turns the name a phone signs in with into the logins to try with
// the mail server, in order; the one it takes becomes the canonical name.
// The order depends only on the mailbox, never on how the phone spelled
// the name: "Demo" and "demo@example.test" (mail domain example.test)
// both try "demo" first, so both end as the same user.
func (a *Authenticator) Logins(user string) []string {
	// Windows-style DOMAIN\user (Outlook, some Android clients): the domain
	// part means nothing to an IMAP server.
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		user = user[i+1:]
	}
	user = strings.TrimSpace(user)
	if a.lower {
		user = strings.ToLower(user)
	}
	local, dom, isAddr := cutAddress(user)
	switch a.form {
	case config.LoginLocal:
		if isAddr {
			return []string{local}
		}
	case config.LoginAddress:
		if !strings.Contains(user, "@") && a.domain != "" {
			return []string{user + "@" + a.domain}
		}
	case config.LoginAuto:
		switch {
		case a.domain == "" || (!isAddr && strings.Contains(user, "@")):
		case !isAddr:
			return []string{user, user + "@" + a.domain}
		case strings.EqualFold(dom, a.domain):
			return []string{local, user}
		}
	}
	return []string{user}
}

// cutAddress splits "local@domain" at its last '@'.
func cutAddress(s string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// CanonicalStored maps a login stored by an earlier easd (which keyed
// state by the name as typed) to the canonical login, for MergeLogins:
// the case rule, and under auto an address at the mail domain whose bare
// name is also stored becomes that name, as Logins would choose it.
func (a *Authenticator) CanonicalStored(login string, stored func(string) bool) string {
	tries := a.Logins(login)
	if a.form != config.LoginAuto || len(tries) < 2 {
		return tries[0]
	}
	// Both forms: the bare name when the mail server took it before.
	if stored(tries[0]) {
		return tries[0]
	}
	if a.lower {
		login = strings.ToLower(strings.TrimSpace(login))
	}
	return login
}

// preferWinner moves the form the mail server took last time to the
// front: a refused first form costs the server's failure delay (seconds
// on Dovecot) at every cache miss otherwise. Only the order of tries
// changes, not which one wins: the other forms were refused.
func (a *Authenticator) preferWinner(tries []string) []string {
	if len(tries) < 2 {
		return tries
	}
	a.mu.Lock()
	w, ok := a.won[tries[0]]
	a.mu.Unlock()
	if !ok || w == tries[0] {
		return tries
	}
	out := []string{w}
	for _, t := range tries {
		if t != w {
			out = append(out, t)
		}
	}
	return out
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

func (a *Authenticator) cached(h [32]byte) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[h]
	if ok && a.now().Before(c.exp) {
		return c.login, true
	}
	delete(a.cache, h)
	return "", false
}

// remember caches a success: first is the first login tried, login the
// canonical one the mail server took.
func (a *Authenticator) remember(h [32]byte, first, login string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.cache) >= a.maxCached {
		for k, c := range a.cache {
			if now.After(c.exp) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= a.maxCached {
			a.cache = map[[32]byte]cached{} // a flood of distinct logins; start over
		}
	}
	if len(a.won) >= a.maxCached {
		a.won = map[string]string{} // only an order of tries is lost
	}
	a.cache[h] = cached{login: login, exp: now.Add(a.ttl)}
	a.won[first] = login
	delete(a.failures, "u:"+first)
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
