package eas

import (
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/wbxml"
)

// uidOf returns the UID of a ServerId of this collection, or false for an
// id that is malformed or names another folder.
func (m *mailSync) uidOf(serverID string) (uint32, bool) {
	id, err := model.ParseMailID(serverID)
	if err != nil || id.FolderID != m.f.ServerID {
		return 0, false
	}
	return id.UID, true
}

// clientChanges applies the client's Read, Flag and Categories changes.
// Flags merge (STORE +FLAGS/-FLAGS), so a change is always applied; when
// the server changed the message meanwhile its Version is left empty, and
// the merged result goes back to the client as a Change. The details of a
// Flag are written after the STOREs, in one batch in the Sync's
// transaction, so a re-sent request writes the same rows again.
func (m *mailSync) clientChanges() error {
	if m.col.Commands == nil || len(m.col.Commands.Change) == 0 {
		return nil
	}
	ctx, mailbox := m.sc.k.ctx(), m.f.IMAPName
	var uids []uint32
	for _, c := range m.col.Commands.Change {
		if uid, ok := m.uidOf(c.ServerID); ok {
			uids = append(uids, uid)
		}
	}
	cur, err := m.sess.Flags(ctx, mailbox, uids)
	if err != nil {
		return err
	}
	var flags flagWrites
	var mb *mailboxKey
	for _, c := range m.col.Commands.Change {
		uid, ok := m.uidOf(c.ServerID)
		f, exists := cur[uid]
		if !ok || !exists {
			// No op: if the client holds the item, the exchange sends the
			// Delete it needs.
			m.resps.Change = append(m.resps.Change, message.SyncResponseChange{ServerID: c.ServerID, Status: int(syncObjectNotFound)})
			continue
		}
		ch, edit, err := mailChange(c.ApplicationData, m.sc.k.version)
		if err != nil {
			m.sc.k.log.Info("sync: bad mail change", "collection", m.f.ServerID, "item", c.ServerID, "err", err)
			m.resps.Change = append(m.resps.Change, message.SyncResponseChange{ServerID: c.ServerID, Status: int(syncConversionError)})
			continue
		}
		key := uidKey(uid)
		conflict := syncstate.ChangedOnServer(m.st.items, key, f.Version())
		nf, ok, err := m.sess.SetFlags(ctx, mailbox, uid, ch)
		if err != nil {
			return err
		}
		op := syncstate.ClientOp{Kind: syncstate.OpChange, ServerID: key}
		switch {
		case !ok:
			m.resps.Change = append(m.resps.Change, message.SyncResponseChange{ServerID: c.ServerID, Status: int(syncObjectNotFound)})
		case !conflict:
			op.Version = nf.Version()
		}
		m.ops = append(m.ops, op)
		if ok && edit.set {
			if mb == nil {
				if mb, err = m.changedFlagBox(); err != nil {
					return err
				}
			}
			if edit.details == nil {
				flags.remove(*mb, []uint32{uid})
			} else {
				flags.put(*mb, uid, edit.details)
			}
			m.flagEdited = append(m.flagEdited, uid)
		}
	}
	return flags.send(ctx, m.tx.PGTx())
}

// changedFlagBox is the mailbox the client's ServerIds refer to: that of
// its sync state. A state without a listing yet (right after key 0) has no
// UIDVALIDITY; the mail server is asked then, which is rare.
func (m *mailSync) changedFlagBox() (*mailboxKey, error) {
	uv := m.st.status.UIDValidity
	if uv == 0 {
		st, err := m.sess.Status(m.sc.k.ctx(), m.f.IMAPName)
		if err != nil {
			return nil, err
		}
		uv = st.UIDValidity
	}
	mb := m.flagBox(uv)
	return &mb, nil
}

// flagEdit is what a client's Email:Flag asks of the stored details.
type flagEdit struct {
	set     bool               // the change carried a Flag
	details *model.FlagDetails // nil: delete them (flag cleared)
}

// mailChange reads what a client may change on a message: Read, Flag
// (12.0+; active -> \Flagged; complete -> not \Flagged, as IMAP has no
// "complete", with the completion kept in the details; empty or Status 0
// -> not flagged, no details) and Categories (14.0+, as keywords). A Flag
// Status other than 0, 1 or 2 is an error (Sync Status 6).
func mailChange(data any, version int) (model.MailFlagChange, flagEdit, error) {
	var ch model.MailFlagChange
	var edit flagEdit
	el, _ := data.(*wbxml.Element)
	if el == nil {
		return ch, edit, nil
	}
	if r := el.Child("Email:Read"); r != nil {
		v := r.Text == "1"
		ch.Seen = &v
	}
	if f := el.Child("Email:Flag"); f != nil && version >= 120 {
		flagged, d, err := model.ParseClientFlag(clientFlag(f), time.Now())
		if err != nil {
			return ch, edit, err
		}
		ch.Flagged = &flagged
		edit = flagEdit{set: true, details: d}
	}
	if c := el.Child("Email:Categories"); c != nil && version >= 140 {
		cats := []string{}
		for _, x := range c.ChildrenNamed("Email:Category") {
			if x.Text != "" {
				cats = append(cats, x.Text)
			}
		}
		ch.Keywords = &cats
	}
	return ch, edit, nil
}

// clientFlag reads the fields of an Email:Flag as a client sent them.
func clientFlag(f *wbxml.Element) message.Flag {
	out := message.Flag{
		Subject: f.ChildText("Tasks:Subject"), FlagType: f.ChildText("Email:FlagType"),
		DateCompleted: f.ChildText("Tasks:DateCompleted"), CompleteTime: f.ChildText("Email:CompleteTime"),
		StartDate: f.ChildText("Tasks:StartDate"), DueDate: f.ChildText("Tasks:DueDate"),
		UtcStartDate: f.ChildText("Tasks:UtcStartDate"), UtcDueDate: f.ChildText("Tasks:UtcDueDate"),
		ReminderTime: f.ChildText("Tasks:ReminderTime"), OrdinalDate: f.ChildText("Tasks:OrdinalDate"),
		SubOrdinalDate: f.ChildText("Tasks:SubOrdinalDate"),
	}
	if s := strings.TrimSpace(f.ChildText("Email:Status")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1 // not a status: refused as one out of range
		}
		out.Status = n
	}
	if r := f.Child("Tasks:ReminderSet"); r != nil {
		v := strings.TrimSpace(r.Text) == "1"
		out.ReminderSet = &v
	}
	return out
}

// clientDeletes deletes the messages the client deleted, in one IMAP
// operation: moved to Deleted Items (DeletesAsMoves, the default), or
// expunged when the client asked for a hard delete or when the folder is
// Deleted Items itself. A message already gone is no error: the client
// wanted it gone (and a re-sent request finds it so).
func (m *mailSync) clientDeletes() error {
	if m.col.Commands == nil || len(m.col.Commands.Delete) == 0 {
		return nil
	}
	var uids []uint32
	for _, d := range m.col.Commands.Delete {
		uid, ok := m.uidOf(d.ServerID)
		if !ok {
			m.resps.Delete = append(m.resps.Delete, message.SyncResponseDelete{ServerID: d.ServerID, Status: int(syncObjectNotFound)})
			continue
		}
		uids = append(uids, uid)
		m.ops = append(m.ops, syncstate.ClientOp{Kind: syncstate.OpDelete, ServerID: uidKey(uid)})
	}
	trash := m.sc.trash
	if (m.col.DeletesAsMoves != nil && !*m.col.DeletesAsMoves) || m.f.Type == model.FolderDeletedItems {
		trash = folders.Folder{}
	}
	moved, err := m.sess.Delete(m.sc.k.ctx(), m.f.IMAPName, uids, trash.IMAPName)
	if err != nil {
		return err
	}
	// The messages' flag details go with them: to their UIDs in Deleted
	// Items where the server said them, else they are dropped and the
	// messages show there the plain flag IMAP keeps. Without a listing
	// yet the state knows no UIDVALIDITY, and the rows are left; they can
	// match no other message.
	uv := m.st.status.UIDValidity
	if uv == 0 {
		return nil
	}
	var w flagWrites
	w.deleted(m.flagBox(uv), trash.ServerID, moved, uids)
	return w.send(m.sc.k.ctx(), m.tx.PGTx())
}

// clientFetches answers Fetch commands with the items in full; an item
// that does not exist gets Status 8.
func (m *mailSync) clientFetches() ([]message.SyncResponseFetch, error) {
	if m.col.Commands == nil || len(m.col.Commands.Fetch) == 0 {
		return nil, nil
	}
	var uids []uint32
	for _, f := range m.col.Commands.Fetch {
		if uid, ok := m.uidOf(f.ServerID); ok {
			uids = append(uids, uid)
		}
	}
	items, err := m.sess.Fetch(m.sc.k.ctx(), m.f.IMAPName, uids, m.fetch)
	if err != nil {
		return nil, err
	}
	if err := m.fetchFlagDetails(items); err != nil {
		return nil, err
	}
	byUID := make(map[uint32]any, len(items))
	for _, it := range items {
		byUID[it.UID] = it.Data
	}
	var out []message.SyncResponseFetch
	for _, f := range m.col.Commands.Fetch {
		uid, _ := m.uidOf(f.ServerID)
		if data, ok := byUID[uid]; ok {
			out = append(out, message.SyncResponseFetch{ServerID: f.ServerID, Status: int(syncOK), ApplicationData: data})
		} else {
			out = append(out, message.SyncResponseFetch{ServerID: f.ServerID, Status: int(syncObjectNotFound)})
		}
	}
	return out, nil
}
