package imapbridge

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// SaveSent appends msg, marked \Seen, to mailbox (the user's Sent Items).
// When messageID is given and a message with that Message-ID is already
// there, nothing is appended: a SendMail re-sent after its answer was lost
// must not leave two copies.
func (s *Store) SaveSent(ctx context.Context, login, password, mailbox string, msg []byte, messageID string) error {
	return s.session(ctx, login, password, func(c *imapclient.Client) error {
		if messageID != "" {
			if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				return fmt.Errorf("imap: examine %q: %w", mailbox, err)
			}
			found, err := c.UIDSearch(&imap.SearchCriteria{
				Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: messageID}},
			}, nil).Wait()
			if err != nil {
				return fmt.Errorf("imap: search %q: %w", mailbox, err)
			}
			if len(found.AllUIDs()) > 0 {
				return nil
			}
		}
		if _, err := appendMessage(c, mailbox, msg, []imap.Flag{imap.FlagSeen}); err != nil {
			return fmt.Errorf("imap: append to %q: %w", mailbox, err)
		}
		return nil
	})
}
