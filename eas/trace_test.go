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
