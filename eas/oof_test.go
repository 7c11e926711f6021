package eas_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/managesieve"
	"github.com/easd/easd/internal/smtpsink"
)

// userRules is a script a user made elsewhere (a webmail filter): mail
// tagged [list] goes to the Lists folder.
const userRules = "require [\"fileinto\", \"mailbox\"];\r\nif header :contains \"subject\" \"[list]\" { fileinto :create \"Lists\"; }\r\n"

// sieveSession signs in to the test mail server's ManageSieve as user.
func sieveSession(t *testing.T, env *easdtest.Env, user string) *managesieve.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	c, err := managesieve.Dial(ctx, env.IMAP.ManageSieveAddr(), managesieve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.AuthenticatePlain("", user, user); err != nil {
		t.Fatal(err)
	}
	return c
}

func mailFrom(from, subject string) []byte {
	return fmt.Appendf(nil, "From: <%s>\r\nTo: <alice@example.test>\r\nSubject: %s\r\nMessage-ID: <%d@test>\r\n\r\nHello.\r\n",
		from, subject, time.Now().UnixNano())
}

// replies returns the sink's messages to rcpt.
func replies(sink *smtpsink.Sink, rcpt string) []smtpsink.Message {
	var out []smtpsink.Message
	for _, m := range sink.Messages() {
		if len(m.To) == 1 && m.To[0] == rcpt {
			out = append(out, m)
		}
	}
	return out
}

// replyBody reads a reply's subject and text.
func replyBody(t *testing.T, m smtpsink.Message) (string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatalf("reply: %v\n%s", err, m.Data)
	}
	body, _ := io.ReadAll(msg.Body)
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	return subject, strings.ReplaceAll(string(body), "\r\n", "\n")
}

// mailboxCount counts the messages in one of alice's mailboxes.
func mailboxCount(t *testing.T, env *easdtest.Env, mailbox string) uint32 {
	t.Helper()
	conn, err := net.Dial("tcp", env.IMAP.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := imapclient.New(conn, nil)
	defer c.Close()
	if err := c.Login("alice", "alice").Wait(); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0
	}
	return *st.NumMessages
}

// TestOofReplies: out-of-office set from a phone is answered by the mail
// server itself. Mail delivered through Dovecot's LMTP gets one reply per
// sender, with the text for the sender's audience; a user's own script
// keeps working with out-of-office on and after it is off.
func TestOofReplies(t *testing.T) {
	s := startSync(t)
	env := s.env
	ctx := context.Background()
	c := env.Client("alice", "phone")

	// Kim is one of alice's contacts.
	startContacts(t, s).send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{
		addOf("kim", &message.Contact{FileAs: "Kim", FirstName: "Kim", Email1Address: "\"Kim\" <Kim@Partner.test>"})}})

	// Alice's own filter, made elsewhere and active.
	ms := sieveSession(t, env, "alice")
	if err := ms.PutScript("my-rules", userRules); err != nil {
		t.Fatal(err)
	}
	if err := ms.SetActive("my-rules"); err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC()
	external := "Away until Monday.\nQuote \"this\", a back\\slash and ${subject} stay as written."
	set := message.Oof{OofState: new(2),
		StartTime: now.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z"),
		EndTime:   now.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"),
		OofMessage: []message.OofMessage{
			{AppliesToInternal: true, Enabled: true, ReplyMessage: "<p>Colleagues: call me &amp; Bob.</p>", BodyType: "HTML"},
			{AppliesToExternalKnown: true, Enabled: true, ReplyMessage: "Hi Kim, back Monday.", BodyType: "Text"},
			{AppliesToExternalUnknown: true, Enabled: true, ReplyMessage: external, BodyType: "Text"},
		}}
	t0 := time.Now()
	r, err := c.SetOof(ctx, set)
	if err != nil || r.Oof == nil || r.Oof.Status != 1 {
		t.Fatalf("Oof Set: %+v, %v", r, err)
	}
	t.Logf("Oof Set (wrapping the user's script) took %v", time.Since(t0).Round(time.Millisecond))

	// An external sender gets the external text, once.
	env.Deliver(t, "carol@outside.test", "alice@example.test", mailFrom("carol@outside.test", "hello"))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := env.SMTP.Wait(wctx, 1); err != nil {
		t.Fatal(err)
	}
	got := replies(env.SMTP, "carol@outside.test")
	if len(got) != 1 {
		t.Fatalf("replies to carol: %d", len(got))
	}
	if got[0].From != "" && !strings.EqualFold(got[0].From, "alice@example.test") {
		t.Errorf("reply envelope sender %q", got[0].From)
	}
	subject, body := replyBody(t, got[0])
	if subject != "Automatic reply: hello" || strings.TrimSpace(body) != external {
		t.Errorf("reply to carol: %q\n%q", subject, body)
	}
	env.Deliver(t, "carol@outside.test", "alice@example.test", mailFrom("carol@outside.test", "again"))
	// Delivery submits the reply before LMTP answers: none now means none.
	if n := len(replies(env.SMTP, "carol@outside.test")); n != 1 {
		t.Errorf("second mail from carol within the interval: %d replies", n)
	}

	// An internal sender gets the internal text, as plain text.
	env.Deliver(t, "dave@example.test", "alice@example.test", mailFrom("dave@example.test", "lunch?"))
	got = replies(env.SMTP, "dave@example.test")
	if len(got) != 1 {
		t.Fatalf("replies to dave: %d", len(got))
	}
	if _, body := replyBody(t, got[0]); strings.TrimSpace(body) != "Colleagues: call me & Bob." {
		t.Errorf("internal reply: %q", body)
	}

	// A contact gets the text for known senders.
	env.Deliver(t, "kim@partner.test", "alice@example.test", mailFrom("kim@partner.test", "project"))
	got = replies(env.SMTP, "kim@partner.test")
	if len(got) != 1 {
		t.Fatalf("replies to kim: %d", len(got))
	}
	if _, body := replyBody(t, got[0]); strings.TrimSpace(body) != "Hi Kim, back Monday." {
		t.Errorf("reply to a contact: %q", body)
	}

	// Alice's own filter still files list mail.
	env.Deliver(t, "list@lists.test", "alice@example.test", mailFrom("list@lists.test", "[list] news"))
	if n := mailboxCount(t, env, "Lists"); n != 1 {
		t.Errorf("Lists has %d messages with out-of-office on", n)
	}
	if text, err := ms.GetScript("my-rules"); err != nil || text != userRules {
		t.Errorf("the user's script changed: %q, %v", text, err)
	}

	// Get reads back what is in force, in the body type asked for.
	t0 = time.Now()
	r, err = c.GetOof(ctx, "Text")
	t.Logf("Oof Get took %v", time.Since(t0).Round(time.Millisecond))
	if err != nil || r.Oof.Status != 1 {
		t.Fatalf("Oof Get: %+v, %v", r, err)
	}
	g := r.Oof.Get
	if *g.OofState != 2 || g.StartTime != set.StartTime[:19]+".000Z" || g.EndTime != set.EndTime[:19]+".000Z" {
		t.Errorf("Oof Get state: %d %s %s", *g.OofState, g.StartTime, g.EndTime)
	}
	for _, m := range g.OofMessage {
		switch {
		case m.AppliesToInternal && (!m.Enabled || m.ReplyMessage != "Colleagues: call me & Bob."):
			t.Errorf("internal: %+v", m)
		case m.AppliesToExternalKnown && (!m.Enabled || m.ReplyMessage != "Hi Kim, back Monday."):
			t.Errorf("external known: %+v", m)
		case m.AppliesToExternalUnknown && (!m.Enabled || m.ReplyMessage != external):
			t.Errorf("external unknown: %+v", m)
		}
	}

	// A Set naming one message changes only that one, while on.
	if r, err = c.SetOof(ctx, message.Oof{OofMessage: []message.OofMessage{
		{AppliesToExternalUnknown: true, Enabled: true, ReplyMessage: "Changed plans."}}}); err != nil || r.Oof.Status != 1 {
		t.Fatalf("Oof Set of one message: %+v, %v", r, err)
	}
	env.Deliver(t, "george@outside.test", "alice@example.test", mailFrom("george@outside.test", "hi"))
	if got := replies(env.SMTP, "george@outside.test"); len(got) != 1 {
		t.Errorf("replies to george: %d", len(got))
	} else if _, body := replyBody(t, got[0]); strings.TrimSpace(body) != "Changed plans." {
		t.Errorf("reply after the change: %q", body)
	}
	external = "Changed plans."

	// Off: no more replies, and alice's own script is the active one again.
	if r, err = c.SetOof(ctx, message.Oof{OofState: new(0)}); err != nil || r.Oof.Status != 1 {
		t.Fatalf("Oof off: %+v, %v", r, err)
	}
	if active, err := ms.Active(); err != nil || active != "my-rules" {
		t.Errorf("active after off: %q, %v", active, err)
	}
	env.Deliver(t, "erin@outside.test", "alice@example.test", mailFrom("erin@outside.test", "hi"))
	if n := len(replies(env.SMTP, "erin@outside.test")); n != 0 {
		t.Errorf("reply with out-of-office off: %d", n)
	}
	env.Deliver(t, "list@lists.test", "alice@example.test", mailFrom("list@lists.test", "[list] more"))
	if n := mailboxCount(t, env, "Lists"); n != 2 {
		t.Errorf("Lists has %d messages after out-of-office off", n)
	}
	r, err = env.Client("alice", "tablet").GetOof(ctx, "Text")
	if err != nil || *r.Oof.Get.OofState != 0 || r.Oof.Get.OofMessage[2].ReplyMessage != external {
		t.Fatalf("Oof Get after off: %+v, %v", r, err)
	}

	// On again with a window in the future: nothing is answered now.
	future := message.Oof{OofState: new(2),
		StartTime: now.Add(24 * time.Hour).Format("2006-01-02T15:04:05.000Z"),
		EndTime:   now.Add(48 * time.Hour).Format("2006-01-02T15:04:05.000Z")}
	if r, err = c.SetOof(ctx, future); err != nil || r.Oof.Status != 1 {
		t.Fatalf("Oof Set future: %+v, %v", r, err)
	}
	env.Deliver(t, "frank@outside.test", "alice@example.test", mailFrom("frank@outside.test", "hi"))
	if n := len(replies(env.SMTP, "frank@outside.test")); n != 0 {
		t.Errorf("reply before the window: %d", n)
	}
	// Invalid times change nothing.
	bad := message.Oof{OofState: new(2), StartTime: "yesterday", EndTime: future.EndTime}
	if r, err = c.SetOof(ctx, bad); err != nil || r.Oof.Status != 5 {
		t.Errorf("invalid StartTime: %+v, %v", r, err)
	}
	r, err = c.GetOof(ctx, "Text")
	if err != nil || *r.Oof.Get.OofState != 2 || r.Oof.Get.StartTime != future.StartTime[:19]+".000Z" {
		t.Errorf("Get after a refused Set: %+v, %v", r.Oof.Get, err)
	}
}

// TestOofUsersOwnVacation: a vacation rule the user made elsewhere is
// never overwritten: turning out-of-office on from a phone is refused
// (Status 6), and Get reports the user's rule as what is in force.
func TestOofUsersOwnVacation(t *testing.T) {
	env := easdtest.Start(t)
	ctx := context.Background()
	ms := sieveSession(t, env, "bob")
	own := "require \"vacation\";\r\nvacation :days 3 \"Gone fishing.\";\r\n"
	if err := ms.PutScript("holiday", own); err != nil {
		t.Fatal(err)
	}
	if err := ms.SetActive("holiday"); err != nil {
		t.Fatal(err)
	}
	c := env.Client("bob", "phone")
	r, err := c.SetOof(ctx, message.Oof{OofState: new(1), OofMessage: []message.OofMessage{
		{AppliesToExternalUnknown: true, Enabled: true, ReplyMessage: "Away."}}})
	if err != nil || r.Oof.Status != 6 {
		t.Fatalf("Oof Set over the user's vacation: %+v, %v", r, err)
	}
	if text, err := ms.GetScript("holiday"); err != nil || text != own {
		t.Errorf("the user's script changed: %q, %v", text, err)
	}
	if active, _ := ms.Active(); active != "holiday" {
		t.Errorf("active: %q", active)
	}
	r, err = c.GetOof(ctx, "Text")
	if err != nil || r.Oof.Status != 1 || *r.Oof.Get.OofState != 1 || r.Oof.Get.OofMessage[2].ReplyMessage != "Gone fishing." {
		t.Fatalf("Oof Get of the user's vacation: %+v, %v", r.Oof, err)
	}
}

// TestOofUnavailable: without a reachable ManageSieve server an Oof Set
// is answered Status 4 and nothing is claimed; with out-of-office off
// (--managesieve=off) likewise.
func TestOofUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	ctx := context.Background()
	for _, addr := range []string{closed, config.ManageSieveOff} {
		env := easdtest.Start(t, func(c *config.Config) { c.ManageSieve = addr })
		c := env.Client("alice", "phone")
		r, err := c.SetOof(ctx, message.Oof{OofState: new(1), OofMessage: []message.OofMessage{
			{AppliesToExternalUnknown: true, Enabled: true, ReplyMessage: "Away."}}})
		if err != nil || r.Status != 1 || r.Oof.Status != 4 {
			t.Errorf("%s: Oof Set: %+v, %v", addr, r, err)
		}
		if !strings.Contains(env.Logs(), "Oof Set") {
			t.Errorf("%s: the refusal is not logged", addr)
		}
		r, err = c.GetOof(ctx, "Text")
		wantGet := 4
		if addr == config.ManageSieveOff {
			wantGet = 1 // nothing is in force: off
		}
		if err != nil || r.Oof.Status != wantGet || (wantGet == 1 && *r.Oof.Get.OofState != 0) {
			t.Errorf("%s: Oof Get: %+v, %v", addr, r.Oof, err)
		}
	}
}
