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
// messages: the first FETCH reads each message's header and the start of
// its text (PrefixSize), and a message converts from them when its texts
// are there, with its structure from its header (PrefixPlan, a single
// part) or from BODYSTRUCTURE (PrefixTexts, a multipart). Reading less of
// each message is most of what a sync costs the mail server and easd.

// partHeaders is the room PrefixSize leaves for what comes before a
// multipart message's first text: a preamble and the parts' own headers.
const partHeaders = 2 << 10

// PrefixSize is how many octets of each message's text (what follows its
// header) to read first when the client wants a truncated text body (0
// when SparsePossible says no): a message no longer arrives whole, and a
// longer single-part text message in 8 bits converts from its header and
// that start alone (PrefixPlan), as does a multipart one whose text part
// comes first (PrefixTexts).
func PrefixSize(opts Options) int64 {
	if !SparsePossible(opts) {
		return 0
	}
	p := choose(opts, false)
	want := int64(*p.pref.TruncationSize)
	if p.preview > 0 {
		want = max(want, previewText)
	}
	return partHeaders + textBytes(want, "8bit")
}

// PrefixPlan is SparsePlan for a message of which the header and the
// start of the text were read; size is the whole message's. A
// single-part message needs no BODYSTRUCTURE: its structure is in its
// header. It returns the structure and the text to read (at most one
// part, "1"); ok is false for a multipart message, an embedded one, or
// anything SparsePlan refuses.
func PrefixPlan(header []byte, size int64, opts Options) (st Structure, texts []SparseText, ok bool) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(header)))
	if err != nil {
		return Structure{}, nil, false
	}
	e := newEntity(h, "text/plain")
	if e.isMultipart() || e.isMessage() {
		return Structure{}, nil, false
	}
	// What BODYSTRUCTURE would say of it.
	st = Structure{MediaType: e.mediaType, Params: e.params, ID: h.Get("Content-Id"),
		Location: h.Get("Content-Location"), Encoding: h.Get("Content-Transfer-Encoding"), Size: size - int64(len(header)), top: &e}
	st.Disposition, st.DispParams = disposition(h)
	texts, _, ok = sparseTexts(st, opts)
	if !ok {
		return Structure{}, nil, false
	}
	return st, texts, true
}

// PrefixTexts finds in text, the start of what follows header in a
// message of structure st, the start of each text part that a sparse
// conversion of it needs (sparseTexts): the texts by section, as
// ConvertSparse takes them, or ok false when one reaches past the start.
// The structure it returns carries the header as read, which
// ConvertSparse then does not parse again.
func PrefixTexts(header, text []byte, st Structure, opts Options) (_ Structure, texts map[string][]byte, ok bool) {
	plan, _, ok := sparseTexts(st, opts)
	if !ok {
		return st, nil, false
	}
	need := map[string]int64{}
	for _, t := range plan {
		if t.Bytes > 0 {
			need[t.Path] = t.Bytes
		}
	}
	texts = map[string][]byte{}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(header)))
	if err != nil {
		return st, nil, false
	}
	findTexts(text, h, st, "", "", need, texts)
	if len(texts) < len(need) {
		return st, nil, false
	}
	// findTexts found the header's media type to be the structure's.
	top := newEntity(h, "text/plain")
	st.top = &top
	return st, texts, true
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
