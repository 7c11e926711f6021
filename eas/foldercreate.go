package eas

import (
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func init() {
	addCommand("FolderCreate", &commandSpec{root: "FolderHierarchy:FolderCreate", run: folderCreate})
}

// folderCreate creates a mail folder on the IMAP server, or a contacts,
// calendar, tasks or notes folder in PostgreSQL (MS-ASCMD 2.2.1.3).
func folderCreate(k *call) error {
	var req message.FolderCreateRequest
	if err := k.decodeRequired(&req, folderBadRequest); err != nil {
		return err
	}
	t := model.FolderType(req.Type)
	if t != model.FolderUserMail && t != model.FolderGeneric && !isPIMType(t) {
		return statusErr(folderBadRequest, "cannot create folders of type %d", req.Type)
	}
	op, err := k.beginFolderOp(req.SyncKey)
	if err != nil {
		return err
	}
	defer op.rollback()

	if f, ok := op.find(req.ParentID, req.DisplayName); ok {
		// A re-sent FolderCreate whose answer was lost: the folder is the
		// one it made, answer as before instead of "exists".
		if op.replay && int(f.Type) == typeOrMail(t) {
			return op.answerCreate(f)
		}
		return statusErr(folderExists, "folder %q exists", req.DisplayName)
	}
	if req.ParentID != "0" {
		if _, ok := op.byID[req.ParentID]; !ok {
			return statusErr(folderNoParent, "parent %q unknown", req.ParentID)
		}
	}

	var created folders.Folder
	if isPIMType(t) {
		if created, err = k.s.folders.CreatePIM(k.ctx(), k.dev.UserID, req.ParentID, req.DisplayName, t); err != nil {
			return err
		}
	} else {
		name, err := op.mailName(req.ParentID, req.DisplayName)
		if err != nil {
			return err
		}
		if err := k.s.opts.Mail.CreateMailbox(k.ctx(), k.creds.Login, k.creds.Password, name); err != nil {
			return &StatusError{Status: folderServerError, Err: err}
		}
		if err := op.refresh(); err != nil {
			return err
		}
		f, ok := op.find(req.ParentID, req.DisplayName)
		if !ok {
			return statusErr(folderServerError, "created mailbox %q not listed", name)
		}
		created = f
	}
	return op.answerCreate(created)
}

func (op *folderOp) answerCreate(f folders.Folder) error {
	key, err := op.commit(f, false)
	if err != nil {
		return err
	}
	return op.k.respond(&message.FolderCreateResponse{Status: int(StatusOK), SyncKey: key, ServerID: f.ServerID})
}

// typeOrMail maps the generic type 1 that some clients send for mail
// folders to the user mail type the hierarchy reports.
func typeOrMail(t model.FolderType) int {
	if t == model.FolderGeneric {
		return int(model.FolderUserMail)
	}
	return int(t)
}
