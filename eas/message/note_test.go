package message

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/easd/easd/wbxml"
)

// noteAdd gives a note a document root for the tests, as a Sync Add of
// the server carries it.
type noteAdd struct {
	WBXMLName       Tag    `wbxml:"AirSync:Add"`
	ServerID        string `wbxml:"ServerId"`
	ApplicationData *Note  `wbxml:"ApplicationData"`
}

func fullNote() *Note {
	return &Note{
		Body:             &Body{Type: BodyHTML, EstimatedDataSize: 40, Truncated: true, Data: "<p>milk &amp; eggs</p>", Preview: "milk & eggs"},
		Subject:          "Shopping <&>",
		MessageClass:     NoteMessageClass,
		LastModifiedDate: "2026-03-01T09:30:00.000Z",
		Categories:       &NoteCategories{Category: []string{"Blue Category", "Home, garden"}},
	}
}

func TestFullNoteIsFull(t *testing.T) {
	v := reflect.ValueOf(fullNote()).Elem()
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fullNote leaves %s unset", v.Type().Field(i).Name)
		}
	}
}

func TestNoteRoundTrip(t *testing.T) {
	for _, n := range []*Note{fullNote(), {Subject: "only"}, {Categories: &NoteCategories{}, Body: &Body{Type: BodyPlain}}} {
		doc := &noteAdd{ServerID: "10:1", ApplicationData: n}
		b, err := wbxml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		back := &noteAdd{}
		if err := wbxml.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		back.WBXMLName = 0
		if !reflect.DeepEqual(doc, back) {
			t.Errorf("round trip changed it:\n got %+v\nwant %+v", back.ApplicationData, n)
		}
	}
}

// A client's empty element must decode into the zero value.
func TestNoteEmptyElementsDecode(t *testing.T) {
	for _, name := range []string{"Notes:Subject", "Notes:MessageClass", "Notes:LastModifiedDate", "Notes:Categories", "AirSyncBase:Body"} {
		app := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), wbxml.NewElement(wbxml.MustTag(name)))
		add := wbxml.NewElement(wbxml.MustTag("AirSync:Add"), wbxml.TextElement(wbxml.MustTag("AirSync:ServerId"), "1"), app)
		b, err := add.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if err := wbxml.Unmarshal(b, &noteAdd{}); err != nil {
			t.Errorf("empty %s: %v", name, err)
		}
	}
}

// TestNoteLibwbxml checks the encoding against libwbxml, an independent
// implementation (see TestContactLibwbxml).
func TestNoteLibwbxml(t *testing.T) {
	lib, ours := libwbxmlRead(t, &noteAdd{ServerID: "10:1", ApplicationData: fullNote()}, nil)
	if lib != ours {
		t.Errorf("libwbxml reads the note differently:\n got %s\nwant %s", lib, ours)
	}
	if n := strings.Count(ours, "Notes:"); n < 6 {
		t.Errorf("only %d Notes elements compared", n)
	}
}

// libwbxmlRead encodes doc, decodes it with libwbxml's wbxml2xml and
// returns both readings flattened by xmlLines. rename maps libwbxml
// 0.11.8's element names to MS-ASWBXML's where they differ.
func libwbxmlRead(t *testing.T, doc any, rename map[string]string) (lib, ours string) {
	t.Helper()
	if _, err := exec.LookPath("wbxml2xml"); err != nil {
		msg := "wbxml2xml not found: install the Debian package libwbxml2-utils"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b, err := wbxml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var our bytes.Buffer
	if err := wbxml.WriteXML(&our, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wbxml"), filepath.Join(dir, "out.xml")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("wbxml2xml", "-m", "0", "-l", "ACTIVESYNC", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("wbxml2xml: %v: %s", err, msg)
	}
	x, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(x, []byte("<unknown")) {
		t.Fatalf("libwbxml does not know a token:\n%s", x)
	}
	for from, to := range rename {
		x = bytes.ReplaceAll(x, []byte("<"+from+">"), []byte("<"+to+">"))
		x = bytes.ReplaceAll(x, []byte("</"+from+">"), []byte("</"+to+">"))
		x = bytes.ReplaceAll(x, []byte("<"+from+"/>"), []byte("<"+to+"/>"))
		x = bytes.ReplaceAll(x, []byte("<"+from+" "), []byte("<"+to+" "))
	}
	return xmlLines(t, x, false), xmlLines(t, our.Bytes(), false)
}
