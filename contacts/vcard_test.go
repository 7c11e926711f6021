package contacts

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
	"github.com/emersion/go-vcard"
)

// jpeg is the start of a JPEG file: enough for type sniffing.
var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{7}, 100)...)

// phoneContact is what a phone of the given version sends with every
// element it may send filled, with values that need escaping in vCard.
func phoneContact(version int) *message.Contact {
	c := &message.Contact{
		Anniversary:               "2010-06-12T00:00:00.000Z",
		AssistantName:             "Ann; Assist",
		AssistantPhoneNumber:      "+1 555 0101",
		Birthday:                  "1980-02-29T00:00:00.000Z",
		Business2PhoneNumber:      "+1 555 0102",
		BusinessAddressCity:       "Spring;field",
		BusinessAddressCountry:    "USA",
		BusinessAddressPostalCode: "12345",
		BusinessAddressState:      "IL",
		BusinessAddressStreet:     "1 Main St\nSuite 2, Floor 3",
		BusinessFaxNumber:         "+1 555 0103",
		BusinessPhoneNumber:       "+1 555 0104",
		CarPhoneNumber:            "+1 555 0105",
		Categories:                &message.ContactCategories{Category: []string{"A,B", "C;D", `E\F`, "Friends"}},
		Children:                  &message.ContactChildren{Child: []string{"Tom", "Tina, Jr."}},
		CompanyName:               "Acme; Inc.",
		Department:                `R\D`,
		Email1Address:             "jane@example.test",
		Email2Address:             `"Doe, Jane" <jd@example.test>`,
		Email3Address:             "j3@example.test",
		FileAs:                    "Doe; Jane",
		FirstName:                 "Jane, Mary",
		Home2PhoneNumber:          "+1 555 0106",
		HomeAddressCity:           "Shelbyville",
		HomeAddressCountry:        "USA",
		HomeAddressPostalCode:     "54321",
		HomeAddressState:          "IL",
		HomeAddressStreet:         `2 Elm St \ back`,
		HomeFaxNumber:             "+1 555 0107",
		HomePhoneNumber:           "+1 555 0108",
		JobTitle:                  "Engineer, Senior",
		LastName:                  `Doe;X\Y`,
		MiddleName:                "Q",
		MobilePhoneNumber:         "+1 555 0109",
		OfficeLocation:            "B2; room 3",
		OtherAddressCity:          "Capital City",
		OtherAddressCountry:       "USA",
		OtherAddressPostalCode:    "99999",
		OtherAddressState:         "IL",
		OtherAddressStreet:        "3 Oak St",
		PagerNumber:               "+1 555 0110",
		RadioPhoneNumber:          "+1 555 0111",
		Spouse:                    "John Doe",
		Suffix:                    "Jr.",
		Title:                     "Dr.",
		WebPage:                   "https://example.test/jane?a=1,2",
		YomiCompanyName:           "アクメ",
		YomiFirstName:             "ジェーン",
		YomiLastName:              "ドウ",
		Picture:                   base64.StdEncoding.EncodeToString(jpeg),
		CustomerID:                "C-1",
		GovernmentID:              "G-1",
		IMAddress:                 "xmpp:jane@example.test",
		IMAddress2:                "sip:jane@example.test",
		IMAddress3:                "jane.im",
		ManagerName:               "Boss Person",
		CompanyMainPhone:          "+1 555 0100",
		AccountName:               "acct-1",
		NickName:                  "JJ",
		MMS:                       "+1 555 0112",
	}
	note := "Line 1; <b>&\nLine 2, end"
	if version == 25 {
		c.Body25 = note
		c.Rtf = "e1xydGYxfQ=="
	} else {
		c.Body = &message.Body{Type: message.BodyPlain, Data: note}
	}
	return c
}

// rendered is what the server renders for the contact the phone sent.
func rendered(c *message.Contact, version int) *message.Contact {
	want := *c
	if version == 25 {
		want.BodyTruncated = new(false)
	} else {
		want.Body = &message.Body{Type: message.BodyPlain, EstimatedDataSize: int64(len(c.Body.Data)), Data: c.Body.Data}
	}
	return &want
}

// viaText writes a card with go-vcard's encoder and reads it back with its
// decoder, as the store does.
func viaText(t *testing.T, card vcard.Card) (vcard.Card, string) {
	t.Helper()
	var b bytes.Buffer
	if err := vcard.NewEncoder(&b).Encode(card); err != nil {
		t.Fatal(err)
	}
	back, err := vcard.NewDecoder(bytes.NewReader(b.Bytes())).Decode()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, b.String())
	}
	return back, b.String()
}

func mustApply(t *testing.T, base vcard.Card, e Edit) vcard.Card {
	t.Helper()
	card, err := Apply(base, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	return card
}

func diff(got, want *message.Contact) string {
	var out []string
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := 0; i < g.NumField(); i++ {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			out = append(out, fmt.Sprintf("%s: got %#v, want %#v", g.Type().Field(i).Name,
				deref(g.Field(i)), deref(w.Field(i))))
		}
	}
	return strings.Join(out, "\n")
}

func deref(v reflect.Value) any {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return v.Elem().Interface()
	}
	return v.Interface()
}

// Every element: phone -> vCard -> text -> vCard -> phone, per version.
func TestEveryElementRoundTrip(t *testing.T) {
	for _, v := range []int{25, 120, 121, 140, 141, 160, 161} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			sent := phoneContact(v)
			card := mustApply(t, nil, Edit{Contact: sent})
			back, text := viaText(t, card)
			got := ToEAS(back, RenderOptions{Version: v})
			if d := diff(got, rendered(sent, v)); d != "" {
				t.Errorf("round trip changed:\n%s\ncard:\n%s", d, text)
			}
			// And once more through the store: the card is stable.
			again := mustApply(t, back, Edit{Contact: got})
			if _, text2 := viaText(t, again); text2 != text {
				t.Errorf("a second identical edit changed the card:\n%s\nthen\n%s", text, text2)
			}
		})
	}
}

// A second slot without the first keeps its place.
func TestSecondSlotsKeepTheirPlace(t *testing.T) {
	sent := &message.Contact{FirstName: "A", Email2Address: "two@example.test", Business2PhoneNumber: "2",
		Home2PhoneNumber: "h2", IMAddress3: "im3", OtherAddressCity: "Other"}
	back, _ := viaText(t, mustApply(t, nil, Edit{Contact: sent}))
	got := ToEAS(back, RenderOptions{Version: 161})
	got.Body = nil
	if d := diff(got, sent); d != "" {
		t.Error(d)
	}
}

const foreignCard = "BEGIN:VCARD\r\n" +
	"VERSION:4.0\r\n" +
	"UID:urn:uuid:1\r\n" +
	"FN:Jane Doe\r\n" +
	"N:Doe\\;X;Jane;;;\r\n" +
	"EMAIL;TYPE=work:a@example.test\r\n" +
	"EMAIL:b@example.test\r\n" +
	"EMAIL:c@example.test\r\n" +
	"EMAIL:d@example.test\r\n" +
	"TEL;TYPE=work,voice;X-CUSTOM=1:+1 111\r\n" +
	"TEL;TYPE=video:+1 999\r\n" +
	"TEL:+1 222\r\n" +
	"CATEGORIES:Work,Friends\r\n" +
	"PHOTO:https://example.test/p.jpg\r\n" +
	"RELATED;TYPE=spouse:urn:uuid:2\r\n" +
	"KEY:data:application/pgp-keys;base64,AAAA\r\n" +
	"GEO:geo:1.5,2.5\r\n" +
	"X-FOO;X-BAR=baz:keep me\r\n" +
	"BDAY:--0229\r\n" +
	"END:VCARD\r\n"

func parse(t *testing.T, text string) vcard.Card {
	t.Helper()
	c, err := vcard.NewDecoder(strings.NewReader(text)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A card from elsewhere: bound by type and order, escapes read right.
func TestForeignCard(t *testing.T) {
	got := ToEAS(parse(t, foreignCard), RenderOptions{Version: 161})
	want := &message.Contact{LastName: "Doe;X", FirstName: "Jane",
		Email1Address: "a@example.test", Email2Address: "b@example.test", Email3Address: "c@example.test",
		BusinessPhoneNumber: "+1 111", HomePhoneNumber: "+1 222",
		Categories: &message.ContactCategories{Category: []string{"Work", "Friends"}},
		Body:       &message.Body{Type: message.BodyPlain}}
	if d := diff(got, want); d != "" {
		t.Error(d)
	}
}

// What EAS does not know survives a full edit, and so do the photo URL
// and the yearless birthday the phone never saw.
func TestUnknownPropertiesSurvive(t *testing.T) {
	base := parse(t, foreignCard)
	before, _ := viaText(t, base)
	edit := phoneContact(161)
	edit.Picture = ""
	card := mustApply(t, base, Edit{Contact: edit})
	for _, key := range []string{"KEY", "GEO", "X-FOO"} {
		if !reflect.DeepEqual(card[key], base[key]) {
			t.Errorf("%s changed: %+v", key, card[key])
		}
	}
	if v := card.Get("X-FOO").Params.Get("X-BAR"); v != "baz" {
		t.Errorf("X-FOO lost its parameter: %q", v)
	}
	has := func(key, val string) *vcard.Field {
		for _, f := range card[key] {
			if f.Value == val {
				return f
			}
		}
		return nil
	}
	if has("EMAIL", "d@example.test") == nil {
		t.Error("the fourth EMAIL was lost")
	}
	if has("TEL", "+1 999") == nil {
		t.Error("the video TEL was lost")
	}
	if f := has("TEL", edit.BusinessPhoneNumber); f == nil || f.Params.Get("X-CUSTOM") != "1" {
		t.Errorf("the business TEL lost its custom parameter: %+v", f)
	}
	if has("RELATED", "urn:uuid:2") == nil {
		t.Error("the RELATED URI was lost")
	}
	if has("PHOTO", "https://example.test/p.jpg") == nil {
		t.Error("the photo URL was cleared by an edit without Picture")
	}
	if card.Value("BDAY") != "19800229" {
		t.Errorf("BDAY = %q: a sent Birthday must replace the yearless one", card.Value("BDAY"))
	}
	if card.Value(vcard.FieldUID) != "urn:uuid:1" {
		t.Error("UID changed")
	}
	if !reflect.DeepEqual(base, before) {
		t.Error("Apply modified its input")
	}
	// Without a Birthday the yearless one stays.
	card = mustApply(t, base, Edit{Contact: &message.Contact{FirstName: "J"}})
	if card.Value("BDAY") != "--0229" {
		t.Errorf("yearless BDAY = %q, want it kept", card.Value("BDAY"))
	}
	// A sent Picture replaces the URL.
	card = mustApply(t, base, Edit{Contact: &message.Contact{Picture: base64.StdEncoding.EncodeToString(jpeg)}})
	if len(card["PHOTO"]) != 1 || !strings.HasPrefix(card.Value("PHOTO"), "data:image/jpeg;base64,") {
		t.Errorf("PHOTO = %+v", card["PHOTO"])
	}
}

func setOf(names ...string) func(string) bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return func(s string) bool { return m[s] }
}

func TestGhosting(t *testing.T) {
	base := mustApply(t, nil, Edit{Contact: phoneContact(161)})
	full := ToEAS(base, RenderOptions{Version: 161})
	all := func(string) bool { return true }

	t.Run("no Supported: absent is cleared", func(t *testing.T) {
		card := mustApply(t, base, Edit{Contact: &message.Contact{FirstName: "New"}, Sent: setOf("FirstName")})
		got := ToEAS(card, RenderOptions{Version: 161})
		want := &message.Contact{FirstName: "New", Body: &message.Body{Type: message.BodyPlain}}
		if d := diff(got, want); d != "" {
			t.Error(d)
		}
	})
	t.Run("Supported everything else: absent is kept", func(t *testing.T) {
		card := mustApply(t, base, Edit{Contact: &message.Contact{FirstName: "New"}, Sent: setOf("FirstName"), Ghosted: all})
		got := ToEAS(card, RenderOptions{Version: 161})
		want := *full
		want.FirstName = "New"
		if d := diff(got, &want); d != "" {
			t.Error(d)
		}
	})
	t.Run("sent empty clears even when ghosted", func(t *testing.T) {
		card := mustApply(t, base, Edit{Contact: &message.Contact{},
			Sent: setOf("FirstName", "Picture", "Categories", "Children", "Body", "Birthday", "HomeAddressCity", "Email2Address"), Ghosted: all})
		got := ToEAS(card, RenderOptions{Version: 161})
		want := *full
		want.FirstName, want.Picture, want.Categories, want.Children, want.Birthday, want.HomeAddressCity, want.Email2Address =
			"", "", nil, nil, "", "", ""
		want.Body = &message.Body{Type: message.BodyPlain}
		if d := diff(got, &want); d != "" {
			t.Error(d)
		}
	})
	t.Run("decoded from the wire", func(t *testing.T) {
		// A Change with FirstName and an empty Picture, as iOS sends it.
		app := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
			wbxml.TextElement(wbxml.MustTag("Contacts:FirstName"), "Wire"),
			wbxml.NewElement(wbxml.MustTag("Contacts:Picture")))
		c, err := DecodeContact(app)
		if err != nil {
			t.Fatal(err)
		}
		sent := SentNames(app)
		if !sent("Picture") || !sent("FirstName") || sent("LastName") {
			t.Fatal("SentNames is wrong")
		}
		card := mustApply(t, base, Edit{Contact: c, Sent: sent, Ghosted: all})
		got := ToEAS(card, RenderOptions{Version: 161})
		if got.FirstName != "Wire" || got.Picture != "" || got.LastName != full.LastName {
			t.Errorf("got %+v", got)
		}
	})
}

// The birthday matrix: every whole-hour zone from UTC-12 to UTC+14, every
// convention clients use, over dates that cross month and year ends.
func TestBirthdayZoneMatrix(t *testing.T) {
	dates := []time.Time{
		time.Date(1980, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1975, 7, 15, 0, 0, 0, 0, time.UTC),
	}
	type convention struct {
		name    string
		instant func(d time.Time, zone *time.Location) time.Time
	}
	utcAt := func(h int) func(time.Time, *time.Location) time.Time {
		return func(d time.Time, _ *time.Location) time.Time { return d.Add(time.Duration(h) * time.Hour) }
	}
	localAt := func(h int) func(time.Time, *time.Location) time.Time {
		return func(d time.Time, z *time.Location) time.Time {
			return time.Date(d.Year(), d.Month(), d.Day(), h, 0, 0, 0, z)
		}
	}
	conventions := []convention{
		{"00:00Z", utcAt(0)}, {"08:00Z", utcAt(8)}, {"11:00Z", utcAt(11)},
		{"local midnight", localAt(0)}, {"local noon", localAt(12)},
	}
	// The two residual conflicts documented at parseDate.
	conflict := func(conv string, offset int) bool {
		return conv == "local noon" && offset == -12 || conv == "11:00Z" && offset == 13
	}
	checked := 0
	for offset := -12; offset <= 14; offset++ {
		zone := time.FixedZone(fmt.Sprintf("UTC%+d", offset), offset*3600)
		for _, conv := range conventions {
			if conflict(conv.name, offset) {
				continue
			}
			for _, d := range dates {
				sent := conv.instant(d, zone).UTC().Format("2006-01-02T15:04:05.000Z")
				card, err := Apply(nil, Edit{Contact: &message.Contact{Birthday: sent, Anniversary: sent}}, zone)
				if err != nil {
					t.Fatal(err)
				}
				want := d.Format("20060102")
				if got := card.Value("BDAY"); got != want {
					t.Errorf("%s in %s: sent %s, stored %s, want %s", conv.name, zone, sent, got, want)
				}
				if got := ToEAS(card, RenderOptions{Zone: zone}).Birthday; got != d.Format("2006-01-02T00:00:00.000Z") {
					t.Errorf("rendered %s", got)
				}
				checked++
			}
		}
	}
	if checked != (27*5-2)*len(dates) {
		t.Errorf("checked %d cases", checked)
	}
	// Other spellings clients use.
	for sent, want := range map[string]string{
		"1980-02-29":                "19800229",
		"1980-02-29T00:00:00Z":      "19800229",
		"19800229T080000Z":          "19800229",
		"1980-02-29T01:00:00+01:00": "19800229",
		"1980-02-29T12:00:00":       "19800229",
		"1980-02-29T00:00":          "19800229",
	} {
		card := mustApply(t, nil, Edit{Contact: &message.Contact{Birthday: sent}})
		if got := card.Value("BDAY"); got != want {
			t.Errorf("%s: stored %s, want %s", sent, got, want)
		}
	}
}

// The element names the mapping uses are the local names of the code
// pages, as SentNames and the Supported list give them.
func TestElementNamesAreTokens(t *testing.T) {
	names := append(allStringElems(), "Birthday", "Anniversary", "Categories", "Children", "Picture", "Body")
	for _, n := range names {
		_, ok1 := wbxml.LookupTag("Contacts", n)
		_, ok2 := wbxml.LookupTag("Contacts2", n)
		if !ok1 && !ok2 {
			t.Errorf("%s is no Contacts or Contacts2 element", n)
		}
	}
	// And every element of the Contact struct is mapped, but for the ones
	// the server computes.
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	ct := reflect.TypeFor[message.Contact]()
	for i := 0; i < ct.NumField(); i++ {
		name, _, _ := strings.Cut(ct.Field(i).Tag.Get("wbxml"), ",")
		_, local, _ := strings.Cut(name, ":")
		switch local {
		case "BodySize", "BodyTruncated", "WeightedRank":
			continue
		}
		if !have[local] {
			t.Errorf("element %s is not mapped", local)
		}
	}
}

func TestMalformedValues(t *testing.T) {
	base := mustApply(t, nil, Edit{Contact: phoneContact(161)})
	before, _ := viaText(t, base)
	for name, c := range map[string]*message.Contact{
		"Birthday":    {Birthday: "yesterday"},
		"Anniversary": {Anniversary: "2010-13-45T00:00:00.000Z"},
		"Picture":     {Picture: "not base64!"},
		"FirstName":   {FirstName: strings.Repeat("x", maxValue+1)},
		"Category":    {Categories: &message.ContactCategories{Category: []string{strings.Repeat("x", maxValue+1)}}},
	} {
		_, err := Apply(base, Edit{Contact: c}, nil)
		if !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want ErrBadValue naming the element", name, err)
		}
	}
	if after, _ := viaText(t, base); !reflect.DeepEqual(after, before) {
		t.Error("a failed Apply changed the base")
	}
}

func TestPictureLimit(t *testing.T) {
	raw := make([]byte, MaxPicture/4*3) // exactly 48 KB of base64
	copy(raw, jpeg)
	ok := base64.StdEncoding.EncodeToString(raw)
	if len(ok) != MaxPicture {
		t.Fatal(len(ok))
	}
	card := mustApply(t, nil, Edit{Contact: &message.Contact{Picture: ok}})
	if got := ToEAS(card, RenderOptions{}).Picture; got != ok {
		t.Error("a 48 KB picture did not round trip")
	}
	big := base64.StdEncoding.EncodeToString(append(raw, 1, 2, 3))
	if _, err := Apply(card, Edit{Contact: &message.Contact{Picture: big}}, nil); !errors.Is(err, ErrPictureTooLarge) {
		t.Errorf("err = %v, want ErrPictureTooLarge", err)
	}
	// A larger photo from elsewhere is not sent, and an edit keeps it.
	card.Set("PHOTO", &vcard.Field{Value: dataURI(append(raw, 1, 2, 3)), Params: vcard.Params{}})
	if ToEAS(card, RenderOptions{}).Picture != "" {
		t.Error("a photo above the limit was rendered")
	}
	if after := mustApply(t, card, Edit{Contact: &message.Contact{FirstName: "x"}}); after.Get("PHOTO") == nil {
		t.Error("an edit cleared a photo the phone could not see")
	}
}

// go-vcard's own helpers get N and CATEGORIES wrong; ours must not.
func TestNameAndCategoryEscaping(t *testing.T) {
	cases := [][]string{{"A,B", "C"}, {"x;y"}, {`back\slash`, `\`, `;`, `,`}, {"plain", "two words"}}
	for _, cats := range cases {
		sent := &message.Contact{LastName: `Doe\;X`, FirstName: "Jane;Mary", MiddleName: `a,b\c`,
			Categories: &message.ContactCategories{Category: cats}}
		back, text := viaText(t, mustApply(t, nil, Edit{Contact: sent}))
		got := ToEAS(back, RenderOptions{})
		if got.LastName != sent.LastName || got.FirstName != sent.FirstName || got.MiddleName != sent.MiddleName {
			t.Errorf("names: got %q %q %q\n%s", got.LastName, got.FirstName, got.MiddleName, text)
		}
		if !reflect.DeepEqual(got.Categories, sent.Categories) {
			t.Errorf("categories %q became %q\n%s", cats, got.Categories.Category, text)
		}
	}
	// Cards from elsewhere: escaped separators, comma lists.
	c := parse(t, "BEGIN:VCARD\r\nVERSION:4.0\r\nN:Doe\\;X;Jane;;;\r\nCATEGORIES:A,B\r\nCATEGORIES:C\r\nEND:VCARD\r\n")
	got := ToEAS(c, RenderOptions{})
	if got.LastName != "Doe;X" || got.FirstName != "Jane" {
		t.Errorf("N read as %q / %q", got.LastName, got.FirstName)
	}
	if !reflect.DeepEqual(got.Categories.Category, []string{"A", "B", "C"}) {
		t.Errorf("categories %q", got.Categories.Category)
	}
}

func TestBodyRendering(t *testing.T) {
	card := mustApply(t, nil, Edit{Contact: &message.Contact{Body: &message.Body{Type: 1, Data: "a<b> & ünïcode\nline"}}})
	note := card.Value("NOTE")
	h := ToEAS(card, RenderOptions{Version: 161, Body: []message.BodyPreference{{Type: 4}, {Type: 2}}}).Body
	if h.Type != 2 || !strings.Contains(h.Data, "a&lt;b&gt; &amp; ünïcode<br>line") || h.EstimatedDataSize != int64(len(h.Data)) {
		t.Errorf("HTML body %+v", h)
	}
	// HTML from a client is stored as text.
	back := mustApply(t, nil, Edit{Contact: &message.Contact{Body: h}})
	if back.Value("NOTE") != note {
		t.Errorf("HTML body stored as %q, want %q", back.Value("NOTE"), note)
	}
	// A truncated body sent back does not cut the stored notes.
	for _, c := range []*message.Contact{
		{Body: &message.Body{Type: 1, Data: "a<b>", Truncated: true}},
		{Body25: "a<b>", BodyTruncated: new(true)},
	} {
		if kept := mustApply(t, card, Edit{Contact: c}); kept.Value("NOTE") != note {
			t.Errorf("a truncated body replaced the notes: %q", kept.Value("NOTE"))
		}
	}
	tr := ToEAS(card, RenderOptions{Version: 140, Body: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(8)), Preview: 3}}}).Body
	if tr.Data != "a<b> & " || !tr.Truncated || tr.EstimatedDataSize != int64(len(note)) || tr.Preview != "a<b" {
		t.Errorf("truncated body %+v", tr)
	}
	aon := ToEAS(card, RenderOptions{Version: 140, Body: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(8)), AllOrNone: true}}}).Body
	if aon.Data != "" || !aon.Truncated {
		t.Errorf("AllOrNone body %+v", aon)
	}
	old := ToEAS(card, RenderOptions{Version: 25, Body: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(8))}}})
	// 8 bytes would split "ü": cut before it.
	if old.Body25 != "a<b> & " || !*old.BodyTruncated || old.BodySize != int64(len(note)) || old.Body != nil {
		t.Errorf("2.5 body %q %v %d", old.Body25, *old.BodyTruncated, old.BodySize)
	}
	if ToEAS(card, RenderOptions{Version: 121}).Body25 != "" {
		t.Error("12.1 got a 2.5 body")
	}
}

func TestColumns(t *testing.T) {
	card := mustApply(t, nil, Edit{Contact: phoneContact(161)})
	ic := Columns(card)
	if ic.FileAs != "Doe; Jane" || ic.GivenName != "Jane, Mary" || ic.FamilyName != `Doe;X\Y` {
		t.Errorf("%+v", ic)
	}
	if len(ic.Emails) != 3 || ic.Emails[1] != "jd@example.test" || len(ic.Phones) != 13 {
		t.Errorf("emails %q phones %q", ic.Emails, ic.Phones)
	}
	if got := Columns(parse(t, "BEGIN:VCARD\r\nVERSION:4.0\r\nN:Doe;Jane;;;\r\nEND:VCARD\r\n")).FileAs; got != "Doe, Jane" {
		t.Errorf("FileAs fallback %q", got)
	}
	if got := Columns(parse(t, "BEGIN:VCARD\r\nVERSION:4.0\r\nORG:Acme;Sales\r\nEND:VCARD\r\n")).FileAs; got != "Acme" {
		t.Errorf("FileAs fallback %q", got)
	}
	if got := Columns(parse(t, "BEGIN:VCARD\r\nVERSION:4.0\r\nEMAIL:X@Example.test\r\nEND:VCARD\r\n")).FileAs; got != "x@example.test" {
		t.Errorf("FileAs fallback %q", got)
	}
}

func TestNormalize(t *testing.T) {
	v3 := "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\n" +
		"TEL;TYPE=CELL,PREF:+1 555\r\n" +
		"PHOTO;ENCODING=b;TYPE=JPEG:" + base64.StdEncoding.EncodeToString(jpeg) + "\r\n" +
		"BDAY:1980-02-29\r\nX-KEEP:yes\r\nEND:VCARD\r\n"
	c, err := Normalize(parse(t, v3))
	if err != nil {
		t.Fatal(err)
	}
	if c.Value("VERSION") != "4.0" || !strings.HasPrefix(c.Value("UID"), "urn:uuid:") || c.Value("FN") != "Jane Doe" {
		t.Errorf("header: %q %q %q", c.Value("VERSION"), c.Value("UID"), c.Value("FN"))
	}
	tel := c.Get("TEL")
	if tel.Params.Get("PREF") != "1" || tel.Params.HasType("pref") || !tel.Params.HasType("cell") {
		t.Errorf("TEL params %v", tel.Params)
	}
	if c.Value("PHOTO") != "data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(jpeg) || len(c.Get("PHOTO").Params) != 0 {
		t.Errorf("PHOTO %q %v", c.Value("PHOTO"), c.Get("PHOTO").Params)
	}
	if c.Value("BDAY") != "19800229" || c.Value("X-KEEP") != "yes" {
		t.Errorf("BDAY %q X-KEEP %q", c.Value("BDAY"), c.Value("X-KEEP"))
	}
	if ToEAS(c, RenderOptions{}).Picture == "" {
		t.Error("the normalized photo does not render")
	}

	v21 := "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen;;;\r\n" +
		"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Gr=C3=BC=C3=9Fe\r\nEND:VCARD\r\n"
	c, err = Normalize(parse(t, v21))
	if err != nil {
		t.Fatal(err)
	}
	if got := ToEAS(c, RenderOptions{}); got.LastName != "Müller" || got.FirstName != "Jürgen" || got.Body.Data != "Grüße" {
		t.Errorf("2.1: %q %q %q", got.LastName, got.FirstName, got.Body.Data)
	}
	if len(c.Get("N").Params) != 0 {
		t.Errorf("N params left: %v", c.Get("N").Params)
	}
	if _, err := Normalize(parse(t, "BEGIN:VCARD\r\nVERSION:5.0\r\nFN:x\r\nEND:VCARD\r\n")); err == nil {
		t.Error("version 5.0 accepted")
	}
	if _, err := Normalize(parse(t, "BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n")); err == nil {
		t.Error("a card without any name accepted")
	}
}

// python3-vobject, an independent parser, must read what we write and
// find the same values for what it understands.
func TestVobjectParsesOurCards(t *testing.T) {
	// Debian installs python3-vobject for its own python3, which need not
	// be the first on PATH.
	py := ""
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(cand, "-c", "import vobject").Run() == nil {
			py = cand
			break
		}
	}
	if py == "" {
		msg := "python3 with vobject not found: install the Debian package python3-vobject"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	simple := phoneContact(161)
	simple.LastName, simple.FirstName, simple.CompanyName, simple.Department = "Doe", "Jane", "Acme", "R&D"
	simple.Categories = &message.ContactCategories{Category: []string{"A,B", "Friends"}}
	_, text := viaText(t, mustApply(t, nil, Edit{Contact: simple}))
	path := filepath.Join(t.TempDir(), "c.vcf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	const script = `
import sys, vobject
card = vobject.readOne(open(sys.argv[1], encoding="utf-8").read())
print("N", card.n.value.family, card.n.value.given, sep="|")
print("ORG", *card.org.value, sep="|")
cats = []
for c in card.contents.get("categories", []):
    cats += c.value
print("CATEGORIES", *cats, sep="|")
for e in card.contents.get("email", []):
    print("EMAIL", e.value, sep="|")
print("NOTE", card.note.value.replace("\n", "\\n"), sep="|")
print("ADR", card.adr.value.street.replace("\n", "\\n"), sep="|")
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("vobject: %v\n%s\ncard:\n%s", err, out, text)
	}
	want := "N|Doe|Jane\nORG|Acme|R&D\nCATEGORIES|A,B|Friends\n" +
		"EMAIL|jane@example.test\nEMAIL|\"Doe, Jane\" <jd@example.test>\nEMAIL|j3@example.test\n" +
		"NOTE|Line 1; <b>&\\nLine 2, end\n"
	// vobject lists ADR properties in card order; find the work one.
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("vobject read:\n%s\nwant prefix:\n%s\ncard:\n%s", out, want, text)
	}
}
