package wbxml

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The output buffer starts small, so that encoding a Ping response costs
// little, and grows up to writeBufferSize before it is flushed.
const (
	initialWriteBuffer = 512
	writeBufferSize    = 32 << 10
)

// Encoder writes a WBXML document token by token to an io.Writer. The EAS
// header (version 1.3, unknown public id, UTF-8, no string table) is
// written before the first tag; SWITCH_PAGE is emitted only when the page
// changes. Output is buffered: call Close (or Flush) when done.
//
// The first error sticks: later calls return it, so a handler may check
// only the result of Close.
type Encoder struct {
	w       io.Writer
	buf     []byte
	page    byte
	stack   []Tag
	started bool
	done    bool
	err     error
}

// NewEncoder returns an encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, buf: make([]byte, 0, initialWriteBuffer)}
}

// Reset makes e write a new document to w, keeping its buffer.
func (e *Encoder) Reset(w io.Writer) {
	*e = Encoder{w: w, buf: e.buf[:0], stack: e.stack[:0]}
}

func (e *Encoder) misuse(format string, args ...any) error {
	e.err = fmt.Errorf("wbxml: encode: "+format+": %w", append(args, ErrUsage)...)
	return e.err
}

// flushIfFull makes room for n more bytes: by growing the buffer while it
// is below writeBufferSize, else by flushing it.
func (e *Encoder) flushIfFull(n int) error {
	if len(e.buf)+n <= cap(e.buf) {
		return nil
	}
	if c := cap(e.buf); c < writeBufferSize {
		nc := min(max(2*c, len(e.buf)+n), writeBufferSize)
		if len(e.buf)+n <= nc {
			e.buf = append(make([]byte, 0, nc), e.buf...)
			return nil
		}
	}
	return e.Flush()
}

// Flush writes buffered output to the underlying writer.
func (e *Encoder) Flush() error {
	if e.err != nil {
		return e.err
	}
	if len(e.buf) == 0 {
		return nil
	}
	if _, err := e.w.Write(e.buf); err != nil {
		e.err = fmt.Errorf("wbxml: write output: %w", err)
		return e.err
	}
	e.buf = e.buf[:0]
	return nil
}

func (e *Encoder) tag(t Tag, content bool) error {
	if e.err != nil {
		return e.err
	}
	if e.done {
		return e.misuse("second root element %s", t)
	}
	if !t.Known() {
		return e.misuse("unknown tag %s", t)
	}
	if err := e.flushIfFull(8); err != nil {
		return err
	}
	if !e.started {
		e.buf = append(e.buf, headerVersion, headerPublicID, headerCharset, 0)
		e.started = true
	}
	if p := t.Page(); p != e.page {
		e.buf = append(e.buf, tokSwitchPage, p)
		e.page = p
	}
	b := t.Token()
	if content {
		b |= flagContent
		e.stack = append(e.stack, t)
	} else if len(e.stack) == 0 {
		e.done = true
	}
	e.buf = append(e.buf, b)
	return nil
}

// Start opens element t; close it with End.
func (e *Encoder) Start(t Tag) error { return e.tag(t, true) }

// Empty writes element t without content, e.g. <GetChanges/>.
func (e *Encoder) Empty(t Tag) error { return e.tag(t, false) }

// End closes the innermost open element.
func (e *Encoder) End() error {
	if e.err != nil {
		return e.err
	}
	if len(e.stack) == 0 {
		return e.misuse("End without open element")
	}
	if err := e.flushIfFull(1); err != nil {
		return err
	}
	e.stack = e.stack[:len(e.stack)-1]
	e.done = len(e.stack) == 0
	e.buf = append(e.buf, tokEnd)
	return nil
}

func (e *Encoder) inElement(what string) error {
	if e.err != nil {
		return e.err
	}
	if len(e.stack) == 0 {
		return e.misuse("%s outside an element", what)
	}
	return nil
}

// String writes s as inline string content (STR_I). s must be valid UTF-8
// without NUL bytes, since NUL terminates a WBXML string.
func (e *Encoder) String(s string) error {
	if err := e.inElement("string"); err != nil {
		return err
	}
	if strings.IndexByte(s, 0) >= 0 {
		return e.misuse("string contains NUL")
	}
	if !utf8.ValidString(s) {
		return e.misuse("string is not valid UTF-8")
	}
	if err := e.flushIfFull(len(s) + 2); err != nil {
		return err
	}
	e.buf = append(e.buf, tokStrI)
	if len(s) > cap(e.buf)-len(e.buf)-1 {
		// Too large for the buffer: write it straight through.
		if err := e.Flush(); err != nil {
			return err
		}
		if _, err := io.WriteString(e.w, s); err != nil {
			e.err = fmt.Errorf("wbxml: write output: %w", err)
			return e.err
		}
	} else {
		e.buf = append(e.buf, s...)
	}
	e.buf = append(e.buf, 0)
	return nil
}

// StringBytes is String for a byte slice.
func (e *Encoder) StringBytes(b []byte) error {
	if err := e.inElement("string"); err != nil {
		return err
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return e.misuse("string contains NUL")
	}
	if !utf8.Valid(b) {
		return e.misuse("string is not valid UTF-8")
	}
	if err := e.flushIfFull(len(b) + 2); err != nil {
		return err
	}
	e.buf = append(e.buf, tokStrI)
	if len(b) > cap(e.buf)-len(e.buf)-1 {
		if err := e.Flush(); err != nil {
			return err
		}
		if _, err := e.w.Write(b); err != nil {
			e.err = fmt.Errorf("wbxml: write output: %w", err)
			return e.err
		}
	} else {
		e.buf = append(e.buf, b...)
	}
	e.buf = append(e.buf, 0)
	return nil
}

func (e *Encoder) opaqueHeader(n int64) error {
	if err := e.inElement("opaque data"); err != nil {
		return err
	}
	if n < 0 || n > 0xFFFFFFFF {
		return e.misuse("opaque length %d out of range", n)
	}
	if err := e.flushIfFull(6); err != nil {
		return err
	}
	e.buf = append(e.buf, tokOpaque)
	e.buf = appendMbUint32(e.buf, uint32(n))
	return nil
}

// Opaque writes b as binary content (OPAQUE).
func (e *Encoder) Opaque(b []byte) error {
	if err := e.opaqueHeader(int64(len(b))); err != nil {
		return err
	}
	if len(b) > cap(e.buf)-len(e.buf) {
		if err := e.Flush(); err != nil {
			return err
		}
		if _, err := e.w.Write(b); err != nil {
			e.err = fmt.Errorf("wbxml: write output: %w", err)
			return e.err
		}
		return nil
	}
	e.buf = append(e.buf, b...)
	return nil
}

// OpaqueFrom writes exactly n bytes read from r as binary content, without
// holding them in memory: a MIME body or attachment streams through.
func (e *Encoder) OpaqueFrom(r io.Reader, n int64) error {
	if err := e.opaqueHeader(n); err != nil {
		return err
	}
	if err := e.Flush(); err != nil {
		return err
	}
	copied, err := io.CopyN(e.w, r, n)
	if err != nil {
		e.err = fmt.Errorf("wbxml: opaque content: copied %d of %d bytes: %w", copied, n, err)
		return e.err
	}
	return nil
}

// Base64From writes the base64 encoding (standard alphabet, padded) of
// exactly n bytes read from r as inline string content, without holding
// them in memory: MS-ASCMD defines some binary content, such as
// ItemOperations Data, as a string holding its base64 form, and an
// attachment of any size streams through.
func (e *Encoder) Base64From(r io.Reader, n int64) error {
	if err := e.inElement("string"); err != nil {
		return err
	}
	if n < 0 {
		return e.misuse("base64 length %d out of range", n)
	}
	if err := e.flushIfFull(1); err != nil {
		return err
	}
	e.buf = append(e.buf, tokStrI)
	if err := e.Flush(); err != nil {
		return err
	}
	b64 := base64.NewEncoder(base64.StdEncoding, &errWriter{e: e})
	copied, err := io.CopyN(b64, r, n)
	if err == nil {
		err = b64.Close()
	}
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("wbxml: base64 content: copied %d of %d bytes: %w", copied, n, err)
		}
		return e.err
	}
	e.buf = append(e.buf, 0)
	return nil
}

// errWriter writes straight to the encoder's output and records a write
// error as the encoder's sticky error.
type errWriter struct{ e *Encoder }

func (w *errWriter) Write(p []byte) (int, error) {
	n, err := w.e.w.Write(p)
	if err != nil {
		w.e.err = fmt.Errorf("wbxml: write output: %w", err)
	}
	return n, err
}

// Element writes <t>s</t>; an empty s gives an element with content but no
// string, as EAS servers send e.g. an empty <Data>.
func (e *Encoder) Element(t Tag, s string) error {
	if err := e.Start(t); err != nil {
		return err
	}
	if s != "" {
		if err := e.String(s); err != nil {
			return err
		}
	}
	return e.End()
}

// Close checks that the document is complete and flushes it. It does not
// close the underlying writer.
func (e *Encoder) Close() error {
	if e.err != nil {
		return e.err
	}
	if len(e.stack) > 0 {
		return e.misuse("%d elements left open (innermost %s)", len(e.stack), e.stack[len(e.stack)-1])
	}
	if !e.done {
		return e.misuse("no root element")
	}
	return e.Flush()
}

func appendMbUint32(b []byte, v uint32) []byte {
	var tmp [5]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7F)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7F) | 0x80
	}
	return append(b, tmp[i:]...)
}
