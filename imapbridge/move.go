package imapbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/eas/model"
)

// errNoMoveUID: the server moved the message without saying its new UID.
var errNoMoveUID = errors.New("imap: move: the server did not say the new UID (no UIDPLUS)")

// Move moves one message from mailbox to dest with MOVE (go-imap falls
// back to COPY, STORE \Deleted and UID EXPUNGE where MOVE is missing) and
// returns its UID in dest, from the COPYUID answer (UIDPLUS), and its
// flags, which a move keeps. ok is false when the message no longer
// exists in mailbox.
func (m *MailSession) Move(ctx context.Context, mailbox string, uid uint32, dest string) (_ uint32, _ model.MailFlags, ok bool, err error) {
	defer m.track(&err)
	if _, err := m.selectBox(mailbox, false); err != nil {
		return 0, model.MailFlags{}, false, err
	}
	// The flags first: they are the moved item's version in the
	// destination's sync state, and their absence says the message is
	// gone (MOVE of a missing UID succeeds without doing anything).
	fl := map[uint32]model.MailFlags{}
	if err := m.fetchFlags(uidSet([]uint32{uid}), 0, fl); err != nil {
		return 0, model.MailFlags{}, false, err
	}
	flags, ok := fl[uid]
	if !ok {
		return 0, model.MailFlags{}, false, nil
	}
	m.commands++
	d, err := m.c.Move(imap.UIDSetNum(imap.UID(uid)), dest).Wait()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
			// The destination does not exist (RFC 3501 6.4.7).
			return 0, model.MailFlags{}, false, fmt.Errorf("imap: move to %q: %w: %w", dest, model.ErrMailboxGone, err)
		}
		return 0, model.MailFlags{}, false, mailboxErr("move to", dest, err)
	}
	dst, ok := d.DestUIDs.(imap.UIDSet)
	if !ok {
		return 0, model.MailFlags{}, false, errNoMoveUID
	}
	nums, _ := dst.Nums()
	if len(nums) != 1 || nums[0] == 0 {
		if len(nums) == 0 {
			// Expunged by someone else between FETCH and MOVE.
			return 0, model.MailFlags{}, false, nil
		}
		return 0, model.MailFlags{}, false, errNoMoveUID
	}
	return uint32(nums[0]), flags, true, nil
}
