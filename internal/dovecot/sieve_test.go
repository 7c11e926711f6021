package dovecot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/internal/managesieve"
	"github.com/easd/easd/internal/smtpsink"
)

// TestSieveVacationThroughLMTP: a vacation script uploaded through
// ManageSieve answers mail delivered through LMTP, and the reply reaches
// the submission host; the mail itself lands in the user's INBOX.
func TestSieveVacationThroughLMTP(t *testing.T) {
	sink, err := smtpsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := Start(ctx, Config{Dir: testDir(t), Users: map[string]string{"alice": "pw"},
		Sieve: &SieveConfig{SubmissionHost: sink.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	c, err := managesieve.Dial(ctx, srv.ManageSieveAddr(), managesieve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.AuthenticatePlain("", "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	script := "require \"vacation\";\r\nvacation :days 1 :addresses [\"alice@example.test\"] :subject \"Away\" \"Back soon.\";\r\n"
	if err := c.PutScript("v", script); err != nil {
		t.Fatal(err)
	}
	if err := c.SetActive("v"); err != nil {
		t.Fatal(err)
	}
	msg := "From: Carol <carol@outside.test>\r\nTo: alice@example.test\r\nSubject: hello\r\nMessage-ID: <1@outside.test>\r\n\r\nHi.\r\n"
	if err := Deliver(ctx, srv.LMTPAddr(), "carol@outside.test", "alice@example.test", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got, err := sink.Wait(ctx, 1)
	if err != nil {
		t.Fatalf("no vacation reply: %v", err)
	}
	if len(got[0].To) != 1 || got[0].To[0] != "carol@outside.test" || !strings.Contains(string(got[0].Data), "Back soon.") {
		t.Fatalf("reply: %+v\n%s", got[0], got[0].Data)
	}
	n, err := countMessages(ctx, srv.Addr(), "alice", "pw", "INBOX")
	if err != nil || n != 1 {
		t.Fatalf("INBOX has %d messages, %v", n, err)
	}
}

func countMessages(ctx context.Context, addr, user, password, mailbox string) (uint32, error) {
	c, done, err := dialLogin(ctx, addr, user, password)
	if err != nil {
		return 0, err
	}
	defer done()
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0, err
	}
	return *st.NumMessages, nil
}
