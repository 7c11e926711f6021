package eas_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// mailWithAttachment is a message whose part 2 is a base64 attachment.
func mailWithAttachment(data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: with attachment\r\n" +
		"Date: Mon, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <att@example.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b1\r\nContent-Type: application/octet-stream; name=\"blob.bin\"\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"blob.bin\"\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return b.Bytes()
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func fetchOne(t *testing.T, c *client.Client, f message.ItemOperationsFetch, multi bool) (message.ItemOperationsFetchResult, *wbxml.Element, [][]byte) {
	t.Helper()
	if f.Store == "" {
		f.Store = "Mailbox"
	}
	r, parts, err := c.ItemOperations(context.Background(), &message.ItemOperationsRequest{Fetch: []message.ItemOperationsFetch{f}}, multi)
	if err != nil {
		t.Fatalf("ItemOperations: %v", err)
	}
	if r.Status != 1 || r.Response == nil || len(r.Response.Fetch) != 1 {
		t.Fatalf("ItemOperations answer: %+v", r)
	}
	res := r.Response.Fetch[0]
	props, _ := res.Properties.(*wbxml.Element)
	return res, props, parts
}

// specData is the content of a fetch answer's Data in the form
// MS-ASCMD 2.2.3.39.2 gives it: a string holding its base64 encoding.
// Opaque bytes fail the test: a client that follows the spec reads the
// text and finds an empty attachment.
func specData(t *testing.T, props *wbxml.Element) []byte {
	t.Helper()
	d := props.Child("ItemOperations:Data")
	if d == nil {
		t.Fatal("no Data element")
	}
	if d.Opaque != nil {
		t.Fatalf("Data holds %d opaque bytes: want base64 text", len(d.Opaque))
	}
	b, err := client.FetchData(props)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestItemOperationsFetch(t *testing.T) {
	s := startSync(t)
	att := randomBytes(100_000)
	uid := s.env.Append(t, "alice", "INBOX", mailWithAttachment(att))
	inbox := s.ids["Inbox"]
	ref := fmt.Sprintf("%s:%d:2", inbox, uid)

	// The whole attachment, inline.
	res, props, _ := fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: ref}, false)
	if got := specData(t, props); res.Status != 1 || res.FileReference != ref || !bytes.Equal(got, att) {
		t.Fatalf("attachment: status %d, %d bytes", res.Status, len(got))
	}
	if ct := props.ChildText("AirSyncBase:ContentType"); !strings.HasPrefix(ct, "application/octet-stream") {
		t.Errorf("content type %q", ct)
	}

	// A range: Range and Total in the answer, only those bytes.
	res, props, _ = fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: ref,
		Options: &message.ItemOperationsOptions{Range: "10-99"}}, false)
	if res.Status != 1 || props.ChildText("Range") != "10-99" || props.ChildText("Total") != "100000" ||
		!bytes.Equal(specData(t, props), att[10:100]) {
		t.Fatalf("range: %+v %s/%s", res, props.ChildText("Range"), props.ChildText("Total"))
	}
	// A range past the end is cut to the end; one starting past it is 8.
	_, props, _ = fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: ref,
		Options: &message.ItemOperationsOptions{Range: "99990-200000"}}, false)
	if props.ChildText("Range") != "99990-99999" || !bytes.Equal(specData(t, props), att[99990:]) {
		t.Errorf("range to the end: %s", props.ChildText("Range"))
	}
	if res, _, _ := fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: ref,
		Options: &message.ItemOperationsOptions{Range: "100000-100010"}}, false); res.Status != 8 {
		t.Errorf("range past the end: status %d, want 8", res.Status)
	}

	// MultiPart: the data is part 1 after the WBXML.
	res, props, parts := fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: ref}, true)
	if res.Status != 1 || props.ChildText("Part") != "1" || len(parts) != 1 || !bytes.Equal(parts[0], att) {
		t.Fatalf("multipart: %+v, %d parts", res, len(parts))
	}

	// Bad references: 15.
	for _, bad := range []string{"garbage", inbox + ":" + fmt.Sprint(uid) + ":7", inbox + ":99999:2", "nofolder:1:2"} {
		if res, _, _ := fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: bad}, false); res.Status != 15 {
			t.Errorf("file reference %q: status %d, want 15", bad, res.Status)
		}
	}

	// The item by ServerId, with a body preference, as Sync renders it.
	sid := model.MailID{FolderID: inbox, UID: uid}.String()
	res, props, _ = fetchOne(t, s.c, message.ItemOperationsFetch{ServerID: sid, CollectionID: inbox,
		Options: &message.ItemOperationsOptions{BodyPreference: []message.BodyPreference{{Type: 1}}}}, false)
	if res.Status != 1 || res.ServerID != sid || res.Class != "Email" || props.ChildText("Email:Subject") != "with attachment" ||
		!strings.Contains(props.Path("AirSyncBase:Body", "AirSyncBase:Data").Text, "see attached") {
		t.Fatalf("item: %+v", res)
	}
	if a := props.Path("AirSyncBase:Attachments", "AirSyncBase:Attachment"); a == nil || a.ChildText("AirSyncBase:FileReference") != ref {
		t.Errorf("item's attachment does not carry %q", ref)
	}
	// MIME, by LongId.
	res, props, _ = fetchOne(t, s.c, message.ItemOperationsFetch{LongID: sid,
		Options: &message.ItemOperationsOptions{MIMESupport: new(2), BodyPreference: []message.BodyPreference{{Type: 4}}}}, false)
	if res.Status != 1 || res.LongID != sid || !strings.Contains(props.Path("AirSyncBase:Body", "AirSyncBase:Data").Text, "Subject: with attachment") {
		t.Fatalf("by LongId: %+v", res)
	}
	// Gone or malformed: 6.
	for _, bad := range []string{inbox + ":99999", "garbage"} {
		if res, _, _ := fetchOne(t, s.c, message.ItemOperationsFetch{ServerID: bad, CollectionID: inbox}, false); res.Status != 6 {
			t.Errorf("item %q: status %d, want 6", bad, res.Status)
		}
	}
	if res, _, _ := fetchOne(t, s.c, message.ItemOperationsFetch{Store: "DocumentLibrary", LinkID: "x"}, false); res.Status != 9 {
		t.Errorf("document library: status %d, want 9", res.Status)
	}
}

// TestItemOperationsAttachmentMemory downloads a 25 MB attachment and
// reports how much the heap grew meanwhile: the attachment streams from
// Dovecot to the client, so it must stay a few MB.
func TestItemOperationsAttachmentMemory(t *testing.T) {
	s := startSync(t)
	const size = 25 << 20
	att := randomBytes(size)
	want := sha256.Sum256(att)
	uid := s.env.Append(t, "alice", "INBOX", mailWithAttachment(att))
	att = nil
	ref := fmt.Sprintf("%s:%d:2", s.ids["Inbox"], uid)
	for _, multi := range []bool{false, true} {
		body, err := wbxml.Marshal(&message.ItemOperationsRequest{Fetch: []message.ItemOperationsFetch{{Store: "Mailbox", FileReference: ref}}})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base, allocBefore := ms.HeapInuse, ms.TotalAlloc
		began := time.Now()
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		resp, err := s.c.ItemOperationsRaw(context.Background(), body, multi)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		close(stop)
		<-done
		if err != nil || n < size {
			t.Fatalf("multipart %v: read %d bytes: %v", multi, n, err)
		}
		took := time.Since(began)
		grew := int64(peak.Load()) - int64(base)
		runtime.ReadMemStats(&ms)
		// TotalAlloc counts every allocation, freed or not, of the whole
		// process (client included): under the attachment's size, no
		// copy of it can have existed.
		t.Logf("25 MB attachment (multipart %v): %d bytes in %v, heap in use grew by at most %.1f MB, %.1f MB allocated in all",
			multi, n, took.Round(time.Millisecond), float64(grew)/(1<<20), float64(ms.TotalAlloc-allocBefore)/(1<<20))
		if alloc := ms.TotalAlloc - allocBefore; grew > 8<<20 || alloc > size/2 {
			t.Errorf("heap grew by %d bytes, %d bytes allocated, for a %d byte attachment", grew, alloc, size)
		}
	}
	// And the content is right, inline as base64 text and as a part (these
	// reads hold it in memory, on purpose after the measurement).
	_, props, _ := fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: ref}, false)
	if sha256.Sum256(specData(t, props)) != want {
		t.Fatalf("25 MB attachment inline: content differs")
	}
	_, _, parts := fetchOne(t, s.c, message.ItemOperationsFetch{FileReference: ref}, true)
	if len(parts) != 1 || sha256.Sum256(parts[0]) != want {
		t.Fatalf("25 MB attachment: content differs")
	}
}

func TestItemOperationsEmptyFolderContents(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	store := mailStore(s.env)
	count := func(mailbox string) uint32 {
		t.Helper()
		sess, err := store.OpenMail(ctx, "alice", "alice")
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		st, err := sess.Status(ctx, mailbox)
		if err != nil {
			t.Fatal(err)
		}
		return st.Messages
	}
	empty := func(id string, sub bool) int {
		t.Helper()
		e := message.EmptyFolderContents{CollectionID: id}
		if sub {
			e.Options = &message.EmptyFolderContentsOptions{DeleteSubFolders: true}
		}
		r, _, err := s.c.ItemOperations(ctx, &message.ItemOperationsRequest{EmptyFolderContents: []message.EmptyFolderContents{e}}, false)
		if err != nil || r.Response == nil || len(r.Response.EmptyFolderContents) != 1 {
			t.Fatalf("EmptyFolderContents: %+v %v", r, err)
		}
		return r.Response.EmptyFolderContents[0].Status
	}
	for i := range 3 {
		s.env.Append(t, "alice", "INBOX", testMail(i))
	}
	if st := empty(s.ids["Inbox"], false); st != 1 || count("INBOX") != 0 || count("Trash") != 3 {
		t.Fatalf("empty Inbox: status %d, inbox %d, trash %d", st, count("INBOX"), count("Trash"))
	}
	// Deleted Items itself is emptied for good.
	if st := empty(s.ids["Trash"], false); st != 1 || count("Trash") != 0 {
		t.Fatalf("empty Trash: status %d, trash %d", st, count("Trash"))
	}
	// The answer was lost and the request comes again: nothing else goes.
	s.env.Append(t, "alice", "Trash", testMail(9))
	if st := empty(s.ids["Inbox"], false); st != 1 || count("Trash") != 1 {
		t.Fatalf("re-sent empty Inbox: status %d, trash %d", st, count("Trash"))
	}
	if st := empty("nope", false); st != 6 {
		t.Errorf("unknown folder: status %d, want 6", st)
	}
	if st := empty(s.ids["Contacts"], false); st != 2 {
		t.Errorf("Contacts: status %d, want 2", st)
	}

	// DeleteSubFolders: the folder stays, emptied, its children go.
	fs, err := s.c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	key := fs.SyncKey
	cr, err := s.c.FolderCreate(ctx, key, "0", "Old", int(model.FolderUserMail))
	if err != nil || cr.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", cr, err)
	}
	old := cr.ServerID
	cr, err = s.c.FolderCreate(ctx, cr.SyncKey, old, "Sub", int(model.FolderUserMail))
	if err != nil || cr.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", cr, err)
	}
	sub, key := cr.ServerID, cr.SyncKey
	s.env.Append(t, "alice", "Old", testMail(10))
	if st := empty(old, true); st != 1 || count("Old") != 0 {
		t.Fatalf("empty with subfolders: status %d", st)
	}
	fs, err = s.c.FolderSync(ctx, key)
	if err != nil || fs.Changes == nil || len(fs.Changes.Delete) != 1 || fs.Changes.Delete[0].ServerID != sub {
		t.Fatalf("FolderSync after DeleteSubFolders: %+v %v", fs.Changes, err)
	}
	if st := empty(old, true); st != 1 {
		t.Errorf("re-sent: status %d", st)
	}
}

// Answers come in the order of the request, whatever the kinds; a
// conversation Move is not supported; an unknown operation fails the
// request with Status 2.
func TestItemOperationsOrder(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	uid := s.env.Append(t, "alice", "INBOX", mailWithAttachment([]byte("tiny")))
	inbox := s.ids["Inbox"]
	ref := fmt.Sprintf("%s:%d:2", inbox, uid)
	tag := wbxml.MustTag
	req := wbxml.NewElement(tag("ItemOperations:ItemOperations"),
		wbxml.NewElement(tag("ItemOperations:Fetch"), wbxml.TextElement(tag("ItemOperations:Store"), "Mailbox"),
			wbxml.TextElement(tag("AirSyncBase:FileReference"), ref)),
		wbxml.NewElement(tag("ItemOperations:Move"), &wbxml.Element{Tag: tag("ItemOperations:ConversationId"), Opaque: []byte{1}},
			wbxml.TextElement(tag("ItemOperations:DstFldId"), inbox)),
		wbxml.NewElement(tag("ItemOperations:EmptyFolderContents"), wbxml.TextElement(tag("AirSync:CollectionId"), s.ids["Trash"])),
		wbxml.NewElement(tag("ItemOperations:Fetch"), wbxml.TextElement(tag("ItemOperations:Store"), "Mailbox"),
			wbxml.TextElement(tag("AirSync:CollectionId"), inbox), wbxml.TextElement(tag("AirSync:ServerId"), fmt.Sprintf("%s:%d", inbox, uid))))
	body, err := req.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	hr, data, err := s.c.DoRaw(ctx, "ItemOperations", nil, "application/vnd.ms-sync.wbxml", body)
	if err != nil || hr.StatusCode != 200 {
		t.Fatalf("ItemOperations: %v %v", hr, err)
	}
	root, err := wbxml.Parse(bytes.NewReader(data), wbxml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range root.Child("Response").Children {
		got = append(got, c.Name()+":"+c.ChildText("Status"))
	}
	if want := "Fetch:1 Move:156 EmptyFolderContents:1 Fetch:1"; strings.Join(got, " ") != want {
		t.Errorf("answers %q, want %q", strings.Join(got, " "), want)
	}
	if d := specData(t, root.Child("Response").Children[0].Child("Properties")); string(d) != "tiny" {
		t.Errorf("attachment data: %q", d)
	}

	bad := wbxml.NewElement(tag("ItemOperations:ItemOperations"), wbxml.NewElement(tag("ItemOperations:Schema")))
	body, _ = bad.Bytes()
	var r message.ItemOperationsResponse
	_, data, err = s.c.DoRaw(ctx, "ItemOperations", nil, "application/vnd.ms-sync.wbxml", body)
	if err != nil || wbxml.Unmarshal(data, &r) != nil || r.Status != 2 {
		t.Errorf("unknown operation: %+v %v", r, err)
	}
}
