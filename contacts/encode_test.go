package contacts

import (
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

// URI values keep their commas (RFC 6350: only text values escape them),
// text values escape theirs, and both read back as they were.
func TestEncodeCardURIsUnescaped(t *testing.T) {
	card := vcard.Card{}
	card.SetValue(vcard.FieldVersion, "4.0")
	card.SetValue(vcard.FieldFormattedName, "Jane, Doe")
	card.SetValue(vcard.FieldPhoto, "data:image/jpeg;base64,/9j/4AAQ")
	card.SetValue(vcard.FieldURL, "https://example.test/a,b")
	card.Add("item1.X-CUSTOM", &vcard.Field{Value: "uri:a,b", Params: vcard.Params{"VALUE": {"uri"}}})
	card.SetValue(vcard.FieldNote, "one, two")
	text, err := EncodeCard(card)
	if err != nil {
		t.Fatal(err)
	}
	s := string(text)
	for _, want := range []string{"PHOTO:data:image/jpeg;base64,/9j/4AAQ\r\n", "URL:https://example.test/a,b\r\n",
		"X-CUSTOM;VALUE=uri:uri:a,b\r\n", "NOTE:one\\, two\r\n", "FN:Jane\\, Doe\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("encoded card lacks %q:\n%s", want, s)
		}
	}
	back, err := vcard.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{vcard.FieldPhoto, vcard.FieldURL, vcard.FieldNote, vcard.FieldFormattedName} {
		if back.Value(k) != card.Value(k) {
			t.Errorf("%s: read back %q, wrote %q", k, back.Value(k), card.Value(k))
		}
	}
}
