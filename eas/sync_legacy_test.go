package eas_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// longMail is a plain-text message whose body is n bytes of text.
func longMail(i, n int) []byte {
	return fmt.Appendf(nil, "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: long %d\r\n"+
		"Date: Mon, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <long%d@example.test>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", i, i, strings.Repeat("a", n))
}

// The Sync Options of a 2.5 device (as an iPhone and a Windows Mobile 6.1
// send them) carry Truncation and RTFTruncation, tokens later revisions of
// MS-ASWBXML dropped. They decode, and the body follows the 2.5 sizes:
// Truncation 1 is 512 characters, MIMETruncation 1 is 4096.
func TestSync25TruncationOptions(t *testing.T) {
	s := startSync(t)
	s.c.Version = "2.5"
	inbox := s.ids["Inbox"]
	s.env.Append(t, "alice", "INBOX", longMail(1, 3000))
	s.env.Append(t, "alice", "INBOX", longMail(2, 9000))
	rc := s.sync(t, message.SyncCollection{Class: "Email", SyncKey: "0", CollectionID: inbox})
	if rc.Status != 1 {
		t.Fatalf("key 0: %+v", rc)
	}
	one, zero, eight := 1, 0, 8
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: rc.SyncKey, CollectionID: inbox,
		Options: []message.SyncOptions{{Truncation: &one, RTFTruncation: &one, MIMETruncation: &eight}}})
	adds := commands(rc).Add
	if rc.Status != 1 || len(adds) != 2 {
		t.Fatalf("2.5 Sync with Truncation: %+v", rc)
	}
	for _, a := range adds {
		data := a.ApplicationData.(*wbxml.Element)
		if body := data.ChildText("Email:Body"); len(body) != 512 || data.ChildText("Email:BodyTruncated") != "1" {
			t.Errorf("Truncation 1: body of %d bytes, BodyTruncated %q, want 512 and 1", len(body), data.ChildText("Email:BodyTruncated"))
		}
		if data.Child("AirSyncBase:Body") != nil {
			t.Errorf("2.5 item with an AirSyncBase:Body")
		}
	}

	// MIMESupport 2 with MIMETruncation 1 (4096) on a fresh partnership;
	// Truncation 0 would cut the text body, but MIME wins.
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: "0", CollectionID: inbox})
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: rc.SyncKey, CollectionID: inbox,
		Options: []message.SyncOptions{{Truncation: &zero, MIMESupport: 2, MIMETruncation: &one}}})
	if rc.Status != 1 || len(commands(rc).Add) != 2 {
		t.Fatalf("2.5 Sync with MIME: %+v", rc)
	}
	truncated := 0
	for _, a := range commands(rc).Add {
		data := a.ApplicationData.(*wbxml.Element)
		mime := data.ChildText("Email:MIMEData")
		if !strings.HasPrefix(mime, "From: Bob") || len(mime) > 4096 {
			t.Errorf("MIMETruncation 1: %d bytes of MIME", len(mime))
		}
		if data.ChildText("Email:MIMETruncated") == "1" {
			truncated++
		}
	}
	if truncated != 1 {
		t.Errorf("%d of 2 messages (3 and 9 KB) MIMETruncated at 4096, want 1", truncated)
	}

	// The same request as a device writes it, byte by byte from
	// MS-ASWBXML, independent of easd's encoder: Options with
	// Truncation (0x19), RTFTruncation (0x1A) and MIMESupport (0x22).
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: "0", CollectionID: inbox})
	str := func(tok byte, v string) []byte { return append(append([]byte{0x40 | tok, 0x03}, v...), 0x00, 0x01) }
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C, 0x4F}
	body = append(body, str(0x10, "Email")...)
	body = append(body, str(0x0B, rc.SyncKey)...)
	body = append(body, str(0x12, inbox)...)
	body = append(body, 0x57)
	body = append(body, str(0x19, "1")...)
	body = append(body, str(0x1A, "1")...)
	body = append(body, str(0x22, "0")...)
	body = append(body, 0x01, 0x01, 0x01, 0x01)
	resp, data, err := s.c.DoRaw(context.Background(), "Sync", nil, "application/vnd.ms-sync.wbxml", body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("raw 2.5 Sync: %v %v %s", resp, err, data)
	}
	var sr message.SyncResponse
	if err := wbxml.Unmarshal(data, &sr); err != nil || sr.Collections == nil {
		t.Fatalf("raw 2.5 Sync answer: %v %+v", err, sr)
	}
	rc = sr.Collections.Collection[0]
	if rc.Status != 1 || len(commands(rc).Add) != 2 {
		t.Fatalf("raw 2.5 Sync: %+v", rc)
	}
	if body := commands(rc).Add[0].ApplicationData.(*wbxml.Element).ChildText("Email:Body"); len(body) != 512 {
		t.Errorf("raw 2.5 Sync: body of %d bytes, want 512", len(body))
	}
}
