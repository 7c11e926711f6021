package message

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/easd/easd/wbxml"
)

// contactAdd gives a contact a document root for the tests, as a Sync
// Add of the server carries it.
type contactAdd struct {
	WBXMLName       Tag      `wbxml:"AirSync:Add"`
	ServerID        string   `wbxml:"ServerId"`
	ApplicationData *Contact `wbxml:"ApplicationData"`
}

// fullContact fills every element once, 2.5 and 12.0+ forms alike, with
// values that need escaping where a value may hold them.
func fullContact() *Contact {
	return &Contact{
		Anniversary:               "2010-06-12T00:00:00.000Z",
		AssistantName:             "Ann Assist",
		AssistantPhoneNumber:      "+1 555 0101",
		Birthday:                  "1980-02-29T00:00:00.000Z",
		Body25:                    "notes <&> 2.5",
		BodySize:                  120,
		BodyTruncated:             new(true),
		Business2PhoneNumber:      "+1 555 0102",
		BusinessAddressCity:       "Springfield",
		BusinessAddressCountry:    "USA",
		BusinessAddressPostalCode: "12345",
		BusinessAddressState:      "IL",
		BusinessAddressStreet:     "1 Main St\nSuite 2",
		BusinessFaxNumber:         "+1 555 0103",
		BusinessPhoneNumber:       "+1 555 0104",
		CarPhoneNumber:            "+1 555 0105",
		Categories:                &ContactCategories{Category: []string{"A,B", "C;D", "Friends"}},
		Children:                  &ContactChildren{Child: []string{"Tom", "Tina"}},
		CompanyName:               "Acme; Inc.",
		Department:                "R&D",
		Email1Address:             "jane@example.test",
		Email2Address:             "\"Jane D\" <jd@example.test>",
		Email3Address:             "j3@example.test",
		FileAs:                    "Doe, Jane",
		FirstName:                 "Jane",
		Home2PhoneNumber:          "+1 555 0106",
		HomeAddressCity:           "Shelbyville",
		HomeAddressCountry:        "USA",
		HomeAddressPostalCode:     "54321",
		HomeAddressState:          "IL",
		HomeAddressStreet:         "2 Elm St",
		HomeFaxNumber:             "+1 555 0107",
		HomePhoneNumber:           "+1 555 0108",
		JobTitle:                  "Engineer",
		LastName:                  "Doe",
		MiddleName:                "Q",
		MobilePhoneNumber:         "+1 555 0109",
		OfficeLocation:            "B2",
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
		WebPage:                   "https://example.test/jane",
		YomiCompanyName:           "アクメ",
		YomiFirstName:             "ジェーン",
		YomiLastName:              "ドウ",
		Rtf:                       "e1xydGYxfQ==",
		Picture:                   "/9j/4AAQSkZJRgABAQ==",
		Alias:                     "jdoe",
		WeightedRank:              7,
		Body:                      &Body{Type: BodyPlain, EstimatedDataSize: 5, Data: "notes"},
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
}

func TestContactRoundTrip(t *testing.T) {
	for _, c := range []*Contact{fullContact(), {FirstName: "Only"}, {Categories: &ContactCategories{}, Children: &ContactChildren{}}} {
		doc := &contactAdd{ServerID: "9:1", ApplicationData: c}
		b, err := wbxml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		back := &contactAdd{}
		if err := wbxml.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		back.WBXMLName = 0
		if !reflect.DeepEqual(doc, back) {
			t.Errorf("round trip changed it:\n got %+v\nwant %+v", back.ApplicationData, c)
		}
	}
}

// Every field of a full contact is set, so a field added to Contact
// without a value here fails the test instead of going untested.
func TestFullContactIsFull(t *testing.T) {
	v := reflect.ValueOf(fullContact()).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Errorf("fullContact leaves %s unset", v.Type().Field(i).Name)
		}
	}
}

// contactTags lists the element of every field, by field name.
func contactTags(t *testing.T) map[string]wbxml.Tag {
	t.Helper()
	out := map[string]wbxml.Tag{}
	ct := reflect.TypeFor[Contact]()
	for i := 0; i < ct.NumField(); i++ {
		f := ct.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("wbxml"), ",")
		ns, local, _ := strings.Cut(name, ":")
		tag, ok := wbxml.LookupTag(ns, local)
		if !ok {
			t.Fatalf("%s: no token for %q", f.Name, name)
		}
		out[f.Name] = tag
	}
	return out
}

// A client's empty element (iOS sends <Picture/>) must decode without an
// error, into the zero value; only the server-only integers may refuse.
func TestContactEmptyElementsDecode(t *testing.T) {
	serverOnly := map[string]bool{"BodySize": true, "WeightedRank": true}
	for field, tag := range contactTags(t) {
		if serverOnly[field] {
			continue
		}
		app := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), wbxml.NewElement(tag))
		add := wbxml.NewElement(wbxml.MustTag("AirSync:Add"), wbxml.TextElement(wbxml.MustTag("AirSync:ServerId"), "1"), app)
		b, err := add.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		back := &contactAdd{}
		if err := wbxml.Unmarshal(b, back); err != nil {
			t.Errorf("empty %s: %v", tag, err)
		}
	}
}

// TestContactLibwbxml checks the encoding against libwbxml (Debian package
// libwbxml2-utils), an independent implementation: wbxml2xml must know
// every token we write and see the same tree. libwbxml 0.11.8 spells a few
// Contacts names differently from MS-ASWBXML; libNames maps them.
func TestContactLibwbxml(t *testing.T) {
	if _, err := exec.LookPath("wbxml2xml"); err != nil {
		msg := "wbxml2xml not found: install the Debian package libwbxml2-utils"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	doc := &contactAdd{ServerID: "9:1", ApplicationData: fullContact()}
	b, err := wbxml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var ours bytes.Buffer
	if err := wbxml.WriteXML(&ours, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wbxml")
	out := filepath.Join(dir, "out.xml")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("wbxml2xml", "-m", "0", "-l", "ACTIVESYNC", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("wbxml2xml: %v: %s", err, msg)
	}
	lib, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(lib, []byte("<unknown")) {
		t.Fatalf("libwbxml does not know a token:\n%s", lib)
	}
	got, want := xmlLines(t, lib, true), xmlLines(t, ours.Bytes(), false)
	if got != want {
		t.Errorf("libwbxml reads the contact differently:\n got %s\nwant %s", got, want)
	}
	if n := strings.Count(want, "\n"); n < len(contactTags(t)) {
		t.Errorf("only %d elements compared", n)
	}
}

// libNames maps libwbxml 0.11.8's Contacts element names to MS-ASWBXML's.
var libNames = map[string]string{
	"AssistantTelephoneNumber": "AssistantPhoneNumber",
	"BusinessCity":             "BusinessAddressCity",
	"BusinessCountry":          "BusinessAddressCountry",
	"BusinessPostalCode":       "BusinessAddressPostalCode",
	"BusinessState":            "BusinessAddressState",
	"BusinessStreet":           "BusinessAddressStreet",
	"HomeCity":                 "HomeAddressCity",
	"HomeCountry":              "HomeAddressCountry",
	"HomePostalCode":           "HomeAddressPostalCode",
	"HomeState":                "HomeAddressState",
	"HomeStreet":               "HomeAddressStreet",
	"OtherCity":                "OtherAddressCity",
	"OtherCountry":             "OtherAddressCountry",
	"OtherPostalCode":          "OtherAddressPostalCode",
	"OtherState":               "OtherAddressState",
	"OtherStreet":              "OtherAddressStreet",
}

// xmlLines flattens an XML document into "depth namespace:name=text"
// lines. Namespaces lose libwbxml's trailing colon.
func xmlLines(t *testing.T, doc []byte, lib bool) string {
	t.Helper()
	var b strings.Builder
	type open struct {
		name string
		text string
		kids bool
	}
	var stack []open
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse XML: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			local := tk.Name.Local
			if lib {
				if n, ok := libNames[local]; ok {
					local = n
				}
			}
			if len(stack) > 0 {
				stack[len(stack)-1].kids = true
			}
			stack = append(stack, open{name: strings.TrimSuffix(tk.Name.Space, ":") + ":" + local})
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tk)
			}
		case xml.EndElement:
			top := stack[len(stack)-1]
			if top.kids {
				top.text = ""
			}
			fmt.Fprintf(&b, "%d %s=%q\n", len(stack), top.name, top.text)
			stack = stack[:len(stack)-1]
		}
	}
	return b.String()
}
