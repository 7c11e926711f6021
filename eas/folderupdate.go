package eas

import (
	"strings"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
)

func init() {
	addCommand("FolderUpdate", &commandSpec{root: "FolderHierarchy:FolderUpdate", run: folderUpdate})
}

// folderUpdate renames or moves a folder (MS-ASCMD 2.2.1.6): IMAP RENAME
// for mail folders, which keep their id (and so their synced mail).
func folderUpdate(k *call) error {
	var req message.FolderUpdateRequest
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
		return statusErr(folderNotFound, "folder %q unknown", req.ServerID)
	}
	if f.Type.Special() || f.Source == folders.SourceVirtual {
		return statusErr(folderSpecial, "folder %q is a default folder", f.DisplayName)
	}
	if f.ParentID == req.ParentID && f.DisplayName == req.DisplayName {
		// Nothing to do, or a re-sent request that was already applied.
		return op.answerUpdate(f)
	}
	if other, ok := op.find(req.ParentID, req.DisplayName); ok && other.ServerID != f.ServerID {
		return statusErr(folderExists, "folder %q exists", req.DisplayName)
	}
	if req.ParentID != "0" {
		p, ok := op.byID[req.ParentID]
		if !ok {
			return statusErr(folderNoParent, "parent %q unknown", req.ParentID)
		}
		if p.ServerID == f.ServerID || isDescendant(op.byID, p.ServerID, f.ServerID) {
			return statusErr(folderBadRequest, "cannot move a folder into itself")
		}
	}

	switch f.Source {
	case folders.SourcePIM:
		if err := k.s.folders.UpdatePIM(k.ctx(), k.dev.UserID, f.ServerID, req.ParentID, req.DisplayName); err != nil {
			return err
		}
		f.ParentID, f.DisplayName = req.ParentID, req.DisplayName
	default:
		to, err := op.mailName(req.ParentID, req.DisplayName)
		if err != nil {
			return err
		}
		if err := k.s.opts.Mail.RenameMailbox(k.ctx(), k.creds.Login, k.creds.Password, f.IMAPName, to); err != nil {
			return &StatusError{Status: folderServerError, Err: err}
		}
		if err := op.refresh(); err != nil {
			return err
		}
		renamed, ok := op.byID[f.ServerID]
		if !ok || !strings.EqualFold(renamed.DisplayName, req.DisplayName) {
			return statusErr(folderServerError, "renamed mailbox %q lost its id", to)
		}
		f = renamed
	}
	return op.answerUpdate(f)
}

func (op *folderOp) answerUpdate(f folders.Folder) error {
	key, err := op.commit(f, false)
	if err != nil {
		return err
	}
	return op.k.respond(&message.FolderUpdateResponse{Status: int(StatusOK), SyncKey: key})
}

// isDescendant reports whether id lies below ancestor.
func isDescendant(byID map[string]folders.Folder, id, ancestor string) bool {
	for _, a := range ancestors(byID, id) {
		if a == ancestor {
			return true
		}
	}
	return false
}

// ancestors lists the ids above id, nearest first (bounded, in case of a
// cycle in bad data).
func ancestors(byID map[string]folders.Folder, id string) []string {
	var out []string
	for len(out) < 64 {
		f, ok := byID[id]
		if !ok || f.ParentID == "0" {
			break
		}
		out = append(out, f.ParentID)
		id = f.ParentID
	}
	return out
}
