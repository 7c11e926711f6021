package imapbridge

import (
	"context"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Sessions are reused, and a pooled connection the server dropped (here:
// a Dovecot restart) is replaced without the caller noticing.
func TestSessionPoolReuseAndRecovery(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()

	var first, second any
	if err := s.session(ctx, "alice", "alice", func(c *imapclient.Client) error { first = c; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.session(ctx, "alice", "alice", func(c *imapclient.Client) error { second = c; return nil }); err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatal("second session did not reuse the idle connection")
	}
	boxes, err := s.Mailboxes(ctx, "alice", "alice")
	if err != nil || len(boxes) < 5 {
		t.Fatalf("mailboxes: %v %v", boxes, err)
	}

	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	boxes, err = s.Mailboxes(ctx, "alice", "alice")
	if err != nil || len(boxes) < 5 {
		t.Fatalf("after a server restart: %v %v", boxes, err)
	}
}

// CloseIdle leaves no idle connection of the user (each is a Dovecot
// process): the next session logs in anew.
func TestCloseIdle(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()
	var first, second *imapclient.Client
	if err := s.session(ctx, "alice", "alice", func(c *imapclient.Client) error { first = c; return nil }); err != nil {
		t.Fatal(err)
	}
	s.CloseIdle("alice")
	if !isClosed(first) {
		t.Fatal("the idle connection is still open")
	}
	if err := s.session(ctx, "alice", "alice", func(c *imapclient.Client) error { second = c; return nil }); err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Fatal("a closed connection was reused")
	}
}
