package eas

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/easd/easd/internal/httpserver"
	"github.com/easd/easd/mailconv"
)

func init() {
	// GetAttachment exists up to 14.1 (MS-ASCMD 2.2.1.9); 2.5 and 12.x
	// clients fetch attachments with it, later ones use ItemOperations.
	addCommand("GetAttachment", &commandSpec{run: getAttachment, maxVersion: 141})
}

// getAttachment answers GetAttachment: the query's AttachmentName is the
// FileReference (2.5: AttName) of a Sync answer, and the response body is
// the attachment's raw content with its Content-Type, streamed from the
// mail server. A missing or malformed name is 400; an attachment that
// does not exist (any more) is 500, as MS-ASCMD 2.2.1.9 prescribes for a
// deleted attachment.
func getAttachment(k *call) error {
	ri := httpserver.Info(k.c)
	name := k.req.AttachmentName
	id, part, err := mailconv.ParseFileReference(name)
	if err != nil {
		ri.Note = "bad AttachmentName " + strconv.Quote(name)
		k.log.Info("getattachment: bad AttachmentName", "name", name, "err", err)
		return k.c.NoContent(http.StatusBadRequest)
	}
	run, err := newIORun(k)
	if err != nil {
		return err
	}
	defer run.conn.drop()
	folder, ok := run.byID[id.FolderID]
	if !ok || !k.s.isMail(folder) {
		ri.Note = "no mail folder " + strconv.Quote(id.FolderID)
		return k.c.NoContent(http.StatusInternalServerError)
	}
	sess, err := run.conn.session()
	if err != nil {
		return &StatusError{Status: StatusMailboxServerOffline, Err: err}
	}
	ct, total, ok, err := sess.PartInfo(k.ctx(), folder.IMAPName, id.UID, part)
	if err != nil {
		return &StatusError{Status: StatusServerError, Err: err}
	}
	if !ok {
		ri.Note = "no attachment " + strconv.Quote(name)
		return k.c.NoContent(http.StatusInternalServerError)
	}
	h := k.c.Response().Header()
	h.Set("MS-Server-ActiveSync", "16.1")
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.FormatInt(total, 10))
	k.c.Response().WriteHeader(http.StatusOK)
	if total == 0 {
		return nil
	}
	a := &ioAttachment{mailbox: folder.IMAPName, uid: id.UID, part: part, n: total}
	err = run.readPart(a, func(rd io.Reader) error {
		_, err := io.CopyN(k.c.Response(), rd, total)
		return err
	})
	if err != nil {
		// The status line is out: cut the connection so the phone sees a
		// failed download, not a short attachment.
		run.abort(errors.Join(errors.New("getattachment"), err))
	}
	return nil
}
