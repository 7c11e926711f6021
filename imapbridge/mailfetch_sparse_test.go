package imapbridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/testenv"
	"github.com/easd/easd/mailconv"
)

// sparseShapes are large messages of the shapes phones meet, for which a
// truncated body is fetched in part (mailconv.SparsePlan).
func sparseShapes() map[string]string {
	text := strings.Repeat("Grüße aus Köln, the quick brown fox jumps over the lazy dog.\n", 700)
	html := "<html><body>" + strings.Repeat("<p>Grüße <b>aus</b> Köln &amp; the lazy dog.</p>\n", 900) + "</body></html>"
	var qp strings.Builder
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(text))
	w.Close()
	b64 := func(s string) string {
		enc := base64.StdEncoding.EncodeToString([]byte(s))
		var out strings.Builder
		for len(enc) > 76 {
			out.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		return out.String() + enc + "\r\n"
	}
	blob := b64(strings.Repeat("\x00\x01binary\xff", 20000))
	head := "From: Bob <bob@example.test>\r\nTo: Alice <alice@example.test>\r\nSubject: %s\r\n" +
		"Date: Mon, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.test>\r\nMIME-Version: 1.0\r\n"
	return map[string]string{
		"plain-qp": fmt.Sprintf(head, "plain qp", "a") +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp.String(),
		"alternative-base64+attachment": fmt.Sprintf(head, "alt", "b") +
			"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n" +
			"Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(text) +
			"--a\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(html) +
			"--a--\r\n--m\r\nContent-Type: application/pdf; name=\"=?utf-8?q?R=C3=A9sum=C3=A9?=.pdf\"\r\n" +
			"Content-Disposition: attachment; filename*=utf-8''R%C3%A9sum%C3%A9.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob +
			"--m--\r\n",
		"html-only-latin1+inline": fmt.Sprintf(head, "html", "c") +
			"Content-Type: multipart/related; boundary=\"r\"\r\n\r\n--r\r\n" +
			"Content-Type: text/html; charset=iso-8859-1\r\n\r\n" + strings.ReplaceAll(strings.ReplaceAll(html, "ü", "\xfc"), "ö", "\xf6") +
			"\r\n--r\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-Id: <logo@x>\r\nContent-Location: logo.png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob +
			"--r--\r\n",
		"embedded+attachment": fmt.Sprintf(head, "fwd", "d") +
			"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\nSee below.\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n" +
			"From: carol@example.test\r\nSubject: Inner =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\ninner body\r\n" +
			"--m\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob +
			"--m--\r\n",
		"text-image-text": fmt.Sprintf(head, "inline run", "e") +
			"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text[:3000] + "\r\n--m\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob +
			"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text[:9000] + "\r\n--m--\r\n",
	}
}

// A sparse fetch (structure, header, start of the text parts) converts a
// large message as a whole fetch does: same item, sizes estimated within
// a few percent. Small messages and those that need the whole message
// (S/MIME, calendar) take the whole path, one FETCH for the small ones.
func TestMailSessionSparseFetch(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()
	names := map[uint32]string{}
	shapes := sparseShapes()
	for name, msg := range shapes {
		uid, err := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", []byte(strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		names[uid] = name
	}
	files, err := filepath.Glob("../mailconv/testdata/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		uid, err := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", b)
		if err != nil {
			t.Fatal(err)
		}
		names[uid] = filepath.Base(f)
	}
	var uids []uint32
	for uid := range names {
		uids = append(uids, uid)
	}

	optsList := map[string]model.MailFetchOptions{
		"plain 5120": {Version: 161, BodyPreferences: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(5120))}}},
		"html 2048 preview": {Version: 161, MIMESupport: 1,
			BodyPreferences: []message.BodyPreference{{Type: 2, TruncationSize: new(uint32(2048)), Preview: 255}}},
		"plain 512 all-or-none": {Version: 121, BodyPreferences: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(512)), AllOrNone: true}}},
	}
	for label, opts := range optsList {
		t.Run(label, func(t *testing.T) {
			m, err := s.OpenMail(ctx, "alice", "alice")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			m.sparseAbove = 16 << 10 // the shapes are 50-200 KB
			opts.FolderID = "2"
			before := m.Commands()
			got, err := m.Fetch(ctx, "INBOX", uids, opts)
			if err != nil || len(got) != len(uids) {
				t.Fatalf("sparse fetch: %d items, %v", len(got), err)
			}
			// The FETCH of every message's start, the structure FETCH, one
			// whole FETCH (S/MIME, calendar) and one per shape of large
			// message at most; SELECT before.
			if n := m.Commands() - before; n > 4+len(shapes)+1 {
				t.Errorf("%d IMAP commands", n)
			}
			// With a 5 KB plain body, the large shapes go the sparse way
			// and the corpus whole, but for its one message larger than
			// the start read first.
			conv := mailconv.Options{Version: opts.Version, BodyPreferences: opts.BodyPreferences, MIMESupport: opts.MIMESupport,
				BodyTruncation: -1, MIMETruncation: -1} // as FetchEach builds them
			jobs := make(chan rawMessage, len(uids))
			if err := m.readMessages(uids, conv, jobs); err != nil {
				t.Fatal(err)
			}
			close(jobs)
			for raw := range jobs {
				_, large := shapes[names[raw.meta.UID]]
				large = large || names[raw.meta.UID] == "mixed-attachment.eml"
				if label == "plain 5120" && (raw.sparse != nil) != large {
					t.Errorf("%s: sparse %v", names[raw.meta.UID], raw.sparse != nil)
				}
			}
			want := wholeItems(t, m, uids, opts)
			for _, it := range got {
				sameEmail(t, names[it.UID], it.Data.(*message.Email), want[it.UID])
			}
		})
	}
}

// wholeItems converts uids from whole fetches, the reference.
func wholeItems(t *testing.T, m *MailSession, uids []uint32, opts model.MailFetchOptions) map[uint32]*message.Email {
	t.Helper()
	conv := mailconv.Options{Version: opts.Version, BodyPreferences: opts.BodyPreferences, MIMESupport: opts.MIMESupport,
		BodyTruncation: -1, MIMETruncation: -1}
	jobs := make(chan rawMessage, len(uids))
	if err := m.readWhole(uidSet(uids), 0, jobs, nil); err != nil {
		t.Fatal(err)
	}
	close(jobs)
	out := map[uint32]*message.Email{}
	for raw := range jobs {
		raw.meta.FolderID = opts.FolderID
		out[raw.meta.UID] = convertRaw(raw, conv).Data.(*message.Email)
	}
	return out
}

// sameEmail compares a sparse conversion with the whole one: sizes within
// 5 % or 16 octets (a part's decoded size is estimated from its encoded
// one, which says little of a short quoted-printable text), everything
// else equal.
func sameEmail(t *testing.T, name string, got, want *message.Email) {
	t.Helper()
	near := func(what string, a, b int64) {
		if d := max(a-b, b-a); d > 16 && d*20 > b {
			t.Errorf("%s: %s %d, whole fetch says %d", name, what, a, b)
		}
	}
	g, w := *got, *want
	if g.Body != nil && w.Body != nil {
		gb, wb := *g.Body, *w.Body
		near("body size", gb.EstimatedDataSize, wb.EstimatedDataSize)
		gb.EstimatedDataSize = wb.EstimatedDataSize
		g.Body = &gb
	}
	if g.Attachments != nil && w.Attachments != nil && len(g.Attachments.Attachment) == len(w.Attachments.Attachment) {
		ga := *g.Attachments
		ga.Attachment = append([]message.Attachment(nil), ga.Attachment...)
		for i := range ga.Attachment {
			near("attachment size", ga.Attachment[i].EstimatedDataSize, w.Attachments.Attachment[i].EstimatedDataSize)
			ga.Attachment[i].EstimatedDataSize = w.Attachments.Attachment[i].EstimatedDataSize
		}
		g.Attachments = &ga
	}
	if !reflect.DeepEqual(&g, &w) {
		t.Errorf("%s: sparse fetch gave\n%+v\nwhole fetch\n%+v", name, describe(&g), describe(&w))
	}
}

func describe(e *message.Email) string {
	s := fmt.Sprintf("%+v", *e)
	if e.Body != nil {
		b := *e.Body
		if len(b.Data) > 80 {
			b.Data = b.Data[:40] + "…" + b.Data[len(b.Data)-40:]
		}
		s += fmt.Sprintf(" Body=%+v", b)
	}
	if e.Attachments != nil {
		s += fmt.Sprintf(" Attachments=%+v", e.Attachments.Attachment)
	}
	return s
}

// A large message converts from its header and the start of its text,
// which the first FETCH reads, when its texts are there: a single-part
// one with its header standing in for BODYSTRUCTURE (no second FETCH),
// however long the header, a multipart one with BODYSTRUCTURE alone. When
// more is needed (quoted-printable, HTML rendered as plain text, a text
// after an attachment) the parts are fetched. Every item is the whole
// fetch's.
func TestMailSessionPrefixFetch(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()
	text := strings.Repeat("Grüße aus Köln, the quick brown fox jumps over the lazy dog.\r\n", 700)
	var qp strings.Builder
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(text))
	w.Close()
	head := "From: Bob <bob@example.test>\r\nTo: Alice <alice@example.test>\r\nSubject: %s\r\n" +
		"Date: Mon, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.test>\r\nMIME-Version: 1.0\r\n"
	received := strings.Repeat("Received: from relay.example.test (relay.example.test [192.0.2.1]) by mx.example.test with ESMTPS id 4f2c; Mon, 02 Jan 2026 10:00:00 +0000\r\n", 80)
	blob := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("\x00\x01binary\xff"), 6000))
	blob = regexp.MustCompile(".{1,76}").ReplaceAllString(blob, "$0\r\n")
	latin1 := strings.NewReplacer("ü", "\xfc", "ö", "\xf6", "ß", "\xdf").Replace(text)
	msgs := map[string]string{
		"plain-8bit":      fmt.Sprintf(head, "plain", "a") + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text,
		"plain-latin1":    fmt.Sprintf(head, "latin1", "b") + "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n" + latin1,
		"no-content-type": fmt.Sprintf(head, "bare", "c") + "\r\n" + strings.NewReplacer("ü", "ue", "ö", "oe", "ß", "ss").Replace(text),
		"text-attachment": fmt.Sprintf(head, "notes", "d") +
			"Content-Type: text/plain; charset=utf-8; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n\r\n" + text,
		"plain-qp": fmt.Sprintf(head, "qp", "e") +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + strings.ReplaceAll(qp.String(), "\n", "\r\n"),
		"html-only": fmt.Sprintf(head, "html", "f") + "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>" +
			strings.ReplaceAll(text, "\r\n", "<br>\r\n") + "</body></html>\r\n",
		"long-header": received + fmt.Sprintf(head, "relayed", "g") + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text,
		"alternative": fmt.Sprintf(head, "alt", "h") + "Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n" +
			"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" +
			strings.ReplaceAll(text, "\r\n", "<br>\r\n") + "</p>\r\n--a--\r\n",
		"text+attachment": fmt.Sprintf(head, "mixed", "i") + "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n" +
			"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--m\r\nContent-Type: application/octet-stream\r\n" +
			"Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob + "--m--\r\n",
		"whole-rfc822": fmt.Sprintf(head, "forwarded", "k") + "Content-Type: message/rfc822\r\n\r\n" +
			fmt.Sprintf(head, "inner", "l") + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text,
		"attachment-first": fmt.Sprintf(head, "late text", "j") + "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n" +
			"--m\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\n" + blob + "--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--m--\r\n",
	}
	fromPrefix := map[string]bool{"plain-8bit": true, "plain-latin1": true, "no-content-type": true, "text-attachment": true,
		"long-header": true}
	withStructure := map[string]bool{"alternative": true, "text+attachment": true}
	names := map[uint32]string{}
	var uids, prefixOnly, structureOnly []uint32
	for name, msg := range msgs {
		uid, err := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", []byte(strings.ReplaceAll(msg, "\r\r\n", "\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		names[uid] = name
		uids = append(uids, uid)
		if fromPrefix[name] {
			prefixOnly = append(prefixOnly, uid)
		}
		if withStructure[name] {
			structureOnly = append(structureOnly, uid)
		}
	}
	opts := model.MailFetchOptions{Version: 161, FolderID: "2",
		BodyPreferences: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(5120))}}}
	m, err := s.OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err := m.Fetch(ctx, "INBOX", uids, opts)
	if err != nil || len(got) != len(uids) {
		t.Fatalf("fetch: %d items, %v", len(got), err)
	}
	want := wholeItems(t, m, uids, opts)
	for _, it := range got {
		sameEmail(t, names[it.UID], it.Data.(*message.Email), want[it.UID])
	}

	// The messages complete in their start: one FETCH (and BODYSTRUCTURE
	// for a multipart), and no more of each read than that start.
	conv := mailconv.Options{Version: opts.Version, BodyPreferences: opts.BodyPreferences, BodyTruncation: -1, MIMETruncation: -1}
	for _, c := range []struct {
		uids     []uint32
		commands int
	}{{prefixOnly, 1}, {structureOnly, 2}} {
		jobs := make(chan rawMessage, len(c.uids))
		before := m.Commands()
		if err := m.readMessages(c.uids, conv, jobs); err != nil {
			t.Fatal(err)
		}
		close(jobs)
		if n := m.Commands() - before; n != c.commands {
			t.Errorf("%d IMAP commands for messages complete in their start, want %d", n, c.commands)
		}
		for raw := range jobs {
			if raw.sparse == nil || int64(len(raw.body)) > mailconv.PrefixSize(conv) || int64(len(raw.head)+len(raw.body)) >= raw.meta.Size {
				t.Errorf("%s: read %d octets of text and %d of header of %d, sparse %v", names[raw.meta.UID],
					len(raw.body), len(raw.head), raw.meta.Size, raw.sparse != nil)
			}
		}
	}
}
