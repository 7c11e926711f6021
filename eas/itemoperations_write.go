package eas

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

var (
	ioTagRoot        = wbxml.MustTag("ItemOperations:ItemOperations")
	ioTagStatus      = wbxml.MustTag("ItemOperations:Status")
	ioTagResponse    = wbxml.MustTag("ItemOperations:Response")
	ioTagFetch       = wbxml.MustTag("ItemOperations:Fetch")
	ioTagProperties  = wbxml.MustTag("ItemOperations:Properties")
	ioTagRange       = wbxml.MustTag("ItemOperations:Range")
	ioTagTotal       = wbxml.MustTag("ItemOperations:Total")
	ioTagData        = wbxml.MustTag("ItemOperations:Data")
	ioTagPart        = wbxml.MustTag("ItemOperations:Part")
	ioTagServerID    = wbxml.MustTag("AirSync:ServerId")
	ioTagCollection  = wbxml.MustTag("AirSync:CollectionId")
	ioTagClass       = wbxml.MustTag("AirSync:Class")
	ioTagLongID      = wbxml.MustTag("Search:LongId")
	ioTagFileRef     = wbxml.MustTag("AirSyncBase:FileReference")
	ioTagContentType = wbxml.MustTag("AirSyncBase:ContentType")
	ioTagEmpty       = wbxml.MustTag("ItemOperations:EmptyFolderContents")
	ioTagMove        = wbxml.MustTag("ItemOperations:Move")
)

// writeWBXML answers as one WBXML document, written while the
// operations run: each answer goes out when its operation is done, and an
// attachment streams from the mail server into Data as base64 text, the
// form MS-ASCMD 2.2.3.39.2 gives it (a string holding the base64 of the
// content; clients that follow the spec read the text, not opaque bytes).
func (r *ioRun) writeWBXML(ops []message.ItemOperationsRequest) error {
	w := r.start("application/vnd.ms-sync.wbxml")
	if r.k.trace != nil && !hasFileReference(ops) {
		// Attachments are not traced: they may be large, and the trace
		// is for the protocol, not the content.
		w = io.MultiWriter(w, &r.k.trace.resp)
	}
	enc := wbxml.NewEncoder(w)
	var dataErr error
	data := func(a *ioAttachment) {
		_ = enc.Start(ioTagData)
		if a.n > 0 && dataErr == nil {
			dataErr = r.readPart(a, func(rd io.Reader) error {
				return enc.Base64From(rd, a.n)
			})
		}
		_ = enc.End()
	}
	r.begin(enc)
	for _, op := range ops {
		r.encodeOp(enc, r.do(op), data)
		if dataErr != nil {
			r.abort(dataErr)
		}
	}
	r.end(enc)
	if err := enc.Close(); err != nil {
		r.abort(err)
	}
	return nil
}

func hasFileReference(ops []message.ItemOperationsRequest) bool {
	for _, op := range ops {
		if len(op.Fetch) == 1 && op.Fetch[0].FileReference != "" {
			return true
		}
	}
	return false
}

// writeMultiPart answers in the MultiPart format (MS-ASHTTP 2.2.2.2): a
// little-endian part count, (offset, length) of each part, then the
// parts; part 0 is the WBXML, whose Part elements name the parts that
// hold the attachments' data. Every length comes first, so all operations
// run before the first byte goes out; the attachments' content streams
// after.
func (r *ioRun) writeMultiPart(ops []message.ItemOperationsRequest) error {
	var doc bytes.Buffer
	enc := wbxml.NewEncoder(&doc)
	var parts []*ioAttachment
	r.begin(enc)
	for _, op := range ops {
		r.encodeOp(enc, r.do(op), func(a *ioAttachment) {
			parts = append(parts, a)
			_ = enc.Element(ioTagPart, strconv.Itoa(len(parts)))
		})
	}
	r.end(enc)
	if err := enc.Close(); err != nil {
		return fmt.Errorf("itemoperations: encode response: %w", err)
	}
	count := 1 + len(parts)
	head := make([]byte, 0, 4+8*count)
	head = binary.LittleEndian.AppendUint32(head, uint32(count))
	offset := int64(cap(head))
	for i := range count {
		n := int64(doc.Len())
		if i > 0 {
			n = parts[i-1].n
		}
		head = binary.LittleEndian.AppendUint32(head, uint32(offset))
		head = binary.LittleEndian.AppendUint32(head, uint32(n))
		offset += n
	}
	if offset > math.MaxUint32 {
		// The format's offsets are 32 bits.
		return statusErr(ioTooLarge, "multipart response of %d bytes", offset)
	}
	w := r.start("application/vnd.ms-sync.multipart")
	if r.k.trace != nil {
		r.k.trace.resp.Write(doc.Bytes()) // the WBXML part; attachments are not traced
	}
	if _, err := w.Write(head); err != nil {
		r.abort(err)
	}
	if _, err := w.Write(doc.Bytes()); err != nil {
		r.abort(err)
	}
	for _, a := range parts {
		if a.n == 0 {
			continue
		}
		err := r.readPart(a, func(rd io.Reader) error {
			_, err := io.CopyN(w, rd, a.n)
			return err
		})
		if err != nil {
			r.abort(fmt.Errorf("write part: %w", err))
		}
	}
	return nil
}

// abort ends a response that failed after its status line went out. A
// response that merely stopped would look complete to the phone, with a
// short attachment; a reset connection is a failed download, which the
// phone retries. http.ErrAbortHandler is net/http's way to do that, and
// the recover middleware lets it through.
func (r *ioRun) abort(err error) {
	r.conn.drop()
	r.k.log.Warn("itemoperations: response cut short", "err", err)
	panic(http.ErrAbortHandler)
}

// readPart streams an attachment's content to fn, on the request's
// session (a new one when a failure dropped it).
func (r *ioRun) readPart(a *ioAttachment, fn func(io.Reader) error) error {
	sess, err := r.conn.session()
	if err != nil {
		return err
	}
	return sess.ReadPart(r.k.ctx(), a.mailbox, a.uid, a.part, a.offset, a.n, fn)
}

// start sends the status line and headers; the body follows.
func (r *ioRun) start(contentType string) io.Writer {
	res := r.k.c.Response()
	res.Header().Set("MS-Server-ActiveSync", "16.1")
	res.Header().Set("Content-Type", contentType)
	res.WriteHeader(http.StatusOK)
	return res
}

// begin opens the answer: the global Status is 1 once the request
// decoded, and each operation carries its own.
func (r *ioRun) begin(enc *wbxml.Encoder) {
	_ = enc.Start(ioTagRoot)
	_ = enc.Element(ioTagStatus, "1")
	_ = enc.Start(ioTagResponse)
}

func (r *ioRun) end(enc *wbxml.Encoder) {
	_ = enc.End()
	_ = enc.End()
}

// encodeOp writes one answer; data writes an attachment's content (inline
// Data, or a Part reference). Errors stick in the encoder, whose Close
// reports them.
func (r *ioRun) encodeOp(enc *wbxml.Encoder, op ioOp, data func(*ioAttachment)) {
	switch {
	case op.empty != nil:
		_ = enc.EncodeElement(ioTagEmpty, op.empty)
	case op.move != nil:
		_ = enc.EncodeElement(ioTagMove, op.move)
	case op.fetch != nil:
		r.encodeFetch(enc, *op.fetch, data)
	}
}

// encodeFetch writes one Fetch answer.
func (r *ioRun) encodeFetch(enc *wbxml.Encoder, f ioFetch, data func(*ioAttachment)) {
	res := f.result
	_ = enc.Start(ioTagFetch)
	_ = enc.Element(ioTagStatus, strconv.Itoa(res.Status))
	switch {
	case res.FileReference != "":
		_ = enc.Element(ioTagFileRef, res.FileReference)
	case res.LongID != "":
		_ = enc.Element(ioTagLongID, res.LongID)
	default:
		if res.CollectionID != "" {
			_ = enc.Element(ioTagCollection, res.CollectionID)
		}
		if res.ServerID != "" {
			_ = enc.Element(ioTagServerID, res.ServerID)
		}
	}
	if res.Class != "" {
		_ = enc.Element(ioTagClass, res.Class)
	}
	switch {
	case f.item != nil:
		_ = enc.EncodeElement(ioTagProperties, f.item)
	case f.att != nil:
		a := f.att
		_ = enc.Start(ioTagProperties)
		_ = enc.Element(ioTagContentType, a.contentType)
		if a.rng != "" {
			_ = enc.Element(ioTagRange, a.rng)
			_ = enc.Element(ioTagTotal, strconv.FormatInt(a.total, 10))
		}
		data(a)
		_ = enc.End()
	}
	_ = enc.End()
}
