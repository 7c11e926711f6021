package smtpsink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const note = "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: Hi\r\n\r\nHello Bob.\r\n"

func startSink(t *testing.T, opts ...Option) *Sink {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// send submits one message, authenticating when user is not empty.
func send(t *testing.T, addr, user, password, from string, to []string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if user != "" {
		if err := c.Auth(sasl.NewPlainClient("", user, password)); err != nil {
			return err
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(note)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestRecordsAuthenticatedMessage(t *testing.T) {
	s := startSink(t)
	if err := send(t, s.Addr(), "alice", "secret", "alice@example.org",
		[]string{"bob@example.org", "carol@example.org"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := s.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.From != "alice@example.org" || strings.Join(m.To, ",") != "bob@example.org,carol@example.org" ||
		m.AuthUser != "alice" || string(m.Data) != note || m.At.IsZero() {
		t.Fatalf("recorded %+v", m)
	}
}

func TestUnauthenticatedAndWaitTimeout(t *testing.T) {
	s := startSink(t)
	if err := send(t, s.Addr(), "", "", "x@example.org", []string{"y@example.org"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Messages(); len(got) != 1 || got[0].AuthUser != "" {
		t.Fatalf("messages %+v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait for a message never sent: %v", err)
	}
}

func TestAuthCheckAndRequireAuth(t *testing.T) {
	s := startSink(t, RequireAuth(), WithAuth(func(u, p string) bool { return u == "alice" && p == "right" }))
	err := send(t, s.Addr(), "alice", "wrong", "alice@example.org", []string{"bob@example.org"})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 {
		t.Fatalf("wrong password: %v", err)
	}
	err = send(t, s.Addr(), "", "", "alice@example.org", []string{"bob@example.org"})
	if !errors.As(err, &se) || se.Code != 502 {
		t.Fatalf("no AUTH: %v", err)
	}
	if err := send(t, s.Addr(), "alice", "right", "alice@example.org", []string{"bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("%d messages recorded", n)
	}
}

func TestRejectRecipientAndHookError(t *testing.T) {
	s := startSink(t,
		RejectRecipients(func(a string) bool { return strings.HasPrefix(a, "nobody@") }, nil),
		OnMessage(func(m Message) error {
			if strings.HasPrefix(m.To[0], "full@") {
				return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "Mailbox full"}
			}
			return nil
		}))
	err := send(t, s.Addr(), "", "", "a@example.org", []string{"nobody@example.org"})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("rejected recipient: %v", err)
	}
	err = send(t, s.Addr(), "", "", "a@example.org", []string{"full@example.org"})
	if !errors.As(err, &se) || se.Code != 552 {
		t.Fatalf("hook error: %v", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages recorded, want 0", n)
	}
}
