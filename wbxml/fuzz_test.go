package wbxml

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Run bounded in CI:
//
//	go test ./wbxml -run='^$' -fuzz='^FuzzDecode$' -fuzztime=20s
//	go test ./wbxml -run='^$' -fuzz='^FuzzRoundTrip$' -fuzztime=20s
//
// Seeds: every corpus document (encoded) plus testdata/fuzz.

var fuzzLimits = Limits{MaxDepth: 32, MaxTokens: 10000, MaxSize: 1 << 20}

func addCorpusSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.xml"))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if err := ReadXML(&b, bytes.NewReader(src)); err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(b.Bytes())
	}
}

func FuzzDecode(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		err := decodeAll(data, fuzzLimits)
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if se != nil && (se.Offset < 0 || se.Offset > int64(len(data))) {
			t.Fatalf("offset %d outside the input of %d bytes", se.Offset, len(data))
		}
		// The tree and the struct mapping must fail the same way, not panic.
		if _, perr := Parse(bytes.NewReader(data), fuzzLimits); (perr == nil) != (err == nil) {
			t.Fatalf("Parse: %v, token decoding: %v", perr, err)
		}
		var s testSync
		_ = Unmarshal(data, &s)
	})
}

// tokenStream is a comparable form of a document's tokens and content.
func tokenStream(t *testing.T, data []byte) []string {
	d := NewDecoder(bytes.NewReader(data), fuzzLimits)
	var out []string
	for {
		tok, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		s := tok.Kind.String() + " " + tok.Tag.String()
		if tok.Kind == StartTag && tok.HasContent {
			s += " +content"
		}
		if tok.Kind == String || tok.Kind == Opaque {
			b, err := d.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			s += " " + string(b)
		}
		out = append(out, s)
	}
}

// canonical reports whether data is encoded the way Encoder writes: the
// EAS header, no string table, minimal mb_u_int32 and SWITCH_PAGE only
// where the page of the next tag changes. For such documents the round
// trip through XML must give back the very same bytes.
func canonical(data []byte) bool {
	if !bytes.HasPrefix(data, hdr) {
		return false
	}
	page := byte(0)
	for i := len(hdr); i < len(data); i++ {
		switch b := data[i]; b {
		case tokSwitchPage:
			if i+2 >= len(data) || data[i+1] == page {
				return false
			}
			next := data[i+2]
			if next == tokSwitchPage || next == tokEnd || next == tokStrI || next == tokOpaque {
				return false
			}
			page = data[i+1]
			i++
		case tokStrI:
			j := bytes.IndexByte(data[i+1:], 0)
			if j < 0 {
				return false
			}
			i += j + 1
		case tokOpaque:
			if i+1 >= len(data) || data[i+1] == 0x80 {
				return false
			}
			var n int
			k := i + 1
			for ; k < len(data) && data[k]&0x80 != 0; k++ {
				n = n<<7 | int(data[k]&0x7F)
			}
			if k >= len(data) {
				return false
			}
			n = n<<7 | int(data[k])
			i = k + n
		}
	}
	return true
}

func FuzzRoundTrip(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if decodeAll(data, fuzzLimits) != nil {
			return
		}
		var x, b2 bytes.Buffer
		if err := WriteXML(&x, bytes.NewReader(data), WithLimits(fuzzLimits)); err != nil {
			t.Fatalf("WriteXML of a valid document: %v", err)
		}
		if err := ReadXML(&b2, bytes.NewReader(x.Bytes())); err != nil {
			t.Fatalf("ReadXML of WriteXML output: %v\n%s", err, x.String())
		}
		if canonical(data) && !bytes.Equal(b2.Bytes(), data) {
			t.Fatalf("encode(decode(B)) != B\n got %x\nwant %x\nXML:\n%s", b2.Bytes(), data, x.String())
		}
		got, want := tokenStream(t, b2.Bytes()), tokenStream(t, data)
		if len(got) != len(want) {
			t.Fatalf("token streams differ:\n got %q\nwant %q", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("token %d: got %q, want %q", i, got[i], want[i])
			}
		}
	})
}
