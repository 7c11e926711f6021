package model

import (
	"html"
	"strings"
	"unicode/utf8"

	"github.com/easd/easd/eas/message"
)

// The body of a PIM item (a contact's notes, an event's, a task's, a
// note) as AirSyncBase:Body, shared by the item stores: one rule for which
// preference wins, truncation, AllOrNone and Preview.

// RenderBody returns text, stored in type stored (message.BodyPlain or message.BodyHTML),
// as AirSyncBase:Body for the request's body preferences: the first
// preference for plain text or HTML wins (plain text when there is none),
// truncated to its TruncationSize without splitting a character, nothing
// when AllOrNone and too long, with a plain-text Preview from 14.0. A
// body stored as HTML is sent as it is to a client that wants HTML, and
// as its text to one that wants plain text, and the reverse.
func RenderBody(text string, stored int, version int, prefs []message.BodyPreference) *message.Body {
	pref := TextPreference(prefs)
	plain := text
	if stored == message.BodyHTML {
		plain = TextOfHTML(text)
	}
	full := plain
	if pref.Type == message.BodyHTML {
		full = text
		if stored != message.BodyHTML {
			full = HTMLOf(text)
		}
	}
	b := &message.Body{Type: pref.Type, EstimatedDataSize: int64(len(full))}
	data, truncated := Truncate(full, pref.TruncationSize)
	if truncated && pref.AllOrNone {
		data = ""
	}
	b.Data, b.Truncated = data, truncated
	if pref.Preview > 0 && version >= 140 {
		b.Preview, _ = Truncate(plain, new(uint32(pref.Preview)))
	}
	return b
}

// TextPreference is the first of prefs for plain text or HTML, the two
// types item stores render; plain text without a limit when there is
// none. 2.5 bodies (Contacts:Body, Calendar:Body) take its truncation.
func TextPreference(prefs []message.BodyPreference) message.BodyPreference {
	for _, p := range prefs {
		if p.Type == message.BodyPlain || p.Type == message.BodyHTML {
			return p
		}
	}
	return message.BodyPreference{Type: message.BodyPlain}
}

// BodyOf reads a client's AirSyncBase:Body: the text and its type
// (message.BodyPlain or message.BodyHTML; an empty body is plain). ok is false for a
// type that is neither (RTF, MIME), which easd does not keep: it could
// not show it to the next client.
func BodyOf(b *message.Body) (text string, typ int, ok bool) {
	switch {
	case b == nil || (b.Type == 0 && b.Data == ""):
		return "", message.BodyPlain, true
	case b.Type == message.BodyPlain:
		return b.Data, message.BodyPlain, true
	case b.Type == message.BodyHTML:
		return b.Data, message.BodyHTML, true
	}
	return "", 0, false
}

// HTMLOf is plain text as HTML: escaped, line breaks kept.
func HTMLOf(text string) string {
	if text == "" {
		return ""
	}
	return "<html><body>" + strings.ReplaceAll(html.EscapeString(text), "\n", "<br>") + "</body></html>"
}

// TextOfHTML turns HTML into text: tags dropped, line breaks at br, p
// and div kept, entities decoded. Notes and task bodies are short and
// simple; this is not a general HTML renderer.
func TextOfHTML(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(strings.Trim(s[i+1:i+j], "/ "))
		name, _, _ := strings.Cut(tag, " ")
		switch {
		case name == "br":
			b.WriteByte('\n')
		case (name == "p" || name == "div") && strings.HasPrefix(s[i+1:], "/"):
			b.WriteByte('\n')
		case name == "style" || name == "script" || name == "head":
			// Their content is not text.
			if end := strings.Index(strings.ToLower(s[i+j+1:]), "</"+name); end >= 0 {
				s = s[i+j+1+end:]
				continue
			}
		}
		s = s[i+j+1:]
	}
	return strings.TrimRight(html.UnescapeString(b.String()), "\n")
}

// Truncate cuts s to at most n bytes without splitting a character; nil
// n means no limit.
func Truncate(s string, n *uint32) (string, bool) {
	if n == nil || uint64(len(s)) <= uint64(*n) {
		return s, false
	}
	cut := int(*n)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}
