package eas

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/mailconv"
)

// ioOp is the answer to one operation: exactly one field is set.
type ioOp struct {
	empty *message.EmptyFolderContentsResult
	fetch *ioFetch
	move  *message.ItemOperationsMoveResult
}

// ioFetch is the answer to one Fetch: an item (its class's
// ApplicationData value) or an attachment (att), or only a status.
type ioFetch struct {
	result message.ItemOperationsFetchResult
	item   any
	att    *ioAttachment
}

// ioAttachment is the part of an attachment to send.
type ioAttachment struct {
	mailbox     string
	uid         uint32
	part        string
	contentType string
	total       int64  // decoded size of the whole attachment
	offset, n   int64  // what is sent
	rng         string // the Range answered, "" without one
}

func (r *ioRun) fetch(f message.ItemOperationsFetch) ioFetch {
	out := ioFetch{result: message.ItemOperationsFetchResult{ServerID: f.ServerID, CollectionID: f.CollectionID,
		LongID: f.LongID, FileReference: f.FileReference}}
	if f.Options == nil {
		f.Options = &message.ItemOperationsOptions{}
	}
	var st Status
	switch {
	case !strings.EqualFold(f.Store, "Mailbox"):
		// Document libraries are not offered.
		st = ioUnknownStore
	case f.FileReference != "":
		st = r.fetchAttachment(f, &out)
	case f.LongID != "":
		st = r.fetchItem(f.LongID, "", f.Options, &out)
	case f.ServerID != "":
		st = r.fetchItem(f.ServerID, f.CollectionID, f.Options, &out)
	default:
		st = ioProtocolError
	}
	out.result.Status = int(st)
	return out
}

// fetchItem renders one item as Sync would, through its folder's class;
// easd's LongIds are ServerIds, so a LongId fetch lands here too (without
// a CollectionId). Every class's ServerIds start with their folder's id.
func (r *ioRun) fetchItem(serverID, collectionID string, o *message.ItemOperationsOptions, out *ioFetch) Status {
	folderID, _, ok := strings.Cut(serverID, ":")
	if !ok || (collectionID != "" && collectionID != folderID) {
		return ioNotFound
	}
	f, ok := r.byID[folderID]
	if !ok {
		return ioNotFound
	}
	fe, ok := r.k.s.classOf(f).(itemFetcher)
	if !ok {
		return ioNotFound
	}
	return fe.fetchItem(r, f, serverID, o, out)
}

// fetchMail renders one message.
func (r *ioRun) fetchMail(f folders.Folder, serverID string, o *message.ItemOperationsOptions, out *ioFetch) Status {
	id, err := model.ParseMailID(serverID)
	if err != nil {
		return ioNotFound
	}
	sess, err := r.conn.session()
	if err != nil {
		return r.failed("fetch", serverID, err)
	}
	opts := model.MailFetchOptions{FolderID: f.ServerID, Version: r.k.version, BodyPreferences: o.BodyPreference}
	if o.MIMESupport != nil {
		opts.MIMESupport = *o.MIMESupport
	}
	items, err := sess.Fetch(r.k.ctx(), f.IMAPName, []uint32{id.UID}, opts)
	if err != nil {
		return r.failed("fetch", serverID, err)
	}
	if len(items) == 0 {
		return ioNotFound
	}
	if err := applyStoredFlags(r.k.ctx(), r.k.s.opts.Pool, r.k.dev.UserID, sess, f, items); err != nil {
		return r.failed("fetch", serverID, err)
	}
	email, ok := items[0].Data.(*message.Email)
	if !ok {
		return ioConversion
	}
	out.item = email
	out.result.Class = string(model.ClassEmail)
	return ioOK
}

// fetchAttachment looks the attachment up (type and size); its content is
// streamed when the answer is written.
func (r *ioRun) fetchAttachment(f message.ItemOperationsFetch, out *ioFetch) Status {
	id, part, err := mailconv.ParseFileReference(f.FileReference)
	if err != nil {
		return ioBadAttachment
	}
	folder, ok := r.byID[id.FolderID]
	if !ok || !r.k.s.isMail(folder) {
		return ioBadAttachment
	}
	sess, err := r.conn.session()
	if err != nil {
		return r.failed("attachment", f.FileReference, err)
	}
	ct, total, ok, err := sess.PartInfo(r.k.ctx(), folder.IMAPName, id.UID, part)
	if err != nil {
		return r.failed("attachment", f.FileReference, err)
	}
	if !ok {
		return ioBadAttachment
	}
	a := &ioAttachment{mailbox: folder.IMAPName, uid: id.UID, part: part, contentType: ct, total: total, n: total}
	if f.Options.Range != "" {
		start, end, ok := parseByteRange(f.Options.Range)
		if !ok || start >= total {
			return ioBadRange
		}
		end = min(end, total-1)
		a.offset, a.n = start, end-start+1
		a.rng = fmt.Sprintf("%d-%d", start, end)
	}
	out.att = a
	return ioOK
}

// parseByteRange reads "first-last" (inclusive byte offsets, MS-ASCMD
// 2.2.3.143.1).
func parseByteRange(s string) (first, last int64, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, false
	}
	return first, last, true
}

// fetchStoreItem renders one item of a store class.
func (r *ioRun) fetchStoreItem(store model.ItemStore, f folders.Folder, serverID string, o *message.ItemOperationsOptions, out *ioFetch) Status {
	k := r.k
	opts := model.ItemOptions{Version: k.version, Zone: k.s.opts.Zone, BodyPreferences: o.BodyPreference}
	items, err := store.Render(k.ctx(), k.s.opts.Pool, k.dev.UserID, f.ServerID, []string{serverID}, opts)
	if err != nil {
		return r.failed("fetch", serverID, err)
	}
	if len(items) == 0 {
		return ioNotFound
	}
	out.item = items[0].Data
	out.result.Class = string(f.Type.Class())
	return ioOK
}
