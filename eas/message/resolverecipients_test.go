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

// fullResolve fills every element of a ResolveRecipients request and
// response once.
func fullResolve() (*ResolveRecipientsRequest, *ResolveRecipientsResponse) {
	req := &ResolveRecipientsRequest{To: []string{"carla@example.test", "Carl"}, Options: &ResolveRecipientsOptions{
		CertificateRetrieval: new(2), MaxCertificates: new(10), MaxAmbiguousRecipients: new(5),
		Availability: &ResolveRecipientsWindow{StartTime: "2026-01-05T00:00:00.000Z", EndTime: "2026-01-06T00:00:00.000Z"},
		Picture:      &SearchPicture{MaxSize: 2000, MaxPictures: 3}}}
	resp := &ResolveRecipientsResponse{Status: 1, Response: []RecipientsResponse{{
		To: "carla@example.test", Status: 1, RecipientCount: new(1),
		Recipient: []Recipient{{Type: RecipientGAL, DisplayName: "Carla Núñez", EmailAddress: "carla@example.test",
			Availability: &RecipientAvailability{Status: 1, MergedFreeBusy: "0022"},
			Certificates: &RecipientCertificates{Status: 1, CertificateCount: new(2), RecipientCount: new(1),
				Certificate: []string{"MIIB"}, MiniCertificate: []string{"MIIC"}},
			Picture: &RecipientPicture{Status: 1, Data: []byte{0xff, 0xd8, 0x00}}}},
	}}}
	return req, resp
}

// galResult is a GAL search answer with every GAL element.
func galResult() *SearchResponse {
	return &SearchResponse{Status: 1, Response: &SearchResponseContent{Store: SearchResponseStore{Status: 1, Range: "0-0", Total: new(1),
		Result: []SearchResult{{Properties: &GALProperties{DisplayName: "Carla", Phone: "1", Office: "B2", Title: "Eng",
			Company: "Ex", Alias: "cn", FirstName: "Carla", LastName: "N", HomePhone: "2", MobilePhone: "3",
			EmailAddress: "carla@example.test", Picture: &GALPicture{Status: 1, Data: []byte{1, 2, 3}}}}}}}}
}

func TestResolveRecipientsRoundTrip(t *testing.T) {
	req, resp := fullResolve()
	for _, doc := range []any{req, resp} {
		b, err := wbxml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(doc).Elem()).Interface()
		if err := wbxml.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		reflect.ValueOf(back).Elem().Field(0).SetUint(0) // WBXMLName
		if !reflect.DeepEqual(doc, back) {
			t.Errorf("round trip changed it:\n got %+v\nwant %+v", back, doc)
		}
	}
	// The GAL properties come back through the element a generic decoder
	// leaves them in.
	b, err := wbxml.Marshal(galResult())
	if err != nil {
		t.Fatal(err)
	}
	var back SearchResponse
	if err := wbxml.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	el := back.Response.Store.Result[0].Properties.(*wbxml.Element)
	pb, _ := el.Bytes()
	var p GALProperties
	if err := wbxml.Unmarshal(pb, &p); err != nil || !reflect.DeepEqual(&p, galResult().Response.Store.Result[0].Properties) {
		t.Fatalf("GAL properties: %+v %v", p, err)
	}
}

// TestResolveRecipientsLibwbxml checks the encoding against libwbxml, an
// independent implementation: it must know every token and see the same
// tree.
func TestResolveRecipientsLibwbxml(t *testing.T) {
	if _, err := exec.LookPath("wbxml2xml"); err != nil {
		msg := "wbxml2xml not found: install the Debian package libwbxml2-utils"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	req, resp := fullResolve()
	for name, doc := range map[string]any{"request": req, "response": resp, "gal": galResult()} {
		b, err := wbxml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var ours bytes.Buffer
		if err := wbxml.WriteXML(&ours, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in.wbxml"), filepath.Join(dir, "out.xml")
		if err := os.WriteFile(in, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command("wbxml2xml", "-m", "0", "-l", "ACTIVESYNC", "-o", out, in).CombinedOutput(); err != nil {
			t.Fatalf("%s: wbxml2xml: %v: %s", name, err, msg)
		}
		lib, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(lib, []byte("<unknown")) {
			t.Fatalf("%s: libwbxml does not know a token:\n%s", name, lib)
		}
		// libwbxml 0.11.8 calls the GAL namespace "Gal".
		got := strings.ReplaceAll(xmlLines(t, lib, true), " Gal:", " GAL:")
		want := xmlLines(t, ours.Bytes(), false)
		if got != want {
			t.Errorf("%s: libwbxml reads it differently:\n got %s\nwant %s", name, got, want)
		}
		if n := strings.Count(want, "\n"); n < 13 {
			t.Errorf("%s: only %d elements compared", name, n)
		}
	}
}

// The typed Properties of Find, mail and GAL, survive a round trip
// through the element a generic decoder leaves them in.
func TestFindPropertiesRoundTrip(t *testing.T) {
	mail := &FindProperties{Subject: "Hi", DateReceived: "2025-01-02T03:04:05.000Z",
		DisplayTo: "Alice", DisplayCc: "Carol", DisplayBcc: "Dan", Importance: new(1), Read: new(true), IsDraft: new(false),
		Preview: "Hi there", HasAttachments: new(true), From: "bob@example.test"}
	gal := galResult().Response.Store.Result[0].Properties.(*GALProperties)
	for _, props := range []any{mail, gal} {
		b, err := wbxml.Marshal(&FindResponse{Status: 1, Response: &FindResponseResult{Store: "x", Status: 1,
			Result: []FindResult{{Properties: props}}, Total: new(1)}})
		if err != nil {
			t.Fatal(err)
		}
		var back FindResponse
		if err := wbxml.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		pb, err := back.Response.Result[0].Properties.(*wbxml.Element).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		got := reflect.New(reflect.TypeOf(props).Elem()).Interface()
		if err := wbxml.Unmarshal(pb, got); err != nil || !reflect.DeepEqual(got, props) {
			t.Errorf("%T: got %+v, want %+v (%v)", props, got, props, err)
		}
	}
}
