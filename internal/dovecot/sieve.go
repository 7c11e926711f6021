package dovecot

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// SieveConfig turns on what out-of-office replies need (Pigeonhole):
// ManageSieve, through which easd writes the users' Sieve scripts; LMTP,
// through which mail is delivered so that the active script runs; and a
// submission server for the replies the vacation action sends.
type SieveConfig struct {
	// ManageSieveAddr and LMTPAddr are listen addresses; empty or port 0
	// picks a free port on 127.0.0.1.
	ManageSieveAddr, LMTPAddr string
	// SubmissionHost (host:port) receives the replies, without TLS or
	// authentication: the SMTP sink in tests and `easd dev`.
	SubmissionHost string
	// TLSCert and TLSKey, when set, are PEM files with which ManageSieve
	// offers STARTTLS.
	TLSCert, TLSKey string
}

// sieveAddrs are the resolved listen addresses (empty without Sieve).
type sieveAddrs struct{ manageSieve, lmtp string }

// resolveSieve checks that Pigeonhole and LMTP are installed and picks the
// ports: ManageSieve's, LMTP's and IMAP's (s.addr), distinct.
func (s *Server) resolveSieve() error {
	sc := s.cfg.Sieve
	if sc == nil {
		return nil
	}
	for _, p := range []struct{ name, pkg string }{
		{"managesieve-login", "dovecot-managesieved"},
		{"lmtp", "dovecot-lmtpd"},
	} {
		if _, err := binpath.Find(p.name, p.pkg, "/usr/lib/dovecot", "/usr/libexec/dovecot"); err != nil {
			return err
		}
	}
	if _, err := binpath.Find("sievec", "dovecot-sieve", "/usr/bin", "/usr/local/bin"); err != nil {
		return err
	}
	if sc.SubmissionHost == "" {
		return fmt.Errorf("dovecot: Sieve needs a SubmissionHost for the replies")
	}
	s.sieve.manageSieve, s.sieve.lmtp = sc.ManageSieveAddr, sc.LMTPAddr
	for _, a := range []*string{&s.sieve.manageSieve, &s.sieve.lmtp} {
		if *a == "" {
			*a = "127.0.0.1:0"
		}
	}
	// With the IMAP port: three ports picked at once are distinct.
	if err := procgroup.ResolveAddrs(&s.addr, &s.sieve.manageSieve, &s.sieve.lmtp); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	return nil
}

// sieveConfig fills the Sieve part of the configuration.
func (s *Server) sieveConfig(d *confData) error {
	if s.cfg.Sieve == nil {
		return nil
	}
	d.Sieve = true
	d.SubmissionHost = s.cfg.Sieve.SubmissionHost
	d.SieveTLSCert, d.SieveTLSKey = s.cfg.Sieve.TLSCert, s.cfg.Sieve.TLSKey
	var err error
	if d.ManageSieveHost, d.ManageSievePort, err = net.SplitHostPort(s.sieve.manageSieve); err != nil {
		return fmt.Errorf("dovecot: ManageSieve address: %w", err)
	}
	if d.LMTPHost, d.LMTPPort, err = net.SplitHostPort(s.sieve.lmtp); err != nil {
		return fmt.Errorf("dovecot: LMTP address: %w", err)
	}
	return nil
}

// ManageSieveAddr returns the ManageSieve host:port, or "" without Sieve.
func (s *Server) ManageSieveAddr() string { return s.sieve.manageSieve }

// LMTPAddr returns the LMTP host:port, or "" without Sieve.
func (s *Server) LMTPAddr() string { return s.sieve.lmtp }

// Deliver hands msg to Dovecot's LMTP for rcpt, as a mail server's MTA
// would, so the recipient's active Sieve script runs. from is the
// envelope sender, to whom a vacation reply goes.
func Deliver(ctx context.Context, lmtpAddr, from, rcpt string, msg []byte) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", lmtpAddr)
	if err != nil {
		return fmt.Errorf("lmtp: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("lmtp: LHLO: %w", err)
	}
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("lmtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return fmt.Errorf("lmtp: RCPT TO %s: %w", rcpt, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("lmtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("lmtp: DATA: %w", err)
	}
	// An LMTP DATA is answered per recipient; an error names the one
	// that failed.
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		return fmt.Errorf("lmtp: delivery to %s: %w", rcpt, err)
	}
	return c.Quit()
}
