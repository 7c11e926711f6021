package mailconv

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
	"github.com/emersion/go-message/textproto"
)

// Every input, however broken, converts without panic into an item that
// encodes as WBXML, with every body type and with MIME.
func FuzzConvert(f *testing.F) {
	for _, raw := range corpus(f) {
		f.Add(raw)
		// Cut messages: a connection dropped mid-fetch, a broken mailer.
		f.Add(raw[:len(raw)/2])
		f.Add(raw[:len(raw)*9/10])
	}
	f.Add([]byte("Subject: \x00\xff\r\nContent-Type: text/html\r\n\r\n<p \x00>\xfe"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, typ := range []int{message.BodyPlain, message.BodyHTML, message.BodyMIME} {
			opts := Options{Version: 161, MIMESupport: MIMEAlways, BodyPreferences: []message.BodyPreference{
				{Type: typ, TruncationSize: size(100), Preview: 50}}}
			e, err := Convert(bytes.NewReader(raw), Meta{FolderID: "1", UID: 1}, opts)
			if err != nil {
				continue
			}
			if _, err := wbxml.Marshal(&syncAdd{ServerID: "1:1", ApplicationData: e}); err != nil {
				t.Fatalf("type %d: %v", typ, err)
			}
		}
		for _, path := range []string{"1", "2", "1.2", "2.1"} {
			if _, _, body, err := Part(bytes.NewReader(raw), path); err == nil {
				_, _ = io.Copy(io.Discard, body)
			}
		}
	})
}

// Every input, its text cut anywhere, plans and converts from its header
// and the start of its text without panic, as the first FETCH of a sync
// reads them (PrefixPlan for a single part, PrefixTexts with the
// structure for a multipart), into an item that encodes as WBXML; and a
// text found in the start is that part's.
func FuzzPrefix(f *testing.F) {
	for _, raw := range corpus(f) {
		f.Add(raw, uint16(len(raw)/3))
		f.Add(raw, uint16(len(raw)*2/3))
	}
	f.Fuzz(func(t *testing.T, raw []byte, cut uint16) {
		end := headerEnd(raw)
		if end < 0 {
			return
		}
		header, text := raw[:end], raw[end:min(end+int(cut), len(raw))]
		opts := Options{Version: 161, BodyPreferences: []message.BodyPreference{{Type: message.BodyPlain, TruncationSize: size(100)}}}
		convert := func(header []byte, st Structure, texts map[string][]byte) {
			e, err := ConvertSparse(header, st, texts, Meta{FolderID: "1", UID: 1, Size: int64(len(raw))}, opts)
			if err != nil {
				return
			}
			if _, err := wbxml.Marshal(&syncAdd{ServerID: "1:1", ApplicationData: e}); err != nil {
				t.Fatal(err)
			}
		}
		if st, plan, ok := PrefixPlan(header, int64(len(raw)), opts); ok {
			texts := map[string][]byte{}
			for _, p := range plan {
				if int64(len(text)) >= p.Bytes {
					texts[p.Path] = text[:p.Bytes]
				}
			}
			convert(header, st, texts)
		}
		st, ok := testStructure(raw)
		if !ok {
			return
		}
		if read, texts, ok := PrefixTexts(header, text, st, opts); ok {
			for path, text := range texts {
				if whole, found := rawPart(raw, path); !found || !bytes.HasPrefix(whole, text) {
					t.Fatalf("part %s: found %q in the start, the message has %q", path, text, whole)
				}
			}
			convert(header, read, texts)
		}
	})
}

// corpus is the messages of testdata, the seeds of the fuzz targets.
func corpus(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/*.eml")
	var out [][]byte
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// headerEnd is the offset of a message's body in b (after the empty line
// ending the header), or -1 when b ends first: where an IMAP server
// splits BODY[HEADER] from BODY[TEXT].
func headerEnd(b []byte) int {
	for i := 0; i < len(b); {
		switch {
		case b[i] == '\n':
			return i + 1
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
			return i + 2
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return -1
}

// testStructure is raw's structure as BODYSTRUCTURE gives it, read with
// the multipart reader PrefixTexts uses on the whole message.
func testStructure(raw []byte) (Structure, bool) {
	end := headerEnd(raw)
	if end < 0 {
		return Structure{}, false
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw[:end])))
	if err != nil {
		return Structure{}, false
	}
	return entityStructure(h, raw[end:]), true
}

func entityStructure(h textproto.Header, body []byte) Structure {
	e := newEntity(h, "text/plain")
	st := Structure{MediaType: e.mediaType, Params: e.params, Encoding: h.Get("Content-Transfer-Encoding"), Size: int64(len(body))}
	if !e.isMultipart() {
		return st
	}
	mr := textproto.NewMultipartReader(bytes.NewReader(body), e.params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return st
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return st
		}
		st.Children = append(st.Children, entityStructure(part.Header, b))
	}
}

// rawPart is the body of section path of raw, undecoded.
func rawPart(raw []byte, path string) ([]byte, bool) {
	parts, err := parsePartPath(path)
	if err != nil {
		return nil, false
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return nil, false
	}
	_, body, err := messageChild(newEntity(h, "text/plain"), br, parts)
	if err != nil {
		return nil, false
	}
	b, err := io.ReadAll(body)
	return b, err == nil
}
