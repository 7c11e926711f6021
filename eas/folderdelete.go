package eas

import (
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func init() {
	addCommand("FolderDelete", &commandSpec{root: "FolderHierarchy:FolderDelete", run: folderDelete})
}

// folderDelete deletes a folder and everything below it (MS-ASCMD 2.2.1.4).
func folderDelete(k *call) error {
	var req message.FolderDeleteRequest
	if err := k.decodeRequired(&req, folderBadRequest); err != nil {
		return err
	}
	op, err := k.beginFolderOp(req.SyncKey)
	if err != nil {
		return err
	}
	defer op.rollback()

	f, ok := op.byID[req.ServerID]
	if !ok {
		if _, known := op.known[req.ServerID]; op.replay && known {
			// Re-sent after a lost answer: the folder is already gone.
			return op.answerDelete(req.ServerID)
		}
		return statusErr(folderNotFound, "folder %q unknown", req.ServerID)
	}
	if _, keeps := k.s.classOf(f).(folderKeeper); f.Type.Special() || !keeps {
		return statusErr(folderSpecial, "folder %q is a default folder", f.DisplayName)
	}
	doomed := append(deepestFirst(op.list, op.byID, f.ServerID, func(folders.Folder) bool { return true }), f)
	if err := op.knowsAll(f, doomed); err != nil {
		return err
	}
	for _, d := range doomed {
		if err := k.deleteFolder(d); err != nil {
			return err
		}
	}
	if err := op.refresh(); err != nil {
		return err
	}
	return op.answerDelete(f.ServerID)
}

// knowsAll refuses a delete that would take folders the client does not
// know it deletes: a subfolder made elsewhere since the client's last
// FolderSync, or one moved under f meanwhile. Deleting a folder deletes
// its mail for good, so the client first learns the hierarchy as it is:
// Status 9 (MS-ASCMD 2.2.3.177.4) sends it to FolderSync, after which it
// may ask again. Nothing is deleted, and the state is not advanced.
func (op *folderOp) knowsAll(f folders.Folder, doomed []folders.Folder) error {
	for _, d := range doomed {
		if _, known := op.known[d.ServerID]; !known || (d.ServerID != f.ServerID && !knownBelow(op.known, d.ServerID, f.ServerID)) {
			return statusErr(folderBadKey, "folder %q holds %q, which the client's hierarchy does not place there: FolderSync first", f.DisplayName, d.DisplayName)
		}
	}
	return nil
}

// deleteFolder deletes one folder with its items, through its class.
func (k *call) deleteFolder(f folders.Folder) error {
	fk, ok := k.s.classOf(f).(folderKeeper)
	if !ok {
		return statusErr(folderSpecial, "folder %q cannot be deleted", f.DisplayName)
	}
	return fk.deleteFolder(k, f)
}

// deleteStoreFolder deletes a folder of a store class and its items, in
// one transaction.
func (k *call) deleteStoreFolder(store model.ItemStore, f folders.Folder) error {
	return k.s.folders.DeletePIM(k.ctx(), k.dev.UserID, f.ServerID, func(tx pgx.Tx) error {
		return store.DeleteFolder(k.ctx(), tx, k.dev.UserID, f.ServerID)
	})
}

// answerDelete commits that the client no longer knows the folder id nor
// anything below it: a client deletes a folder's children with it.
func (op *folderOp) answerDelete(id string) error {
	for child := range op.known {
		if knownBelow(op.known, child, id) {
			delete(op.known, child)
		}
	}
	key, err := op.commit(folders.Folder{ServerID: id}, true)
	if err != nil {
		return err
	}
	return op.k.respond(&message.FolderDeleteResponse{Status: int(StatusOK), SyncKey: key})
}

// knownBelow reports whether the client's state places id below ancestor,
// following the parent ids recorded in the versions (see folderVersion).
func knownBelow(known map[string]string, id, ancestor string) bool {
	return slices.Contains(parentChain(id, func(id string) string {
		parent, _, _ := strings.Cut(known[id], "/")
		return parent
	}), ancestor)
}
