package eas

import (
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// emptyFolder deletes every message of a mail folder: to Deleted Items,
// or for good when it is Deleted Items (what "Empty Deleted Items" on a
// phone means). It deletes exactly the messages listed now, so a request
// re-sent after a lost answer finds the folder empty and deletes nothing
// more. With DeleteSubFolders the folder's subfolders go as FolderDelete
// deletes them (deepest first, default folders never); the client learns
// of that with its next FolderSync.
func (r *ioRun) emptyFolder(e message.EmptyFolderContents) message.EmptyFolderContentsResult {
	out := message.EmptyFolderContentsResult{CollectionID: e.CollectionID, Status: int(ioOK)}
	f, ok := r.byID[e.CollectionID]
	if !ok {
		out.Status = int(ioNotFound)
		return out
	}
	em, ok := r.k.s.classOf(f).(folderEmptier)
	if !ok {
		// Contacts, calendars and the Outbox are not emptied this way.
		out.Status = int(ioProtocolError)
		return out
	}
	return em.emptyFolder(r, e, f)
}

// emptyMailFolder empties a mail folder (see emptyFolder).
func (r *ioRun) emptyMailFolder(e message.EmptyFolderContents, f folders.Folder) message.EmptyFolderContentsResult {
	out := message.EmptyFolderContentsResult{CollectionID: e.CollectionID, Status: int(ioOK)}
	sess, err := r.conn.session()
	if err != nil {
		out.Status = int(r.failed("empty", e.CollectionID, err))
		return out
	}
	ctx := r.k.ctx()
	l, err := sess.List(ctx, f.IMAPName, model.MailListOptions{})
	if err == nil {
		trash := r.trash
		if f.Type == model.FolderDeletedItems {
			trash = folders.Folder{}
		}
		var moved model.MailMoved
		if moved, err = sess.Delete(ctx, f.IMAPName, l.All, trash.IMAPName); err == nil {
			r.moveFlagDetails(f, l.Status.UIDValidity, trash, moved, l.All)
		}
	}
	if err != nil {
		out.Status = int(r.failed("empty", e.CollectionID, err))
		return out
	}
	if e.Options != nil && e.Options.DeleteSubFolders {
		if err := r.deleteSubfolders(f); err != nil {
			out.Status = int(r.failed("delete subfolders", e.CollectionID, err))
		}
	}
	return out
}

// moveFlagDetails makes the flag details of the emptied folder's messages
// follow them to Deleted Items, where the server said their new UIDs, and
// drops the rest. The messages are gone already, so a failure here does
// not fail the request: they show the plain flag IMAP keeps.
func (r *ioRun) moveFlagDetails(f folders.Folder, uidValidity uint32, trash folders.Folder, moved model.MailMoved, uids []uint32) {
	var w flagWrites
	w.deleted(mailboxKey{user: r.k.dev.UserID, folder: f.ServerID, uidValidity: uidValidity}, trash.ServerID, moved, uids)
	if err := w.send(r.k.ctx(), r.k.s.opts.Pool); err != nil {
		r.k.log.Warn("empty folder: flag details not moved", "collection", f.ServerID, "err", err)
	}
}

// deleteSubfolders deletes the folders below f, deepest first (IMAP
// servers differ in what DELETE does to inferiors).
func (r *ioRun) deleteSubfolders(f folders.Folder) error {
	doomed := deepestFirst(r.list, r.byID, f.ServerID, func(c folders.Folder) bool {
		return !c.Type.Special() && r.k.s.isMail(c)
	})
	// The session may have one of them selected; DELETE of a selected
	// mailbox is refused by some servers.
	r.conn.drop()
	for _, d := range doomed {
		if err := r.k.deleteFolder(d); err != nil {
			return err
		}
	}
	return nil
}
