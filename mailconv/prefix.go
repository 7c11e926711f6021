package mailconv

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Converting from the start of a message. When the client wants a
// truncated text body, what it is shown is near the start of most
// messages: the first FETCH reads that start (PrefixSize), and a message
// converts from it when its texts are there, with its structure from its
// header (PrefixPlan, a single part) or from BODYSTRUCTURE (PrefixTexts,
// a multipart). Reading less of each message is most of what a sync
// costs the mail server and easd.

// prefixHeader is the room PrefixSize leaves for a message's header:
// most are a few KB, Received and DKIM lines included.
const prefixHeader = 8 << 10

// PrefixSize is how many octets of each message to read first when the
// client wants a truncated text body (0 when SparsePossible says no): a
// message no larger arrives whole, and a larger single-part text message
// with a header of usual size and its text in 8 bits converts from that
// start alone (PrefixPlan).
func PrefixSize(opts Options) int64 {
	if !SparsePossible(opts) {
		return 0
	}
	p := choose(opts, false)
	want := int64(*p.pref.TruncationSize)
	if p.preview > 0 {
		want = max(want, previewText)
	}
	return prefixHeader + textBytes(want, "8bit")
}

// PrefixPlan is SparsePlan for a message of which only prefix, its first
// octets, was read; size is the whole message's. A single-part message
// needs no BODYSTRUCTURE: its structure is in its header, which must be
// whole in prefix. It returns the header, the structure, and the text to
// read (at most one part, "1"); ok is false for a multipart message, an
// embedded one, or anything SparsePlan refuses.
func PrefixPlan(prefix []byte, size int64, opts Options) (header []byte, st Structure, texts []SparseText, ok bool) {
	end := headerEnd(prefix)
	if end < 0 {
		return nil, Structure{}, nil, false
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(prefix[:end])))
	if err != nil {
		return nil, Structure{}, nil, false
	}
	e := newEntity(h, "text/plain")
	if e.isMultipart() || e.isMessage() {
		return nil, Structure{}, nil, false
	}
	// What BODYSTRUCTURE would say of it.
	st = Structure{MediaType: e.mediaType, Params: e.params, ID: h.Get("Content-Id"),
		Location: h.Get("Content-Location"), Encoding: h.Get("Content-Transfer-Encoding"), Size: size - int64(end), top: &e}
	st.Disposition, st.DispParams = disposition(h)
	texts, _, ok = sparseTexts(st, opts)
	if !ok {
		return nil, Structure{}, nil, false
	}
	return prefix[:end], st, texts, true
}

// headerEnd is the offset of a message's body in b (after the empty line
// ending the header), or -1 when b ends first.
func headerEnd(b []byte) int {
	for i := 0; i < len(b); {
		switch {
		case b[i] == '\n':
			return i + 1
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
			return i + 2
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return -1
}

// PrefixTexts finds in prefix, the first octets of a message of
// structure st, the start of each text part that a sparse conversion of
// it needs (sparseTexts): the header and the texts by section, as
// ConvertSparse takes them, or ok false when one reaches past prefix.
func PrefixTexts(prefix []byte, st Structure, opts Options) (header []byte, texts map[string][]byte, ok bool) {
	end := headerEnd(prefix)
	if end < 0 {
		return nil, nil, false
	}
	plan, _, ok := sparseTexts(st, opts)
	if !ok {
		return nil, nil, false
	}
	need := map[string]int64{}
	for _, t := range plan {
		if t.Bytes > 0 {
			need[t.Path] = t.Bytes
		}
	}
	texts = map[string][]byte{}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(prefix[:end])))
	if err != nil {
		return nil, nil, false
	}
	findTexts(prefix[end:], h, st, "", "", need, texts)
	if len(texts) < len(need) {
		return nil, nil, false
	}
	return prefix[:end], texts, true
}

// findTexts walks body, an entity's body (cut short, maybe), along st and
// puts the first need[path] octets of each text part wanted in texts;
// the walk ends where body does, or where the parts read are not those
// st names: the mail server parsed a broken message otherwise, and its
// sections are then fetched from it.
func findTexts(body []byte, h textproto.Header, st Structure, path, parentType string, need map[string]int64, texts map[string][]byte) {
	defaultType := "text/plain"
	if parentType == "multipart/digest" {
		defaultType = "message/rfc822"
	}
	if !strings.EqualFold(newEntity(h, defaultType).mediaType, st.MediaType) {
		return
	}
	if len(st.Children) == 0 {
		if path == "" {
			path = "1"
		}
		if n, ok := need[path]; ok && int64(len(body)) >= n {
			texts[path] = body[:n]
		}
		return
	}
	_, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return
	}
	mr := textproto.NewMultipartReader(bytes.NewReader(body), params["boundary"])
	for i, child := range st.Children {
		if len(texts) == len(need) {
			return
		}
		part, err := mr.NextPart()
		if err != nil {
			return
		}
		// A part ends at its boundary or where body does: either way its
		// bytes are what an IMAP fetch of the section starts with.
		b, _ := io.ReadAll(part)
		findTexts(b, part.Header, child, childPath(path, i+1), st.MediaType, need, texts)
	}
}
