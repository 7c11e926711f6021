package imapbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
//
// A server without UIDPLUS does not say the new UID, and a move reported
// as failed although it happened leaves the client with the message in
// the wrong folder, or twice. So there the message is found in dest
// instead: among the UIDs from dest's UIDNEXT before the move, by its
// Message-ID (see findMoved); that costs a FETCH and a STATUS before the
// move and a SELECT and a SEARCH after, on such servers only.
func (m *MailSession) Move(ctx context.Context, mailbox string, uid uint32, dest string) (_ uint32, _ model.MailFlags, ok bool, err error) {
	defer m.track(&err)()
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
	var trace *moveTrace
	if caps := m.c.Caps(); !caps.Has(imap.CapUIDPlus) && !caps.Has(imap.CapIMAP4rev2) {
		if trace, err = m.traceMove(uid, dest); err != nil {
			return 0, model.MailFlags{}, false, err
		}
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
		if trace == nil {
			return 0, model.MailFlags{}, false, errNoMoveUID
		}
		newUID, err := m.findMoved(trace, dest)
		if err != nil {
			return 0, model.MailFlags{}, false, err
		}
		return newUID, flags, true, nil
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

// moveTrace is what finds a moved message in its destination when the
// server does not say its new UID.
type moveTrace struct {
	messageID   string // "" when the message has none
	uidValidity uint32
	uidNext     uint32 // dest's before the move: the new UID is at least this
}

// traceMove notes the message's Message-ID and dest's UIDNEXT; mailbox
// is selected.
func (m *MailSession) traceMove(uid uint32, dest string) (*moveTrace, error) {
	m.commands++
	msgs, err := m.c.Fetch(uidSet([]uint32{uid}), &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("imap: fetch envelope %s: %w", m.selected, err)
	}
	t := &moveTrace{}
	for _, msg := range msgs {
		if uint32(msg.UID) == uid && msg.Envelope != nil {
			t.messageID = msg.Envelope.MessageID
		}
	}
	m.commands++
	st, err := m.c.Status(dest, &imap.StatusOptions{UIDNext: true, UIDValidity: true}).Wait()
	if err != nil {
		return nil, m.openErr("status", dest, err)
	}
	t.uidValidity, t.uidNext = st.UIDValidity, uint32(st.UIDNext)
	return t, nil
}

// findMoved returns the UID of the moved message in dest: the one UID
// from the trace's UIDNEXT on with its Message-ID (or, without one, the
// one UID there at all). Every message there arrived after the trace, the
// moved one among them, so a single match is it; anything else (a
// concurrent delivery with the same Message-ID, or none without one,
// UIDVALIDITY changed) cannot be told apart and is errNoMoveUID.
func (m *MailSession) findMoved(t *moveTrace, dest string) (uint32, error) {
	st, err := m.selectBox(dest, true)
	if err != nil {
		return 0, err
	}
	if st.UIDValidity != t.uidValidity {
		return 0, errNoMoveUID
	}
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(t.uidNext), Stop: 0}}}}
	if t.messageID != "" {
		crit.Header = []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: t.messageID}}
	}
	uids, err := m.search(crit)
	if err != nil {
		return 0, err
	}
	// "n:*" also matches the highest UID when it is below n.
	uids = slices.DeleteFunc(uids, func(u uint32) bool { return u < t.uidNext })
	if len(uids) != 1 {
		return 0, fmt.Errorf("%w: %d candidates in %q", errNoMoveUID, len(uids), dest)
	}
	return uids[0], nil
}
