package mailconv

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// charsetAliases maps labels that senders use for text that is really
// Windows-1252 (curly quotes 0x93/0x94 in "ISO-8859-1" mail are common)
// and spellings of UTF-8. "" means: sniff (valid UTF-8, else 1252).
var charsetAliases = map[string]string{
	"iso-8859-1":     "windows-1252",
	"iso8859-1":      "windows-1252",
	"iso_8859-1":     "windows-1252",
	"latin1":         "windows-1252",
	"l1":             "windows-1252",
	"cp819":          "windows-1252",
	"us-ascii":       "",
	"ascii":          "",
	"ansi_x3.4-1968": "",
	"utf-8":          "",
	"utf8":           "",
	"unknown-8bit":   "",
	"x-unknown":      "",
	"default":        "",
	"iso-2022-jp-2":  "iso-2022-jp", // the -2 extensions are rare; the base set decodes most of it
}

// toUTF8 decodes text in the named charset to UTF-8. It never fails: an
// unknown or broken charset falls back to sniffing, and bytes that are
// not valid in the result are read as Windows-1252.
func toUTF8(label string, b []byte) []byte {
	name := strings.ToLower(strings.TrimSpace(strings.Trim(label, `"'`)))
	if alias, ok := charsetAliases[name]; ok {
		name = alias
	}
	if name != "" && name != "windows-1252" {
		if r, err := charset.Reader(name, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(r); err == nil {
				return fixUTF8(out)
			}
		}
	}
	if name == "windows-1252" && isASCII(b) {
		return b
	}
	if name == "windows-1252" {
		return decode1252(b)
	}
	return fixUTF8(b)
}

// fixUTF8 returns b when it is valid UTF-8 without NUL; otherwise a copy
// in which each byte that does not start a valid sequence is read as
// Windows-1252 and NUL bytes are dropped.
func fixUTF8(b []byte) []byte {
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c != 0 {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, cp1252(c))
			i++
			continue
		}
		out = append(out, b[i:i+n]...)
		i += n
	}
	return out
}

// decode1252 decodes Windows-1252 text.
func decode1252(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for _, c := range b {
		switch {
		case c == 0:
		case c < utf8.RuneSelf:
			out = append(out, c)
		default:
			out = utf8.AppendRune(out, cp1252(c))
		}
	}
	return out
}

// win1252High are the characters Windows-1252 puts at 0x80–0x9F, where
// ISO-8859-1 has control characters.
var win1252High = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

func cp1252(c byte) rune {
	if c >= 0x80 && c < 0xA0 {
		return win1252High[c-0x80]
	}
	return rune(c)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf || c == 0 {
			return false
		}
	}
	return true
}

// wordDecoder decodes RFC 2047 encoded words in every charset toUTF8
// knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(toUTF8(label, b)), nil
}}

// headerText decodes an unstructured header value (Subject, a display
// name, a file name) to clean UTF-8 on one line: encoded words decoded,
// raw ISO-2022-JP (7-bit escapes, common in old Japanese mail) and raw
// 8-bit bytes read as UTF-8 or else Windows-1252, control characters
// turned into spaces.
func headerText(v string) string {
	if strings.IndexByte(v, 0x1b) >= 0 {
		v = string(toUTF8("iso-2022-jp", []byte(v)))
	} else if !utf8.ValidString(v) {
		v = string(fixUTF8([]byte(v)))
	}
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
	}
	return oneLine(v)
}

// headerValue cleans a structured header value that is shown as it is
// (Content-ID, Content-Location): valid UTF-8 on one line.
func headerValue(v string) string { return oneLine(fixHeaderBytes(v)) }

// oneLine replaces control characters by spaces, drops NUL and trims.
func oneLine(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return strings.TrimSpace(s)
	}
	// A run of control characters and the blanks around them (a folded
	// line) becomes one space.
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			pending = r != 0 || pending
		case pending && r == ' ':
		default:
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
