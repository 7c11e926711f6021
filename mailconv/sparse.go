package mailconv

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/easd/easd/eas/message"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Structure is a message's MIME structure as an IMAP server reports it
// (BODYSTRUCTURE): enough to list attachments and to find the text parts
// without reading the message.
type Structure struct {
	MediaType   string            // lower case, e.g. "text/plain", "multipart/mixed"
	Params      map[string]string // Content-Type parameters, lower-case names
	Disposition string            // lower case; "" when none
	DispParams  map[string]string
	ID          string // Content-ID, with its angle brackets
	Location    string // Content-Location
	Encoding    string // Content-Transfer-Encoding
	Size        int64  // body size in octets, encoded (leaves only)
	Subject     string // subject of an embedded message (message/rfc822)
	Children    []Structure

	// top is the message's own header as an entity, when the structure
	// was read from it or checked against it (PrefixPlan, PrefixTexts):
	// entity and ConvertSparse use it instead of building and parsing one
	// again.
	top *entity
}

// SparseText is a text part to fetch for ConvertSparse: the first Bytes
// octets (encoded) of section Path.
type SparseText struct {
	Path  string
	Bytes int64
}

// SparsePlan says whether a message of the given size and structure can
// be converted for opts from its header and the start of its text parts
// (ConvertSparse), and which parts to fetch how far. That is the case
// when the client wants a truncated plain or HTML body and the parts
// needed are much smaller than the message; otherwise (a MIME body,
// S/MIME, a calendar object, a BodyPart, no truncation, or too little to
// gain) the whole message must be converted.
func SparsePlan(st Structure, size int64, opts Options) ([]SparseText, bool) {
	out, total, ok := sparseTexts(st, opts)
	// Worth it only when it saves most of the message: otherwise one
	// whole fetch is as cheap and exact.
	if !ok || total+4<<10 > size/2 {
		return nil, false
	}
	return out, true
}

// sparseTexts is SparsePlan without the test of what it saves: the text
// parts to read and how far, and their total.
func sparseTexts(st Structure, opts Options) ([]SparseText, int64, bool) {
	if !SparsePossible(opts) {
		return nil, 0, false
	}
	if class, _ := messageClass(st.entity(), ""); isSMIME(class) {
		return nil, 0, false
	}
	p := choose(opts, false)
	var leaves []sparseLeafInfo
	if !st.textLeaves("", "", &leaves) {
		return nil, 0, false
	}
	limit := int64(*p.pref.TruncationSize)
	chosen := "text/plain"
	if p.bodyType == message.BodyHTML {
		chosen = "text/html"
	}
	hasChosen := slices.ContainsFunc(leaves, func(l sparseLeafInfo) bool { return l.mediaType == chosen })
	hasPlain := slices.ContainsFunc(leaves, func(l sparseLeafInfo) bool { return l.mediaType == "text/plain" })
	var out []SparseText
	var total int64
	for _, l := range leaves {
		var want int64
		switch {
		case l.mediaType == chosen:
			want = limit
		case !hasChosen && chosen == "text/plain":
			// The plain body is rendered from HTML, which loses its markup.
			want = 4 * limit
		case !hasChosen:
			want = limit
		}
		if p.preview > 0 && (l.mediaType == "text/plain" || !hasPlain) {
			// Preview comes from the plain body (or HTML rendered as text).
			want = max(want, previewText)
		}
		n := min(textBytes(want, l.encoding), l.size)
		total += n
		out = append(out, SparseText{Path: l.path, Bytes: n})
	}
	return out, total, true
}

// previewText is how much plain text a Preview needs read.
const previewText = 8 << 10

// textBytes is how many encoded octets to read of a text part of which
// want decoded octets are shown: a little more than wanted, since charset
// conversion and the rewriting of HTML change the length.
func textBytes(want int64, cte string) int64 {
	if want == 0 {
		return 0
	}
	return encodedSize(want+want/16+64, cte)
}

// SparsePossible reports whether SparsePlan can accept any message under
// opts: a truncated plain or HTML body, no MIME body and no BodyPart.
// When it cannot, fetching the structure first is wasted.
func SparsePossible(opts Options) bool {
	if opts.Version < 120 || (opts.Version >= 141 && len(opts.BodyPartPreferences) > 0) {
		return false
	}
	p := choose(opts, false)
	return !p.mime && p.pref.TruncationSize != nil
}

type sparseLeafInfo struct {
	path, mediaType, encoding string
	size                      int64
}

// textLeaves collects the text parts in the order the walker meets them,
// and reports false for structures that need the whole message: a
// calendar object (its method may be in the body) or a signed part.
func (st Structure) textLeaves(path, parentSub string, out *[]sparseLeafInfo) bool {
	e := st.entity()
	if e.isMultipart() {
		sub := strings.TrimPrefix(e.mediaType, "multipart/")
		for i, child := range st.Children {
			if !child.textLeaves(childPath(path, i+1), sub, out) {
				return false
			}
		}
		return true
	}
	if path == "" {
		path = "1"
	}
	disp, dparams := disposition(e.h)
	switch roleOf(e, disp, fileName(e, dparams), parentSub) {
	case roleSignature:
		return false
	case roleText:
		*out = append(*out, sparseLeafInfo{path: path, mediaType: e.mediaType, encoding: st.Encoding, size: st.Size})
	}
	return e.mediaType != "text/calendar"
}

// encodedSize is how many encoded octets carry n decoded ones.
func encodedSize(n int64, cte string) int64 {
	switch transferEncoding(cte) {
	case "base64":
		return n*4/3 + n/28 + 8 // 76-character lines (57 octets) and their CRLF
	case "quoted-printable":
		return 3 * n
	}
	return n
}

// decodedSize estimates a leaf's decoded size from its encoded size.
func (st Structure) decodedSize() int64 {
	if transferEncoding(st.Encoding) == "base64" {
		return st.Size * 76 / 78 * 3 / 4
	}
	return st.Size
}

// entity is the structure's header fields as the walker reads them from
// a message: the same rules apply to both.
func (st Structure) entity() entity {
	if st.top != nil {
		return *st.top
	}
	params := st.Params
	if strings.HasPrefix(st.MediaType, "multipart/") {
		// The walker needs a boundary to treat it as multipart; the
		// structure already splits the parts.
		params = map[string]string{"boundary": "x"}
	}
	var h textproto.Header
	h.Set("Content-Type", st.MediaType+formatParams(params))
	if st.Disposition != "" {
		h.Set("Content-Disposition", st.Disposition+formatParams(st.DispParams))
	}
	if st.ID != "" {
		h.Set("Content-Id", st.ID)
	}
	if st.Location != "" {
		h.Set("Content-Location", st.Location)
	}
	if st.Encoding != "" {
		h.Set("Content-Transfer-Encoding", st.Encoding)
	}
	return newEntity(h, "text/plain")
}

// formatParams renders parameters as a header value's tail. A name
// ending in "*" holds an RFC 2231 value, which goes unquoted.
func formatParams(params map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		b.WriteString("; " + k + "=")
		if strings.HasSuffix(k, "*") {
			b.WriteString(v)
			continue
		}
		b.WriteString(`"` + paramQuoting.Replace(v) + `"`)
	}
	return b.String()
}

// paramQuoting escapes a parameter value for a quoted string.
var paramQuoting = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

// ConvertSparse converts a message from its header, its structure and
// the start of the text parts SparsePlan asked for (texts, by section,
// encoded as fetched). The result is what Convert gives for the whole
// message, except that sizes of cut parts and attachments are estimated
// from the structure.
func ConvertSparse(header []byte, st Structure, texts map[string][]byte, meta Meta, opts Options) (*message.Email, error) {
	if opts.MaxText <= 0 {
		opts.MaxText = DefaultMaxText
	}
	var top entity
	if st.top != nil {
		top = *st.top
	} else {
		th, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(header)))
		if err != nil && th.Len() == 0 {
			return nil, fmt.Errorf("mailconv: message %d: read header: %w", meta.UID, err)
		}
		top = newEntity(th, "text/plain")
	}
	h := mail.Header{Header: gomessage.Header{Header: top.h}}
	p := choose(opts, false)
	w := newWalker(p, opts)
	w.sparse = map[string]sparseLeaf{}
	if err := w.structure(st, "", "", texts); err != nil {
		return nil, fmt.Errorf("mailconv: message %d: %w", meta.UID, err)
	}
	c := &capture{limit: -1}
	c.stop()
	e := build(h, top, &w, c, p, meta, opts)
	w.release()
	return e, nil
}

// sparseLeaf is what the walker cannot count itself for a leaf whose
// body it sees only in part.
type sparseLeaf struct {
	size    int64 // decoded size of the whole part, estimated from encoded
	encoded int64 // encoded size of the whole part
	fetched int64 // encoded octets read
	cut     bool  // the body read is its start only
}

// structure walks st as message and multipart do a message's bytes.
func (w *walker) structure(st Structure, path, parentSub string, texts map[string][]byte) error {
	e := st.entity()
	if e.isMultipart() {
		sub := strings.TrimPrefix(e.mediaType, "multipart/")
		for i, child := range st.Children {
			if err := w.structure(child, childPath(path, i+1), sub, texts); err != nil {
				return err
			}
		}
		return nil
	}
	if path == "" {
		path = "1"
	}
	body := texts[path]
	w.sparse[path] = sparseLeaf{size: st.decodedSize(), encoded: st.Size, fetched: int64(len(body)),
		cut: int64(len(body)) < st.Size}
	var r io.Reader = bytes.NewReader(body)
	if e.isMessage() {
		// The walker names an embedded message by its subject.
		r = strings.NewReader("Subject: " + strings.NewReplacer("\r", "", "\n", "").Replace(st.Subject) + "\r\n\r\n")
	}
	return w.leaf(e, r, path, parentSub)
}
