package mailconv

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
)

// benchMessage builds a multipart/alternative message with text of about
// textSize bytes in each form and, when attSize > 0, a base64 attachment.
func benchMessage(textSize, attSize int) []byte {
	var b bytes.Buffer
	b.WriteString("From: \"Alice Example\" <alice@example.test>\r\nTo: \"Bob\" <bob@example.test>, carol@example.test\r\n" +
		"Subject: =?utf-8?q?Quartalsbericht_f=C3=BCr_M=C3=A4rz?=\r\nDate: Tue, 04 Mar 2025 10:15:00 +0100\r\n" +
		"Message-ID: <bench@example.test>\r\nReferences: <root@example.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=mix\r\n\r\n--mix\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	para := "Der Bericht f=C3=BCr das erste Quartal liegt vor. Umsatz und Kosten sind im Rahmen.\r\n"
	for n := 0; n < textSize; n += len(para) {
		b.WriteString(para)
	}
	b.WriteString("--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{margin:0}</style></head><body>")
	hpara := "<p>Der Bericht f&uuml;r das <b>erste Quartal</b> liegt vor. Umsatz &amp; Kosten sind im Rahmen.</p>\r\n"
	for n := 0; n < textSize; n += len(hpara) {
		b.WriteString(hpara)
	}
	b.WriteString("</body></html>\r\n--alt--\r\n")
	if attSize > 0 {
		b.WriteString("--mix\r\nContent-Type: application/pdf; name=report.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("0123456789abcdef"), attSize/16))
		for i := 0; i < len(enc); i += 76 {
			b.WriteString(enc[i:min(i+76, len(enc))])
			b.WriteString("\r\n")
		}
	}
	b.WriteString("--mix--\r\n")
	return b.Bytes()
}

func benchConvert(b *testing.B, raw []byte, opts Options) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	meta := Meta{FolderID: "5", UID: 1, Flags: []string{`\Seen`}}
	r := bytes.NewReader(raw)
	for b.Loop() {
		r.Reset(raw)
		if _, err := Convert(r, meta, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// A phone's usual wish: HTML truncated at 32 KB with a preview.
var phoneOpts = Options{Version: 161, BodyPreferences: []message.BodyPreference{
	{Type: message.BodyHTML, TruncationSize: new(uint32(32 << 10)), Preview: 255}}}

var mimeOpts = Options{Version: 161, MIMESupport: MIMEAlways, BodyPreferences: []message.BodyPreference{
	{Type: message.BodyMIME, TruncationSize: new(uint32(100 << 10))}}}

func BenchmarkConvert10KB(b *testing.B) { benchConvert(b, benchMessage(5<<10, 0), phoneOpts) }

func BenchmarkConvert1MB(b *testing.B) { benchConvert(b, benchMessage(20<<10, 950<<10), phoneOpts) }

func BenchmarkConvert1MBMIME(b *testing.B) { benchConvert(b, benchMessage(20<<10, 950<<10), mimeOpts) }

func BenchmarkConvert1MBPlainText(b *testing.B) {
	// 1 MB of text in each form: decoding and rendering dominate.
	benchConvert(b, benchMessage(512<<10, 0), Options{Version: 161, BodyPreferences: []message.BodyPreference{
		{Type: message.BodyPlain, TruncationSize: new(uint32(32 << 10)), Preview: 255}}})
}

func TestBenchMessageSizes(t *testing.T) {
	if n := len(benchMessage(5<<10, 0)); n < 9<<10 || n > 11<<10 {
		t.Errorf("10 KB message is %d bytes", n)
	}
	if n := len(benchMessage(20<<10, 950<<10)); n < 1<<20 || n > 1400<<10 {
		t.Errorf("1 MB message is %d bytes", n)
	}
	e, err := Convert(bytes.NewReader(benchMessage(5<<10, 0)), Meta{}, phoneOpts)
	if err != nil || !strings.Contains(e.Body.Data, "f&uuml;r") || e.Subject != "Quartalsbericht für März" {
		t.Errorf("bench message converts badly: %v %+v", err, e)
	}
}
