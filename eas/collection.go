package eas

import (
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

// The item-class seam. Every command reaches a folder's items through the
// collectionClass that classOf picks for it: mail folders through IMAP
// (mailClass), contacts (and after them calendar, tasks, notes) through
// their PostgreSQL ItemStore (storeClass), and folders no store holds
// (the Outbox, a PIM class without a store) through noStoreClass, which
// keeps nothing and says so. Nowhere else does code ask which source a
// folder has.
//
// What every class does is the interface; what only some can do (move
// items, empty a folder, search, fetch attachments) are the optional
// interfaces below, found by type assertion, as go-imap v2's server finds
// its optional session extensions.
type collectionClass interface {
	// sync answers one collection of a Sync: the client's commands, then
	// the server's changes since the client's key.
	sync(sc *syncRun, col message.SyncCollection, f folders.Folder, rc *message.SyncResponseCollection) error
	// estimate counts the changes the next Sync would send; tx holds the
	// device's state at the client's key (neither unknown nor initial)
	// and is rolled back by the caller.
	estimate(sc *syncRun, c message.GetItemEstimateCollection, f folders.Folder, tx *syncstate.Tx) (int, Status)
	// watch tells how a waiting Ping or hanging Sync watches the folder.
	watch() watchKind
}

// watchKind is how a waiting request learns of a folder's changes.
type watchKind uint8

const (
	watchNone  watchKind = iota // never changes (the Outbox)
	watchMail                   // IMAP STATUS and the mail watcher
	watchItems                  // the folder's CTag and its NOTIFY topic
)

// itemFetcher is a class whose items ItemOperations can fetch by ServerId.
type itemFetcher interface {
	fetchItem(r *ioRun, f folders.Folder, serverID string, o *message.ItemOperationsOptions, out *ioFetch) Status
}

// itemMoverClass is a class whose items MoveItems can move between its
// folders.
type itemMoverClass interface {
	moveItem(mv *mover, m message.MoveItem, src, dst folders.Folder) message.MoveItemsResult
}

// folderEmptier is a class whose folders ItemOperations
// EmptyFolderContents can empty.
type folderEmptier interface {
	emptyFolder(r *ioRun, e message.EmptyFolderContents, f folders.Folder) message.EmptyFolderContentsResult
}

// folderKeeper is a class that keeps folders of its own: FolderCreate,
// FolderUpdate and FolderDelete of its folders go to it.
type folderKeeper interface {
	// deleteFolder deletes the folder and its items.
	deleteFolder(k *call, f folders.Folder) error
	// updateFolder renames or moves the folder and returns it as it is
	// now.
	updateFolder(op *folderOp, f folders.Folder, parentID, name string) (folders.Folder, error)
}

// classOf returns the class that serves folder f.
func (s *Server) classOf(f folders.Folder) collectionClass {
	switch f.Source {
	case folders.SourceIMAP:
		return mailClass{}
	case folders.SourcePIM:
		if st := s.opts.Items[f.Type.Class()]; st != nil {
			return storeClass{store: st}
		}
		return noStoreClass{notified: true}
	}
	return noStoreClass{}
}

// isMail reports whether f's items are mail on the IMAP server: only
// mail folders take part in mail searches, hold mail to reply to, or can
// be a mail folder's parent.
func (s *Server) isMail(f folders.Folder) bool {
	_, ok := s.classOf(f).(mailClass)
	return ok
}

// mailClass is the Email class: IMAP mailboxes (sync_mail*.go).
type mailClass struct{}

func (mailClass) sync(sc *syncRun, col message.SyncCollection, f folders.Folder, rc *message.SyncResponseCollection) error {
	return sc.mail(col, f, rc)
}

func (mailClass) estimate(sc *syncRun, c message.GetItemEstimateCollection, f folders.Folder, tx *syncstate.Tx) (int, Status) {
	return sc.estimateMail(c, f, tx)
}

func (mailClass) watch() watchKind { return watchMail }

func (mailClass) fetchItem(r *ioRun, f folders.Folder, serverID string, o *message.ItemOperationsOptions, out *ioFetch) Status {
	return r.fetchMail(f, serverID, o, out)
}

func (mailClass) moveItem(mv *mover, m message.MoveItem, src, dst folders.Folder) message.MoveItemsResult {
	return mv.moveMail(m, src, dst)
}

func (mailClass) emptyFolder(r *ioRun, e message.EmptyFolderContents, f folders.Folder) message.EmptyFolderContentsResult {
	return r.emptyMailFolder(e, f)
}

func (mailClass) updateFolder(op *folderOp, f folders.Folder, parentID, name string) (folders.Folder, error) {
	return op.renameMailbox(f, parentID, name)
}

func (mailClass) deleteFolder(k *call, f folders.Folder) error {
	if err := k.s.opts.Mail.DeleteMailbox(k.ctx(), k.creds.Login, k.creds.Password, f.IMAPName); err != nil {
		return &StatusError{Status: folderServerError, Err: err}
	}
	return nil
}

// noStoreClass serves folders whose items no store keeps: the Outbox
// (Android syncs it) and a PIM class easd has no store for yet. Their
// folders read as empty; a client's Add, Change or Delete there is
// refused item by item, never answered Status 1, since nothing was kept.
type noStoreClass struct {
	// notified: a PIM folder, whose changes (made by a later easd
	// sharing the database) are announced by NOTIFY.
	notified bool
}

func (noStoreClass) sync(sc *syncRun, col message.SyncCollection, f folders.Folder, rc *message.SyncResponseCollection) error {
	return sc.empty(col, f, rc)
}

func (noStoreClass) estimate(*syncRun, message.GetItemEstimateCollection, folders.Folder, *syncstate.Tx) (int, Status) {
	return 0, estimateOK
}

func (c noStoreClass) watch() watchKind {
	if c.notified {
		return watchItems
	}
	return watchNone
}

func (noStoreClass) updateFolder(op *folderOp, f folders.Folder, parentID, name string) (folders.Folder, error) {
	return op.updatePIM(f, parentID, name)
}

func (noStoreClass) deleteFolder(k *call, f folders.Folder) error {
	return k.s.folders.DeletePIM(k.ctx(), k.dev.UserID, f.ServerID)
}

// storeClass is an item class kept in PostgreSQL behind a
// model.ItemStore (sync_items.go).
type storeClass struct{ store model.ItemStore }

func (c storeClass) sync(sc *syncRun, col message.SyncCollection, f folders.Folder, rc *message.SyncResponseCollection) error {
	return sc.items(c.store, col, f, rc)
}

func (c storeClass) estimate(sc *syncRun, ec message.GetItemEstimateCollection, f folders.Folder, tx *syncstate.Tx) (int, Status) {
	return sc.estimateItems(c.store, ec, f, tx)
}

func (storeClass) watch() watchKind { return watchItems }

func (c storeClass) fetchItem(r *ioRun, f folders.Folder, serverID string, o *message.ItemOperationsOptions, out *ioFetch) Status {
	return r.fetchStoreItem(c.store, f, serverID, o, out)
}

func (c storeClass) moveItem(mv *mover, m message.MoveItem, src, dst folders.Folder) message.MoveItemsResult {
	return mv.moveStoreItem(c.store, m, src, dst)
}

func (storeClass) updateFolder(op *folderOp, f folders.Folder, parentID, name string) (folders.Folder, error) {
	return op.updatePIM(f, parentID, name)
}

func (c storeClass) deleteFolder(k *call, f folders.Folder) error {
	return k.deleteStoreFolder(c.store, f)
}
