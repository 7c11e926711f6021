package eas_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/smtpsink"
)

// killIMAPOnSubmit makes the next message the SMTP sink accepts take the
// test's Dovecot down before the sink answers: the SMTP server has the
// message, and every IMAP step after it (the Sent copy, the flag on the
// original) fails against a server that is really gone. The returned
// function brings Dovecot back.
func killIMAPOnSubmit(t *testing.T, env *easdtest.Env) (restart func()) {
	t.Helper()
	var once sync.Once
	env.SMTP.SetOnMessage(func(smtpsink.Message) error {
		once.Do(func() {
			if err := env.IMAP.Stop(); err != nil {
				t.Errorf("stop IMAP: %v", err)
			}
		})
		return nil
	})
	return func() {
		t.Helper()
		env.SMTP.SetOnMessage(nil)
		if err := env.IMAP.Restart(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// bobAtFault starts easd and returns bob's phone1 (speaking version, or
// the client's default when "") after a FolderSync, with the folder ids,
// and with the mail server set to die as the next message is submitted
// (killIMAPOnSubmit, whose restart function it returns).
func bobAtFault(t *testing.T, version string) (*easdtest.Env, *client.Client, map[string]string, func()) {
	t.Helper()
	env := easdtest.Start(t, noPolicy)
	bob := env.Client("bob", "phone1")
	if version != "" {
		bob.Version = version
	}
	ids := folderIDs(t, bob)
	return env, bob, ids, killIMAPOnSubmit(t, env)
}

// replySource puts the original in bob's INBOX and names it as the source
// of a SmartReply or SmartForward.
func replySource(t *testing.T, env *easdtest.Env, ids map[string]string) (message.ComposeItem, uint32) {
	t.Helper()
	uid := env.Append(t, "bob", "INBOX", crlf(original))
	return message.ComposeItem{FolderID: ids["Inbox"], ItemID: model.MailID{FolderID: ids["Inbox"], UID: uid}.String()}, uid
}

// requestLogs returns the access log entries of cmd, oldest first.
func requestLogs(t *testing.T, env *easdtest.Env, cmd string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(env.Logs()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil && e["msg"] == "request" && e["cmd"] == cmd {
			out = append(out, e)
		}
	}
	return out
}

// wantFailureLogged checks that the last cmd request was logged with who
// asked, the retryable status and a note naming what failed.
func wantFailureLogged(t *testing.T, env *easdtest.Env, cmd, user, device string, status float64, httpStatus float64, note string) {
	t.Helper()
	logs := requestLogs(t, env, cmd)
	if len(logs) == 0 {
		t.Fatalf("no %s request logged", cmd)
	}
	e := logs[len(logs)-1]
	logged, _ := e["note"].(string) // absent: "", which fails below
	if e["user"] != user || e["device"] != device || e["eas_status"] != status || e["status"] != httpStatus ||
		!strings.Contains(logged, note) || e["level"] == "INFO" {
		t.Errorf("failed %s logged as %v, want user %s device %s status %v/%v and note %q", cmd, e, user, device, status, httpStatus, note)
	}
}

// messageID is the Message-ID of a message as it went out or is stored.
func messageID(t *testing.T, raw []byte) string {
	t.Helper()
	id := header(t, raw, "Message-Id")
	if id == "" {
		t.Fatalf("no Message-ID in\n%s", raw)
	}
	return id
}

// header is a header field of a message as it went out or is stored.
func header(t *testing.T, raw []byte, name string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get(name)
}

// wantOneSent checks that exactly one message went out and that user's
// Sent Items hold exactly one copy of it.
func wantOneSent(t *testing.T, env *easdtest.Env, user string) {
	t.Helper()
	msgs := env.SMTP.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages submitted, want 1", len(msgs))
	}
	sent := mailbox(t, env, user, "Sent")
	if len(sent) != 1 {
		t.Fatalf("%d Sent copies, want 1", len(sent))
	}
	if got, want := messageID(t, sent[0].body), messageID(t, msgs[0].Data); got != want {
		t.Errorf("Sent copy is %s, the message that went out %s", got, want)
	}
	// A Date easd added is the same in both, also when a retry saved the
	// copy seconds later.
	if got, want := header(t, sent[0].body, "Date"), header(t, msgs[0].Data, "Date"); got != want {
		t.Errorf("Sent copy dated %q, the message that went out %q", got, want)
	}
	if !slices.Contains(sent[0].flags, imap.FlagSeen) {
		t.Errorf("Sent copy flags %v, want \\Seen", sent[0].flags)
	}
}

// The SMTP server accepted the message, then the Sent copy could not be
// saved because the IMAP server died: the client gets the retryable 111,
// and its retry with the same ClientId, once IMAP is back, saves the copy
// without sending the message again.
func TestSendMailSentCopyFailsAfterSubmit(t *testing.T) {
	env, bob, _, restart := bobAtFault(t, "")
	ctx := context.Background()

	msg := crlf("To: Alice <alice@example.test>\nSubject: hello\n\nHi Alice\n")
	if st, err := bob.SendMail(ctx, "c1", msg, true); err != nil || st != 111 {
		t.Fatalf("SendMail with the Sent copy failing: %d %v, want 111", st, err)
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Fatalf("%d messages submitted, want 1", n)
	}
	wantFailureLogged(t, env, "SendMail", "bob", "phone1", 111, 200, "save in Sent Items")

	// Still down: the retry stays retryable and sends nothing.
	if st, err := bob.SendMail(ctx, "c1", msg, true); err != nil || st != 111 {
		t.Fatalf("retry with IMAP still down: %d %v, want 111", st, err)
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Fatalf("%d messages submitted after a retry with IMAP down, want 1", n)
	}

	time.Sleep(1100 * time.Millisecond) // a Date made now would differ
	restart()
	if st, err := bob.SendMail(ctx, "c1", msg, true); err != nil || st != 1 {
		t.Fatalf("retry after IMAP is back: %d %v, want 1", st, err)
	}
	wantOneSent(t, env, "bob")
	if !strings.Contains(env.Logs(), "message sent by an earlier request; finishing it") {
		t.Error("the retry did not finish the earlier send")
	}
	// And once more (the success was lost too): answered at once.
	if st, err := bob.SendMail(ctx, "c1", msg, true); err != nil || st != 1 {
		t.Fatalf("second retry: %d %v, want 1", st, err)
	}
	wantOneSent(t, env, "bob")

	// The same ClientId from another device is another message.
	other := env.Client("bob", "phone2")
	if st, err := other.SendMail(ctx, "c1", msg, false); err != nil || st != 1 {
		t.Fatalf("other device: %d %v", st, err)
	}
	if n := len(env.SMTP.Messages()); n != 2 {
		t.Fatalf("%d messages after another device's send, want 2", n)
	}
}

// A SmartReply has two IMAP steps after SMTP: the Sent copy and \Answered
// on the original. Each can fail on its own; the retry finishes both,
// each exactly once, and never sends again.
func TestSmartReplyIMAPFailsAfterSubmit(t *testing.T) {
	for _, tc := range []struct {
		name       string
		saveInSent bool // false: only the flag is left to fail
		forward    bool
		note       string
	}{
		{"reply with Sent copy", true, false, "save in Sent Items"},
		{"reply, flag only", false, false, "flag original"},
		{"forward, flag only", false, true, "flag original"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, bob, ids, restart := bobAtFault(t, "")
			ctx := context.Background()
			src, _ := replySource(t, env, ids)
			send, cmd, flag := bob.SmartReply, "SmartReply", imap.FlagAnswered
			if tc.forward {
				send, cmd, flag = bob.SmartForward, "SmartForward", imap.Flag("$Forwarded")
			}

			reply := crlf("To: alice@example.test\nSubject: Re: plans\nContent-Type: text/plain; charset=utf-8\n\nYes, Friday.\n")
			if st, err := send(ctx, "r1", src, reply, tc.saveInSent, false); err != nil || st != 111 {
				t.Fatalf("%s with IMAP failing after SMTP: %d %v, want 111", cmd, st, err)
			}
			wantFailureLogged(t, env, cmd, "bob", "phone1", 111, 200, tc.note)

			restart()
			if inbox := mailbox(t, env, "bob", "INBOX"); slices.Contains(inbox[0].flags, flag) {
				t.Fatalf("original flagged %v although the step failed", inbox[0].flags)
			}
			if st, err := send(ctx, "r1", src, reply, tc.saveInSent, false); err != nil || st != 1 {
				t.Fatalf("retry: %d %v, want 1", st, err)
			}
			msgs := env.SMTP.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages submitted, want 1", len(msgs))
			}
			if !strings.Contains(string(msgs[0].Data), "Shall we meet on Friday?") {
				t.Errorf("the original was not merged:\n%s", msgs[0].Data)
			}
			if tc.saveInSent {
				wantOneSent(t, env, "bob")
				if sent := mailbox(t, env, "bob", "Sent"); !strings.Contains(string(sent[0].body), "Shall we meet on Friday?") {
					t.Errorf("Sent copy of the retry lacks the merged original:\n%s", sent[0].body)
				}
			} else if sent := mailbox(t, env, "bob", "Sent"); len(sent) != 0 {
				t.Errorf("%d Sent copies without SaveInSentItems", len(sent))
			}
			if inbox := mailbox(t, env, "bob", "INBOX"); !slices.Contains(inbox[0].flags, flag) {
				t.Errorf("original flags %v after the retry, want %s", inbox[0].flags, flag)
			}
		})
	}
}

// The 2.5/12.x form has no ClientId. easd de-duplicates by the message's
// own Message-ID instead, so a message that has one behaves as with a
// ClientId: HTTP 503, and the retry saves the Sent copy without sending
// again. A message without a Message-ID cannot be recognised when it
// comes again, so a retry would send it a second time: once it went out,
// easd answers success even when the Sent copy failed, and logs the loss.
func TestSendMailRawSentCopyFailsAfterSubmit(t *testing.T) {
	t.Run("with Message-ID", func(t *testing.T) {
		env, old, _, restart := bobAtFault(t, "12.1")
		ctx := context.Background()

		raw := crlf("To: alice@example.test\nSubject: from 12.1\nMessage-ID: <raw-fault@example.test>\n\nold school\n")
		query := url.Values{"SaveInSent": {"T"}}
		var he *client.HTTPError
		if err := old.SendMailRaw(ctx, "SendMail", query, raw); !errors.As(err, &he) || he.Code != 503 {
			t.Fatalf("12.1 with the Sent copy failing: %v, want HTTP 503", err)
		}
		if he.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		wantFailureLogged(t, env, "SendMail", "bob", "phone1", 111, 503, "save in Sent Items")

		restart()
		if err := old.SendMailRaw(ctx, "SendMail", query, raw); err != nil {
			t.Fatalf("12.1 retry: %v", err)
		}
		wantOneSent(t, env, "bob")
		if got := messageID(t, mailbox(t, env, "bob", "Sent")[0].body); got != "<raw-fault@example.test>" {
			t.Errorf("Sent copy Message-ID %s", got)
		}
	})

	t.Run("without Message-ID", func(t *testing.T) {
		env, old, _, restart := bobAtFault(t, "12.1")
		ctx := context.Background()

		raw := crlf("To: alice@example.test\nSubject: anonymous\n\nno id\n")
		if err := old.SendMailRaw(ctx, "SendMail", url.Values{"SaveInSent": {"T"}}, raw); err != nil {
			t.Fatalf("12.1 without Message-ID, Sent copy failing: %v, want success (a retry would send again)", err)
		}
		if n := len(env.SMTP.Messages()); n != 1 {
			t.Fatalf("%d messages submitted, want 1", n)
		}
		if !strings.Contains(env.Logs(), "Sent copy or flag lost") {
			t.Error("the lost Sent copy was not logged")
		}
		restart()
		if sent := mailbox(t, env, "bob", "Sent"); len(sent) != 0 {
			t.Errorf("%d Sent copies, want 0", len(sent))
		}
	})
}

// The Sent copy is saved but \Answered cannot be set (the IMAP connection
// breaks on the STORE, again on the fresh one): 111, and the retry sets
// the flag without sending again or saving a second Sent copy.
func TestSmartReplyFlagFailsAfterSentCopy(t *testing.T) {
	var proxy *imapProxy
	env := easdtest.Start(t, noPolicy, func(c *config.Config) {
		proxy = startIMAPProxy(t, c.IMAPAddr, false)
		c.IMAPAddr = proxy.Addr()
	})
	ctx := context.Background()
	bob := env.Client("bob", "phone1")
	src, _ := replySource(t, env, folderIDs(t, bob))
	proxy.CutOn(func(cmd string) bool { return strings.Contains(cmd, "STORE") && strings.Contains(cmd, `\Answered`) })

	reply := crlf("To: alice@example.test\nSubject: Re: plans\n\nYes.\n")
	if st, err := bob.SmartReply(ctx, "r1", src, reply, true, false); err != nil || st != 111 {
		t.Fatalf("SmartReply with the flag failing: %d %v, want 111", st, err)
	}
	wantFailureLogged(t, env, "SmartReply", "bob", "phone1", 111, 200, "flag original")
	wantOneSent(t, env, "bob") // the copy was saved before the flag failed

	proxy.CutOn(nil)
	if st, err := bob.SmartReply(ctx, "r1", src, reply, true, false); err != nil || st != 1 {
		t.Fatalf("retry: %d %v, want 1", st, err)
	}
	wantOneSent(t, env, "bob")
	if inbox := mailbox(t, env, "bob", "INBOX"); !slices.Contains(inbox[0].flags, imap.FlagAnswered) {
		t.Errorf("original flags %v after the retry, want \\Answered", inbox[0].flags)
	}
}

// The reply went out, its Sent copy failed, and before the retry the
// original was deleted (from another device): the retry must not answer
// 150 (ItemNotFound) for a message that was delivered, and every retry
// would. It saves the Sent copy without the original and succeeds.
func TestSmartReplyOriginalGoneBeforeRetry(t *testing.T) {
	env, bob, ids, restart := bobAtFault(t, "")
	ctx := context.Background()
	src, uid := replySource(t, env, ids)

	reply := crlf("To: alice@example.test\nSubject: Re: plans\n\nYes.\n")
	if st, err := bob.SmartReply(ctx, "r1", src, reply, true, false); err != nil || st != 111 {
		t.Fatalf("SmartReply with the Sent copy failing: %d %v, want 111", st, err)
	}
	restart()
	sess, err := mailStore(env).OpenMail(ctx, "bob", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Delete(ctx, "INBOX", []uint32{uid}, ""); err != nil { // expunged
		t.Fatal(err)
	}
	sess.Close()

	if st, err := bob.SmartReply(ctx, "r1", src, reply, true, false); err != nil || st != 1 {
		t.Fatalf("retry with the original gone: %d %v, want 1", st, err)
	}
	wantOneSent(t, env, "bob")
	// A reply the client never sent is still 150.
	if st, err := bob.SmartReply(ctx, "r2", src, reply, true, false); err != nil || st != 150 {
		t.Fatalf("new reply to the deleted original: %d %v, want 150", st, err)
	}
}
