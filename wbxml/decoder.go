package wbxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

const readBufferSize = 64 << 10

// Decoder reads a WBXML document token by token. It buffers its input,
// so it may read past the end of the document from r.
//
// String and opaque content is not read by Next: after a String or Opaque
// token, read it with Bytes, Text or Content, or call Next again to skip it.
// Content is never held in memory unless the caller asks for it with Bytes
// or Text, so a multi-megabyte MIME body can be streamed through Content.
type Decoder struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	base int64 // document offset of buf[0]
	rerr error // error of the last read, reported once buf is drained
	err  error // sticky decoding error
	lim  Limits

	page    byte
	stack   []Tag
	tokens  int
	started bool // header consumed
	done    bool // root element closed

	pendingEnd bool // an element without content awaits its EndTag
	pendingTag Tag
	pendingOff int64

	content   Kind  // String or Opaque while content is unread, else 0
	remaining int64 // unread opaque bytes
	scratch   []byte
	cr        contentReader
}

// NewDecoder returns a decoder reading from r within the given limits; zero
// fields of lim take their values from DefaultLimits.
func NewDecoder(r io.Reader, lim Limits) *Decoder {
	return newDecoder(r, lim, readBufferSize)
}

// newDecoder is NewDecoder with a read buffer of size bytes (at least 1).
func newDecoder(r io.Reader, lim Limits, size int) *Decoder {
	d := &Decoder{r: r, buf: make([]byte, size), lim: lim.withDefaults()}
	d.cr.d = d
	return d
}

// Reset makes d read a new document from r with the same limits, reusing
// its buffers: a server decoding many requests allocates nothing per
// request once warm.
func (d *Decoder) Reset(r io.Reader) {
	buf, stack, scratch, lim := d.buf, d.stack[:0], d.scratch[:0], d.lim
	*d = Decoder{r: r, buf: buf, stack: stack, scratch: scratch, lim: lim}
	d.cr.d = d
}

// InputOffset returns the document offset of the next unread byte.
func (d *Decoder) InputOffset() int64 { return d.base + int64(d.pos) }

// Depth returns the number of open elements.
func (d *Decoder) Depth() int { return len(d.stack) }

func (d *Decoder) syntax(off int64, class error, format string, args ...any) error {
	d.err = &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...), Err: class}
	return d.err
}

// fill reads more input after the unread bytes, moving them to the front of
// the buffer first. It returns io.EOF when the input is exhausted.
func (d *Decoder) fill() error {
	if d.rerr != nil {
		return d.rerr
	}
	if d.pos > 0 {
		n := copy(d.buf, d.buf[d.pos:d.end])
		d.base += int64(d.pos)
		d.pos, d.end = 0, n
	}
	for tries := 0; tries < 100; tries++ {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if d.base+int64(d.end) > d.lim.MaxSize {
			d.rerr = d.syntax(d.lim.MaxSize, ErrLimit, "document larger than %d bytes", d.lim.MaxSize)
			return d.rerr
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("wbxml: read input: %w", err)
				d.err = err
			}
			d.rerr = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	d.rerr = fmt.Errorf("wbxml: read input: %w", io.ErrNoProgress)
	d.err = d.rerr
	return d.rerr
}

// readByte returns the next byte; at the end of input it reports a
// truncation error at the current offset.
func (d *Decoder) readByte() (byte, error) {
	if d.pos == d.end {
		if err := d.fill(); err != nil {
			return 0, d.truncated(err, "document ends early")
		}
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

func (d *Decoder) truncated(err error, msg string) error {
	if errors.Is(err, io.EOF) {
		return d.syntax(d.InputOffset(), ErrTruncated, "%s", msg)
	}
	return err
}

// readMbUint32 reads a WBXML multi-byte unsigned integer (at most 32 bits,
// so at most five bytes).
func (d *Decoder) readMbUint32() (uint32, error) {
	off := d.InputOffset()
	var v uint64
	for i := 0; i < 5; i++ {
		b, err := d.readByte()
		if err != nil {
			return 0, err
		}
		v = v<<7 | uint64(b&0x7F)
		if b&0x80 == 0 {
			if v > 0xFFFFFFFF {
				return 0, d.syntax(off, ErrMalformed, "mb_u_int32 overflows 32 bits")
			}
			return uint32(v), nil
		}
	}
	return 0, d.syntax(off, ErrMalformed, "mb_u_int32 longer than 5 bytes")
}

func (d *Decoder) readHeader() error {
	off := d.InputOffset()
	v, err := d.readByte()
	if err != nil {
		return err
	}
	if v != headerVersion {
		return d.syntax(off, ErrMalformed, "WBXML version 0x%02X, want 0x03 (1.3)", v)
	}
	off = d.InputOffset()
	pid, err := d.readMbUint32()
	if err != nil {
		return err
	}
	if pid == 0 {
		return d.syntax(off, ErrUnsupported, "public identifier in the string table")
	}
	if pid != headerPublicID {
		return d.syntax(off, ErrMalformed, "public identifier %d, want 1", pid)
	}
	off = d.InputOffset()
	cs, err := d.readMbUint32()
	if err != nil {
		return err
	}
	if cs != headerCharset {
		return d.syntax(off, ErrMalformed, "charset %d, want 106 (UTF-8)", cs)
	}
	off = d.InputOffset()
	n, err := d.readMbUint32()
	if err != nil {
		return err
	}
	// WBXML allows a string table; EAS never refers to one, so it is
	// skipped here and any reference to it (STR_T, LITERAL) is rejected.
	if int64(n) > d.lim.MaxSize-d.InputOffset() {
		return d.syntax(off, ErrLimit, "string table of %d bytes exceeds the size limit", n)
	}
	if err := d.discard(int64(n)); err != nil {
		return err
	}
	d.started = true
	return nil
}

func (d *Decoder) discard(n int64) error {
	for n > 0 {
		if d.pos == d.end {
			if err := d.fill(); err != nil {
				return d.truncated(err, "document ends inside content")
			}
		}
		k := min(int64(d.end-d.pos), n)
		d.pos += int(k)
		n -= k
	}
	return nil
}

func (d *Decoder) count(off int64) error {
	d.tokens++
	if d.tokens > d.lim.MaxTokens {
		return d.syntax(off, ErrLimit, "more than %d tokens", d.lim.MaxTokens)
	}
	return nil
}

// Next returns the next token. At the end of a complete document it
// returns io.EOF; any other error is sticky.
func (d *Decoder) Next() (Token, error) {
	if d.err != nil {
		return Token{}, d.err
	}
	if d.content != 0 {
		if err := d.skipContent(); err != nil {
			return Token{}, err
		}
	}
	if d.pendingEnd {
		d.pendingEnd = false
		return Token{Kind: EndTag, Tag: d.pendingTag, Offset: d.pendingOff}, nil
	}
	if !d.started {
		if err := d.readHeader(); err != nil {
			return Token{}, err
		}
	}
	for {
		off := d.InputOffset()
		if d.pos == d.end {
			if err := d.fill(); err != nil {
				if errors.Is(err, io.EOF) {
					if d.done {
						return Token{}, io.EOF
					}
					if d.tokens == 0 {
						return Token{}, d.syntax(off, ErrTruncated, "document has no root element")
					}
					return Token{}, d.syntax(off, ErrTruncated, "document ends with %d open elements", len(d.stack))
				}
				return Token{}, err
			}
		}
		if d.done {
			return Token{}, d.syntax(off, ErrMalformed, "data after the root element")
		}
		b := d.buf[d.pos]
		d.pos++
		if err := d.count(off); err != nil {
			return Token{}, err
		}
		switch b {
		case tokSwitchPage:
			p, err := d.readByte()
			if err != nil {
				return Token{}, err
			}
			if pages[p] == nil {
				return Token{}, d.syntax(off, ErrUnknownPage, "SWITCH_PAGE to page %d", p)
			}
			d.page = p
			continue
		case tokEnd:
			if len(d.stack) == 0 {
				return Token{}, d.syntax(off, ErrMalformed, "END without open element")
			}
			t := d.stack[len(d.stack)-1]
			d.stack = d.stack[:len(d.stack)-1]
			d.done = len(d.stack) == 0
			return Token{Kind: EndTag, Tag: t, Offset: off}, nil
		case tokStrI:
			if len(d.stack) == 0 {
				return Token{}, d.syntax(off, ErrMalformed, "string outside the root element")
			}
			d.content = String
			return Token{Kind: String, Offset: off}, nil
		case tokOpaque:
			if len(d.stack) == 0 {
				return Token{}, d.syntax(off, ErrMalformed, "opaque data outside the root element")
			}
			n, err := d.readMbUint32()
			if err != nil {
				return Token{}, err
			}
			if int64(n) > d.lim.MaxSize-d.InputOffset() {
				return Token{}, d.syntax(off, ErrLimit, "opaque data of %d bytes exceeds the size limit", n)
			}
			d.content, d.remaining = Opaque, int64(n)
			return Token{Kind: Opaque, Length: int64(n), Offset: off}, nil
		case tokEntity, tokLiteral, tokExtI0, tokExtI1, tokExtI2, tokPI, tokLiteralC,
			tokExtT0, tokExtT1, tokExtT2, tokStrT, tokLiteralA, tokExt0, tokExt1, tokExt2, tokLiteralAC:
			return Token{}, d.syntax(off, ErrUnsupported, "global token 0x%02X", b)
		}
		if b&flagAttrs != 0 {
			return Token{}, d.syntax(off, ErrUnsupported, "tag 0x%02X with attributes", b)
		}
		t := MakeTag(d.page, b)
		if !t.Known() {
			return Token{}, d.syntax(off, ErrUnknownTag, "token 0x%02X on page %d (%s)", b&0x3F, d.page, pages[d.page].Name)
		}
		if len(d.stack) >= d.lim.MaxDepth {
			return Token{}, d.syntax(off, ErrLimit, "nesting deeper than %d", d.lim.MaxDepth)
		}
		if b&flagContent != 0 {
			d.stack = append(d.stack, t)
			return Token{Kind: StartTag, Tag: t, HasContent: true, Offset: off}, nil
		}
		d.pendingEnd, d.pendingTag, d.pendingOff = true, t, off
		d.done = len(d.stack) == 0
		return Token{Kind: StartTag, Tag: t, Offset: off}, nil
	}
}

// nextChunk returns the next piece of unread content straight from the
// read buffer, valid until the next call on d. String pieces always end on
// a rune boundary and are checked to be valid UTF-8. It returns io.EOF
// after the last piece.
func (d *Decoder) nextChunk() ([]byte, error) {
	for {
		switch d.content {
		case 0:
			return nil, io.EOF
		case Opaque:
			if d.remaining == 0 {
				d.content = 0
				return nil, io.EOF
			}
		}
		if d.pos == d.end {
			if err := d.fill(); err != nil {
				return nil, d.truncated(err, "document ends inside content")
			}
		}
		avail := d.buf[d.pos:d.end]
		if d.content == Opaque {
			n := min(int64(len(avail)), d.remaining)
			d.pos += int(n)
			d.remaining -= n
			return avail[:n], nil
		}
		off := d.InputOffset()
		if i := bytes.IndexByte(avail, 0); i >= 0 {
			chunk := avail[:i]
			if !utf8.Valid(chunk) {
				return nil, d.badUTF8(off, chunk)
			}
			d.pos += i + 1
			d.content = 0
			return chunk, nil
		}
		chunk := trimPartialRune(avail)
		if len(chunk) == 0 {
			// Only the start of a multi-byte rune is buffered: read on.
			if err := d.fill(); err != nil {
				return nil, d.truncated(err, "document ends inside a string")
			}
			continue
		}
		if !utf8.Valid(chunk) {
			return nil, d.badUTF8(off, chunk)
		}
		d.pos += len(chunk)
		return chunk, nil
	}
}

// trimPartialRune cuts an incomplete UTF-8 sequence from the end of b, so
// that a string split across reads is validated rune by rune.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return b
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

func (d *Decoder) badUTF8(off int64, chunk []byte) error {
	i := 0
	for i < len(chunk) {
		r, n := utf8.DecodeRune(chunk[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	return d.syntax(off+int64(i), ErrInvalidUTF8, "string is not UTF-8")
}

func (d *Decoder) skipContent() error {
	for {
		_, err := d.nextChunk()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Bytes reads the whole content of the current String or Opaque token. The
// slice is only valid until the next call on d; copy it to keep it. For
// content that fits the read buffer no copy is made at all.
func (d *Decoder) Bytes() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.content == 0 {
		return nil, fmt.Errorf("wbxml: Bytes called without unread content: %w", ErrUsage)
	}
	first, err := d.nextChunk()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if d.content == 0 || (d.content == Opaque && d.remaining == 0) {
		d.content = 0
		return first, nil
	}
	d.scratch = append(d.scratch[:0], first...)
	for {
		chunk, err := d.nextChunk()
		if err == io.EOF {
			return d.scratch, nil
		}
		if err != nil {
			return nil, err
		}
		d.scratch = append(d.scratch, chunk...)
	}
}

// Text reads the whole content of the current String or Opaque token as a
// string.
func (d *Decoder) Text() (string, error) {
	b, err := d.Bytes()
	return string(b), err
}

// Content returns a reader for the content of the current String or Opaque
// token. It is valid until the next call to Next.
func (d *Decoder) Content() io.Reader {
	d.cr.rest = nil
	return &d.cr
}

type contentReader struct {
	d    *Decoder
	rest []byte
}

func (c *contentReader) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		chunk, err := c.d.nextChunk()
		if err != nil {
			return 0, err
		}
		c.rest = chunk
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

// Skip reads up to and including the EndTag matching a StartTag just
// returned by Next.
func (d *Decoder) Skip() error {
	depth := 1
	for {
		tok, err := d.Next()
		if err != nil {
			return err
		}
		switch tok.Kind {
		case StartTag:
			depth++
		case EndTag:
			depth--
			if depth == 0 {
				return nil
			}
		}
	}
}
