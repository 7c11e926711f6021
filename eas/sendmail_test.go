package eas_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/smtpsink"
	"github.com/easd/easd/internal/testenv"
	"github.com/easd/easd/wbxml"
)

// crlf turns a readable test message into wire form.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// folderIDs returns the user's folder ids by display name.
func folderIDs(t *testing.T, c *client.Client) map[string]string {
	t.Helper()
	r, err := c.FolderSync(context.Background(), "0")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for name, f := range addsByName(t, r) {
		ids[name] = f.ServerID
	}
	return ids
}

// stored is a message as the IMAP server holds it.
type stored struct {
	uid   uint32
	flags []imap.Flag
	body  []byte
}

func mailbox(t *testing.T, env *easdtest.Env, user, name string) []stored {
	t.Helper()
	d := &imapbridge.Dialer{Addr: env.IMAP.Addr(), TLS: config.TLSNone}
	c, err := d.Login(context.Background(), user, user)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sel, err := c.Select(name, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil // Dovecot answers FETCH 1:* on an empty mailbox with BAD
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []stored
	for _, m := range msgs {
		out = append(out, stored{uid: uint32(m.UID), flags: m.Flags, body: m.FindBodySection(section)})
	}
	return out
}

func waitMessages(t *testing.T, sink *smtpsink.Sink, n int) []smtpsink.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := sink.Wait(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestSendMail(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	bob := env.Client("bob", "phone1")
	folderIDs(t, bob)

	msg := crlf("From: Bob <bob@example.test>\nTo: Alice <alice@example.test>\nBcc: carol@example.test\nSubject: hello\n\nHi Alice\n")
	st, err := bob.SendMail(ctx, "c1", msg, true)
	if err != nil || st != 1 {
		t.Fatalf("SendMail: %d %v", st, err)
	}
	got := waitMessages(t, env.SMTP, 1)[0]
	if got.From != "bob@example.test" || got.AuthUser != "bob" {
		t.Errorf("envelope from %q, AUTH %q", got.From, got.AuthUser)
	}
	if !slices.Equal(got.To, []string{"alice@example.test", "carol@example.test"}) {
		t.Errorf("recipients %v", got.To)
	}
	if bytes.Contains(got.Data, []byte("Bcc:")) || !bytes.Contains(got.Data, []byte("Message-ID: <")) ||
		!bytes.Contains(got.Data, []byte("\r\nDate: ")) {
		t.Errorf("transmitted:\n%s", got.Data)
	}
	sent := mailbox(t, env, "bob", "Sent")
	if len(sent) != 1 || !bytes.Contains(sent[0].body, []byte("Bcc: carol@example.test")) || !slices.Contains(sent[0].flags, imap.FlagSeen) {
		t.Fatalf("Sent: %+v", sent)
	}

	// The answer was lost and the phone sends again: not sent twice.
	if st, err := bob.SendMail(ctx, "c1", msg, true); err != nil || st != 1 {
		t.Fatalf("re-sent SendMail: %d %v", st, err)
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Fatalf("%d messages after re-send, want 1", n)
	}
	if n := len(mailbox(t, env, "bob", "Sent")); n != 1 {
		t.Fatalf("%d Sent copies after re-send", n)
	}

	// Android separates recipients with ';'; the header is repaired.
	android := crlf("To: alice@example.test; \"Doe; John\" <john@example.test>\nSubject: list\n\nx\n")
	if st, err := bob.SendMail(ctx, "c2", android, false); err != nil || st != 1 {
		t.Fatalf("SendMail ';': %d %v", st, err)
	}
	got = waitMessages(t, env.SMTP, 2)[1]
	if !slices.Equal(got.To, []string{"alice@example.test", "john@example.test"}) ||
		!bytes.Contains(got.Data, []byte("To: alice@example.test,\r\n \"Doe; John\" <john@example.test>\r\n")) {
		t.Errorf("';' list: %v\n%s", got.To, got.Data)
	}

	if st, err := bob.SendMail(ctx, "c3", crlf("Subject: nobody\n\nx\n"), false); err != nil || st != 119 {
		t.Errorf("no recipients: %d %v, want 119", st, err)
	}

	// 12.1: raw MIME, SaveInSent=T in the query, empty 200.
	old := env.Client("bob", "phone2")
	old.Version = "12.1"
	raw := crlf("To: alice@example.test\nSubject: from 12.1\nMessage-ID: <raw1@example.test>\n\nold school\n")
	if err := old.SendMailRaw(ctx, "SendMail", url.Values{"SaveInSent": {"T"}}, raw); err != nil {
		t.Fatal(err)
	}
	// Without a ClientId the Message-ID recognises a re-send.
	if err := old.SendMailRaw(ctx, "SendMail", url.Values{"SaveInSent": {"T"}}, raw); err != nil {
		t.Fatal(err)
	}
	if n := len(waitMessages(t, env.SMTP, 3)); n != 3 {
		t.Fatalf("%d messages after the 12.1 sends, want 3", n)
	}
	if n := len(mailbox(t, env, "bob", "Sent")); n != 2 {
		t.Fatalf("%d Sent copies, want 2", n)
	}
	var he *client.HTTPError
	if err := old.SendMailRaw(ctx, "SendMail", nil, crlf("Subject: x\n\ny\n")); !errors.As(err, &he) || he.Code != 400 {
		t.Errorf("12.1 without recipients: %v, want HTTP 400", err)
	}
}

const original = `From: Alice <alice@example.test>
To: Bob <bob@example.test>
Subject: plans
Date: Mon, 2 Jun 2025 10:00:00 +0000
Message-ID: <orig@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Shall we meet on Friday?
--b1
Content-Type: application/pdf; name="agenda.pdf"
Content-Disposition: attachment; filename="agenda.pdf"
Content-Transfer-Encoding: base64

UERGIGFnZW5kYQ==
--b1--
`

func TestSmartReplyAndForward(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	bob := env.Client("bob", "phone1")
	ids := folderIDs(t, bob)
	uid := env.Append(t, "bob", "INBOX", crlf(original))
	src := message.ComposeItem{FolderID: ids["Inbox"], ItemID: ids["Inbox"] + ":" + strconv.FormatUint(uint64(uid), 10)}

	reply := crlf("To: alice@example.test\nSubject: Re: plans\nContent-Type: text/plain; charset=utf-8\n\nYes, Friday.\n")
	if st, err := bob.SmartReply(ctx, "r1", src, reply, true, false); err != nil || st != 1 {
		t.Fatalf("SmartReply: %d %v", st, err)
	}
	got := waitMessages(t, env.SMTP, 1)[0]
	text := string(got.Data)
	if !strings.Contains(text, "Yes, Friday.") || !strings.Contains(text, "> Shall we meet on Friday?") ||
		!strings.Contains(text, "Alice <alice@example.test> wrote:") {
		t.Errorf("reply:\n%s", text)
	}
	inbox := mailbox(t, env, "bob", "INBOX")
	if !slices.Contains(inbox[0].flags, imap.FlagAnswered) {
		t.Errorf("original flags %v, want \\Answered", inbox[0].flags)
	}

	fwd := crlf("To: carol@example.test\nSubject: Fwd: plans\n\nSee below.\n")
	if st, err := bob.SmartForward(ctx, "f1", src, fwd, false, false); err != nil || st != 1 {
		t.Fatalf("SmartForward: %d %v", st, err)
	}
	got = waitMessages(t, env.SMTP, 2)[1]
	text = string(got.Data)
	if !strings.Contains(text, "See below.") || !strings.Contains(text, "Shall we meet on Friday?") ||
		!strings.Contains(text, `filename="agenda.pdf"`) || !strings.Contains(text, "UERGIGFnZW5kYQ==") ||
		!strings.Contains(text, "multipart/mixed") {
		t.Errorf("forward:\n%s", text)
	}
	inbox = mailbox(t, env, "bob", "INBOX")
	if !slices.Contains(inbox[0].flags, imap.Flag("$Forwarded")) {
		t.Errorf("original flags %v, want $Forwarded", inbox[0].flags)
	}

	// ReplaceMime: the client's message goes out as it is.
	own := crlf("To: alice@example.test\nSubject: Re: plans\nDate: Mon, 2 Jun 2025 11:00:00 +0000\nMessage-ID: <own@example.test>\nFrom: bob@example.test\n\nMy own quote\n> Shall we\n")
	if st, err := bob.SmartReply(ctx, "r2", src, own, false, true); err != nil || st != 1 {
		t.Fatalf("SmartReply ReplaceMime: %d %v", st, err)
	}
	if got := waitMessages(t, env.SMTP, 3)[2]; !bytes.Equal(got.Data, own) {
		t.Errorf("ReplaceMime changed the message:\n%q\nwant\n%q", got.Data, own)
	}

	// 12.1: the source in the query.
	old := env.Client("bob", "phone2")
	old.Version = "12.1"
	params := url.Values{"ItemId": {src.ItemID}, "CollectionId": {src.FolderID}, "SaveInSent": {"T"}}
	if err := old.SendMailRaw(ctx, "SmartReply", params, crlf("To: alice@example.test\nSubject: Re\n\nok\n")); err != nil {
		t.Fatal(err)
	}
	if got := waitMessages(t, env.SMTP, 4)[3]; !strings.Contains(string(got.Data), "> Shall we meet on Friday?") {
		t.Errorf("12.1 reply:\n%s", got.Data)
	}

	gone := message.ComposeItem{FolderID: ids["Inbox"], ItemID: ids["Inbox"] + ":9999"}
	if st, err := bob.SmartReply(ctx, "r3", gone, reply, false, false); err != nil || st != 150 {
		t.Errorf("unknown source: %d %v, want 150", st, err)
	}
	var he *client.HTTPError
	params.Set("ItemId", gone.ItemID)
	if err := old.SendMailRaw(ctx, "SmartForward", params, reply); !errors.As(err, &he) || he.Code != 404 {
		t.Errorf("12.1 unknown source: %v, want HTTP 404", err)
	}
	if n := len(env.SMTP.Messages()); n != 4 {
		t.Errorf("%d messages sent, want 4", n)
	}
}

func TestSendMailSMTPFailures(t *testing.T) {
	rejecting := testenv.SMTP(t, smtpsink.RejectRecipients(func(a string) bool { return strings.HasPrefix(a, "nobody@") }, nil))
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.SMTPAddr = rejecting.Addr() })
	ctx := context.Background()
	bob := env.Client("bob", "phone1")
	folderIDs(t, bob)

	msg := crlf("To: nobody@example.test\nSubject: x\n\ny\n")
	if st, err := bob.SendMail(ctx, "c1", msg, true); err != nil || st != 116 {
		t.Errorf("refused recipient: %d %v, want 116", st, err)
	}
	if n := len(mailbox(t, env, "bob", "Sent")); n != 0 {
		t.Errorf("%d Sent copies of a refused message", n)
	}

	// The SMTP server is down: retryable, and the retry, once it is back,
	// sends.
	down := freeAddr(t)
	downEnv := easdtest.Start(t, noPolicy, func(c *config.Config) { c.SMTPAddr = down })
	carl := downEnv.Client("bob", "phone1")
	folderIDs(t, carl)
	if st, err := carl.SendMail(ctx, "d1", crlf("To: alice@example.test\n\nx\n"), false); err != nil || st != 111 {
		t.Errorf("SMTP down: %d %v, want 111", st, err)
	}
	old := downEnv.Client("bob", "phone2")
	old.Version = "12.1"
	var he *client.HTTPError
	if err := old.SendMailRaw(ctx, "SendMail", nil, crlf("To: alice@example.test\n\nx\n")); !errors.As(err, &he) || he.Code != 503 {
		t.Errorf("12.1 SMTP down: %v, want HTTP 503", err)
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A 12.1 client that sends the ComposeMail WBXML document (as 14.0 does)
// gets it decoded by its Content-Type, and one that sends WBXML with the
// wrong type by its header: never is WBXML submitted as the message.
func TestSendMailWBXMLBelow14(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	bob := env.Client("bob", "phone1")
	bob.Version = "12.1"
	folderIDs(t, bob)
	msg := crlf("From: Bob <bob@example.test>\nTo: Alice <alice@example.test>\nSubject: wbxml at 12.1\n\nHi\n")
	if st, err := bob.SendMail(ctx, "c1", msg, false); err != nil || st != 1 {
		t.Fatalf("SendMail: %d %v", st, err)
	}
	got := waitMessages(t, env.SMTP, 1)[0]
	if !bytes.Contains(got.Data, []byte("Subject: wbxml at 12.1")) || bytes.HasPrefix(got.Data, []byte{0x03, 0x01}) ||
		!slices.Equal(got.To, []string{"alice@example.test"}) {
		t.Fatalf("submitted:\n%q to %v", got.Data, got.To)
	}
	body, err := wbxml.Marshal(&message.SendMailRequest{ClientID: "c2", Mime: crlf("To: alice@example.test\nSubject: typed wrong\n\nx\n")})
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := bob.DoRaw(ctx, "SendMail", nil, "message/rfc822x", body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("WBXML as another type: %v %v", resp, err)
	}
	got = waitMessages(t, env.SMTP, 2)[1]
	if !bytes.Contains(got.Data, []byte("Subject: typed wrong")) {
		t.Fatalf("submitted:\n%q", got.Data)
	}
}
