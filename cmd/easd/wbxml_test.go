package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestWBXMLCommandRoundTrip(t *testing.T) {
	in := []byte{0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01}
	var xml, errb bytes.Buffer
	if code := wbxmlCommand([]string{"decode"}, bytes.NewReader(in), &xml, &errb); code != 0 {
		t.Fatalf("decode: %d %s", code, errb.String())
	}
	if !strings.Contains(xml.String(), `<FolderSync xmlns="FolderHierarchy:">`) || !strings.Contains(xml.String(), "<SyncKey>0</SyncKey>") {
		t.Fatalf("decoded:\n%s", xml.String())
	}
	var back bytes.Buffer
	if code := wbxmlCommand([]string{"encode"}, &xml, &back, &errb); code != 0 {
		t.Fatalf("encode: %d %s", code, errb.String())
	}
	if !bytes.Equal(back.Bytes(), in) {
		t.Fatalf("round trip: % x, want % x", back.Bytes(), in)
	}
	if code := wbxmlCommand([]string{"decode"}, bytes.NewReader(in[:7]), &xml, &errb); code != 1 || !strings.Contains(errb.String(), "at byte 7") {
		t.Fatalf("truncated input: code %d, %q", code, errb.String())
	}
	if code := wbxmlCommand(nil, nil, &xml, &errb); code != exitUsage {
		t.Fatalf("usage: %d", code)
	}
}
