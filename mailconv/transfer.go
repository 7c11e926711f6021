package mailconv

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
	"sync"
)

// transferEncoding is a Content-Transfer-Encoding value as compared.
func transferEncoding(cte string) string { return strings.ToLower(strings.TrimSpace(cte)) }

// DecodeTransfer undoes a Content-Transfer-Encoding while streaming.
// Unknown encodings pass the bytes through: showing something beats
// failing the message.
func DecodeTransfer(cte string, r io.Reader) io.Reader {
	switch transferEncoding(cte) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Filter drops what a base64 body may contain besides the
// alphabet and padding (line breaks, stray spaces, junk after the end), so
// the strict decoder does not stop at a sloppy line.
type base64Filter struct {
	r    io.Reader
	done bool // a '=' was seen: the rest is padding or junk
}

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			switch {
			case f.done:
				if c == '=' {
					p[j] = c
					j++
				}
			case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
				p[j] = c
				j++
			case c == '=':
				f.done = true
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// copyBufs recycles the buffers that drain parts.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// drainSize reads r to its end and returns the decoded size of a part
// with transfer encoding cte: base64 is estimated from the number of
// alphabet characters (exact up to padding), quoted-printable is decoded,
// anything else is its length.
func drainSize(r io.Reader, cte string) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	switch transferEncoding(cte) {
	case "quoted-printable":
		return io.CopyBuffer(io.Discard, struct{ io.Reader }{quotedprintable.NewReader(r)}, buf)
	case "base64":
		var chars int64
		for {
			n, err := r.Read(buf)
			chunk := buf[:n]
			chars += int64(n - bytes.Count(chunk, crlf[1:]) - bytes.Count(chunk, crlf[:1]) - bytes.Count(chunk, pad))
			if err == io.EOF {
				return chars * 3 / 4, nil
			}
			if err != nil {
				return chars * 3 / 4, err
			}
		}
	default:
		return io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf)
	}
}

var (
	crlf = []byte("\r\n")
	pad  = []byte("=")
)

// textBufs recycles the buffers text parts are decoded into.
var textBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readCapped reads r to its end into buf, keeping at most max bytes; it
// returns the total length.
func readCapped(buf *bytes.Buffer, r io.Reader, max int) (int64, error) {
	n, err := buf.ReadFrom(io.LimitReader(r, int64(max)))
	if err != nil || n < int64(max) {
		return n, err
	}
	rest, err := drainSize(r, "")
	return n + rest, err
}

// decodeQP decodes quoted-printable in place and returns the decoded
// prefix of b. It is the stdlib reader's logic without its per-line
// reads, for text parts that are in memory anyway: soft line breaks
// removed, =XX decoded, white space at line ends dropped, a malformed
// '=' kept as it is.
func decodeQP(b []byte) []byte {
	w := 0
	lineStart := 0 // in the output: where trailing white space may start
	for r := 0; r < len(b); r++ {
		c := b[r]
		switch {
		case c == '=':
			if r+1 < len(b) && (b[r+1] == '\n' || (b[r+1] == '\r' && r+2 < len(b) && b[r+2] == '\n')) {
				// Soft line break.
				if b[r+1] == '\r' {
					r++
				}
				r++
				lineStart = w
				continue
			}
			if r+2 < len(b) {
				if hi, ok := unhex(b[r+1]); ok {
					if lo, ok := unhex(b[r+2]); ok {
						b[w] = hi<<4 | lo
						w++
						r += 2
						lineStart = w
						continue
					}
				}
			}
			if r+1 == len(b) {
				// "=" at the very end: a soft break cut off.
				continue
			}
			b[w] = c
			w++
			lineStart = w
		case c == '\n':
			// Drop white space before the line end (RFC 2045 6.7 (3)).
			for w > lineStart && (b[w-1] == ' ' || b[w-1] == '\t' || b[w-1] == '\r') {
				w--
			}
			if r > 0 && b[r-1] == '\r' {
				b[w] = '\r'
				w++
			}
			b[w] = '\n'
			w++
			lineStart = w
		default:
			b[w] = c
			w++
			if c != ' ' && c != '\t' && c != '\r' {
				lineStart = w
			}
		}
	}
	return b[:w]
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
