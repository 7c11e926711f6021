package eas_test

import (
	"bytes"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

// mimeDraftSource is a draft as Nine or TouchDown save one: the whole
// message, with an attachment, as the Body of Type 4.
const mimeDraftSource = "From: Alice <alice@example.test>\r\n" +
	"To: Bob <bob@example.test>\r\n" +
	"Cc: carol@example.test\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= with the plan\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"See the plan attached.\r\n" +
	"--b1\r\n" +
	"Content-Type: application/pdf; name=\"plan.pdf\"\r\n" +
	"Content-Disposition: attachment; filename=\"plan.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0xLjQKJcOkw7zDtsOf\r\n" +
	"--b1--\r\n"

// mimeDraftData is the ApplicationData of a draft Add with a MIME body.
func mimeDraftData(mime string, extra ...*wbxml.Element) *wbxml.Element {
	data := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), extra...)
	return data.Add(wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"),
		wbxml.TextElement(wbxml.MustTag("AirSyncBase:Type"), "4"),
		wbxml.TextElement(wbxml.MustTag("AirSyncBase:Data"), mime)))
}

// rawMessages returns the messages of user's mailbox as the IMAP server
// holds them, with their flags, read by a client of its own so the check
// does not go through easd's mail code.
func rawMessages(t *testing.T, env *easdtest.Env, user, mailbox string) ([][]byte, [][]imap.Flag) {
	t.Helper()
	conn, err := net.Dial("tcp", env.IMAP.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := imapclient.New(conn, nil)
	defer c.Close()
	if err := c.Login(user, user).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	var flags [][]imap.Flag
	for _, m := range msgs {
		for _, b := range m.BodySection {
			bodies = append(bodies, b.Bytes)
		}
		flags = append(flags, m.Flags)
	}
	return bodies, flags
}

// A draft whose body is MIME is stored as the message the client wrote:
// its header fields, parts and attachment byte for byte, only Date and
// Message-ID added; its Flag and Categories become IMAP flags; and the
// draft synced back has the subject, recipients and attachment of the
// MIME. (It used to be stored as an HTML body showing the MIME source.)
func TestSyncMailDraftAddMIME(t *testing.T) {
	s := startSync(t)
	drafts := s.ids["Drafts"]
	key := s.start(t, drafts)
	data := mimeDraftData(mimeDraftSource,
		wbxml.NewElement(wbxml.MustTag("Email:Flag"), wbxml.TextElement(wbxml.MustTag("Email:Status"), "2"),
			wbxml.TextElement(wbxml.MustTag("Email:FlagType"), "Follow up")),
		wbxml.NewElement(wbxml.MustTag("Email:Categories"), wbxml.TextElement(wbxml.MustTag("Email:Category"), "Work")))
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: drafts, Commands: &message.SyncClientCommands{
		Add: []message.SyncClientAdd{{ClientID: "m1", ApplicationData: data}}}})
	if rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 1 {
		t.Fatalf("MIME draft add: %+v", rc.Responses)
	}
	bodies, flags := rawMessages(t, s.env, "alice", "Drafts")
	if len(bodies) != 1 {
		t.Fatalf("Drafts holds %d messages", len(bodies))
	}
	stored := string(bodies[0])
	sentHeader, sentBody, _ := strings.Cut(mimeDraftSource, "\r\n\r\n")
	gotHeader, gotBody, _ := strings.Cut(stored, "\r\n\r\n")
	// The draft's mark goes first: a re-sent Add finds the draft by it
	// (sync_drafts_retry.go).
	mark, gotHeader, _ := strings.Cut(gotHeader, "\r\n")
	if !strings.HasPrefix(mark, "X-Easd-Draft: ") {
		t.Errorf("no draft mark first: %q", mark)
	}
	if gotBody != sentBody || !strings.HasPrefix(gotHeader, sentHeader+"\r\n") {
		t.Fatalf("stored draft differs from the one sent:\n%s", stored)
	}
	added := strings.Split(strings.TrimPrefix(gotHeader, sentHeader+"\r\n"), "\r\n")
	if len(added) != 2 || !strings.HasPrefix(added[0], "Date: ") || !strings.HasPrefix(added[1], "Message-ID: <") {
		t.Errorf("added header fields: %q", added)
	}
	for _, f := range []imap.Flag{imap.FlagDraft, imap.FlagSeen, imap.FlagFlagged, "Work"} {
		if !slices.Contains(flags[0], f) {
			t.Errorf("flags %v lack %s", flags[0], f)
		}
	}

	// Another device sees the draft as it was written.
	d := s.device(t, "phone-drafts-2")
	dkey := d.start(t, drafts)
	rc = d.sync(t, message.SyncCollection{SyncKey: dkey, CollectionID: drafts})
	adds := commands(rc).Add
	if len(adds) != 1 {
		t.Fatalf("second device: %+v", rc)
	}
	e := adds[0].ApplicationData.(*wbxml.Element)
	if e.ChildText("Email:Subject") != "Grüße with the plan" || !strings.Contains(e.ChildText("Email:To"), "bob@example.test") ||
		!strings.Contains(e.ChildText("Email:Cc"), "carol@example.test") ||
		len(e.Child("AirSyncBase:Attachments").ChildrenNamed("AirSyncBase:Attachment")) != 1 ||
		e.Path("AirSyncBase:Attachments", "AirSyncBase:Attachment", "AirSyncBase:DisplayName").Text != "plan.pdf" ||
		e.Path("Email:Flag", "Email:Status").Text != "2" || e.Path("Email:Flag", "Email:FlagType").Text != "Follow up" {
		var b strings.Builder
		_ = wbxml.WriteXML(&b, bytes.NewReader(mustBytes(t, e)), wbxml.WithIndent("  "))
		t.Errorf("draft synced back:\n%s", b.String())
	}
}

// What cannot be stored as sent is refused with Status 6 and not stored:
// a MIME body that is no message, a multipart cut short, an RTF body,
// attachments beside a text body.
func TestSyncMailDraftAddRefused(t *testing.T) {
	s := startSync(t)
	drafts := s.ids["Drafts"]
	key := s.start(t, drafts)
	rtf := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Type"), "3"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Data"), "e1xydGYxfQ==")))
	withAttachment := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
		wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Type"), "1"),
			wbxml.TextElement(wbxml.MustTag("AirSyncBase:Data"), "see attached")),
		wbxml.NewElement(wbxml.MustTag("AirSyncBase:Attachments"),
			wbxml.NewElement(wbxml.MustTag("AirSyncBase:Add"),
				wbxml.TextElement(wbxml.MustTag("AirSyncBase:ClientId"), "a1"),
				wbxml.TextElement(wbxml.MustTag("AirSyncBase:DisplayName"), "a.txt"),
				wbxml.TextElement(wbxml.MustTag("AirSyncBase:Method"), "1"),
				&wbxml.Element{Tag: wbxml.MustTag("AirSyncBase:Content"), Opaque: []byte("hello")})))
	cut := strings.TrimSuffix(mimeDraftSource, "--b1--\r\n")
	var adds []message.SyncClientAdd
	for i, d := range []*wbxml.Element{
		mimeDraftData("just some text, no header at all\r\n"),
		mimeDraftData(cut[:bytes.LastIndex([]byte(cut), []byte("--b1"))+4] + "\r\nContent-Type: text/plain\r\n"),
		rtf, withAttachment,
	} {
		adds = append(adds, message.SyncClientAdd{ClientID: "r" + string(rune('0'+i)), ApplicationData: d})
	}
	rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: drafts, Commands: &message.SyncClientCommands{Add: adds}})
	if rc.Responses == nil || len(rc.Responses.Add) != len(adds) {
		t.Fatalf("answers: %+v", rc.Responses)
	}
	for i, r := range rc.Responses.Add {
		if r.Status != 6 || r.ServerID != "" {
			t.Errorf("add %d: %+v, want Status 6", i, r)
		}
	}
	if bodies, _ := rawMessages(t, s.env, "alice", "Drafts"); len(bodies) != 0 {
		t.Errorf("refused drafts were stored: %q", bodies)
	}
}

func mustBytes(t *testing.T, e *wbxml.Element) []byte {
	t.Helper()
	b, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
