package eas

import (
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
// the merged result goes back to the client as a Change.
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
	for _, c := range m.col.Commands.Change {
		uid, ok := m.uidOf(c.ServerID)
		f, exists := cur[uid]
		if !ok || !exists {
			// No op: if the client holds the item, the exchange sends the
			// Delete it needs.
			m.resps.Change = append(m.resps.Change, message.SyncResponseChange{ServerID: c.ServerID, Status: int(syncObjectNotFound)})
			continue
		}
		key := uidKey(uid)
		conflict := syncstate.ChangedOnServer(m.st.items, key, f.Version())
		nf, ok, err := m.sess.SetFlags(ctx, mailbox, uid, mailChange(c.ApplicationData, m.sc.k.version))
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
	}
	return nil
}

// mailChange reads what a client may change on a message: Read, Flag
// (active -> \Flagged; complete or cleared -> not flagged, IMAP has no
// "complete") and Categories (14.0+, as keywords).
func mailChange(data any, version int) model.MailFlagChange {
	var ch model.MailFlagChange
	el, _ := data.(*wbxml.Element)
	if el == nil {
		return ch
	}
	if r := el.Child("Email:Read"); r != nil {
		v := r.Text == "1"
		ch.Seen = &v
	}
	if f := el.Child("Email:Flag"); f != nil {
		v := f.ChildText("Email:Status") == "2"
		ch.Flagged = &v
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
	return ch
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
	if m.col.DeletesAsMoves != nil && !*m.col.DeletesAsMoves {
		trash = ""
	}
	if m.f.Type == model.FolderDeletedItems {
		trash = ""
	}
	return m.sess.Delete(m.sc.k.ctx(), m.f.IMAPName, uids, trash)
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
