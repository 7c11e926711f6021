package imapbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ErrAuthFailed is returned when the server refuses the credentials (as
// opposed to being unreachable).
var ErrAuthFailed = errors.New("imap: authentication failed")

// Login opens a session as login. The caller closes the client.
func (d *Dialer) Login(ctx context.Context, login, password string) (*imapclient.Client, error) {
	c, err := d.Dial(ctx)
	if err != nil {
		return nil, err
	}
	stop := guard(c)
	err = c.Login(login, password).Wait()
	stop()
	if err != nil {
		c.Close()
		var ie *imap.Error
		// NO means refused, except [UNAVAILABLE]: the server's own
		// authentication backend is down, which is not the user's fault.
		if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo && ie.Code != imap.ResponseCodeUnavailable {
			return nil, fmt.Errorf("%w: %s", ErrAuthFailed, ie.Text)
		}
		return nil, fmt.Errorf("imap: login: %w", err)
	}
	return c, nil
}

// Verify checks login and password with an IMAP LOGIN and logs out again.
func (d *Dialer) Verify(ctx context.Context, login, password string) error {
	c, err := d.Login(ctx, login, password)
	if err != nil {
		return err
	}
	_ = c.Logout().Wait()
	return c.Close()
}
