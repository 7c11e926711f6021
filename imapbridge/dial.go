package imapbridge

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/internal/config"
)

// Dialer opens connections to the IMAP server.
type Dialer struct {
	Addr      string
	TLS       config.TLSMode
	TLSConfig *tls.Config   // nil: verify against the system roots with Addr's host
	Timeout   time.Duration // connect + greeting; 0 means 10 s
	Options   imapclient.Options
}

// Dial connects and waits for the server greeting (after STARTTLS when
// configured). The caller logs in and closes the client.
func (d *Dialer) Dial(ctx context.Context) (*imapclient.Client, error) {
	timeout := d.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	host, _, err := net.SplitHostPort(d.Addr)
	if err != nil {
		return nil, fmt.Errorf("imap: address %q: %w", d.Addr, err)
	}
	tlsConf := tlsFor(d.TLSConfig, host)

	var nd net.Dialer
	raw, err := nd.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return nil, fmt.Errorf("imap: connect %s: %w", d.Addr, err)
	}
	conn := &watchedConn{Conn: raw} // for the command deadlines (deadline.go)
	// The deadline bounds the TLS handshake and the greeting; it is lifted
	// once the session is up.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	opts := d.Options
	opts.TLSConfig = tlsConf

	var c *imapclient.Client
	switch d.TLS {
	case config.TLSImplicit:
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("imap: TLS handshake with %s: %w", d.Addr, err)
		}
		c = imapclient.New(tc, &opts)
	case config.TLSStartTLS:
		c, err = imapclient.NewStartTLS(conn, &opts)
		if err != nil {
			return nil, fmt.Errorf("imap: STARTTLS with %s: %w", d.Addr, err)
		}
	default:
		c = imapclient.New(conn, &opts)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap: greeting from %s: %w", d.Addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	watch(c, conn)
	return c, nil
}

// Ping checks that the IMAP server answers: connect, greeting, LOGOUT.
func (d *Dialer) Ping(ctx context.Context) error {
	c, err := d.Dial(ctx)
	if err != nil {
		return err
	}
	_ = c.Logout().Wait()
	return c.Close()
}

// tlsFor returns a copy of conf (nil: the defaults) that verifies host
// unless conf names another server.
func tlsFor(conf *tls.Config, host string) *tls.Config {
	if conf == nil {
		conf = &tls.Config{}
	}
	conf = conf.Clone()
	if conf.ServerName == "" {
		conf.ServerName = host
	}
	return conf
}
