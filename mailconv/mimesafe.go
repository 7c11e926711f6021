package mailconv

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// stringSafe reports whether raw MIME can travel as a WBXML string.
func stringSafe(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// mimeSafe rewrites a message (or a prefix of one) so that it is valid
// UTF-8 without NUL: leaf parts whose bytes are not are re-encoded as
// base64, header bytes are read as UTF-8 or else Windows-1252 (RFC 6532
// allows UTF-8 headers). Decoded content is unchanged; preamble and
// epilogue of multiparts are dropped. A signature over a rewritten part
// no longer verifies, but such a part (8-bit) broke the rules of signed
// mail already.
func mimeSafe(raw []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(raw) + len(raw)/3)
	br := bufio.NewReader(bytes.NewReader(raw))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		writeHeader(&out, h)
		rest, _ := io.ReadAll(br)
		out.Write(fixUTF8(rest))
		return out.Bytes()
	}
	rewrite(&out, h, br, "text/plain")
	// Boundaries are written as they were; a non-ASCII one (illegal, but
	// seen) must not make the result invalid.
	return fixUTF8(out.Bytes())
}

func rewrite(out *bytes.Buffer, h textproto.Header, body io.Reader, defaultType string) {
	e := newEntity(h, defaultType)
	switch {
	case e.isMultipart():
		writeHeader(out, h)
		boundary := e.params["boundary"]
		mr := textproto.NewMultipartReader(body, boundary)
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			out.WriteString("\r\n--" + boundary + "\r\n")
			rewrite(out, p.Header, p, defaultChildType(e.mediaType[len("multipart/"):]))
		}
		out.WriteString("\r\n--" + boundary + "--\r\n")
	case e.isMessage():
		writeHeader(out, h)
		br := bufio.NewReader(body)
		inner, err := textproto.ReadHeader(br)
		if err != nil {
			writeHeader(out, inner)
			rest, _ := io.ReadAll(br)
			out.Write(fixUTF8(rest))
			return
		}
		rewrite(out, inner, br, "text/plain")
	default:
		b, _ := io.ReadAll(body)
		if stringSafe(b) {
			writeHeader(out, h)
			out.Write(b)
			return
		}
		h.Del("Content-Transfer-Encoding")
		h.Add("Content-Transfer-Encoding", "base64")
		writeHeader(out, h)
		enc := base64.StdEncoding
		line := make([]byte, 76)
		for len(b) > 0 {
			n := min(len(b), 57)
			enc.Encode(line, b[:n])
			out.Write(line[:enc.EncodedLen(n)])
			out.WriteString("\r\n")
			b = b[n:]
		}
	}
}

// writeHeader writes a header block, its bytes made valid UTF-8.
func writeHeader(out *bytes.Buffer, h textproto.Header) {
	var hb bytes.Buffer
	_ = textproto.WriteHeader(&hb, h)
	out.Write(fixUTF8(hb.Bytes()))
}
