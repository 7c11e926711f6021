package mailconv

import (
	"bytes"
	"html"
	"unicode/utf8"
)

// skipContent are elements whose content is not text to show.
var skipContent = map[string]bool{"script": true, "style": true, "head": true, "title": true, "template": true}

// breaks are elements that start a new line (true: a paragraph, with a
// blank line).
var breaks = map[string]bool{
	"br": false, "div": false, "tr": false, "li": false, "dt": false, "dd": false,
	"p": true, "table": true, "ul": true, "ol": true, "blockquote": true, "pre": true, "hr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
}

// htmlToText renders HTML as plain text with CRLF line ends, in one pass
// and without building a tree: markup dropped, script and style skipped,
// entities decoded, white space collapsed as a browser would (except in
// <pre>), block elements and <br> turned into line breaks, list items
// marked "* ". Good enough for a body or a preview; not a layout engine.
func htmlToText(b []byte) []byte {
	t := textWriter{out: make([]byte, 0, len(b)/2)}
	pre := 0
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case '<':
			end, name, closing := scanTag(b, i)
			if end == i+1 && name == "" {
				// "a < b": a character, not a tag.
				t.char('<', pre > 0)
			}
			i = end
			switch {
			case name == "":
			case skipContent[name] && !closing:
				i = skipTo(b, i, name)
			case name == "pre":
				if closing {
					pre = max(pre-1, 0)
				} else {
					pre++
				}
				t.newline(true)
			case name == "li" && !closing:
				t.newline(false)
				t.out = append(t.out, "* "...)
				t.space = false
			case name == "td" || name == "th":
				t.softSpace()
			default:
				if para, ok := breaks[name]; ok {
					if name == "br" || !closing || para {
						t.newline(para && name != "br")
					}
				}
			}
		case '&':
			j := bytes.IndexByte(b[i:min(len(b), i+12)], ';')
			if j < 0 {
				t.char('&', pre > 0)
				i++
				continue
			}
			for _, r := range html.UnescapeString(string(b[i : i+j+1])) {
				t.char(r, pre > 0)
			}
			i += j + 1
		default:
			r, n := rune(c), 1
			if c >= utf8.RuneSelf {
				r, n = utf8.DecodeRune(b[i:])
			}
			t.char(r, pre > 0)
			i += n
		}
	}
	return bytes.TrimRight(t.out, "\r\n ")
}

// textWriter accumulates rendered text, collapsing white space.
type textWriter struct {
	out   []byte
	space bool // a collapsed space is pending
	lines int  // line breaks just written (0, 1 or 2)
}

func (t *textWriter) char(r rune, pre bool) {
	if pre {
		switch r {
		case '\n':
			t.out = append(t.out, '\r', '\n')
			t.lines = 1
			return
		case '\r':
			return
		}
		t.out = utf8.AppendRune(t.out, r)
		t.lines = 0
		return
	}
	switch r {
	case ' ', '\t', '\n', '\r', '\f', 0xa0:
		if r == 0xa0 {
			// &nbsp; is a space that does not collapse.
			t.flushSpace()
			t.out = append(t.out, ' ')
			t.lines = 0
			return
		}
		if len(t.out) > 0 && t.lines == 0 {
			t.space = true
		}
		return
	case 0:
		return
	}
	t.flushSpace()
	t.out = utf8.AppendRune(t.out, r)
	t.lines = 0
}

func (t *textWriter) flushSpace() {
	if t.space {
		t.out = append(t.out, ' ')
		t.space = false
	}
}

func (t *textWriter) softSpace() {
	if len(t.out) > 0 && t.lines == 0 {
		t.space = true
	}
}

// newline ends the line; para asks for a blank line after it. Nothing is
// written at the start of the text, and never more than one blank line.
func (t *textWriter) newline(para bool) {
	t.space = false
	if len(t.out) == 0 {
		return
	}
	want := 1
	if para {
		want = 2
	}
	for t.lines < want {
		t.out = append(t.out, '\r', '\n')
		t.lines++
	}
}

// scanTag reads the tag starting at b[i] == '<'. It returns the index
// after it and its lower-case name ("" for comments, declarations and a
// '<' that starts no tag).
func scanTag(b []byte, i int) (end int, name string, closing bool) {
	j := i + 1
	if bytes.HasPrefix(b[j:], []byte("!--")) {
		k := bytes.Index(b[j+3:], []byte("-->"))
		if k < 0 {
			return len(b), "", false
		}
		return j + 3 + k + 3, "", false
	}
	if j < len(b) && b[j] == '/' {
		closing = true
		j++
	}
	start := j
	for j < len(b) && (isAlpha(b[j]) || (j > start && b[j] >= '0' && b[j] <= '9')) {
		j++
	}
	if j == start && (j >= len(b) || (b[j] != '!' && b[j] != '?')) {
		// "a < b": not a tag.
		return i + 1, "", false
	}
	name = lowerASCII(b[start:j])
	var quote byte
	for ; j < len(b); j++ {
		switch c := b[j]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j + 1, name, closing
		}
	}
	return len(b), name, closing
}

// skipTo returns the index after the closing tag of element name.
func skipTo(b []byte, i int, name string) int {
	for {
		k := bytes.IndexByte(b[i:], '<')
		if k < 0 {
			return len(b)
		}
		i += k
		end, n, closing := scanTag(b, i)
		if closing && n == name {
			return end
		}
		i = max(end, i+1)
	}
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// tagNames interns common tag names so scanning does not allocate.
var tagNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"a", "b", "i", "u", "p", "br", "div", "span", "td", "th", "tr", "table", "tbody",
		"thead", "li", "ul", "ol", "img", "font", "strong", "em", "html", "body", "head", "meta", "style",
		"script", "title", "blockquote", "pre", "hr", "center", "h1", "h2", "h3", "h4", "h5", "h6", "link"} {
		m[n] = n
	}
	return m
}()

func lowerASCII(b []byte) string {
	var buf [16]byte
	if len(b) <= len(buf) {
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if n, ok := tagNames[string(buf[:len(b)])]; ok {
			return n
		}
		return string(buf[:len(b)])
	}
	return string(bytes.ToLower(b))
}

// textToHTML renders plain text as a small HTML document: escaped, line
// breaks as <br>.
func textToHTML(text []byte) []byte {
	out := make([]byte, 0, len(text)+len(text)/8+128)
	out = append(out, `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>`...)
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '<':
			out = append(out, "&lt;"...)
		case '>':
			out = append(out, "&gt;"...)
		case '&':
			out = append(out, "&amp;"...)
		case '"':
			out = append(out, "&quot;"...)
		case '\r':
		case '\n':
			out = append(out, "<br>\r\n"...)
		default:
			out = append(out, c)
		}
	}
	return append(out, "</body></html>"...)
}
