package imapbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// FetchMessage returns the full RFC 822 source of message uid in mailbox
// (the message a SmartReply or SmartForward is about), or nil when the
// message or the mailbox no longer exists. The \Seen flag is left alone.
func (s *Store) FetchMessage(ctx context.Context, login, password, mailbox string, uid uint32) ([]byte, error) {
	var out []byte
	err := s.session(ctx, login, password, func(c *imapclient.Client) error {
		if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			if isNonExistent(err) {
				return nil
			}
			return fmt.Errorf("imap: examine %q: %w", mailbox, err)
		}
		section := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{
			UID: true, BodySection: []*imap.FetchItemBodySection{section},
		}).Collect()
		if err != nil {
			return fmt.Errorf("imap: fetch %q %d: %w", mailbox, uid, err)
		}
		for _, m := range msgs {
			if uint32(m.UID) == uid {
				out = m.FindBodySection(section)
				if out == nil {
					out = []byte{}
				}
			}
		}
		return nil
	})
	return out, err
}

// AddFlag sets flag (e.g. \Answered or $Forwarded) on message uid in
// mailbox. A message that no longer exists is not an error: there is
// nothing left to mark.
func (s *Store) AddFlag(ctx context.Context, login, password, mailbox string, uid uint32, flag string) error {
	return s.session(ctx, login, password, func(c *imapclient.Client) error {
		if _, err := c.Select(mailbox, nil).Wait(); err != nil {
			if isNonExistent(err) {
				return nil
			}
			return fmt.Errorf("imap: select %q: %w", mailbox, err)
		}
		store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.Flag(flag)}}
		if err := c.Store(imap.UIDSetNum(imap.UID(uid)), store, nil).Close(); err != nil {
			return fmt.Errorf("imap: flag %q %d %s: %w", mailbox, uid, flag, err)
		}
		return nil
	})
}

// isNonExistent reports a NO [NONEXISTENT] (RFC 5530) answer: the mailbox
// is gone, which is not a failure of the server.
func isNonExistent(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo && ie.Code == imap.ResponseCodeNonExistent
}
