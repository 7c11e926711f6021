package eas

import (
	"errors"
	"fmt"
	"strings"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

func init() {
	addCommand("ItemOperations", &commandSpec{root: "ItemOperations:ItemOperations", run: itemOperations, minVersion: 120})
}

// ItemOperations statuses (MS-ASCMD 2.2.3.177.8).
const (
	ioOK            Status = 1
	ioProtocolError Status = 2
	ioServerError   Status = 3
	ioNotFound      Status = 6
	ioBadRange      Status = 8
	ioUnknownStore  Status = 9
	ioTooLarge      Status = 11
	ioConversion    Status = 14
	ioBadAttachment Status = 15
	ioNotSupported  Status = 156 // ActionNotSupported (MS-ASCMD 2.2.2)
)

// itemOperations answers ItemOperations (MS-ASCMD 2.2.1.10):
//
//   - Fetch of a mail item by ServerId (with CollectionId) or LongId
//     (easd's LongIds are ServerIds), rendered as Sync renders it, with
//     the fetch's BodyPreference and MIMESupport.
//   - Fetch of an attachment by FileReference ("folder:uid:part"),
//     streamed from the mail server into the response; Range ("0-999")
//     returns part of it with Range and Total. With MultiPart (header
//     MS-ASAcceptMultiPart: T or the query option) attachments travel as
//     binary parts after the WBXML instead of inside it.
//   - EmptyFolderContents of a mail folder: every message to Deleted
//     Items, or expunged when the folder is Deleted Items; with
//     DeleteSubFolders the subfolders are deleted as FolderDelete would.
//     A re-sent request (lost answer) finds the folder empty and deletes
//     nothing more.
//   - Move of conversations: not supported (status 156).
//
// Every operation has its own status; one failing never fails the
// others. Answers come in the order of the request.
func itemOperations(k *call) error {
	var req ioRequest
	if err := k.decodeRequired(&req, ioProtocolError); err != nil {
		return err
	}
	ops := make([]message.ItemOperationsRequest, len(req.Ops))
	for i, el := range req.Ops {
		var err error
		if ops[i], err = splitOp(el); err != nil {
			return &StatusError{Status: ioProtocolError, Err: err}
		}
	}
	if len(ops) == 0 {
		return statusErr(ioProtocolError, "no operation")
	}
	run, err := newIORun(k)
	if err != nil {
		return err
	}
	defer run.conn.drop()
	multipart := k.req.AcceptMultiPart || strings.EqualFold(k.c.Request().Header.Get("MS-ASAcceptMultiPart"), "T")
	if multipart {
		return run.writeMultiPart(ops)
	}
	return run.writeWBXML(ops)
}

// ioRequest reads the operations in the client's order; the codec would
// group typed fields by kind.
type ioRequest struct {
	WBXMLName message.Tag      `wbxml:"ItemOperations:ItemOperations"`
	Ops       []*wbxml.Element `wbxml:",any"`
}

// splitOp decodes one operation: wrapped in a request of its own, it is
// the one entry of that request's Fetch, EmptyFolderContents or Move.
func splitOp(el *wbxml.Element) (message.ItemOperationsRequest, error) {
	var one message.ItemOperationsRequest
	b, err := wbxml.NewElement(ioTagRoot, el).Bytes()
	if err == nil {
		err = wbxml.Unmarshal(b, &one)
	}
	if err != nil {
		return one, fmt.Errorf("operation %s: %w", el.Name(), err)
	}
	if len(one.Fetch)+len(one.EmptyFolderContents)+len(one.Move) != 1 {
		return one, fmt.Errorf("unknown operation %s", el.Name())
	}
	return one, nil
}

// do carries out one operation. An attachment's content is not read
// here: it streams when the answer is written.
func (r *ioRun) do(op message.ItemOperationsRequest) ioOp {
	switch {
	case len(op.Fetch) == 1:
		f := r.fetch(op.Fetch[0])
		return ioOp{fetch: &f}
	case len(op.EmptyFolderContents) == 1:
		e := r.emptyFolder(op.EmptyFolderContents[0])
		return ioOp{empty: &e}
	}
	// Conversation moves are not offered (conversations are not kept).
	return ioOp{move: &message.ItemOperationsMoveResult{Status: int(ioNotSupported), ConversationID: op.Move[0].ConversationID}}
}

// ioRun is one ItemOperations request: the user's folders and the mail
// session, opened on first use.
type ioRun struct {
	k     *call
	byID  map[string]folders.Folder
	list  []folders.Folder
	trash folders.Folder // Deleted Items; no IMAPName when there is none
	conn  mailConn
}

func newIORun(k *call) (*ioRun, error) {
	list, err := k.s.folders.List(k.ctx(), k.dev.UserID)
	if err != nil {
		return nil, err
	}
	return &ioRun{k: k, conn: mailConn{k: k}, byID: folders.ByID(list), list: list, trash: folders.Trash(list)}, nil
}

// failed logs a failed operation and returns its status: a folder gone
// is "not found", anything else of the mail server a server error.
func (r *ioRun) failed(what, id string, err error) Status {
	st := ioServerError
	switch {
	case errors.Is(err, model.ErrMailboxGone):
		st = ioNotFound
	default:
		r.conn.drop()
	}
	r.k.log.Warn("itemoperations failed", "op", what, "id", id, "status", int(st), "err", err)
	return st
}
