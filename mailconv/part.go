package mailconv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"

	"github.com/emersion/go-message/textproto"
)

// ErrNoPart is returned by Part when the message has no such section.
var ErrNoPart = errors.New("mailconv: no such part")

// Part finds the part with IMAP section number partPath ("2", "1.2") in
// the message read from r and returns its media type with parameters, a
// file name and its content with the transfer encoding undone (an
// embedded message comes as it is, header included). Nothing is
// buffered beyond go-message's read buffers: body reads straight from r,
// so the caller must read it before closing r. Parts before the one
// wanted are read and dropped; a caller that can fetch the section alone
// (IMAP BODY[2.1]) should still pass the whole message, since only the
// enclosing headers say how the section is encoded.
func Part(r io.Reader, partPath string) (contentType, filename string, body io.Reader, err error) {
	path, err := parsePartPath(partPath)
	if err != nil {
		return "", "", nil, fmt.Errorf("mailconv: %w", err)
	}
	br := bufio.NewReader(r)
	h, err := textproto.ReadHeader(br)
	if err != nil && h.Len() == 0 {
		return "", "", nil, fmt.Errorf("mailconv: read header: %w", err)
	}
	e, raw, err := messageChild(newEntity(h, "text/plain"), br, path)
	if err != nil {
		return "", "", nil, err
	}
	_, dparams := disposition(e.h)
	filename = fileName(e, dparams)
	if filename == "" {
		filename = defaultName(e.mediaType, partPath)
	}
	contentType = mime.FormatMediaType(e.mediaType, e.params)
	if contentType == "" {
		contentType = e.mediaType
	}
	if e.isMessage() || e.isMultipart() {
		return contentType, filename, raw, nil
	}
	return contentType, filename, DecodeTransfer(e.h.Get("Content-Transfer-Encoding"), raw), nil
}

// messageChild descends into a message whose header is e: a multipart
// message's sections are its parts; a single-part message has one
// section, 1, its body (RFC 3501 6.4.5).
func messageChild(e entity, body io.Reader, path []int) (entity, io.Reader, error) {
	if e.isMultipart() {
		return multipartChild(e, body, path)
	}
	if path[0] != 1 {
		return entity{}, nil, ErrNoPart
	}
	return descend(e, body, path[1:])
}

// multipartChild finds part path[0] of a multipart and descends into it.
func multipartChild(e entity, body io.Reader, path []int) (entity, io.Reader, error) {
	mr := textproto.NewMultipartReader(body, e.params["boundary"])
	sub := e.mediaType[len("multipart/"):]
	for i := 1; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return entity{}, nil, ErrNoPart
		}
		if err != nil {
			return entity{}, nil, fmt.Errorf("mailconv: part %d: %w", i, err)
		}
		if i == path[0] {
			return descend(newEntity(p.Header, defaultChildType(sub)), p, path[1:])
		}
	}
}

// descend goes further down from entity e, or returns it when path is
// done. Inside an embedded message the numbering restarts as for a
// message.
func descend(e entity, body io.Reader, path []int) (entity, io.Reader, error) {
	switch {
	case len(path) == 0:
		return e, body, nil
	case e.isMultipart():
		return multipartChild(e, body, path)
	case e.isMessage():
		br := bufio.NewReader(body)
		h, err := textproto.ReadHeader(br)
		if err != nil && h.Len() == 0 {
			return entity{}, nil, fmt.Errorf("mailconv: embedded message: %w", err)
		}
		return messageChild(newEntity(h, "text/plain"), br, path)
	}
	return entity{}, nil, ErrNoPart
}
