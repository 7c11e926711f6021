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
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/httpserver"
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
	// ErrStateUnavailable: easd's database cannot be reached, so no
	// request can be served (503, MS-ASHTTP 3.1.5.2.3).
	ErrStateUnavailable = errors.New("database unavailable")
)

// Authenticator verifies HTTP Basic credentials against the mail server.
// Successful checks are remembered for a short time under a keyed hash of
// login and password (never the password itself), so a busy phone costs one
// IMAP login per TTL, not one per request. Requests with the same
// credentials that arrive while one is being checked wait for its answer.
// Other attempts pass the failed-login throttle (throttle.go, shared by all
// instances through PostgreSQL) before the mail server is asked.
type Authenticator struct {
	verifier  Verifier
	throttle  *loginThrottle // nil: no throttle (pure-logic tests only)
	form      config.LoginForm
	lower     bool // config.CaseLower
	domain    string
	ttl       time.Duration
	now       func() time.Time
	key       [32]byte
	mu        sync.Mutex
	cache     map[[32]byte]cached
	won       map[string]string // first login tried -> the form the mail server took
	flights   map[[32]byte]*flight
	maxCached int
	throttled func() // nil: not counted
}

// cached is a verified login: the canonical name, valid until exp.
type cached struct {
	login string
	exp   time.Time
}

// flight is a check of credentials under way; requests with the same
// credentials wait for it instead of asking the mail server again.
type flight struct {
	done  chan struct{}
	creds Credentials
	err   error
}

// AuthOptions configure an Authenticator.
type AuthOptions struct {
	Form   config.LoginForm
	Case   config.LoginCase
	Domain string        // the users' mail domain
	TTL    time.Duration // how long a success is trusted without asking the mail server
	// Pool holds the failed-login throttle, shared by every instance;
	// nil switches the throttle off (tests of pure logic only).
	Pool *pgxpool.Pool
	// Throttled, when set, is called for each login the throttle refuses
	// (a metric).
	Throttled func()
}

// NewAuthenticator returns an Authenticator checking credentials with v.
func NewAuthenticator(v Verifier, o AuthOptions) *Authenticator {
	a := &Authenticator{
		verifier: v, form: o.Form, lower: o.Case != config.CaseAsGiven, domain: strings.ToLower(o.Domain),
		ttl: o.TTL, now: time.Now, cache: map[[32]byte]cached{}, won: map[string]string{},
		flights: map[[32]byte]*flight{}, maxCached: 100000, throttled: o.Throttled,
	}
	if o.Pool != nil {
		a.throttle = &loginThrottle{pool: o.Pool, now: func() time.Time { return a.now() }}
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

// ThrottledError says how long a throttled login must wait.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins: retry in %v", e.Wait.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Authenticate checks r's Basic credentials. remote is the client address
// used for throttling.
//
// A phone whose credentials are cached passes without the throttle: it
// knows the password, and whatever strangers try must not lock it out.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, remote string) (Credentials, error) {
	user, pass, ok := basicAuth(r.Header.Get("Authorization"))
	if !ok || user == "" {
		return Credentials{}, ErrNoCredentials
	}
	// Refused at the edge: a NUL cannot be stored in PostgreSQL nor sent
	// in an IMAP LOGIN, and no mail system has 320-byte user names (an
	// address is at most 254).
	if len(user) > 320 || hasControl(user) || strings.IndexByte(pass, 0) >= 0 {
		return Credentials{}, badRequest("user name or password not acceptable")
	}
	tries := a.Logins(user)
	first := tries[0]
	h := a.hash(first, pass)
	login, fresh, known := a.cached(h)
	if fresh {
		return Credentials{Login: login, Password: pass}, nil
	}
	a.mu.Lock()
	if f := a.flights[h]; f != nil {
		a.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return Credentials{Login: first}, ctx.Err()
		}
		c := f.creds
		if f.err == nil {
			c.Password = pass
		}
		return c, f.err
	}
	f := &flight{done: make(chan struct{})}
	a.flights[h] = f
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.flights, h)
		a.mu.Unlock()
		close(f.done)
	}()
	f.creds, f.err = a.verify(ctx, h, tries, pass, remote, known)
	c := f.creds
	f.creds.Password = "" // followers take the password from their own request
	return c, f.err
}

// verify reserves an attempt with the throttle and asks the mail server
// each form of the login in turn. Credentials the mail server took before
// (known: their cached success expired) are asked again without the
// throttle: only their holder can send them, and the phones behind one
// carrier address, set up together, see their cached logins expire
// together, more at once than the address's allowance. Refused, they are
// forgotten, and the next try meets the throttle.
func (a *Authenticator) verify(ctx context.Context, h [32]byte, tries []string, pass, remote string, known bool) (Credentials, error) {
	first := tries[0]
	if known {
		c, err := a.ask(ctx, h, tries, pass)
		if errors.Is(err, ErrBadCredentials) {
			a.forget(h) // still known when the server could not say
		}
		return c, err
	}
	if a.throttle != nil {
		wait, err := a.throttle.reserve(ctx, first, remote)
		if err != nil {
			return Credentials{Login: first}, fmt.Errorf("%w: %w", ErrStateUnavailable, err)
		}
		if wait > 0 {
			if a.throttled != nil {
				a.throttled()
			}
			return Credentials{Login: first}, &ThrottledError{Wait: wait}
		}
	}
	c, err := a.ask(ctx, h, tries, pass)
	switch {
	case err == nil:
		a.release(first, remote, true)
	case errors.Is(err, ErrBadCredentials):
		// the reserved attempt stays counted
	default:
		a.release(first, remote, false) // not the client's failure
	}
	return c, err
}

// ask asks the mail server each form of the login in turn, the one it
// took before first, and remembers a success.
func (a *Authenticator) ask(ctx context.Context, h [32]byte, tries []string, pass string) (Credentials, error) {
	first := tries[0]
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
	return Credentials{Login: first, Tried: tries}, err
}

// release gives the throttle back an attempt that was not a wrong
// password. It runs on its own context: the request may be gone, and a
// right password must not be left counted as a failure.
func (a *Authenticator) release(login, remote string, right bool) {
	if a.throttle == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.throttle.release(ctx, login, remote, right) // at worst one attempt stays counted for an hour
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

// cached looks up credentials the mail server took: the canonical login,
// whether the success is within the TTL (fresh: trusted without asking),
// and whether it is there at all (known).
func (a *Authenticator) cached(h [32]byte) (login string, fresh, known bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[h]
	if !ok {
		return "", false, false
	}
	// An expired success stays known (verify) until the mail server
	// refuses it or the cache is full.
	return c.login, a.now().Before(c.exp), true
}

// forget drops credentials the mail server refused.
func (a *Authenticator) forget(h [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.cache, h)
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
}

// refuseAuth answers a failed authentication, for the EAS endpoint and
// Autodiscover alike: 401 with a Basic challenge for missing or wrong
// credentials; 503 with Retry-After while throttled (a 401 would make
// phones ask the user for the password again) or while the mail server or
// easd's database is down.
// Authenticated serves another protocol beside EAS (CardDAV for
// desktops) behind EAS's own Basic authentication: the same login rules,
// credential cache and failed-login throttle, and the same refusals (401
// with a challenge, 503 while throttled or when the mail server cannot
// be asked). next gets the canonical login. label names the request in
// the access log and metrics; it must come from a fixed set.
func (s *Server) Authenticated(label func(*http.Request) string, next func(c echo.Context, login string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		ri := httpserver.Info(c)
		ri.Cmd = label(c.Request())
		creds, err := s.opts.Auth.Authenticate(c.Request().Context(), c.Request(), c.RealIP())
		ri.User = creds.Login
		if err != nil {
			return s.refuseAuth(c, ri, creds, err)
		}
		return next(c, creds.Login)
	}
}

func (s *Server) refuseAuth(c echo.Context, ri *httpserver.RequestInfo, creds Credentials, err error) error {
	httpserver.DropBody(c) // an unauthenticated body is not waited for
	h := c.Response().Header()
	var te *ThrottledError
	switch {
	case errors.Is(err, ErrBadRequest):
		ri.Note = err.Error()
		return c.NoContent(http.StatusBadRequest)
	case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrBadCredentials):
		ri.Note = err.Error()
		if len(creds.Tried) > 0 {
			// Which form of the name was asked tells an operator at once
			// whether the password or the login form is wrong.
			tried := make([]string, len(creds.Tried))
			for i, t := range creds.Tried {
				tried[i] = strconv.Quote(t)
			}
			ri.Note += fmt.Sprintf(" (login form %s, tried %s)", s.opts.Auth.form, strings.Join(tried, ", "))
		}
		h.Set("WWW-Authenticate", `Basic realm="easd"`)
		return c.NoContent(http.StatusUnauthorized)
	case errors.As(err, &te):
		ri.Note = err.Error()
		h.Set("Retry-After", strconv.Itoa(int(max(time.Second, te.Wait.Round(time.Second))/time.Second)))
		return c.NoContent(http.StatusServiceUnavailable)
	case errors.Is(err, ErrStateUnavailable):
		ri.Note = err.Error()
		h.Set("Retry-After", "30")
		return c.NoContent(http.StatusServiceUnavailable)
	default:
		ri.Note = "mail server unavailable: " + err.Error()
		h.Set("Retry-After", "30")
		return c.NoContent(http.StatusServiceUnavailable)
	}
}
