package eas

import (
	"fmt"
	"strings"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

// Statuses shared by FolderCreate, FolderUpdate and FolderDelete
// (MS-ASCMD 2.2.3.177.2-4).
const (
	folderExists       Status = 2
	folderSpecial      Status = 3
	folderNotFound     Status = 4
	folderNoParent     Status = 5
	folderServerError  Status = 6
	folderBadKey       Status = 9
	folderBadRequest   Status = 10
	folderUnknownError Status = 11

	// folderUpdateSpecial is FolderUpdate's answer for a special folder:
	// 2, shared with "name exists" (MS-ASCMD 2.2.3.177.6). Its 3 means the
	// Recipient information cache, which a client would not rename.
	folderUpdateSpecial Status = 2
)

// folderOp is the frame of the three hierarchy-changing commands: lock
// the device's hierarchy state, check the key, reconcile with the mail
// server, let the command act, and commit a state that includes exactly the
// change the client made (so the next FolderSync neither repeats it nor
// skips changes made elsewhere meanwhile).
type folderOp struct {
	k       *call
	tx      *syncstate.Tx
	known   syncstate.Items
	list    []folders.Folder
	byID    map[string]folders.Folder
	delim   rune
	replay  bool   // the client re-sent its previous key: its last answer was lost
	release func() // gives back the user's database slot (dbslots.go)
}

func (k *call) beginFolderOp(key string) (*folderOp, error) {
	if key == "" {
		return nil, statusErr(folderBadRequest, "no SyncKey")
	}
	release, err := k.dbSlot(k.ctx())
	if err != nil {
		return nil, err
	}
	tx, err := k.s.sync.Begin(k.ctx(), k.dev.ID, syncstate.HierarchyID, key)
	if err != nil {
		release()
		return nil, k.syncStateErr(err, folderServerError)
	}
	op := &folderOp{k: k, tx: tx, release: release}
	switch tx.KeyStatus() {
	case syncstate.KeyCurrent:
	case syncstate.KeyPrevious:
		op.replay = true
	default: // unknown, or 0: these commands need a hierarchy the client knows
		op.rollback()
		return nil, statusErr(folderBadKey, "hierarchy key %q not current", key)
	}
	if op.known, err = syncstate.DecodeItems(tx.State()); err != nil {
		op.rollback()
		return nil, fmt.Errorf("hierarchy state: %w", err)
	}
	if err := op.refresh(); err != nil {
		op.rollback()
		return nil, err
	}
	return op, nil
}

// refresh reconciles the hierarchy with the mail server again.
func (op *folderOp) refresh() error {
	list, delim, err := op.k.hierarchy()
	if err != nil {
		return mailServerDown(err, folderServerError)
	}
	op.list, op.delim = list, delim
	_, op.byID = hierarchyItems(list)
	return nil
}

// rollback ends the transaction (a no-op after commit) and gives back the
// user's database slot.
func (op *folderOp) rollback() {
	op.tx.Rollback(op.k.ctx())
	op.release()
}

// commit records that the client now knows f as it is (or, with deleted,
// no longer knows it) and returns the new key.
func (op *folderOp) commit(f folders.Folder, deleted bool) (string, error) {
	if deleted {
		delete(op.known, f.ServerID)
	} else {
		op.known[f.ServerID] = folderVersion(f)
	}
	key, err := op.tx.Commit(op.k.ctx(), op.known.Encode())
	if err != nil {
		return "", op.k.syncStateErr(err, folderServerError)
	}
	return key, nil
}

// find returns the folder called name under parentID.
func (op *folderOp) find(parentID, name string) (folders.Folder, bool) {
	for _, f := range op.list {
		if f.ParentID == parentID && strings.EqualFold(f.DisplayName, name) {
			return f, true
		}
	}
	return folders.Folder{}, false
}

// mailName is the IMAP name of a new mailbox called name under parentID,
// or a status when the parent cannot hold mail folders.
func (op *folderOp) mailName(parentID, name string) (string, error) {
	if strings.ContainsRune(name, op.delim) || strings.TrimSpace(name) == "" {
		return "", statusErr(folderBadRequest, "folder name %q not allowed", name)
	}
	if parentID == "0" {
		return name, nil
	}
	p, ok := op.byID[parentID]
	if !ok {
		return "", statusErr(folderNoParent, "parent %q unknown", parentID)
	}
	if !op.k.s.isMail(p) {
		return "", statusErr(folderNoParent, "parent %q is not a mail folder", parentID)
	}
	return p.IMAPName + string(op.delim) + name, nil
}

// isPIMType reports whether a folder of type t lives in PostgreSQL.
func isPIMType(t model.FolderType) bool {
	switch t {
	case model.FolderUserCalendar, model.FolderUserContacts, model.FolderUserTasks, model.FolderUserNotes, model.FolderUserJournal:
		return true
	}
	return false
}
