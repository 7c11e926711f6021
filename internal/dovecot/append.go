package dovecot

import (
	"context"
	"fmt"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Append logs in to the IMAP server at addr and appends msg to mailbox with
// the given flags (for example `\Seen`), returning the new message's UID.
// It serves tests and `easd dev`, which drops sample messages this way.
func Append(ctx context.Context, addr, user, password, mailbox string, msg []byte, flags ...string) (uint32, error) {
	c, closeConn, err := dialLogin(ctx, addr, user, password)
	if err != nil {
		return 0, err
	}
	defer closeConn()
	opts := &imap.AppendOptions{}
	for _, f := range flags {
		opts.Flags = append(opts.Flags, imap.Flag(f))
	}
	cmd := c.Append(mailbox, int64(len(msg)), opts)
	if _, err := cmd.Write(msg); err != nil {
		return 0, fmt.Errorf("dovecot: append to %s: %w", mailbox, err)
	}
	if err := cmd.Close(); err != nil {
		return 0, fmt.Errorf("dovecot: append to %s: %w", mailbox, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("dovecot: append to %s: %w", mailbox, err)
	}
	if err := c.Logout().Wait(); err != nil {
		return 0, fmt.Errorf("dovecot: logout: %w", err)
	}
	return uint32(data.UID), nil
}

// dialLogin opens a plaintext IMAP connection and logs in. The connection is
// closed when ctx ends, which aborts any command in flight; the returned
// function closes it too.
func dialLogin(ctx context.Context, addr, user, password string) (*imapclient.Client, func(), error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dovecot: dial %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c := imapclient.New(conn, nil)
	closeConn := func() {
		stop()
		c.Close()
	}
	if err := c.Login(user, password).Wait(); err != nil {
		closeConn()
		return nil, nil, fmt.Errorf("dovecot: login %s at %s: %w", user, addr, err)
	}
	return c, closeConn, nil
}
