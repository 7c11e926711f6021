package mailconv

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Convert reads one message and returns it as an EAS Email item for the
// client described by opts. It reads r once, to its end; it holds the
// text bodies (up to Options.MaxText each) and, when the MIME body is
// sent, the raw message up to the truncation size, never attachment
// content. Malformed MIME is converted as far as it can be read; only a
// read error of r, or input that does not start with a header field, is
// an error.
func Convert(r io.Reader, meta Meta, opts Options) (*message.Email, error) {
	if opts.MaxText <= 0 {
		opts.MaxText = DefaultMaxText
	}
	c := &capture{r: r, limit: -1}
	if !mimePossible(opts) {
		// Keep nothing from the start, not even the header.
		c.stop()
	}
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(c)
	defer func() { br.Reset(nil); bufReaders.Put(br) }()

	th, err := textproto.ReadHeader(br)
	if err != nil && th.Len() == 0 {
		return nil, fmt.Errorf("mailconv: message %d: read header: %w", meta.UID, err)
	}
	h := mail.Header{Header: gomessage.Header{Header: th}}
	top := newEntity(th, "text/plain")
	class, _ := messageClass(top, "")
	p := choose(opts, isSMIME(class))
	if p.mime {
		c.keep(p.limit())
	} else {
		c.stop()
	}

	w := newWalker(p, opts)
	if err := w.message(top, br); err != nil {
		return nil, fmt.Errorf("mailconv: message %d: %w", meta.UID, err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, fmt.Errorf("mailconv: message %d: %w", meta.UID, err)
	}
	e := build(h, top, &w, c, p, meta, opts)
	w.release()
	return e, nil
}

// build makes the Email item from what a pass over the message found:
// its header h, top entity, the walker's scan, the raw bytes kept by c
// (for a MIME body) and the plan; Convert and ConvertSparse share it.
func build(h mail.Header, top entity, w *walker, c *capture, p plan, meta Meta, opts Options) *message.Email {
	class, contentClass := messageClass(top, w.s.calendar)

	e := &message.Email{}
	date := headerDate(h, meta)
	fillHeaders(e, h, meta, date, opts.Version)
	flags := readFlags(meta.Flags)
	e.Read = new(flags.Seen)
	e.MessageClass = class
	if contentClass == contentClassCalendar && w.s.calendarObj != nil {
		if !meeting(e, w.s.calendarObj, opts) {
			// An object that does not parse: the mail is a plain one.
			e.MessageClass, contentClass = classNote, contentClassMessage
		}
	}

	b := bodies{s: &w.s}
	if opts.Version < 120 {
		fill25(e, &b, c, p, meta, opts)
		return e
	}
	e.Body = b.body(p, c)
	e.Attachments = attachments(w.s.parts, meta)
	e.InternetCPID = "65001"
	e.Flag = flags.flag()
	e.ContentClass = contentClass
	e.NativeBodyType = message.BodyPlain
	if w.s.html.found {
		e.NativeBodyType = message.BodyHTML
	}
	if opts.Version >= 140 {
		if len(flags.Keywords) > 0 {
			e.Categories = &message.Categories{Category: flags.Keywords}
		}
		e.LastVerbExecuted = flags.verb()
		e.ConversationID, e.ConversationIndex = conversation(h, e.Subject, date)
		if p.preview > 0 {
			e.Body.Preview = preview(b.plain().data, p.preview)
		}
	}
	if opts.Version >= 141 && len(opts.BodyPartPreferences) > 0 {
		e.BodyPart = b.bodyPart(opts.BodyPartPreferences[0])
	}
	if opts.Version >= 160 && flags.Draft {
		e.IsDraft = new(true)
		e.Bcc = addresses(h, "Bcc").text
	}
	return e
}

// fillHeaders sets the fields that come from the message header.
func fillHeaders(e *message.Email, h mail.Header, meta Meta, date time.Time, version int) {
	to := addresses(h, "To")
	cc := addresses(h, "Cc")
	from := addresses(h, "From")
	e.To, e.Cc, e.From = to.text, cc.text, from.text
	e.ReplyTo = addresses(h, "Reply-To").text
	e.Subject = headerText(h.Get("Subject"))
	e.DateReceived = formatTime(date)
	e.DisplayTo = strings.Join(to.names, "; ")
	e.ThreadTopic = headerText(h.Get("Thread-Topic"))
	if e.ThreadTopic == "" {
		e.ThreadTopic = baseSubject(e.Subject)
	}
	e.Importance = new(importance(h))
	if version < 140 {
		return
	}
	if sender := addresses(h, "Sender"); len(sender.addresses) > 0 &&
		(len(from.addresses) == 0 || sender.addresses[0] != from.addresses[0]) {
		e.Sender = sender.text
	}
	if len(meta.UserAddresses) > 0 && !anyOf(meta.UserAddresses, to.addresses, cc.addresses, from.addresses) {
		e.ReceivedAsBcc = true
	}
}

func anyOf(mine []string, lists ...[]string) bool {
	for _, l := range lists {
		for _, a := range l {
			if slices.Contains(mine, a) {
				return true
			}
		}
	}
	return false
}

// attachments lists the attachment parts for 12.0+.
func attachments(parts []attachment, meta Meta) *message.Attachments {
	if len(parts) == 0 {
		return nil
	}
	id := model.MailID{FolderID: meta.FolderID, UID: meta.UID}
	out := &message.Attachments{Attachment: make([]message.Attachment, 0, len(parts))}
	for _, a := range parts {
		out.Attachment = append(out.Attachment, message.Attachment{
			DisplayName:       a.name,
			FileReference:     FileReference(id, a.path),
			Method:            a.method,
			EstimatedDataSize: a.size,
			ContentID:         a.contentID,
			ContentLocation:   a.location,
			IsInline:          a.inline,
		})
	}
	return out
}

// fill25 sets the 2.5 body forms: Email:Body (plain text) or, when MIME
// is allowed, Email:MIMEData; and Email:Attachments.
func fill25(e *message.Email, b *bodies, c *capture, p plan, meta Meta, opts Options) {
	if p.mime {
		d := b.mime(c)
		e.MIMEData, e.MIMETruncated = d.truncate(p.pref.TruncationSize, false)
		e.MIMESize = d.size
	} else {
		d := b.plain()
		var truncated bool
		e.Body25, truncated = d.truncate(p.pref.TruncationSize, false)
		e.BodyTruncated = new(truncated)
		if truncated {
			e.BodySize = d.size
		}
	}
	if len(b.s.parts) == 0 {
		return
	}
	id := model.MailID{FolderID: meta.FolderID, UID: meta.UID}
	e.Attachments25 = &message.Attachments25{}
	for _, a := range b.s.parts {
		e.Attachments25.Attachment = append(e.Attachments25.Attachment, message.Attachment25{
			AttMethod: a.method, AttSize: a.size, DisplayName: a.name, AttName: FileReference(id, a.path),
		})
	}
}

// headerDate is INTERNALDATE, else the Date header. The usual RFC 5322
// form is tried first: the general parser tries a dozen layouts and
// allocates an error for each miss.
func headerDate(h mail.Header, meta Meta) time.Time {
	if !meta.InternalDate.IsZero() {
		return meta.InternalDate
	}
	v := strings.TrimSpace(h.Get("Date"))
	if v == "" {
		return time.Time{}
	}
	if d, err := time.Parse(time.RFC1123Z, v); err == nil {
		return d
	}
	d, err := h.Date()
	if err != nil {
		return time.Time{}
	}
	return d
}
