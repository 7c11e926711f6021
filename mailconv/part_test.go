package mailconv

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func TestPart(t *testing.T) {
	pdf := []byte("%PDF-1.4\n")
	for range 40 {
		for i := range 256 {
			pdf = append(pdf, byte(i))
		}
	}
	pdf = append(pdf, "\n%%EOF\n"...)

	tests := []struct {
		file, path, contentType, name, content string
	}{
		{"mixed-attachment.eml", "2", "application/pdf", "Rechnung März.pdf", string(pdf)},
		{"mixed-attachment.eml", "3", "text/plain; charset=utf-8; name=notes.txt", "notes.txt", "Some notes – in a file."},
		{"mixed-attachment.eml", "1.2", "text/html; charset=utf-8", "part1.2.html", "<p>See the <i>invoice</i> attached.</p>"},
		{"inline-image.eml", "2", "image/png; name=logo.png", "logo.png", "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 100)},
		{"nested-rfc822.eml", "2.1", "text/plain; charset=utf-8", "part2.1.txt", "Lunch at noon?"},
		{"nested-rfc822.eml", "2.2", "text/plain; name=menu.txt", "menu.txt", "Soup, bread."},
		{"plain.eml", "1", "text/plain; charset=utf-8", "part1.txt", "Hi Bob,\r\n\r\nthe kickoff is on Friday. Grüße & <bring> snacks.\r\n\r\n-- \r\nAlice\r\n"},
		{"koi8-r.eml", "1", "text/plain; charset=koi8-r", "part1.txt", "\xf0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2! \xfc\xd4\xcf \xd4\xc5\xd3\xd4.\n"}, // base64: the LF is content
	}
	for _, tt := range tests {
		f, err := os.Open("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		ct, name, body, err := Part(f, tt.path)
		if err != nil {
			t.Errorf("%s %s: %v", tt.file, tt.path, err)
			f.Close()
			continue
		}
		got, err := io.ReadAll(body)
		f.Close()
		if err != nil {
			t.Errorf("%s %s: read: %v", tt.file, tt.path, err)
		}
		if ct != tt.contentType || name != tt.name || string(got) != tt.content {
			t.Errorf("%s %s = %q %q %q\nwant %q %q %q", tt.file, tt.path, ct, name, got, tt.contentType, tt.name, tt.content)
		}
	}

	// An embedded message comes whole.
	f, _ := os.Open("testdata/nested-rfc822.eml")
	defer f.Close()
	ct, name, body, err := Part(f, "2")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	if ct != "message/rfc822" || name != "part2.eml" || !bytes.HasPrefix(got, []byte("Message-ID: <lunch-6@example.test>")) {
		t.Errorf("embedded: %q %q %q", ct, name, got)
	}

	for _, path := range []string{"3", "1.1", "0", "", "x", "2.9"} {
		raw, _ := os.ReadFile("testdata/nested-rfc822.eml")
		_, _, _, err := Part(bytes.NewReader(raw), path)
		if err == nil {
			t.Errorf("part %q found", path)
		}
		if (path == "3" || path == "1.1" || path == "2.9") && !errors.Is(err, ErrNoPart) {
			t.Errorf("part %q: %v, want ErrNoPart", path, err)
		}
	}
}

func TestFileReference(t *testing.T) {
	ref := FileReference(model.MailID{FolderID: "12", UID: 345}, "2.1")
	if ref != "12:345:2.1" {
		t.Fatalf("FileReference = %q", ref)
	}
	id, path, err := ParseFileReference(ref)
	if err != nil || id != (model.MailID{FolderID: "12", UID: 345}) || path != "2.1" {
		t.Errorf("ParseFileReference = %v %q %v", id, path, err)
	}
	for _, bad := range []string{"12:345", "12:0:1", ":1:1", "12:345:", "12:345:1..2", "12:345:a"} {
		if _, _, err := ParseFileReference(bad); err == nil {
			t.Errorf("ParseFileReference(%q) accepted", bad)
		}
	}
}

// bigAttachment returns a message with a base64 attachment of n bytes,
// generated as it is read.
func bigAttachment(n int) io.Reader {
	head := "From: a@example.test\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	line := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xAB, 0xCD, 0xEF}, 19)) + "\r\n" // 57 bytes a line
	lines := n / 57
	return io.MultiReader(strings.NewReader(head), &repeatReader{s: line, n: lines}, strings.NewReader("--b--\r\n"))
}

type repeatReader struct {
	s   string
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && r.n > 0 {
		c := copy(p, r.s[r.off:])
		p, total, r.off = p[c:], total+c, r.off+c
		if r.off == len(r.s) {
			r.off, r.n = 0, r.n-1
		}
	}
	if total == 0 {
		return 0, io.EOF
	}
	return total, nil
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A 25 MB attachment streams: neither Part nor Convert holds it.
func TestLargeAttachmentStreams(t *testing.T) {
	const n = 25 << 20
	want := int64(n / 57 * 57)
	var got int64
	alloc := allocated(func() {
		_, _, body, err := Part(bigAttachment(n), "2")
		if err != nil {
			t.Fatal(err)
		}
		got, err = io.Copy(io.Discard, body)
		if err != nil {
			t.Fatal(err)
		}
	})
	if got != want {
		t.Errorf("Part read %d bytes, want %d", got, want)
	}
	if alloc > 2<<20 {
		t.Errorf("Part allocated %d bytes for a %d byte attachment", alloc, n)
	}

	var e *message.Email
	alloc = allocated(func() {
		var err error
		e, err = Convert(bigAttachment(n), Meta{FolderID: "1", UID: 1}, prefs(message.BodyPreference{Type: message.BodyHTML}))
		if err != nil {
			t.Fatal(err)
		}
	})
	if a := e.Attachments.Attachment[0]; a.EstimatedDataSize != want || a.FileReference != "1:1:2" {
		t.Errorf("attachment = %+v, want size %d", a, want)
	}
	if alloc > 2<<20 {
		t.Errorf("Convert allocated %d bytes for a %d byte attachment", alloc, n)
	}
}
