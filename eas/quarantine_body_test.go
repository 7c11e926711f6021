package eas

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
)

// The notice comes in the body type the phone asks for first, whole.
func TestQuarantineNoticeBody(t *testing.T) {
	text := "Wait <please>.\r\n\r\nDevice id: abc\r\nModel: x & y\r\n"
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body := func(types ...int) *message.Body {
		var prefs []message.BodyPreference
		for _, ty := range types {
			prefs = append(prefs, message.BodyPreference{Type: ty})
		}
		col := message.SyncCollection{Options: []message.SyncOptions{{BodyPreference: prefs}}}
		return noticeBody(col, "alice@example.test", "Admin <postmaster@example.test>", "Waiting", text, at)
	}
	if b := body(); b.Type != message.BodyPlain || b.Data != text || b.Truncated {
		t.Fatalf("no preference: %+v", b)
	}
	b := body(message.BodyHTML, message.BodyPlain)
	if b.Type != message.BodyHTML || !strings.Contains(b.Data, "Wait &lt;please&gt;.</p><p>Device id: abc<br>Model: x &amp; y</p>") {
		t.Fatalf("HTML: %+v", b)
	}
	b = body(message.BodyRTF, message.BodyMIME)
	if b.Type != message.BodyMIME || b.EstimatedDataSize != int64(len(b.Data)) {
		t.Fatalf("MIME: %+v", b)
	}
	m, err := mail.ReadMessage(strings.NewReader(b.Data))
	if err != nil || m.Header.Get("Subject") != "Waiting" || m.Header.Get("To") != "alice@example.test" {
		t.Fatalf("MIME does not parse: %v %v", m, err)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(at) {
		t.Fatalf("MIME date: %v %v", d, err)
	}
}
