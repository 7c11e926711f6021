package eas_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// A 12.1 client fetches an attachment with GetAttachment: the
// AttachmentName is the FileReference of the Sync answer, the body the
// raw content with the attachment's Content-Type. A 2.5 client uses the
// AttName of Email:Attachments the same way.
func TestGetAttachment(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	att := randomBytes(70_000)
	s.env.Append(t, "alice", "INBOX", mailWithAttachment(att))
	inbox := s.ids["Inbox"]

	s.c.Version = "12.1"
	rc := s.sync(t, message.SyncCollection{Class: "Email", SyncKey: "0", CollectionID: inbox})
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: rc.SyncKey, CollectionID: inbox})
	if len(commands(rc).Add) != 1 {
		t.Fatalf("sync: %+v", rc)
	}
	data := commands(rc).Add[0].ApplicationData.(*wbxml.Element)
	ref := data.Path("AirSyncBase:Attachments", "AirSyncBase:Attachment", "AirSyncBase:FileReference")
	if ref == nil {
		t.Fatalf("no FileReference in %+v", data)
	}
	get := func(name string) (int, string, []byte) {
		t.Helper()
		resp, body, err := s.c.DoRaw(ctx, "GetAttachment", url.Values{"AttachmentName": {name}}, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), body
	}
	code, ct, body := get(ref.Text)
	if code != 200 || !strings.HasPrefix(ct, "application/octet-stream") || !bytes.Equal(body, att) {
		t.Fatalf("GetAttachment: HTTP %d, %q, %d bytes", code, ct, len(body))
	}

	s.c.Version = "2.5"
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: "0", CollectionID: inbox})
	rc = s.sync(t, message.SyncCollection{Class: "Email", SyncKey: rc.SyncKey, CollectionID: inbox})
	name := commands(rc).Add[0].ApplicationData.(*wbxml.Element).Path("Email:Attachments", "Email:Attachment", "Email:AttName")
	if name == nil {
		t.Fatal("no 2.5 AttName")
	}
	if code, _, body := get(name.Text); code != 200 || !bytes.Equal(body, att) {
		t.Fatalf("2.5 GetAttachment: HTTP %d, %d bytes", code, len(body))
	}

	// A malformed name is 400; an attachment that is not there 500
	// (MS-ASCMD 2.2.1.9); both are logged with the command.
	if code, _, _ := get("nonsense"); code != 400 {
		t.Errorf("malformed AttachmentName: HTTP %d, want 400", code)
	}
	if code, _, _ := get(fmt.Sprintf("%s:999:2", inbox)); code != 500 {
		t.Errorf("missing attachment: HTTP %d, want 500", code)
	}
	if !strings.Contains(s.env.Logs(), `"cmd":"GetAttachment"`) {
		t.Error("GetAttachment not logged with its command")
	}
	// From 16.0 on the command does not exist.
	s.c.Version = "16.0"
	if resp, _, err := s.c.DoRaw(ctx, "GetAttachment", url.Values{"AttachmentName": {ref.Text}}, "", nil); err != nil || resp.StatusCode == 200 {
		t.Errorf("GetAttachment at 16.0: %v %v", resp, err)
	}
}
