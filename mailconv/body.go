package mailconv

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// cutUTF8 returns the longest prefix of b of at most n bytes that does
// not end inside a UTF-8 sequence.
func cutUTF8(b []byte, n int) []byte {
	if n >= len(b) {
		return b
	}
	if n <= 0 {
		return b[:0]
	}
	// Step back over continuation bytes to the start of the sequence
	// that n falls into; keep it only if it ends by n.
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	return b[:i]
}

var lineEndCR, lineEndLF = []byte("\r"), []byte("\n")

// crlfText returns text with every line end as CRLF (a bare LF or CR
// becomes CRLF); when it is already so, text itself.
func crlfText(text []byte) []byte {
	// Most text already has CRLF line ends: three counts (vectorised in
	// package bytes) tell, where a loop over every byte cost 5 % of an
	// initial sync's CPU.
	pairs := bytes.Count(text, crlf)
	if bytes.Count(text, lineEndLF) == pairs && bytes.Count(text, lineEndCR) == pairs {
		return text
	}
	bare := 0
	for i, c := range text {
		if (c == '\n' && (i == 0 || text[i-1] != '\r')) || (c == '\r' && (i+1 == len(text) || text[i+1] != '\n')) {
			bare++
		}
	}
	out := make([]byte, 0, len(text)+bare)
	for i, c := range text {
		switch {
		case c == '\n' && (i == 0 || text[i-1] != '\r'):
			out = append(out, '\r', '\n')
		case c == '\r' && (i+1 == len(text) || text[i+1] != '\n'):
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// preview is the plain-text excerpt of AirSyncBase:Preview: white space
// collapsed to single spaces, at most n characters.
func preview(text []byte, n int) string {
	out := make([]byte, 0, min(len(text), n*2))
	count, space := 0, false
	for i := 0; i < len(text) && count < n; {
		r, size := utf8.DecodeRune(text[i:])
		i += size
		switch r {
		case ' ', '\t', '\r', '\n', '\f', 0xa0:
			space = len(out) > 0
			continue
		}
		if space {
			out = append(out, ' ')
			count++
			space = false
			if count == n {
				break
			}
		}
		out = utf8.AppendRune(out, r)
		count++
	}
	return strings.TrimRight(string(out), " ")
}

// bodyData is a body in one type, ready to be truncated.
type bodyData struct {
	data   []byte
	size   int64 // size of the whole body in this type
	capped bool  // data is already incomplete (Options.MaxText)
}

// truncate applies a truncation size (nil: none) and AllOrNone. It
// returns the data to send, whether it is truncated, and whether data is
// to be sent at all.
func (b bodyData) truncate(limit *uint32, allOrNone bool) (data string, truncated bool) {
	full := !b.capped && (limit == nil || int64(*limit) >= b.size)
	if full {
		return string(b.data), false
	}
	if allOrNone {
		return "", true
	}
	if limit == nil {
		return string(b.data), true
	}
	return string(cutUTF8(b.data, int(min(int64(*limit), int64(len(b.data)))))), true
}
