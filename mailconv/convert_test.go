package mailconv

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// syncAdd carries an item the way a Sync response does, so tests prove
// that every converted item encodes as WBXML (valid UTF-8, no NUL).
type syncAdd struct {
	WBXMLName       wbxml.Tag      `wbxml:"AirSync:Add"`
	ServerID        string         `wbxml:"ServerId"`
	ApplicationData *message.Email `wbxml:"ApplicationData"`
}

func prefs(bp ...message.BodyPreference) Options {
	return Options{Version: 161, BodyPreferences: bp}
}

func size(n uint32) *uint32 { return &n }

func convertFile(t *testing.T, name string, meta Meta, opts Options) *message.Email {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if meta.FolderID == "" {
		meta.FolderID, meta.UID = "5", 42
	}
	e, err := Convert(bytes.NewReader(raw), meta, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	back := &message.Email{}
	b, err := wbxml.Marshal(&syncAdd{ServerID: "5:42", ApplicationData: e})
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	if err := wbxml.Unmarshal(b, &syncAdd{ApplicationData: back}); err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	return e
}

func TestConvertCorpus(t *testing.T) {
	html := prefs(message.BodyPreference{Type: message.BodyHTML, Preview: 255})
	plain := prefs(message.BodyPreference{Type: message.BodyPlain})
	tests := []struct {
		file  string
		opts  Options
		check func(t *testing.T, e *message.Email)
	}{
		{"plain.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "To", e.To, `"Bob Builder" <bob@example.test>, <carol@example.test>`)
			eq(t, "Cc", e.Cc, `"Dan, the Man" <dan@example.test>`)
			eq(t, "From", e.From, `"Alice Example" <alice@example.test>`)
			eq(t, "ReplyTo", e.ReplyTo, `<replies@example.test>`)
			eq(t, "DisplayTo", e.DisplayTo, "Bob Builder; carol@example.test")
			eq(t, "DateReceived", e.DateReceived, "2025-03-04T09:15:00.000Z")
			eq(t, "Importance", *e.Importance, 2)
			eq(t, "Body.Type", e.Body.Type, message.BodyPlain)
			eq(t, "Body.Data", e.Body.Data, "Hi Bob,\r\n\r\nthe kickoff is on Friday. Grüße & <bring> snacks.\r\n\r\n-- \r\nAlice\r\n")
			eq(t, "EstimatedDataSize", e.Body.EstimatedDataSize, int64(len(e.Body.Data)))
			eq(t, "NativeBodyType", e.NativeBodyType, message.BodyPlain)
			eq(t, "MessageClass", e.MessageClass, "IPM.Note")
			eq(t, "InternetCPID", e.InternetCPID, "65001")
			eq(t, "Preview", e.Body.Preview, "") // not asked
		}},
		{"plain.eml", html, func(t *testing.T, e *message.Email) {
			eq(t, "Body.Type", e.Body.Type, message.BodyHTML)
			contains(t, e.Body.Data, "Grüße &amp; &lt;bring&gt; snacks.<br>")
			eq(t, "Preview", e.Body.Preview, "Hi Bob, the kickoff is on Friday. Grüße & <bring> snacks. -- Alice")
		}},
		{"html-only.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "Body.Data", e.Body.Data, "Weekly news\r\n\r\nCafé opens & closes.\r\nSecond line\r\n\r\n* one\r\n* two\r\n\r\na < b € €")
			eq(t, "NativeBodyType", e.NativeBodyType, message.BodyHTML)
			eq(t, "Importance", *e.Importance, 0)
		}},
		{"alternative.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "Body.Data", e.Body.Data, "Plain version.\r\nLine two.")
			eq(t, "ThreadTopic", e.ThreadTopic, "Project kickoff")
			if e.Attachments != nil {
				t.Errorf("alternatives listed as attachments: %+v", e.Attachments)
			}
		}},
		{"alternative.eml", html, func(t *testing.T, e *message.Email) {
			eq(t, "Body.Data", e.Body.Data, "<html><body><p>HTML <b>version</b>.</p></body></html>")
			eq(t, "Preview", e.Body.Preview, "Plain version. Line two.")
		}},
		{"mixed-attachment.eml", html, func(t *testing.T, e *message.Email) {
			eq(t, "Body.Data", e.Body.Data, "<p>See the <i>invoice</i> attached.</p>")
			atts := e.Attachments.Attachment
			eq(t, "attachments", len(atts), 2)
			eq(t, "DisplayName", atts[0].DisplayName, "Rechnung März.pdf")
			eq(t, "FileReference", atts[0].FileReference, "5:42:2")
			eq(t, "Method", atts[0].Method, message.AttachByValue)
			eq(t, "size", atts[0].EstimatedDataSize, int64(10256))
			eq(t, "DisplayName", atts[1].DisplayName, "notes.txt")
			eq(t, "FileReference", atts[1].FileReference, "5:42:3")
			eq(t, "size", atts[1].EstimatedDataSize, int64(len("Some notes – in a file.")))
		}},
		{"inline-image.eml", html, func(t *testing.T, e *message.Email) {
			a := e.Attachments.Attachment[0]
			eq(t, "FileReference", a.FileReference, "5:42:2")
			eq(t, "ContentID", a.ContentID, "logo@example.test")
			eq(t, "IsInline", a.IsInline, true)
			eq(t, "DisplayName", a.DisplayName, "logo.png")
			eq(t, "size", a.EstimatedDataSize, int64(108))
		}},
		{"nested-rfc822.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "Body.Data", e.Body.Data, "Forwarding this.")
			atts := e.Attachments.Attachment
			eq(t, "attachments", len(atts), 1) // the inner attachment is not listed
			eq(t, "Method", atts[0].Method, message.AttachEmbedded)
			eq(t, "DisplayName", atts[0].DisplayName, "Lunch.eml")
			eq(t, "FileReference", atts[0].FileReference, "5:42:2")
		}},
		{"latin1.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "Subject", e.Subject, "Grüße aus Köln")
			eq(t, "From", e.From, `"Jörg Müller" <joerg@example.test>`)
			eq(t, "Body.Data", e.Body.Data, "Grüße aus Köln – „quoted“ text.\r\n")
		}},
		{"windows-1252.eml", html, func(t *testing.T, e *message.Email) {
			eq(t, "Subject", e.Subject, "Angebot – 10 €")
			contains(t, e.Body.Data, "Preis: 10 € – “günstig”")
		}},
		{"iso-2022-jp.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "Subject", e.Subject, "会議の件")
			eq(t, "From", e.From, `"山田太郎" <yamada@example.test>`)
			eq(t, "Body.Data", e.Body.Data, "こんにちは、世界。\r\n明日の会議について。\r\n")
		}},
		{"koi8-r.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "Subject", e.Subject, "Привет")
			eq(t, "Body.Data", e.Body.Data, "Привет, мир! Это тест.\r\n")
		}},
		{"broken-charset.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "Subject", e.Subject, "Café raw 8-bit subject")
			eq(t, "Body.Data", e.Body.Data, "UTF-8 text under a bogus label: naïve.\r\nLatin-1 without a label: naïve.")
		}},
		{"no-body.eml", html, func(t *testing.T, e *message.Email) {
			eq(t, "Subject", e.Subject, "(no body)")
			eq(t, "Body.Type", e.Body.Type, message.BodyHTML)
			eq(t, "Preview", e.Body.Preview, "")
			if e.Attachments != nil {
				t.Errorf("attachments: %+v", e.Attachments)
			}
		}},
		{"calendar-request.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "MessageClass", e.MessageClass, "IPM.Schedule.Meeting.Request")
			eq(t, "ContentClass", e.ContentClass, "urn:content-classes:calendarmessage")
			eq(t, "Body.Data", e.Body.Data, "You are invited.")
			eq(t, "DisplayName", e.Attachments.Attachment[0].DisplayName, "invite.ics")
		}},
		{"smime-signed.eml", plain, func(t *testing.T, e *message.Email) {
			eq(t, "MessageClass", e.MessageClass, "IPM.Note.SMIME.MultipartSigned")
			eq(t, "Body.Data", e.Body.Data, "Signed text.")
			if e.Attachments != nil {
				t.Errorf("signature listed: %+v", e.Attachments)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.check(t, convertFile(t, tt.file, Meta{}, tt.opts))
		})
	}
}

func TestMetaFlags(t *testing.T) {
	meta := Meta{FolderID: "7", UID: 3, Flags: []string{`\Seen`, `\Flagged`, `\Answered`, "Work", "$MDNSent", "$label1", "NonJunk"},
		InternalDate: time.Date(2025, 3, 5, 6, 7, 8, 0, time.FixedZone("x", 3600)), UserAddresses: []string{"bob@example.test"}}
	e := convertFile(t, "plain.eml", meta, prefs(message.BodyPreference{Type: message.BodyPlain}))
	eq(t, "Read", *e.Read, true)
	eq(t, "Flag.Status", e.Flag.Status, message.FlagActive)
	eq(t, "Flag.FlagType", e.Flag.FlagType, "Flag for follow up")
	eq(t, "LastVerbExecuted", e.LastVerbExecuted, 1)
	eq(t, "Categories", strings.Join(e.Categories.Category, ","), "Work,Important")
	eq(t, "DateReceived", e.DateReceived, "2025-03-05T05:07:08.000Z")
	eq(t, "ReceivedAsBcc", e.ReceivedAsBcc, false)

	meta.Flags = []string{"$Forwarded", `\Draft`}
	meta.UserAddresses = []string{"zed@example.test"}
	e = convertFile(t, "plain.eml", meta, prefs())
	eq(t, "Read", *e.Read, false)
	eq(t, "Flag", *e.Flag, message.Flag{})
	eq(t, "LastVerbExecuted", e.LastVerbExecuted, 3)
	eq(t, "ReceivedAsBcc", e.ReceivedAsBcc, true)
	eq(t, "IsDraft", *e.IsDraft, true)
	if e.Categories != nil {
		t.Errorf("Categories = %+v", e.Categories)
	}

	c := FlagChange(model.ParseMailFlags([]string{`\Seen`}), 140)
	eq(t, "change Read", *c.Read, true)
	eq(t, "change Categories", len(c.Categories.Category), 0)
}

func TestVersionFields(t *testing.T) {
	e := convertFile(t, "alternative.eml", Meta{}, Options{Version: 121,
		BodyPreferences: []message.BodyPreference{{Type: message.BodyHTML, Preview: 10}}})
	if e.Body == nil || e.Body.Preview != "" || e.ConversationID != nil || e.Flag == nil || e.IsDraft != nil {
		t.Errorf("12.1 item has the wrong fields: %+v", e)
	}
	e = convertFile(t, "alternative.eml", Meta{}, Options{Version: 141,
		BodyPreferences:     []message.BodyPreference{{Type: message.BodyPlain}},
		BodyPartPreferences: []message.BodyPartPreference{{Type: message.BodyHTML, TruncationSize: size(10), Preview: 5}}})
	if e.BodyPart == nil || e.BodyPart.Data != "<html><bod" || !e.BodyPart.Truncated || e.BodyPart.Preview != "Plain" {
		t.Errorf("BodyPart = %+v", e.BodyPart)
	}
}

func TestConversation(t *testing.T) {
	root := convertFile(t, "plain.eml", Meta{}, prefs())
	reply := convertFile(t, "alternative.eml", Meta{}, prefs())
	other := convertFile(t, "html-only.eml", Meta{}, prefs())
	if !bytes.Equal(root.ConversationID, reply.ConversationID) || len(root.ConversationID) != 16 {
		t.Errorf("thread ids differ: %x %x", root.ConversationID, reply.ConversationID)
	}
	if bytes.Equal(root.ConversationID, other.ConversationID) {
		t.Error("unrelated messages share a conversation")
	}
	eq(t, "root index length", len(root.ConversationIndex), 5)
	eq(t, "reply index length", len(reply.ConversationIndex), 10)
}

func TestTruncation(t *testing.T) {
	// "こんにちは" is 3 bytes a character: 16 bytes must cut to 15.
	e := convertFile(t, "iso-2022-jp.eml", Meta{}, prefs(message.BodyPreference{Type: message.BodyPlain, TruncationSize: size(16)}))
	eq(t, "Data", e.Body.Data, "こんにちは")
	eq(t, "Truncated", e.Body.Truncated, true)
	eq(t, "EstimatedDataSize", e.Body.EstimatedDataSize, int64(len("こんにちは、世界。\r\n明日の会議について。\r\n")))

	e = convertFile(t, "iso-2022-jp.eml", Meta{}, prefs(message.BodyPreference{Type: message.BodyPlain, TruncationSize: size(16), AllOrNone: true}))
	eq(t, "AllOrNone Data", e.Body.Data, "")
	eq(t, "AllOrNone Truncated", e.Body.Truncated, true)

	e = convertFile(t, "iso-2022-jp.eml", Meta{}, prefs(message.BodyPreference{Type: message.BodyPlain, TruncationSize: size(1000), AllOrNone: true}))
	eq(t, "fits Truncated", e.Body.Truncated, false)
	contains(t, e.Body.Data, "会議")
}

// A large text part under a small truncation is decoded only so far
// (plan.textCap); its size is estimated from the part, in UTF-8, within
// a few per cent of what decoding it all gives.
func TestTruncationOfLargeText(t *testing.T) {
	line := "Grüße aus Köln =E2=82=AC, the lazy dog.\r\n"
	for _, c := range []struct{ cte, body string }{
		{"quoted-printable", strings.Repeat("Gr=C3=BC=C3=9Fe aus K=C3=B6ln =E2=82=AC, the lazy dog.\r\n", 20000)},
		{"8bit", strings.Repeat(line, 20000)},
	} {
		msg := "Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " + c.cte + "\r\n\r\n" + c.body
		whole, err := Convert(strings.NewReader(msg), Meta{}, prefs(message.BodyPreference{Type: message.BodyPlain}))
		if err != nil {
			t.Fatal(err)
		}
		cut, err := Convert(strings.NewReader(msg), Meta{}, prefs(message.BodyPreference{Type: message.BodyPlain, TruncationSize: size(5120)}))
		if err != nil {
			t.Fatal(err)
		}
		got, want := cut.Body.EstimatedDataSize, whole.Body.EstimatedDataSize
		if d := got - want; d*50 > want || -d*50 > want {
			t.Errorf("%s: estimated %d, whole %d", c.cte, got, want)
		}
		eq(t, c.cte+" Truncated", cut.Body.Truncated, true)
		eq(t, c.cte+" Data", cut.Body.Data, whole.Body.Data[:len(cut.Body.Data)])
		if len(cut.Body.Data) < 5110 {
			t.Errorf("%s: %d bytes of data", c.cte, len(cut.Body.Data))
		}
	}
}

// The text kept of a large part is bounded by the truncation: the part
// that becomes the body as it is (plain for a plain body) keeps the
// truncation size and a little (three times that in quoted-printable
// octets), one that must be converted (HTML for a plain body) a few times
// more (plan.textCap); the rest is only counted.
func TestTextKeptUnderTruncation(t *testing.T) {
	opts := prefs(message.BodyPreference{Type: message.BodyPlain, TruncationSize: size(5120)})
	opts.MaxText = DefaultMaxText
	p := choose(opts, false)
	same, sameCap := p.sameType(opts)
	if same != "text/plain" {
		t.Fatalf("same type %q", same)
	}
	big := strings.Repeat("Gr=C3=BC=C3=9Fe aus K=C3=B6ln, the lazy dog.\r\n", 20000)
	for _, c := range []struct {
		mediaType, cte string
		max            int
	}{
		{"text/plain", "8bit", sameCap},
		{"text/plain", "quoted-printable", 3 * sameCap},
		{"text/html", "8bit", p.textCap(opts)},
	} {
		w := newWalker(p, opts)
		var h textproto.Header
		h.Set("Content-Type", c.mediaType+"; charset=utf-8")
		if err := w.text(newEntity(h, "text/plain"), strings.NewReader(big), c.cte, "1", ""); err != nil {
			t.Fatal(err)
		}
		tp := &w.s.plain
		if c.mediaType == "text/html" {
			tp = &w.s.html
		}
		if len(tp.text) == 0 || len(tp.text) > c.max || !tp.capped || tp.size < int64(len(big))/2 {
			t.Errorf("%s %s: kept %d bytes (at most %d), capped %v, size %d", c.mediaType, c.cte, len(tp.text), c.max, tp.capped, tp.size)
		}
		w.release()
	}
}

func TestBodyChoice(t *testing.T) {
	rtfThenHTML := prefs(message.BodyPreference{Type: message.BodyRTF}, message.BodyPreference{Type: message.BodyHTML})
	e := convertFile(t, "plain.eml", Meta{}, rtfThenHTML)
	eq(t, "RTF falls through", e.Body.Type, message.BodyHTML)

	mimeFirst := prefs(message.BodyPreference{Type: message.BodyMIME}, message.BodyPreference{Type: message.BodyPlain})
	e = convertFile(t, "plain.eml", Meta{}, mimeFirst)
	eq(t, "MIMESupport 0", e.Body.Type, message.BodyPlain)

	mimeFirst.MIMESupport = MIMESMIMEOnly
	e = convertFile(t, "plain.eml", Meta{}, mimeFirst)
	eq(t, "MIMESupport 1, not S/MIME", e.Body.Type, message.BodyPlain)
	e = convertFile(t, "smime-signed.eml", Meta{}, mimeFirst)
	eq(t, "MIMESupport 1, S/MIME", e.Body.Type, message.BodyMIME)

	mimeFirst.MIMESupport = MIMEAlways
	e = convertFile(t, "plain.eml", Meta{}, mimeFirst)
	eq(t, "MIMESupport 2", e.Body.Type, message.BodyMIME)
	raw, _ := os.ReadFile("testdata/plain.eml")
	eq(t, "MIME data", e.Body.Data, string(raw))
	eq(t, "MIME size", e.Body.EstimatedDataSize, int64(len(raw)))

	e = convertFile(t, "plain.eml", Meta{}, prefs())
	eq(t, "no preference", e.Body.Type, message.BodyPlain)
}

func TestMIMETruncatedAndRewritten(t *testing.T) {
	opts := prefs(message.BodyPreference{Type: message.BodyMIME, TruncationSize: size(100)})
	opts.MIMESupport = MIMEAlways
	raw, _ := os.ReadFile("testdata/mixed-attachment.eml")
	e := convertFile(t, "mixed-attachment.eml", Meta{}, opts)
	eq(t, "Data", e.Body.Data, string(raw[:100]))
	eq(t, "Truncated", e.Body.Truncated, true)
	eq(t, "EstimatedDataSize", e.Body.EstimatedDataSize, int64(len(raw)))

	// 8-bit Latin-1 cannot travel as a WBXML string: the part goes base64.
	opts.BodyPreferences[0].TruncationSize = nil
	e = convertFile(t, "latin1.eml", Meta{}, opts)
	if !utf8.ValidString(e.Body.Data) || !strings.Contains(e.Body.Data, "Content-Transfer-Encoding: base64") {
		t.Fatalf("MIME not rewritten:\n%s", e.Body.Data)
	}
	back, err := Convert(strings.NewReader(e.Body.Data), Meta{}, prefs(message.BodyPreference{Type: message.BodyPlain}))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "rewritten body", back.Body.Data, "Grüße aus Köln – „quoted“ text.\r\n")
	eq(t, "rewritten subject", back.Subject, "Grüße aus Köln")
}

func Test25(t *testing.T) {
	opts := Options{Version: 25, BodyTruncation: TruncationSize(1, false), MIMETruncation: -1}
	e := convertFile(t, "mixed-attachment.eml", Meta{}, opts)
	if e.Body != nil || e.Attachments != nil || e.Flag != nil || e.InternetCPID != "" {
		t.Errorf("12.0 fields in a 2.5 item: %+v", e)
	}
	eq(t, "Body25", e.Body25, "See the invoice attached.")
	eq(t, "BodyTruncated", *e.BodyTruncated, false)
	a := e.Attachments25.Attachment
	eq(t, "AttName", a[0].AttName, "5:42:2")
	eq(t, "AttSize", a[0].AttSize, int64(10256))
	eq(t, "DisplayName", a[0].DisplayName, "Rechnung März.pdf")

	opts.BodyTruncation = 5
	e = convertFile(t, "plain.eml", Meta{}, opts)
	eq(t, "Body25", e.Body25, "Hi Bo")
	eq(t, "BodyTruncated", *e.BodyTruncated, true)
	eq(t, "BodySize", e.BodySize, int64(len("Hi Bob,\r\n\r\nthe kickoff is on Friday. Grüße & <bring> snacks.\r\n\r\n-- \r\nAlice\r\n")))

	opts.MIMESupport, opts.MIMETruncation = MIMEAlways, TruncationSize(1, true)
	e = convertFile(t, "mixed-attachment.eml", Meta{}, opts)
	eq(t, "MIMEData length", len(e.MIMEData), 4096)
	eq(t, "MIMETruncated", e.MIMETruncated, true)
	eq(t, "Body25", e.Body25, "")

	eq(t, "code 9", TruncationSize(9, false), -1)
	eq(t, "code 8 MIME", TruncationSize(8, true), -1)
	eq(t, "absent", TruncationSize(-1, false), -1)
}

func TestHugeBody(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@example.test\r\nSubject: big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	line := "Das ist eine lange Zeile mit Umlauten: äöü.\r\n"
	for b.Len() < 3<<20 {
		b.WriteString(line)
	}
	raw := b.String()
	bodyLen := int64(len(raw) - strings.Index(raw, "\r\n\r\n") - 4)

	opts := prefs(message.BodyPreference{Type: message.BodyPlain, TruncationSize: size(1000), Preview: 20})
	e, err := Convert(strings.NewReader(raw), Meta{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "EstimatedDataSize", e.Body.EstimatedDataSize, bodyLen)
	eq(t, "Truncated", e.Body.Truncated, true)
	if len(e.Body.Data) > 1000 || !utf8.ValidString(e.Body.Data) {
		t.Errorf("Data: %d bytes", len(e.Body.Data))
	}
	eq(t, "Preview", e.Body.Preview, "Das ist eine lange Z")

	// Beyond MaxText the text is counted, not kept.
	opts = prefs(message.BodyPreference{Type: message.BodyPlain})
	opts.MaxText = 1 << 20
	e, err = Convert(strings.NewReader(raw), Meta{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "capped Truncated", e.Body.Truncated, true)
	eq(t, "capped EstimatedDataSize", e.Body.EstimatedDataSize, bodyLen)
	if len(e.Body.Data) > 1<<20 {
		t.Errorf("kept %d bytes", len(e.Body.Data))
	}
}

func TestNotAMessage(t *testing.T) {
	if _, err := Convert(strings.NewReader("not a header\r\n\r\nbody"), Meta{}, prefs()); err == nil {
		t.Error("garbage converted")
	}
	// An empty message is an empty item, not an error a Sync would trip
	// over forever.
	if e, err := Convert(strings.NewReader(""), Meta{}, prefs()); err != nil || e.Subject != "" {
		t.Errorf("empty message: %+v, %v", e, err)
	}
	e, err := Convert(strings.NewReader("Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n"), Meta{}, prefs())
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "body of a multipart without boundary", e.Body.Data, "no boundary\r\n")
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func contains(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%q does not contain %q", s, sub)
	}
}
