package mailconv

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// Every input, however broken, converts without panic into an item that
// encodes as WBXML, with every body type and with MIME.
func FuzzConvert(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
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
