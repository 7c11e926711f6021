package eas

import (
	"cmp"
	"slices"
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
	if _, keeps := k.s.classOf(f).(folderKeeper); f.Type.Special() || !keeps {
		return statusErr(folderUpdateSpecial, "folder %q is a default folder", f.DisplayName)
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

	fk, ok := k.s.classOf(f).(folderKeeper)
	if !ok {
		return statusErr(folderUpdateSpecial, "folder %q cannot be changed", f.DisplayName)
	}
	if f, err = fk.updateFolder(op, f, req.ParentID, req.DisplayName); err != nil {
		return err
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
	return slices.Contains(ancestors(byID, id), ancestor)
}

// ancestors lists the ids above id, nearest first.
func ancestors(byID map[string]folders.Folder, id string) []string {
	return parentChain(id, func(id string) string { return byID[id].ParentID })
}

// parentChain follows parent from id up to the top ("" or "0"), nearest
// first; bounded, in case of a cycle in bad data.
func parentChain(id string, parent func(string) string) []string {
	var out []string
	for len(out) < 64 {
		id = parent(id)
		if id == "" || id == "0" {
			break
		}
		out = append(out, id)
	}
	return out
}

// deepestFirst lists the folders of list below id that keep reports,
// deepest first: IMAP servers differ in what DELETE does to inferiors.
func deepestFirst(list []folders.Folder, byID map[string]folders.Folder, id string, keep func(folders.Folder) bool) []folders.Folder {
	var out []folders.Folder
	depth := map[string]int{}
	for _, c := range list {
		if up := ancestors(byID, c.ServerID); slices.Contains(up, id) && keep(c) {
			out = append(out, c)
			depth[c.ServerID] = len(up)
		}
	}
	slices.SortStableFunc(out, func(a, b folders.Folder) int { return cmp.Compare(depth[b.ServerID], depth[a.ServerID]) })
	return out
}

// updatePIM renames or moves a folder kept in PostgreSQL.
func (op *folderOp) updatePIM(f folders.Folder, parentID, name string) (folders.Folder, error) {
	k := op.k
	if err := k.s.folders.UpdatePIM(k.ctx(), k.dev.UserID, f.ServerID, parentID, name); err != nil {
		return f, err
	}
	f.ParentID, f.DisplayName = parentID, name
	return f, nil
}

// renameMailbox renames or moves a mail folder on the IMAP server; the
// folder keeps its id.
func (op *folderOp) renameMailbox(f folders.Folder, parentID, name string) (folders.Folder, error) {
	k := op.k
	to, err := op.mailName(parentID, name)
	if err != nil {
		return f, err
	}
	if err := k.s.opts.Mail.RenameMailbox(k.ctx(), k.creds.Login, k.creds.Password, f.IMAPName, to); err != nil {
		return f, &StatusError{Status: folderServerError, Err: err}
	}
	if err := op.refresh(); err != nil {
		return f, err
	}
	renamed, ok := op.byID[f.ServerID]
	if !ok || !strings.EqualFold(renamed.DisplayName, name) {
		return f, statusErr(folderServerError, "renamed mailbox %q lost its id", to)
	}
	return renamed, nil
}
