package eas

import (
	"context"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// Follow-up flag details in mail Sync. IMAP says whether a message is
// \Flagged; the details a phone set (type, dates, reminder, completion)
// are kept in PostgreSQL (mailflagstore.go) and added to every Email:Flag
// a phone is sent, by the one rule model.EmailFlag. Items are rendered by
// package mailconv from the IMAP flags alone, so the Flag they carry says
// whether the message is \Flagged (Status 2) or not; the details are put
// in afterwards, for a whole window in one query.
//
// The sync-state version of a message is made of its IMAP flags only. A
// client change of the dates of a flag that stays active, or of a
// completed flag to cleared, changes no IMAP flag: sync_mailflags_share.go
// marks the message stale in the user's other devices' states instead.

// flagBox is this collection's mailbox for the flag store.
func (m *mailSync) flagBox(uidValidity uint32) mailboxKey {
	return mailboxKey{user: m.sc.k.dev.UserID, folder: m.f.ServerID, uidValidity: uidValidity}
}

// flagDetails adds the stored flag details to this window's Adds and
// Changes and drops rows the listing shows to be dead: those of messages
// gone from the mailbox (a Delete, not a SoftDelete) and, on the first
// listing after key 0 (which is how a client starts over after a
// UIDVALIDITY change), those of the mailbox's earlier UIDVALIDITYs. It
// costs one query for the window (12.0+; older clients have no Flag) and
// one round trip when something is deleted, inside the Sync's transaction.
func (m *mailSync) flagDetails(cmds *message.SyncCommands, l *model.MailListing) error {
	ctx, db := m.sc.k.ctx(), m.tx.PGTx()
	mb := m.flagBox(l.Status.UIDValidity)
	var w flagWrites
	if m.st.status.UIDValidity == 0 {
		w.pruneOtherUIDValidity(mb)
	}
	var gone []uint32
	for _, it := range cmds.Delete {
		if uid, ok := m.uidOf(it.ServerID); ok {
			gone = append(gone, uid)
		}
	}
	w.remove(mb, gone)
	if m.sc.k.version >= 120 {
		if err := m.addFlagDetails(ctx, mb, &w, cmds.Add, cmds.Change); err != nil {
			return err
		}
	}
	return w.send(ctx, db)
}

// addFlagDetails renders the Flag of the items (in place in the lists)
// with their stored details, and queues the deletion of rows that
// disagree with the IMAP flags.
func (m *mailSync) addFlagDetails(ctx context.Context, mb mailboxKey, w *flagWrites, lists ...[]message.SyncItem) error {
	var uids []uint32
	for _, list := range lists {
		for _, it := range list {
			if uid, ok := m.uidOf(it.ServerID); ok && flagOf(it.ApplicationData) != nil {
				uids = append(uids, uid)
			}
		}
	}
	stored, err := readFlagDetails(ctx, m.tx.PGTx(), mb, uids)
	if err != nil || len(stored) == 0 {
		return err
	}
	for _, list := range lists {
		for i, it := range list {
			uid, _ := m.uidOf(it.ServerID)
			s := stored[uid]
			e := flagOf(it.ApplicationData)
			if s == nil || e == nil {
				continue
			}
			var stale bool
			list[i].ApplicationData, stale = withFlagDetails(e, s)
			if stale {
				w.dropStale(mb, uid, s)
			}
		}
	}
	return nil
}

// fetchFlagDetails does for the items a client fetched within Sync what
// flagDetails does for a window. Their ServerIds are checked against the
// state's UIDVALIDITY, which run() has compared with the mailbox's; a
// state without one (a Fetch right after key 0 names no item of this
// partnership) gets the items without details.
func (m *mailSync) fetchFlagDetails(items []model.MailItem) error {
	uv := m.st.status.UIDValidity
	if uv == 0 || m.sc.k.version < 120 || len(items) == 0 {
		return nil
	}
	uids := make([]uint32, len(items))
	for i, it := range items {
		uids[i] = it.UID
	}
	stored, err := readFlagDetails(m.sc.k.ctx(), m.tx.PGTx(), m.flagBox(uv), uids)
	if err == nil {
		renderStoredFlags(items, stored)
	}
	return err
}

// renderStoredFlags renders the Flag of each item that has stored
// details with them.
func renderStoredFlags(items []model.MailItem, stored map[uint32]*storedFlag) {
	for i, it := range items {
		if e := flagOf(it.Data); e != nil && stored[it.UID] != nil {
			items[i].Data, _ = withFlagDetails(e, stored[it.UID])
		}
	}
}

// flagOf returns the item as an Email with a Flag to complete, or nil.
func flagOf(data any) *message.Email {
	if e, ok := data.(*message.Email); ok && e.Flag != nil {
		return e
	}
	return nil
}

// withFlagDetails returns a copy of e whose Flag is rendered with the
// stored details s, and whether s disagrees with the IMAP state (the flag
// was set or cleared elsewhere) and may be dropped. e.Flag, rendered from
// the IMAP flags alone, tells whether the message is \Flagged. e is copied,
// not changed, so that an item never depends on who else holds it.
func withFlagDetails(e *message.Email, s *storedFlag) (*message.Email, bool) {
	flagged := e.Flag.Status == message.FlagActive
	c := *e
	c.Flag = model.EmailFlag(flagged, &s.FlagDetails)
	return &c, !s.Agrees(flagged)
}
