package imapbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/model"
)

// SetFlags applies a phone's change of Read, Flag or Categories to one
// message. STORE +FLAGS and -FLAGS merge with whatever else changed the
// message meanwhile, so a concurrent change of another flag is kept. ok is
// false when the message no longer exists.
func (m *MailSession) SetFlags(ctx context.Context, mailbox string, uid uint32, ch model.MailFlagChange) (_ model.MailFlags, _ bool, err error) {
	defer m.track(&err)()
	if _, err := m.selectBox(mailbox, false); err != nil {
		return model.MailFlags{}, false, err
	}
	set := imap.UIDSetNum(imap.UID(uid))
	var cur []imap.Flag
	found := false
	if ch.Keywords != nil {
		// Categories replace the whole set: the current keywords are
		// needed to know which to remove.
		m.commands++
		bufs, err := m.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true}).Collect()
		if err != nil {
			return model.MailFlags{}, false, fmt.Errorf("imap: fetch flags: %w", err)
		}
		if len(bufs) == 0 {
			return model.MailFlags{}, false, nil
		}
		cur, found = bufs[0].Flags, true
	}
	add, del := flagStores(cur, ch)
	for _, op := range []struct {
		op    imap.StoreFlagsOp
		flags []imap.Flag
	}{{imap.StoreFlagsAdd, add}, {imap.StoreFlagsDel, del}} {
		if len(op.flags) == 0 {
			continue
		}
		m.commands++
		bufs, err := m.c.Store(set, &imap.StoreFlags{Op: op.op, Flags: op.flags}, nil).Collect()
		if err != nil {
			return model.MailFlags{}, false, fmt.Errorf("imap: store flags: %w", err)
		}
		// A server may answer without FETCH when nothing changed (the
		// flags were already so): then the flags are read below.
		found = len(bufs) > 0
		if found {
			cur = bufs[0].Flags
		}
	}
	if !found {
		// Nothing stored, or no FETCH in the answer: read the flags.
		fl, err := m.Flags(ctx, mailbox, []uint32{uid})
		if err != nil {
			return model.MailFlags{}, false, err
		}
		f, ok := fl[uid]
		return f, ok, nil
	}
	return mailFlags(cur), true, nil
}

// Delete removes messages from mailbox: MOVE to trash when trash is set
// (go-imap falls back to COPY, STORE \Deleted and EXPUNGE on servers
// without MOVE), else STORE \Deleted and UID EXPUNGE of exactly these
// messages, so messages another client marked \Deleted are left alone.
// UIDs that no longer exist are ignored by the server. A move returns the
// messages' UIDs in trash from the COPYUID answer (UIDPLUS); without it,
// or after an expunge, the result is empty.
func (m *MailSession) Delete(ctx context.Context, mailbox string, uids []uint32, trash string) (_ model.MailMoved, err error) {
	defer m.track(&err)()
	if len(uids) == 0 {
		return model.MailMoved{}, nil
	}
	if _, err := m.selectBox(mailbox, false); err != nil {
		return model.MailMoved{}, err
	}
	set := uidSet(uids)
	if trash != "" && trash != mailbox {
		m.commands++
		d, err := m.c.Move(set, trash).Wait()
		if err != nil {
			return model.MailMoved{}, mailboxErr("move to", trash, err)
		}
		return movedUIDs(d), nil
	}
	m.commands++
	if err := m.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return model.MailMoved{}, fmt.Errorf("imap: store \\Deleted: %w", err)
	}
	m.commands++
	if m.c.Caps().Has(imap.CapUIDPlus) || m.c.Caps().Has(imap.CapIMAP4rev2) {
		if err := m.c.UIDExpunge(set).Close(); err != nil {
			return model.MailMoved{}, fmt.Errorf("imap: uid expunge: %w", err)
		}
		return model.MailMoved{}, nil
	}
	if err := m.c.Expunge().Close(); err != nil {
		return model.MailMoved{}, fmt.Errorf("imap: expunge: %w", err)
	}
	return model.MailMoved{}, nil
}

// movedUIDs pairs the source and destination UIDs of a COPYUID answer:
// RFC 4315 lists both sets in the same order.
func movedUIDs(d *imapclient.MoveData) model.MailMoved {
	src, okSrc := d.SourceUIDs.(imap.UIDSet)
	dst, okDst := d.DestUIDs.(imap.UIDSet)
	if !okSrc || !okDst {
		return model.MailMoved{}
	}
	from, _ := src.Nums()
	to, _ := dst.Nums()
	if len(from) != len(to) || len(from) == 0 {
		return model.MailMoved{}
	}
	out := model.MailMoved{UIDValidity: d.UIDValidity, UIDs: make(map[uint32]uint32, len(from))}
	for i, uid := range from {
		out.UIDs[uint32(uid)] = uint32(to[i])
	}
	return out
}

// AppendDraft stores msg in mailbox as a draft and returns its UID, from
// the APPENDUID answer (UIDPLUS; Dovecot and most servers have it).
func (m *MailSession) AppendDraft(ctx context.Context, mailbox string, msg []byte) (_ uint32, _ model.MailFlags, err error) {
	defer m.track(&err)()
	flags := []imap.Flag{imap.FlagDraft, imap.FlagSeen}
	m.commands++
	d, err := appendMessage(m.c, mailbox, msg, flags)
	if err != nil {
		return 0, model.MailFlags{}, mailboxErr("append to", mailbox, err)
	}
	if d.UID == 0 {
		return 0, model.MailFlags{}, errors.New("imap: append: the server did not say the new UID (no UIDPLUS)")
	}
	return uint32(d.UID), mailFlags(flags), nil
}

// FindByHeader finds a message of mailbox by a header field: UID SEARCH
// HEADER (a substring match, so the caller's value must not be part of
// another's) and the flags of the first match.
func (m *MailSession) FindByHeader(ctx context.Context, mailbox, name, value string) (_ uint32, _ model.MailFlags, _ bool, err error) {
	defer m.track(&err)()
	if _, err := m.selectBox(mailbox, true); err != nil {
		return 0, model.MailFlags{}, false, err
	}
	uids, err := m.search(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: name, Value: value}}})
	if err != nil || len(uids) == 0 {
		return 0, model.MailFlags{}, false, err
	}
	flags := map[uint32]model.MailFlags{}
	if err := m.fetchFlags(uidSet(uids[:1]), 0, flags); err != nil {
		return 0, model.MailFlags{}, false, err
	}
	f, ok := flags[uids[0]]
	return uids[0], f, ok, nil
}

// appendMessage sends APPEND of msg with flags, dated now.
func appendMessage(c *imapclient.Client, mailbox string, msg []byte, flags []imap.Flag) (*imap.AppendData, error) {
	cmd := c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Flags: flags, Time: time.Now()})
	if _, err := cmd.Write(msg); err != nil {
		return nil, err
	}
	if err := cmd.Close(); err != nil {
		return nil, err
	}
	return cmd.Wait()
}
