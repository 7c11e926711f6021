package eas

import (
	"bytes"
	"strings"
	"testing"

	"github.com/easd/easd/wbxml"
)

func TestTraceRedactsPasswords(t *testing.T) {
	var xml = `<?xml version="1.0" encoding="utf-8"?>
<Settings xmlns="Settings:"><DevicePassword><Set><Password>hunter2</Password></Set></DevicePassword></Settings>`
	var b bytes.Buffer
	if err := wbxml.ReadXML(&b, strings.NewReader(xml)); err != nil {
		t.Fatal(err)
	}
	out := traceXML(b.Bytes())
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "<Password>***</Password>") {
		t.Fatalf("not redacted:\n%s", out)
	}
	if got := traceXML([]byte("not wbxml")); !strings.HasPrefix(got, "(not WBXML") {
		t.Fatalf("garbage: %q", got)
	}
}

// Redaction goes by element identity, code page and token, whatever the
// XML spelling: a Password on another page than its parent (written with
// its own xmlns), opaque content, and the other commands' Password
// elements are all blanked.
func TestTraceRedactsPasswordsByIdentity(t *testing.T) {
	settings := wbxml.MustTag("Settings:Settings")
	doc := wbxml.NewElement(settings,
		wbxml.NewElement(wbxml.MustTag("Settings:DevicePassword"),
			wbxml.NewElement(wbxml.MustTag("Settings:Set"),
				// A Password of another page inside Settings: its XML
				// carries xmlns="ItemOperations:".
				wbxml.TextElement(wbxml.MustTag("ItemOperations:Password"), "hunter2"),
				wbxml.TextElement(wbxml.MustTag("Settings:Password"), "hunter3"))),
		wbxml.NewElement(wbxml.MustTag("Search:Password")),
	)
	doc.Children[1].Opaque = []byte("hunter4")
	b, err := doc.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	out := traceXML(b)
	for _, secret := range []string{"hunter2", "hunter3", "hunter4", "aHVudGVy"} {
		if strings.Contains(out, secret) {
			t.Fatalf("%s in the trace:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `<Password xmlns="ItemOperations:">***</Password>`) {
		t.Fatalf("the other page's Password is not shown blanked:\n%s", out)
	}
}
