package imapbridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/easd/easd/internal/config"
)

// Submitter hands messages to the SMTP submission server, authenticated as
// the sending user, so the server applies its own sender checks, limits
// and signing to what phones send.
type Submitter struct {
	Addr      string
	TLS       config.TLSMode
	TLSConfig *tls.Config   // nil: verify against the system roots with Addr's host
	Timeout   time.Duration // connect and each command; 0 means 30 s
}

// Outbound is what sending mail needs of the mail system: SMTP submission,
// and the IMAP work around it (the message replied to, its flags, the
// copy in Sent Items).
type Outbound struct {
	*Store
	*Submitter
}

// RecipientError is a refusal of one recipient (RCPT TO). Err is the
// server's *smtp.SMTPError.
type RecipientError struct {
	Recipient string
	Err       error
}

func (e *RecipientError) Error() string {
	return fmt.Sprintf("smtp: recipient %s refused: %v", e.Recipient, e.Err)
}

func (e *RecipientError) Unwrap() error { return e.Err }

// RejectedRecipient names the refused address; the protocol side checks
// for this method rather than for the type, so it need not import this
// package.
func (e *RecipientError) RejectedRecipient() string { return e.Recipient }

// Submit sends msg from the envelope sender from to the recipients to,
// after AUTH PLAIN as login. A refusal by the server is (or wraps) an
// *smtp.SMTPError with the server's code; any other error means the
// server could not be reached or the connection failed, and the message
// was not accepted.
//
// A server that offers no AUTH at all is taken for a relay that trusts
// easd's network, and the message is sent without authentication.
func (s *Submitter) Submit(ctx context.Context, login, password, from string, to []string, msg []byte) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	if ok, _ := c.Extension("AUTH"); ok {
		if err := c.Auth(sasl.NewPlainClient("", login, password)); err != nil {
			return fmt.Errorf("smtp: auth as %s: %w", login, err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("smtp: MAIL FROM %s: %w", from, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				return &RecipientError{Recipient: rcpt, Err: err}
			}
			return fmt.Errorf("smtp: RCPT TO %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp: send message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: message refused: %w", err)
	}
	// The message is accepted; a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// dial connects, secures the connection as configured and greets the
// server (EHLO as "localhost", go-smtp's default).
func (s *Submitter) dial(ctx context.Context) (*smtp.Client, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: address %q: %w", s.Addr, err)
	}
	tlsConf := tlsFor(s.TLSConfig, host)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var nd net.Dialer
	conn, err := nd.DialContext(dctx, "tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: connect %s: %w", s.Addr, err)
	}
	// Closing the connection bounds the TLS handshake, the greeting and
	// EHLO by the timeout; the client's command timeouts take over after.
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	defer stop()

	var c *smtp.Client
	switch s.TLS {
	case config.TLSImplicit:
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("smtp: TLS handshake with %s: %w", s.Addr, err)
		}
		c = smtp.NewClient(tc)
	case config.TLSStartTLS:
		// NewClientStartTLS greets, says EHLO and upgrades.
		if c, err = smtp.NewClientStartTLS(conn, tlsConf); err != nil {
			conn.Close()
			return nil, fmt.Errorf("smtp: STARTTLS with %s: %w", s.Addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = timeout, 2*timeout
	if err := c.Noop(); err != nil {
		c.Close()
		return nil, fmt.Errorf("smtp: greeting from %s: %w", s.Addr, err)
	}
	if dctx.Err() != nil {
		c.Close()
		return nil, fmt.Errorf("smtp: connect %s: %w", s.Addr, dctx.Err())
	}
	return c, nil
}
