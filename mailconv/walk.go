package mailconv

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/easd/easd/eas/message"
	"github.com/emersion/go-message/textproto"
)

// scan is what one pass over a message collects.
type scan struct {
	plain, html textPart
	parts       []attachment
	calendar    string // METHOD of the first text/calendar part, upper case; "" when none
	calendarObj []byte // that part, decoded, up to maxCalendarObject
}

// textPart is a body candidate decoded to UTF-8.
type textPart struct {
	found  bool
	text   []byte        // decoded; at most maxText bytes
	buf    *bytes.Buffer // pooled storage text lies in, if any (walker.release)
	capped bool          // more text than kept
	size   int64         // decoded bytes before charset conversion, kept or not
}

// attachment is a part listed in Attachments.
type attachment struct {
	path        string // IMAP section number, e.g. "2" or "1.2"
	name        string
	contentType string
	size        int64
	contentID   string
	location    string
	inline      bool
	method      int
}

// walker reads a message part by part in IMAP section order.
type walker struct {
	s        scan
	wantText bool // decode text bodies (else only note that they exist)
	maxText  int
	// sameType is the media type that becomes the body unconverted
	// (plan.sameType), whose parts need only sameCap bytes decoded; ""
	// when every text part is kept up to maxText.
	sameType string
	sameCap  int

	// sparse, for ConvertSparse, gives per IMAP section the decoded size
	// of a leaf whose body was fetched in part or not at all: what the
	// bytes read cannot tell.
	sparse map[string]sparseLeaf
}

// entity is one MIME entity: its header fields of interest, parsed once.
type entity struct {
	h         textproto.Header
	mediaType string // lower case, e.g. "text/plain"
	params    map[string]string
}

func newEntity(h textproto.Header, defaultType string) entity {
	e := entity{h: h}
	if v := h.Get("Content-Type"); v != "" {
		mt, params, err := mime.ParseMediaType(v)
		if err == nil || (mt != "" && errors.Is(err, mime.ErrInvalidMediaParameter)) {
			e.mediaType, e.params = mt, params
		}
	}
	if e.mediaType == "" {
		e.mediaType = defaultType
	}
	if strings.HasPrefix(e.mediaType, "multipart/") && e.params["boundary"] == "" {
		// A multipart without boundary cannot be split; show it as text.
		e.mediaType = "text/plain"
	}
	return e
}

func (e entity) isMultipart() bool { return strings.HasPrefix(e.mediaType, "multipart/") }

func (e entity) isMessage() bool {
	return e.mediaType == "message/rfc822" || e.mediaType == "message/global"
}

// childPath numbers child i (from 1) of the entity at path.
func childPath(path string, i int) string {
	if path == "" {
		return strconv.Itoa(i)
	}
	return path + "." + strconv.Itoa(i)
}

// message walks a message (the top one) whose header is e: a multipart
// message's parts are 1, 2, ...; a single-part message's body is 1.
func (w *walker) message(e entity, body io.Reader) error {
	if e.isMultipart() {
		return w.multipart(e, body, "")
	}
	return w.leaf(e, body, "1", "")
}

// multipart walks the children of a multipart entity at path.
func (w *walker) multipart(e entity, body io.Reader, path string) error {
	sub := strings.TrimPrefix(e.mediaType, "multipart/")
	mr := textproto.NewMultipartReader(body, e.params["boundary"])
	for i := 1; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// A broken or missing closing boundary: keep what was read.
			return nil
		}
		child := newEntity(p.Header, defaultChildType(sub))
		cp := childPath(path, i)
		if child.isMultipart() {
			err = w.multipart(child, p, cp)
		} else {
			err = w.leaf(child, p, cp, sub)
		}
		if err != nil {
			return err
		}
	}
}

func defaultChildType(parentSub string) string {
	if parentSub == "digest" {
		return "message/rfc822"
	}
	return "text/plain"
}

// leaf handles a non-multipart entity at path inside a multipart of
// subtype parentSub ("" for a single-part message).
func (w *walker) leaf(e entity, body io.Reader, path, parentSub string) error {
	cte := e.h.Get("Content-Transfer-Encoding")
	disp, dparams := disposition(e.h)
	name := fileName(e, dparams)

	switch roleOf(e, disp, name, parentSub) {
	case roleSignature:
		_, err := drainSize(body, "")
		return err
	case roleText:
		return w.text(e, body, cte, path, parentSub)
	}

	a := attachment{path: path, name: name, contentType: e.mediaType, method: message.AttachByValue}
	var err error
	if e.isMessage() {
		a.method = message.AttachEmbedded
		a.size, a.name, err = embedded(body, name)
	} else if e.mediaType == "text/calendar" && w.s.calendar == "" && w.s.calendarObj == nil {
		// The first calendar object is kept whole (up to a bound) for the
		// MeetingRequest element and the calendar; its method is the
		// header's, else the object's.
		var b bytes.Buffer
		a.size, err = readCapped(&b, DecodeTransfer(cte, body), maxCalendarObject)
		w.s.calendarObj = toUTF8(e.params["charset"], b.Bytes())
		w.s.calendar = strings.ToUpper(e.params["method"])
		if w.s.calendar == "" {
			w.s.calendar = calendarMethod(b.Bytes())
		}
	} else {
		a.size, err = drainSize(body, cte)
	}
	if sl, ok := w.sparse[path]; ok {
		a.size = sl.size
	}
	if cid := strings.Trim(headerValue(e.h.Get("Content-Id")), "<>"); cid != "" {
		a.contentID = cid
		a.inline = disp == "inline" || (disp == "" && parentSub == "related")
	}
	a.location = headerValue(e.h.Get("Content-Location"))
	if a.name == "" {
		a.name = defaultName(e.mediaType, path)
	}
	w.s.parts = append(w.s.parts, a)
	return err
}

// leafRole is what a leaf entity is to the Email item.
type leafRole int

const (
	roleAttachment leafRole = iota // listed in Attachments
	roleText                       // a body candidate
	roleSignature                  // the signature of multipart/signed: neither
)

// roleOf decides a leaf's role from its type, disposition and file name,
// inside a multipart of subtype parentSub.
func roleOf(e entity, disp, name, parentSub string) leafRole {
	switch {
	case parentSub == "signed" && isSignature(e.mediaType):
		return roleSignature
	case (e.mediaType == "text/plain" || e.mediaType == "text/html") && disp != "attachment" && name == "":
		return roleText
	}
	return roleAttachment
}

// text takes a text/plain or text/html body part at path.
func (w *walker) text(e entity, body io.Reader, cte, path, parentSub string) error {
	t := &w.s.plain
	if e.mediaType == "text/html" {
		t = &w.s.html
	}
	if t.found && parentSub == "alternative" {
		// A second alternative of the same type adds nothing.
		_, err := drainSize(body, "")
		return err
	}
	plainFirst := w.sameType == "text/plain" && e.mediaType == "text/html" && w.s.plain.found
	t.found = true
	if !w.wantText || plainFirst {
		// No text wanted, or HTML after the plain text a plain body takes.
		_, err := drainSize(body, "")
		return err
	}
	qp := transferEncoding(cte) == "quoted-printable"
	room := w.roomFor(e, qp) - len(t.text)
	buf := textBufs.Get().(*bytes.Buffer)
	keepBuf := false
	defer func() {
		if !keepBuf {
			buf.Reset()
			textBufs.Put(buf)
		}
	}()
	// A read error inside the part (a cut base64 body) keeps what decoded.
	// n is the part's length and kept how much of it is in buf, in the
	// same units: encoded octets for quoted-printable, decoded otherwise.
	var n, kept int64
	var raw []byte
	if qp {
		// Decoded in memory: much faster than the streaming reader.
		n, _ = readCapped(buf, body, max(room, 0))
		kept = int64(buf.Len())
		raw = decodeQP(buf.Bytes())
		if n == kept {
			n, kept = int64(len(raw)), int64(len(raw))
		}
	} else {
		n, _ = readCapped(buf, DecodeTransfer(cte, body), max(room, 0))
		raw = buf.Bytes()
		kept = int64(len(raw))
	}
	label, ok := e.params["charset"]
	if !ok && e.mediaType == "text/html" {
		label = metaCharset(raw)
	}
	text := toUTF8(label, raw)
	if e.mediaType == "text/html" {
		text = declareUTF8(text)
	}
	t.size += w.textSize(path, n, kept, len(text))
	if n > kept || w.sparse[path].cut {
		t.capped = true
	}
	if t.text == nil && t.buf == nil && len(text) > 0 && &text[0] == &buf.Bytes()[0] {
		// The text is the decoding buffer itself (UTF-8 needs no
		// conversion): keep it rather than copy it; release gives it back.
		t.text, t.buf, keepBuf = text, buf, true
		return nil
	}
	if len(t.text) > 0 && len(text) > 0 {
		// Inline text parts in a row (text, image, text) read as one body.
		t.text = append(t.text, '\n')
	}
	t.text = append(t.text, text...)
	return nil
}

// newWalker is the walker of a conversion under plan p.
func newWalker(p plan, opts Options) walker {
	same, sameCap := p.sameType(opts)
	return walker{wantText: p.needText(opts), maxText: p.textCap(opts), sameType: same, sameCap: sameCap}
}

// release gives back the decoding buffers the text parts kept; the item
// built from them holds copies (strings).
func (w *walker) release() {
	for _, t := range []*textPart{&w.s.plain, &w.s.html} {
		if t.buf != nil {
			t.buf.Reset()
			textBufs.Put(t.buf)
			t.buf, t.text = nil, nil
		}
	}
}

// roomFor is how much decoded text of part e to keep, in the units
// readCapped counts: encoded octets for quoted-printable (up to three per
// character). UTF-16 and UTF-32 text shrinks in UTF-8, so such parts keep
// maxText.
func (w *walker) roomFor(e entity, qp bool) int {
	if e.mediaType != w.sameType {
		return w.maxText
	}
	if cs := strings.ToLower(e.params["charset"]); strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") ||
		strings.HasPrefix(cs, "ucs") {
		return w.maxText
	}
	if qp {
		return min(w.maxText, 3*w.sameCap)
	}
	return min(w.maxText, w.sameCap)
}

// textSize is the size a text part counts for: n when it was read whole;
// when only its start was kept (MaxText, or a sparse fetch), the whole
// estimated in the units of the text kept (UTF-8 after the transfer
// encoding and the charset are undone), scaled by what was not read.
func (w *walker) textSize(path string, n, kept int64, textLen int) int64 {
	sl := w.sparse[path]
	if n <= kept && !sl.cut {
		return n
	}
	if sl.cut && sl.fetched == 0 {
		return sl.size // not fetched: the structure's figure
	}
	if kept == 0 {
		// Nothing kept to scale by (an earlier part of the same body
		// filled the room): count the part's own length.
		return n
	}
	scale := float64(n) / float64(kept)
	if sl.cut {
		scale *= float64(sl.encoded) / float64(sl.fetched)
	}
	return int64(float64(textLen) * scale)
}

// embedded reads the header of an attached message for its subject (the
// attachment's name when the part has none) and counts its size.
func embedded(body io.Reader, name string) (int64, string, error) {
	c := &countReader{r: body}
	br := bufio.NewReader(c)
	h, _ := textproto.ReadHeader(br)
	if name == "" {
		name = headerText(h.Get("Subject"))
		if name == "" {
			name = "message"
		}
		name += ".eml"
	}
	_, err := io.Copy(io.Discard, br)
	return c.n, name, err
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func isSignature(mediaType string) bool {
	switch mediaType {
	case "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature":
		return true
	}
	return false
}

// disposition returns the lower-case Content-Disposition and its
// parameters.
func disposition(h textproto.Header) (string, map[string]string) {
	v := h.Get("Content-Disposition")
	if v == "" {
		return "", nil
	}
	d, params, err := mime.ParseMediaType(v)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		d, _, _ = strings.Cut(v, ";")
		return strings.ToLower(strings.TrimSpace(d)), nil
	}
	return d, params
}

// fileName is the part's file name: Content-Disposition filename (RFC
// 2231 included), else Content-Type name; encoded words, which many
// mailers put there against the rules, are decoded too.
func fileName(e entity, dparams map[string]string) string {
	n := dparams["filename"]
	if n == "" {
		n = e.params["name"]
	}
	if n == "" {
		return ""
	}
	n = headerText(n)
	// Keep the base name only: a path in a file name is never wanted.
	if i := strings.LastIndexAny(n, `/\`); i >= 0 && i < len(n)-1 {
		n = n[i+1:]
	}
	return n
}
