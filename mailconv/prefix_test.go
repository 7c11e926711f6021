package mailconv

import (
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
)

// PrefixTexts takes a text from the start of a message only when the
// parts there are those the structure names, and all of the text needed
// is there; PrefixPlan takes single-part messages only.
func TestPrefixTexts(t *testing.T) {
	text := strings.Repeat("plain text line\r\n", 40)
	head := []byte("Subject: x\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n")
	msg := []byte("--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b--\r\n")
	opts := Options{Version: 161, BodyPreferences: []message.BodyPreference{{Type: message.BodyPlain, TruncationSize: size(100)}}}
	leaf := func(mt string, n int) Structure { return Structure{MediaType: mt, Size: int64(n)} }
	st := Structure{MediaType: "multipart/alternative", Children: []Structure{leaf("text/plain", len(text)), leaf("text/html", 8)}}

	_, texts, ok := PrefixTexts(head, msg, st, opts)
	if !ok || !strings.HasPrefix(text, string(texts["1"])) || len(texts["1"]) < 100 {
		t.Fatalf("whole message: ok %v, texts %q", ok, texts)
	}
	cut := len(msg) - len(text) // the plain part's first few octets only
	if _, texts, ok := PrefixTexts(head, msg[:cut], st, opts); ok {
		t.Errorf("text past the start: found %q", texts)
	}
	// The mail server read another first part (a broken message parsed
	// its own way): the start is not used.
	other := []byte(strings.Replace(string(msg), "text/plain; charset=utf-8", "application/octet-stream", 1))
	if _, texts, ok := PrefixTexts(head, other, st, opts); ok {
		t.Errorf("parts other than the structure says: found %q", texts)
	}

	if _, _, ok := PrefixPlan(head, int64(len(head)+len(msg)), opts); ok {
		t.Error("PrefixPlan took a multipart message")
	}
	single := []byte("Subject: x\r\nContent-Type: text/plain\r\n\r\n")
	st1, plan, ok := PrefixPlan(single, 1000, opts)
	if !ok || len(plan) != 1 || plan[0].Path != "1" || st1.Size != 1000-int64(len(single)) {
		t.Errorf("single part: ok %v, plan %v, size %d", ok, plan, st1.Size)
	}
	embedded := []byte("Subject: x\r\nContent-Type: message/rfc822\r\n\r\n")
	if _, _, ok := PrefixPlan(embedded, 1000, opts); ok {
		t.Error("PrefixPlan took an embedded message")
	}
}
