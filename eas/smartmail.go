package eas

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/quotedprintable"
	"regexp"
	"strings"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func init() {
	addCommand("SmartReply", &commandSpec{root: "ComposeMail:SmartReply", run: smartReply})
	addCommand("SmartForward", &commandSpec{root: "ComposeMail:SmartForward", run: smartForward})
}

// sourceRef names the original of a SmartReply or SmartForward: FolderId
// + ItemId (a mail ServerId, "folder:uid"), or a LongId. easd's LongIds
// (Search results) have the ServerId form too.
type sourceRef struct {
	folderID, itemID, longID string
}

// sourceMessage is the original, fetched.
type sourceMessage struct {
	mailbox string
	uid     uint32
	raw     []byte
}

// smartReply replies to a message (MS-ASCMD 2.2.1.20): unless the client
// sets ReplaceMime, the original's text is quoted below the client's, and
// the original is flagged \Answered.
func smartReply(k *call) error { return k.smart(false) }

// smartForward forwards a message (MS-ASCMD 2.2.1.19): unless the client
// sets ReplaceMime, the original's text goes below the client's and its
// attachments are attached; the original is flagged $Forwarded.
func smartForward(k *call) error { return k.smart(true) }

func (k *call) smart(forward bool) error {
	o, err := k.readOutgoing(func() (*outgoing, error) {
		var req message.SmartReplyRequest
		if forward {
			var fwd message.SmartForwardRequest
			if err := k.decodeRequired(&fwd, StatusInvalidContent); err != nil {
				return nil, err
			}
			req = message.SmartReplyRequest(fwd)
		} else if err := k.decodeRequired(&req, StatusInvalidContent); err != nil {
			return nil, err
		}
		o := &outgoing{clientID: req.ClientID, mime: req.Mime, saveInSent: req.SaveInSentItems, replaceMime: req.ReplaceMime}
		if req.Source != nil {
			o.source = &sourceRef{folderID: req.Source.FolderID, itemID: req.Source.ItemID, longID: req.Source.LongID}
		}
		return o, nil
	})
	if err != nil {
		return k.composeFail(err)
	}
	if o.source == nil && (k.req.ItemID != "" || k.req.LongID != "") {
		// The 2.5/12.x form names the original in the query.
		o.source = &sourceRef{folderID: k.req.CollectionID, itemID: k.req.ItemID, longID: k.req.LongID}
	}
	if o.source == nil {
		return k.composeFail(statusErr(StatusInvalidContent, "%s without a source message", k.req.Cmd))
	}
	o.forward = forward
	return k.composeFail(k.send(o))
}

// fetchSource finds and fetches the original. One that does not exist
// (any more) is Status 150 (ItemNotFound), HTTP 404 before 14.0; a mail
// server failure is retryable.
func (k *call) fetchSource(ctx context.Context, ref *sourceRef) (*sourceMessage, error) {
	id := ref.itemID
	if ref.longID != "" {
		id = ref.longID
	}
	mid, err := model.ParseMailID(id)
	if err != nil {
		return nil, &StatusError{Status: StatusItemNotFound, Err: err}
	}
	if ref.longID == "" && ref.folderID != "" && ref.folderID != mid.FolderID {
		return nil, statusErr(StatusItemNotFound, "item %s is not in folder %s", id, ref.folderID)
	}
	list, err := k.s.folders.List(ctx, k.dev.UserID)
	if err != nil {
		return nil, err
	}
	var mailbox string
	for _, f := range list {
		if f.ServerID == mid.FolderID && k.s.isMail(f) {
			mailbox = f.IMAPName
		}
	}
	if mailbox == "" {
		return nil, statusErr(StatusItemNotFound, "no mail folder %s", mid.FolderID)
	}
	raw, err := k.s.opts.Submitter.FetchMessage(ctx, k.creds.Login, k.creds.Password, mailbox, mid.UID)
	if err != nil {
		return nil, &StatusError{Status: StatusServerErrorRetryLater, Err: fmt.Errorf("fetch original: %w", err)}
	}
	if raw == nil {
		return nil, statusErr(StatusItemNotFound, "message %s not found", id)
	}
	return &sourceMessage{mailbox: mailbox, uid: mid.UID, raw: raw}, nil
}

// sentMailbox is the IMAP name of the user's Sent Items folder, "" when
// there is none. The registry is reconciled first only when it is empty
// (a client sending before its first FolderSync).
func (k *call) sentMailbox(ctx context.Context) (string, error) {
	list, err := k.s.folders.List(ctx, k.dev.UserID)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		if list, _, err = k.hierarchy(); err != nil {
			return "", err
		}
	}
	for _, f := range list {
		if f.Type == model.FolderSentItems && k.s.isMail(f) {
			return f.IMAPName, nil
		}
	}
	return "", nil
}

// merge adds the original to a SmartReply (quoted text) or SmartForward
// (text and attachments) the client sent without it. The client's text
// parts get the original's text below their own, in plain text and, when
// the client wrote HTML, in HTML. What cannot be merged cleanly is left
// alone: signed or encrypted messages are sent untouched (a change would
// break them), and a forward without any text part carries the original
// as a message/rfc822 attachment instead.
func (m *outMessage) merge(src *sourceMessage, forward bool) *outMessage {
	root := parsePart(m.bytes(m.header), 0)
	switch root.mediaType {
	case "multipart/signed", "multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime":
		return m
	}
	orig := parsePart(toCRLF(src.raw), 0)
	oplain, ohtml := findText(orig, "text/plain"), findText(orig, "text/html")
	var origText, origHTML string
	if oplain != nil {
		origText = oplain.text()
	}
	if ohtml != nil {
		origHTML = htmlBody(ohtml.text())
	}
	switch {
	case origText == "" && origHTML != "":
		origText = htmlToText(origHTML)
	case origHTML == "":
		origHTML = textToHTML(origText)
	}
	info := originalInfo(orig.header)

	merged := false
	if p := findText(root, "text/plain"); p != nil {
		p.setText(p.text() + quotePlain(info, origText, forward))
		merged = true
	}
	if p := findText(root, "text/html"); p != nil {
		p.setText(insertHTML(p.text(), quoteHTML(info, origHTML, forward)))
		merged = true
	}
	if forward {
		have := attachmentNames(root)
		var atts []*mimePart
		for _, a := range leaves(orig) {
			if a == oplain || a == ohtml || have[a.filename()] {
				continue
			}
			atts = append(atts, a)
		}
		if !merged {
			atts = []*mimePart{rfc822Attachment(src.raw, info.subject)}
		}
		root = withAttachments(root, atts)
	}
	if !root.refresh() {
		return m
	}
	h, body := splitHeader(root.bytes())
	return &outMessage{header: h, body: body}
}

// mimePart is one entity of a MIME message. Unchanged parts keep their
// raw bytes and are written back as they came.
type mimePart struct {
	header    header
	body      []byte // leaf: the encoded body
	raw       []byte
	mediaType string
	params    map[string]string
	children  []*mimePart // multipart only
	changed   bool
}

// maxMIMEDepth bounds the nesting parsePart follows.
const maxMIMEDepth = 20

func parsePart(raw []byte, depth int) *mimePart {
	h, body := splitHeader(raw)
	p := &mimePart{header: h, body: body, raw: raw}
	ct := h.get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = "application/octet-stream"
	}
	p.mediaType, p.params = strings.ToLower(mt), params
	if strings.HasPrefix(p.mediaType, "multipart/") && depth < maxMIMEDepth {
		if parts, ok := splitMultipart(body, params["boundary"]); ok {
			for _, c := range parts {
				p.children = append(p.children, parsePart(c, depth+1))
			}
		}
	}
	return p
}

// splitMultipart returns the raw parts of a multipart body; ok is false
// when the closing delimiter is missing.
func splitMultipart(body []byte, boundary string) (parts [][]byte, ok bool) {
	if boundary == "" {
		return nil, false
	}
	delim := []byte("--" + boundary)
	start := -1
	for i := 0; i < len(body); {
		line, _, found := bytes.Cut(body[i:], []byte("\r\n"))
		next := i + len(line) + 2
		if !found {
			next = len(body)
		}
		if rest, isDelim := bytes.CutPrefix(line, delim); isDelim {
			rest = bytes.TrimRight(rest, " \t")
			if len(rest) == 0 || string(rest) == "--" {
				if start >= 0 {
					parts = append(parts, body[start:max(start, i-2)])
				}
				if string(rest) == "--" {
					return parts, true
				}
				start = next
			}
		}
		i = next
	}
	return parts, false
}

// bytes is the part as it goes out.
func (p *mimePart) bytes() []byte {
	if !p.changed {
		return p.raw
	}
	var b bytes.Buffer
	for _, f := range p.header {
		b.WriteString(f.raw)
	}
	b.WriteString("\r\n")
	if p.children == nil {
		b.Write(p.body)
		return b.Bytes()
	}
	boundary := p.params["boundary"]
	for _, c := range p.children {
		b.WriteString("--" + boundary + "\r\n")
		b.Write(c.bytes())
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// refresh marks every part changed that has a changed descendant and
// reports whether p changed.
func (p *mimePart) refresh() bool {
	for _, c := range p.children {
		if c.refresh() {
			p.changed = true
		}
	}
	return p.changed
}

func (p *mimePart) isAttachment() bool {
	if p.children != nil {
		return false
	}
	disp, _, _ := mime.ParseMediaType(p.header.get("Content-Disposition"))
	if strings.EqualFold(disp, "attachment") {
		return true
	}
	return p.mediaType != "text/plain" && p.mediaType != "text/html"
}

func (p *mimePart) filename() string {
	if _, params, err := mime.ParseMediaType(p.header.get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	return p.params["name"]
}

// text is a text part's content, decoded to UTF-8.
func (p *mimePart) text() string {
	e, err := gomessage.Read(bytes.NewReader(p.bytes()))
	if e == nil {
		return ""
	}
	_ = err // an unknown charset or encoding still gives the raw content
	b, _ := io.ReadAll(e.Body)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// setText replaces a text part's content, as UTF-8 quoted-printable.
func (p *mimePart) setText(s string) {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	h := p.header.without("Content-Type").without("Content-Transfer-Encoding")
	h.add("Content-Type", mime.FormatMediaType(p.mediaType, map[string]string{"charset": "utf-8"}))
	h.add("Content-Transfer-Encoding", "quoted-printable")
	p.header, p.body, p.changed = h, toCRLF(b.Bytes()), true
}

// findText returns the first body part of type mediaType, not looking
// into attachments.
func findText(p *mimePart, mediaType string) *mimePart {
	if p.children == nil {
		if p.mediaType == mediaType && !p.isAttachment() {
			return p
		}
		return nil
	}
	for _, c := range p.children {
		if t := findText(c, mediaType); t != nil {
			return t
		}
	}
	return nil
}

// leaves returns the parts that are not multiparts.
func leaves(p *mimePart) []*mimePart {
	if p.children == nil {
		return []*mimePart{p}
	}
	var out []*mimePart
	for _, c := range p.children {
		out = append(out, leaves(c)...)
	}
	return out
}

// attachmentNames are the file names the client attached itself: some
// clients attach the original's files to a SmartForward on their own.
func attachmentNames(p *mimePart) map[string]bool {
	names := map[string]bool{}
	for _, l := range leaves(p) {
		if l.isAttachment() && l.filename() != "" {
			names[l.filename()] = true
		}
	}
	return names
}

// withAttachments adds atts to the message: to its multipart/mixed root,
// or under a new multipart/mixed root holding the old content first.
func withAttachments(root *mimePart, atts []*mimePart) *mimePart {
	if len(atts) == 0 {
		return root
	}
	if root.mediaType == "multipart/mixed" && root.children != nil {
		root.children = append(root.children, atts...)
		root.changed = true
		return root
	}
	isContent := func(f field) bool { return strings.HasPrefix(strings.ToLower(f.name), "content-") }
	inner := *root
	inner.header, inner.changed = nil, true
	outer := &mimePart{mediaType: "multipart/mixed", params: map[string]string{"boundary": newBoundary()}, changed: true}
	for _, f := range root.header {
		if isContent(f) {
			inner.header = append(inner.header, f)
		} else if !strings.EqualFold(f.name, "MIME-Version") {
			outer.header = append(outer.header, f)
		}
	}
	outer.header.add("MIME-Version", "1.0")
	outer.header.add("Content-Type", mime.FormatMediaType("multipart/mixed", outer.params))
	outer.children = append([]*mimePart{&inner}, atts...)
	return outer
}

func newBoundary() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "easd-" + hex.EncodeToString(b[:])
}

// rfc822Attachment wraps the original as an attached message.
func rfc822Attachment(raw []byte, subject string) *mimePart {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, subject)
	if name == "" {
		name = "message"
	}
	var h header
	h.add("Content-Type", "message/rfc822")
	h.add("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".eml"}))
	return &mimePart{header: h, body: toCRLF(raw), mediaType: "message/rfc822", changed: true}
}

// original is what a quote header shows of the original.
type original struct {
	from, to, cc, date, subject string
}

func originalInfo(h header) original {
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	text := func(name string) string {
		v := h.get(name)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	return original{from: text("From"), to: text("To"), cc: text("Cc"), date: text("Date"), subject: text("Subject")}
}

func quotePlain(o original, text string, forward bool) string {
	var b strings.Builder
	if forward {
		b.WriteString("\n\n-------- Original Message --------\n")
		for _, kv := range [][2]string{{"Subject", o.subject}, {"Date", o.date}, {"From", o.from}, {"To", o.to}, {"Cc", o.cc}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, "%s: %s\n", kv[0], kv[1])
			}
		}
		b.WriteString("\n")
		b.WriteString(text)
		return b.String()
	}
	fmt.Fprintf(&b, "\n\nOn %s, %s wrote:\n", o.date, o.from)
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.HasPrefix(line, ">") || line == "" {
			b.WriteString(">" + line + "\n")
		} else {
			b.WriteString("> " + line + "\n")
		}
	}
	return b.String()
}

func quoteHTML(o original, body string, forward bool) string {
	esc := html.EscapeString
	if forward {
		var b strings.Builder
		b.WriteString("<br><br><div>-------- Original Message --------<br>")
		for _, kv := range [][2]string{{"Subject", o.subject}, {"Date", o.date}, {"From", o.from}, {"To", o.to}, {"Cc", o.cc}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, "<b>%s:</b> %s<br>", kv[0], esc(kv[1]))
			}
		}
		b.WriteString("</div><br>" + body)
		return b.String()
	}
	return fmt.Sprintf(`<br><br><div>On %s, %s wrote:</div><blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">%s</blockquote>`,
		esc(o.date), esc(o.from), body)
}

var (
	reBodyOpen  = regexp.MustCompile(`(?is)<body[^>]*>`)
	reBodyClose = regexp.MustCompile(`(?is)</body\s*>`)
	reDrop      = regexp.MustCompile(`(?is)<(script|style|head)[^>]*>.*?</(script|style|head)\s*>`)
	reBreak     = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|tr|li|h[1-6])\s*>`)
	reTag       = regexp.MustCompile(`(?s)<[^>]*>`)
	reBlank     = regexp.MustCompile(`\n{3,}`)
)

// htmlBody is the content of an HTML document's body.
func htmlBody(doc string) string {
	if loc := reBodyOpen.FindStringIndex(doc); loc != nil {
		doc = doc[loc[1]:]
	}
	if loc := reBodyClose.FindStringIndex(doc); loc != nil {
		doc = doc[:loc[0]]
	}
	return doc
}

// insertHTML puts fragment at the end of doc's body.
func insertHTML(doc, fragment string) string {
	locs := reBodyClose.FindAllStringIndex(doc, -1)
	if len(locs) == 0 {
		return doc + fragment
	}
	at := locs[len(locs)-1][0]
	return doc[:at] + fragment + doc[at:]
}

// htmlToText is a rough plain-text rendering, for quoting an HTML-only
// original in a plain-text reply.
func htmlToText(s string) string {
	s = reDrop.ReplaceAllString(s, "")
	s = reBreak.ReplaceAllString(s, "\n")
	s = html.UnescapeString(reTag.ReplaceAllString(s, ""))
	return strings.TrimSpace(reBlank.ReplaceAllString(s, "\n\n"))
}

func textToHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\n", "<br>\n")
}
