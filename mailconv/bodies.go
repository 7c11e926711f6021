package mailconv

import (
	"github.com/easd/easd/eas/message"
)

// bodies renders the body in each type on demand, once.
type bodies struct {
	s      *scan
	plainD *bodyData
	htmlD  *bodyData
}

// plain is the text/plain body, or the HTML one rendered as text.
func (b *bodies) plain() bodyData {
	if b.plainD != nil {
		return *b.plainD
	}
	var d bodyData
	switch t := &b.s.plain; {
	case t.found:
		d = derived(crlfText(t.text), t)
	case b.s.html.found:
		d = derived(htmlToText(b.s.html.text), &b.s.html)
	}
	b.plainD = &d
	return d
}

// html is the text/html body, or the plain one as HTML.
func (b *bodies) html() bodyData {
	if b.htmlD != nil {
		return *b.htmlD
	}
	var d bodyData
	if t := &b.s.html; t.found {
		d = derived(t.text, t)
	} else {
		p := b.plain()
		d = bodyData{data: textToHTML(p.data), capped: p.capped}
		d.size = scale(int64(len(d.data)), p.size, len(p.data), p.capped)
	}
	b.htmlD = &d
	return d
}

// derived wraps data made from text part t; when t was capped, the full
// size is estimated from the ratio of data to the text it came from.
func derived(data []byte, t *textPart) bodyData {
	return bodyData{data: data, capped: t.capped, size: scale(int64(len(data)), t.size, len(t.text), t.capped)}
}

func scale(n, srcSize int64, srcKept int, capped bool) int64 {
	if !capped || srcKept == 0 {
		return n
	}
	return n * srcSize / int64(srcKept)
}

// mime is the raw message as kept by c, made safe to send as a string.
func (b *bodies) mime(c *capture) bodyData {
	complete := c.complete()
	d := bodyData{data: c.buf, size: c.n, capped: !complete}
	if !stringSafe(d.data) {
		d.data = mimeSafe(d.data)
		if complete {
			d.size = int64(len(d.data))
		}
	}
	return d
}

// body builds AirSyncBase:Body in the planned type.
func (b *bodies) body(p plan, c *capture) *message.Body {
	var d bodyData
	switch p.bodyType {
	case message.BodyHTML:
		d = b.html()
	case message.BodyMIME:
		d = b.mime(c)
	default:
		d = b.plain()
	}
	data, truncated := d.truncate(p.pref.TruncationSize, p.pref.AllOrNone)
	return &message.Body{Type: p.bodyType, EstimatedDataSize: d.size, Truncated: truncated, Data: data}
}

// bodyPart builds AirSyncBase:BodyPart: the HTML body (14.1+).
func (b *bodies) bodyPart(pref message.BodyPartPreference) *message.BodyPart {
	d := b.html()
	data, truncated := d.truncate(pref.TruncationSize, pref.AllOrNone)
	bp := &message.BodyPart{Status: 1, Type: message.BodyHTML, EstimatedDataSize: d.size, Truncated: truncated, Data: data}
	if pref.Preview > 0 {
		bp.Preview = preview(b.plain().data, min(pref.Preview, 255))
	}
	return bp
}
