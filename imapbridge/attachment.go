package imapbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/mailconv"
)

// Attachments (ItemOperations Fetch by FileReference) stream from the
// IMAP server to the phone: nothing holds more than a read buffer of a
// part, whatever its size, and the whole message is never fetched. The
// phone needs the decoded size before the first byte (WBXML opaque data
// and MultiPart parts are length prefixed), so BODYSTRUCTURE says the
// transfer encoding, one streaming BODY.PEEK[part] decoded and counted
// gives the size, and a second one is decoded and sent: twice the IMAP
// transfer, never the memory.
//
// BINARY (RFC 3516) would let the server decode, but Dovecot 2.3.19
// answers a wrong BINARY.SIZE for a base64 part followed by a
// quoted-printable one (4984 for 5000 bytes), and a wrong length
// corrupts the download; easd decodes itself.

// partInfo is what BODYSTRUCTURE says of one part.
type partInfo struct {
	contentType string
	encoding    string
}

// errNoPart means the message or the part does not exist.
var errNoPart = errors.New("imap: no such message or part")

// PartInfo returns the media type (with parameters) and the decoded size
// of part partPath ("2", "1.2") of message uid; ok is false when the
// message or the part does not exist.
func (m *MailSession) PartInfo(ctx context.Context, mailbox string, uid uint32, partPath string) (contentType string, size int64, ok bool, err error) {
	defer m.track(&err)()
	path, perr := parsePath(partPath)
	if perr != nil {
		return "", 0, false, nil
	}
	info, err := m.partInfo(mailbox, uid, path)
	if errors.Is(err, errNoPart) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	size, err = m.copyDecoded(uid, path, info.encoding, 0, -1, io.Discard)
	if err != nil {
		return "", 0, false, err
	}
	return info.contentType, size, true, nil
}

// ReadPart calls fn with a reader of n decoded bytes of the part from
// offset on; fn must read them all before it returns (the reader is the
// IMAP connection itself).
func (m *MailSession) ReadPart(ctx context.Context, mailbox string, uid uint32, partPath string, offset, n int64, fn func(io.Reader) error) (err error) {
	defer m.track(&err)()
	path, err := parsePath(partPath)
	if err != nil {
		return err
	}
	info, err := m.partInfo(mailbox, uid, path)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := fn(pr)
		pr.CloseWithError(err) // unblocks the writer when fn stops early
		done <- err
	}()
	_, err = m.copyDecoded(uid, path, info.encoding, offset, n, pw)
	pw.CloseWithError(err)
	if ferr := <-done; ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// partInfo fetches the BODYSTRUCTURE of uid and finds the part.
func (m *MailSession) partInfo(mailbox string, uid uint32, path []int) (partInfo, error) {
	if _, err := m.selectBox(mailbox, false); err != nil {
		return partInfo{}, err
	}
	m.commands++
	bufs, err := m.c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}).Collect()
	if err != nil {
		return partInfo{}, fmt.Errorf("imap: fetch bodystructure: %w", err)
	}
	if len(bufs) == 0 || bufs[0].BodyStructure == nil {
		return partInfo{}, errNoPart
	}
	p := findPart(bufs[0].BodyStructure, path)
	if p == nil {
		return partInfo{}, errNoPart
	}
	ct := mime.FormatMediaType(p.MediaType(), p.Params)
	if ct == "" {
		ct = p.MediaType()
	}
	return partInfo{contentType: ct, encoding: p.Encoding}, nil
}

// findPart follows an IMAP section number through a body structure
// (RFC 3501 6.4.5): a multipart's sections are its children, a single
// part message has one section, 1; inside an embedded message the
// numbering restarts. Only leaves are returned: a multipart has no
// content of its own to download.
func findPart(bs imap.BodyStructure, path []int) *imap.BodyStructureSinglePart {
	for len(path) > 0 {
		switch b := bs.(type) {
		case *imap.BodyStructureMultiPart:
			if path[0] < 1 || path[0] > len(b.Children) {
				return nil
			}
			bs, path = b.Children[path[0]-1], path[1:]
			if sp, ok := bs.(*imap.BodyStructureSinglePart); ok && len(path) > 0 {
				if sp.MessageRFC822 == nil {
					return nil // a leaf has no sections
				}
				bs = sp.MessageRFC822.BodyStructure
			}
		case *imap.BodyStructureSinglePart:
			if path[0] != 1 {
				return nil
			}
			path = path[1:]
			if len(path) > 0 {
				if b.MessageRFC822 == nil {
					return nil
				}
				bs = b.MessageRFC822.BodyStructure
				continue
			}
			return b
		default:
			return nil
		}
	}
	sp, _ := bs.(*imap.BodyStructureSinglePart)
	return sp
}

// copyDecoded writes n decoded bytes of the part from offset on to w (n
// -1: all) and returns how many bytes the decoded part holds from offset
// on, up to n.
func (m *MailSession) copyDecoded(uid uint32, path []int, encoding string, offset, n int64, w io.Writer) (int64, error) {
	sec := &imap.FetchItemBodySection{Part: path, Peek: true}
	m.commands++
	cmd := m.c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}})
	var copied int64
	err := eachLiteral(cmd, func(r imap.LiteralReader) error {
		dec := mailconv.DecodeTransfer(encoding, r)
		if _, err := io.CopyN(io.Discard, dec, offset); err != nil {
			return nil // the part is shorter than offset: nothing to send
		}
		var err error
		if n < 0 {
			copied, err = io.Copy(w, dec)
		} else {
			copied, err = io.CopyN(w, dec, n)
		}
		if err == io.EOF {
			err = nil
		}
		_, _ = io.Copy(io.Discard, r) // the rest of the literal, so the connection stays usable
		return err
	})
	if cerr := cmd.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("imap: fetch body: %w", cerr)
	}
	return copied, err
}

// eachLiteral calls fn with the literal of the first body section; no
// message at all, or NIL for the section, is errNoPart. The caller closes cmd.
func eachLiteral(cmd *imapclient.FetchCommand, fn func(imap.LiteralReader) error) error {
	found := false
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			it, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || found || it.Literal == nil { // NIL: no such part
				continue
			}
			found = true
			if err := fn(it.Literal); err != nil {
				return err
			}
		}
	}
	if !found {
		return errNoPart
	}
	return nil
}

func parsePath(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("imap: bad part path %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}
