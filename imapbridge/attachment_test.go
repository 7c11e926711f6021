package imapbridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/testenv"
)

// Attachments read decoded, whole or in ranges, from any depth (inside an
// embedded message too). The message is the one on which Dovecot's
// BINARY.SIZE is wrong (see attachment.go).
func TestMailSessionParts(t *testing.T) {
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b64 := base64.StdEncoding.EncodeToString(data)
	var lines []string
	for len(b64) > 76 {
		lines, b64 = append(lines, b64[:76]), b64[76:]
	}
	lines = append(lines, b64)
	msg := "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b1\r\nContent-Type: application/octet-stream; name=x.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		strings.Join(lines, "\r\n") + "\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =3D ok\r\n" +
		"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=b2\r\n\r\n" +
		"--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--b2\r\nContent-Type: application/pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n--b2--\r\n" +
		"--b1--\r\n"
	srv := testenv.Dovecot(t, "alice")
	ctx := context.Background()
	uid, err := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	cases := []struct {
		part, ctype string
		want        []byte
	}{
		{"2", "application/octet-stream", data},
		{"3", "text/plain", []byte("café = ok")},
		{"4.2", "application/pdf", []byte("%PDF-1")},
		{"1", "text/plain", []byte("hello")},
	}
	// The second round runs on the connection the first gave back to the
	// pool: every part read must leave it usable.
	for _, pooled := range []bool{false, true} {
		t.Run(fmt.Sprintf("pooled=%v", pooled), func(t *testing.T) {
			m, err := s.OpenMail(ctx, "alice", "alice")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if pooled && m.Commands() != 0 {
				t.Fatal("the session logged in instead of reusing the pooled connection")
			}
			for _, c := range cases {
				ct, size, ok, err := m.PartInfo(ctx, "INBOX", uid, c.part)
				if err != nil || !ok || !strings.HasPrefix(ct, c.ctype) || size != int64(len(c.want)) {
					t.Fatalf("part %s: %q %d %v %v", c.part, ct, size, ok, err)
				}
				for _, r := range [][2]int64{{0, size}, {1, size - 2}, {size - 1, 1}} {
					var got []byte
					err := m.ReadPart(ctx, "INBOX", uid, c.part, r[0], r[1], func(rd io.Reader) error {
						var err error
						got, err = io.ReadAll(io.LimitReader(rd, r[1]))
						return err
					})
					if err != nil || !bytes.Equal(got, c.want[r[0]:r[0]+r[1]]) {
						t.Fatalf("part %s range %v: %q %v", c.part, r, got, err)
					}
				}
			}
			for _, missing := range []string{"5", "1.1", "4.3"} {
				if _, _, ok, err := m.PartInfo(ctx, "INBOX", uid, missing); ok || err != nil {
					t.Errorf("part %s: ok %v err %v", missing, ok, err)
				}
			}
			if _, _, ok, err := m.PartInfo(ctx, "INBOX", uid+1, "1"); ok || err != nil {
				t.Errorf("missing message: ok %v err %v", ok, err)
			}
		})
	}
}
