// Package smtpsink is an in-process SMTP server that accepts and records
// every message. Tests use it as the submission server of SendMail; `easd
// dev` uses it with an OnMessage hook that delivers to local IMAP users.
package smtpsink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message with its envelope.
type Message struct {
	From     string
	To       []string
	Data     []byte
	AuthUser string // empty when the client did not authenticate
	At       time.Time
}

// Option configures a Sink.
type Option func(*Sink)

// WithAuth checks AUTH PLAIN credentials; without it any credentials are
// accepted (and the user name recorded).
func WithAuth(check func(user, password string) bool) Option {
	return func(s *Sink) { s.checkAuth = check }
}

// RequireAuth rejects MAIL FROM before a successful AUTH.
func RequireAuth() Option {
	return func(s *Sink) { s.requireAuth = true }
}

// OnMessage runs for each message before it is recorded; a returned error
// is sent to the client as the reply to DATA (an *smtp.SMTPError keeps its
// code) and the message is not recorded.
func OnMessage(fn func(Message) error) Option {
	return func(s *Sink) { s.onMessage = fn }
}

// RejectRecipients refuses RCPT TO for addresses where reject returns true,
// with the reply err (nil means 550 5.1.1 "mailbox unavailable").
func RejectRecipients(reject func(addr string) bool, err *smtp.SMTPError) Option {
	if err == nil {
		err = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	return func(s *Sink) { s.rejectRcpt, s.rejectErr = reject, err }
}

// Sink is a running SMTP server.
type Sink struct {
	checkAuth   func(user, password string) bool
	requireAuth bool
	rejectRcpt  func(string) bool
	rejectErr   *smtp.SMTPError

	server *smtp.Server
	ln     net.Listener
	done   chan struct{} // closed when Serve returns

	mu        sync.Mutex
	onMessage func(Message) error // under mu: SetOnMessage changes it while serving
	messages  []Message
	changed   chan struct{} // closed and replaced on every new message
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves SMTP
// until Close.
func Start(addr string, opts ...Option) (*Sink, error) {
	s := &Sink{changed: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtpsink: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.server = smtp.NewServer(backend{s})
	s.server.Domain = "smtpsink.invalid"
	// The sink speaks plain TCP on loopback; clients authenticate anyway.
	s.server.AllowInsecureAuth = true
	s.server.MaxMessageBytes = 64 << 20
	s.server.MaxRecipients = 1000
	s.server.ReadTimeout = time.Minute
	s.server.WriteTimeout = time.Minute
	go func() {
		defer close(s.done)
		_ = s.server.Serve(ln)
	}()
	return s, nil
}

// Addr returns the host:port the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// SetOnMessage replaces the OnMessage hook of a running sink; nil removes
// it. Tests use it to act at the moment a message is accepted, e.g. to
// take the IMAP server down between a submission and the Sent copy.
func (s *Sink) SetOnMessage(fn func(Message) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = fn
}

func (s *Sink) hook() func(Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.onMessage
}

// Messages returns a copy of the messages received so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Reset forgets the messages received so far.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

// Wait returns once at least n messages have been received.
func (s *Sink) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		msgs, changed := slices.Clone(s.messages), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return msgs, fmt.Errorf("smtpsink: waiting for %d messages, have %d: %w", n, len(msgs), ctx.Err())
		}
	}
}

func (s *Sink) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// Close stops the server and drops open connections.
func (s *Sink) Close() error {
	err := s.server.Close()
	<-s.done
	if err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return fmt.Errorf("smtpsink: close: %w", err)
	}
	return nil
}
