package imapbridge

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/model"
)

// Store is the mail store easd's protocol side talks to: each call runs in
// an IMAP session of the caller (see session).
type Store struct {
	Dialer *Dialer
	// SpecialNames maps mailbox names to EAS folder types for servers
	// without SPECIAL-USE or with unusual names (configuration).
	SpecialNames map[string]model.FolderType
	pool         connPool
}

// Mailboxes lists the user's mailboxes with their EAS folder types.
func (s *Store) Mailboxes(ctx context.Context, login, password string) ([]model.Mailbox, error) {
	var out []model.Mailbox
	err := s.session(ctx, login, password, func(c *imapclient.Client) error {
		var err error
		out, err = listMailboxes(ctx, c, s.SpecialNames)
		return err
	})
	return out, err
}

// CreateMailbox creates a mailbox (FolderCreate).
func (s *Store) CreateMailbox(ctx context.Context, login, password, name string) error {
	return s.session(ctx, login, password, func(c *imapclient.Client) error {
		if err := c.Create(name, nil).Wait(); err != nil {
			return fmt.Errorf("imap: create %q: %w", name, err)
		}
		_ = c.Subscribe(name).Wait()
		return nil
	})
}

// RenameMailbox renames or moves a mailbox (FolderUpdate).
func (s *Store) RenameMailbox(ctx context.Context, login, password, from, to string) error {
	return s.session(ctx, login, password, func(c *imapclient.Client) error {
		if err := c.Rename(from, to, nil).Wait(); err != nil {
			return fmt.Errorf("imap: rename %q to %q: %w", from, to, err)
		}
		_ = c.Subscribe(to).Wait()
		return nil
	})
}

// DeleteMailbox deletes a mailbox (FolderDelete).
func (s *Store) DeleteMailbox(ctx context.Context, login, password, name string) error {
	return s.session(ctx, login, password, func(c *imapclient.Client) error {
		if err := c.Delete(name).Wait(); err != nil {
			return fmt.Errorf("imap: delete %q: %w", name, err)
		}
		return nil
	})
}
