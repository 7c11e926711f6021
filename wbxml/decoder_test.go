package wbxml

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

var hdr = []byte{0x03, 0x01, 0x6A, 0x00}

func doc(body ...byte) []byte { return append(append([]byte{}, hdr...), body...) }

// decodeAll reads every token and its content, returning the first error.
func decodeAll(data []byte, lim Limits) error {
	d := NewDecoder(bytes.NewReader(data), lim)
	for {
		tok, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if tok.Kind == String || tok.Kind == Opaque {
			if _, err := d.Bytes(); err != nil {
				return err
			}
		}
	}
}

func TestDecodeFolderSync(t *testing.T) {
	// FolderSync with SyncKey 0, as libwbxml encodes it.
	in := doc(0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01)
	d := NewDecoder(bytes.NewReader(in), Limits{})
	var got []string
	for {
		tok, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok.Kind {
		case StartTag:
			got = append(got, "<"+tok.Tag.String())
		case EndTag:
			got = append(got, ">"+tok.Tag.Name())
		case String:
			s, err := d.Text()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, "'"+s)
		}
	}
	want := "<FolderHierarchy:FolderSync <FolderHierarchy:SyncKey '0 >SyncKey >FolderSync"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v\nwant %s", got, want)
	}
}

func TestDecodeMalformed(t *testing.T) {
	sync := byte(0x45) // AirSync:Sync with content
	cases := []struct {
		name   string
		in     []byte
		lim    Limits
		class  error
		offset int64
	}{
		{"empty", nil, Limits{}, ErrTruncated, 0},
		{"bad version", []byte{0x02, 0x01, 0x6A, 0x00, 0x45, 0x01}, Limits{}, ErrMalformed, 0},
		{"public id in string table", []byte{0x03, 0x00, 0x00, 0x6A, 0x00}, Limits{}, ErrUnsupported, 1},
		{"wrong charset", []byte{0x03, 0x01, 0x04, 0x00, 0x45, 0x01}, Limits{}, ErrMalformed, 2},
		{"header only", hdr, Limits{}, ErrTruncated, 4},
		{"truncated in element", doc(sync), Limits{}, ErrTruncated, 5},
		{"truncated string", doc(sync, 0x03, 'a', 'b'), Limits{}, ErrTruncated, 8},
		{"truncated opaque", doc(sync, 0xC3, 0x05, 1, 2), Limits{}, ErrTruncated, 9},
		{"mb_u_int32 too long", doc(sync, 0xC3, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01), Limits{}, ErrMalformed, 6},
		{"mb_u_int32 truncated", doc(sync, 0xC3, 0x81), Limits{}, ErrTruncated, 7},
		{"unknown page", doc(0x00, 0x1A, 0x45, 0x01), Limits{}, ErrUnknownPage, 4},
		{"unknown token", doc(0x3F, 0x01), Limits{}, ErrUnknownTag, 4},
		{"unknown token in page", doc(sync, 0x00, 0x07, 0x19, 0x01), Limits{}, ErrUnknownTag, 7},
		{"end without start", doc(0x01), Limits{}, ErrMalformed, 4},
		{"end after root", doc(0x05, 0x01), Limits{}, ErrMalformed, 5},
		{"second root", doc(sync, 0x01, sync, 0x01), Limits{}, ErrMalformed, 6},
		{"string outside root", doc(0x03, 'a', 0x00), Limits{}, ErrMalformed, 4},
		{"attributes", doc(0xC5, 0x01, 0x01), Limits{}, ErrUnsupported, 4},
		{"entity", doc(sync, 0x02, 0x41, 0x01), Limits{}, ErrUnsupported, 5},
		{"literal", doc(sync, 0x04, 0x00, 0x01), Limits{}, ErrUnsupported, 5},
		{"string table reference", doc(sync, 0x83, 0x00, 0x01), Limits{}, ErrUnsupported, 5},
		{"extension", doc(sync, 0xC0, 0x01), Limits{}, ErrUnsupported, 5},
		{"processing instruction", doc(sync, 0x43, 0x01), Limits{}, ErrUnsupported, 5},
		{"invalid UTF-8", doc(sync, 0x03, 'o', 'k', 0xC3, 0x28, 0x00, 0x01), Limits{}, ErrInvalidUTF8, 8},
		{"UTF-8 cut by NUL", doc(sync, 0x03, 0xE2, 0x82, 0x00, 0x01), Limits{}, ErrInvalidUTF8, 6},
		{"depth", doc(sync, 0x5C, 0x4F, 0x01, 0x01, 0x01), Limits{MaxDepth: 2}, ErrLimit, 6},
		{"tokens", doc(sync, 0x0B, 0x0B, 0x0B, 0x01), Limits{MaxTokens: 3}, ErrLimit, 7},
		{"size", doc(sync, 0x03, 'a', 'b', 'c', 0x00, 0x01), Limits{MaxSize: 7}, ErrLimit, 7},
		{"opaque over size", doc(sync, 0xC3, 0x8F, 0xFF, 0xFF, 0x7F), Limits{MaxSize: 1000}, ErrLimit, 5},
		{"string table over size", []byte{0x03, 0x01, 0x6A, 0x8F, 0xFF, 0xFF, 0x7F}, Limits{MaxSize: 100}, ErrLimit, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := decodeAll(c.in, c.lim)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SyntaxError", err)
			}
			if !errors.Is(err, c.class) || se.Offset != c.offset {
				t.Fatalf("error %v (offset %d), want %v at %d", err, se.Offset, c.class, c.offset)
			}
		})
	}
}

func TestDecodeStringTableSkipped(t *testing.T) {
	// A non-empty string table is legal WBXML 1.3; EAS never refers to it.
	in := []byte{0x03, 0x01, 0x6A, 0x03, 'a', 'b', 0x00, 0x45, 0x01}
	if err := decodeAll(in, Limits{}); err != nil {
		t.Fatal(err)
	}
}

// oneByteReader returns one byte per Read, to split content at every
// possible point.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

func TestDecodeSplitReads(t *testing.T) {
	text := strings.Repeat("Grüße, 世界 🌍 ", 50)
	var b bytes.Buffer
	enc := NewEncoder(&b)
	enc.Start(MustTag("AirSyncBase:Data"))
	enc.String(text)
	enc.Opaque([]byte(text))
	enc.End()
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(oneByteReader{bytes.NewReader(b.Bytes())}, Limits{})
	var got []string
	for {
		tok, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == String || tok.Kind == Opaque {
			s, err := io.ReadAll(d.Content())
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(s))
		}
	}
	if len(got) != 2 || got[0] != text || got[1] != text {
		t.Fatalf("content differs after split reads")
	}
}

// TestDecodeStreamsLargeOpaque checks that a large body is readable in
// pieces through Content without the decoder holding it.
func TestDecodeStreamsLargeOpaque(t *testing.T) {
	const size = 8 << 20
	var b bytes.Buffer
	enc := NewEncoder(&b)
	enc.Start(MustTag("ComposeMail:SendMail"))
	enc.Start(MustTag("ComposeMail:Mime"))
	enc.OpaqueFrom(io.LimitReader(zeros{}, size), size)
	enc.End()
	enc.End()
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(&b, Limits{})
	for {
		tok, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == Opaque {
			if tok.Length != size {
				t.Fatalf("length %d", tok.Length)
			}
			n, err := io.Copy(io.Discard, d.Content())
			if err != nil || n != size {
				t.Fatalf("copied %d, %v", n, err)
			}
			if cap(d.scratch) != 0 {
				t.Fatalf("decoder buffered the content (%d bytes)", cap(d.scratch))
			}
			return
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestDecodeZeroAllocsPerToken(t *testing.T) {
	data := syncResponse(20, 2000)
	r := bytes.NewReader(data)
	d := NewDecoder(r, Limits{})
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(data)
		d.Reset(r)
		for {
			tok, err := d.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Kind == String || tok.Kind == Opaque {
				if _, err := d.Bytes(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per document, want 0", allocs)
	}
}
