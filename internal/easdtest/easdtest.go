// Package easdtest runs a complete easd for end-to-end tests: a fresh
// PostgreSQL database, a private Dovecot with test users, an SMTP sink, and
// the same App that `easd serve` runs, on a loopback port. Tests then talk to
// it over HTTP with the EAS client, as a phone would.
package easdtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/internal/app"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/smtpsink"
	"github.com/easd/easd/internal/testenv"
)

// Env is one running easd with its servers.
type Env struct {
	URL     string // http://127.0.0.1:port
	Config  config.Config
	DB      *testenv.PGDB
	IMAP    *dovecot.Server
	SMTP    *smtpsink.Sink
	App     *app.App
	logs    *syncBuffer
	stopped chan error
	cancel  context.CancelFunc
}

// Users every Env has; each password is the user name.
var Users = []string{"alice", "bob"}

// Start runs easd for the test. configure, when given, adjusts the
// configuration before start (limits, provisioning, ...).
func Start(t testing.TB, configure ...func(*config.Config)) *Env {
	t.Helper()
	db := testenv.PG(t)
	sink := testenv.SMTP(t)
	// Dovecot delivers through LMTP with Sieve, and its out-of-office
	// replies go to the sink, as a mail server's would.
	users := make(map[string]string, len(Users))
	for _, u := range Users {
		users[u] = u
	}
	imap := testenv.DovecotWith(t, dovecot.Config{Users: users, Sieve: &dovecot.SieveConfig{SubmissionHost: sink.Addr()}})

	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DatabaseURL = db.DSN
	cfg.SkipMigrations = true // the test database is a copy of the migrated template
	cfg.IMAPAddr, cfg.IMAPTLS = imap.Addr(), config.TLSNone
	cfg.SMTPAddr, cfg.SMTPTLS = sink.Addr(), config.TLSNone
	cfg.ManageSieve = imap.ManageSieveAddr()
	cfg.MailDomain = "example.test"
	cfg.ShutdownTimeout = 5 * time.Second
	for _, f := range configure {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("easdtest: config: %v", err)
	}

	return run(t, cfg, db, imap, sink, "easd")
}

// run starts an App with cfg on a loopback port; it stops with the test.
func run(t testing.TB, cfg config.Config, db *testenv.PGDB, imap *dovecot.Server, sink *smtpsink.Sink, name string) *Env {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, "test")
	if err != nil {
		cancel()
		t.Fatalf("easdtest: %s: %v", name, err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		cancel()
		t.Fatalf("easdtest: %s: %v", name, err)
	}
	e := &Env{URL: "http://" + ln.Addr().String(), Config: cfg, DB: db, IMAP: imap, SMTP: sink,
		App: a, logs: logs, stopped: make(chan error, 1), cancel: cancel}
	go func() { e.stopped <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		e.Stop(t)
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})
	return e
}

// Stop shuts easd down (idempotent).
func (e *Env) Stop(t testing.TB) {
	e.cancel()
	if e.stopped == nil {
		return
	}
	if err := <-e.stopped; err != nil {
		t.Errorf("easd: %v", err)
	}
	e.stopped = nil
}

// Logs returns what easd logged so far (JSON lines).
func (e *Env) Logs() string { return e.logs.String() }

// Client returns an EAS client for user on device deviceID, speaking
// protocol 16.1 in the plain query form.
func (e *Env) Client(user, deviceID string) *client.Client {
	return &client.Client{
		BaseURL: e.URL, User: user, Password: user,
		DeviceID: deviceID, DeviceType: "TestPhone", UserAgent: "easd-test/1.0", Version: "16.1",
	}
}

// Append puts a message into user's mailbox on the IMAP server.
func (e *Env) Append(t testing.TB, user, mailbox string, msg []byte, flags ...string) uint32 {
	t.Helper()
	uid, err := dovecot.Append(context.Background(), e.IMAP.Addr(), user, user, mailbox, msg, flags...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return uid
}

// Deliver hands msg to the mail server for rcpt (an address) through
// LMTP, from envelope sender from, so the user's Sieve script runs on it
// as on mail from outside.
func (e *Env) Deliver(t testing.TB, from, rcpt string, msg []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dovecot.Deliver(ctx, e.IMAP.LMTPAddr(), from, rcpt, msg); err != nil {
		t.Fatalf("deliver: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// Raw sends a hand-made HTTP request to easd, for tests of malformed input
// that the EAS client would never produce. user, when set, signs in with
// password = user name. It returns the status, headers and body.
func (e *Env) Raw(t testing.TB, method, pathAndQuery, user string, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+pathAndQuery, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, user)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}
