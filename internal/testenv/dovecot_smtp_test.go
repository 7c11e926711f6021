package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/easd/easd/internal/dovecot"
)

const testMessage = "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\n\r\nbody\r\n"

func TestDovecotPerTest(t *testing.T) {
	begin := time.Now()
	s := Dovecot(t, "alice", "bob")
	t.Logf("Dovecot(t) took %v", time.Since(begin).Round(time.Millisecond))
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		if _, err := dovecot.Append(ctx, s.Addr(), u, u, "INBOX", []byte(testMessage)); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
}

func TestDovecotMasterUser(t *testing.T) {
	s := DovecotWith(t, dovecot.Config{
		Users:      map[string]string{"carol": "pw"},
		MasterUser: "easd", MasterPassword: "mpw",
	})
	if _, err := dovecot.Append(context.Background(), s.Addr(), s.MasterLogin("carol"), "mpw", "Drafts", []byte(testMessage)); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPSink(t *testing.T) {
	sink := SMTP(t)
	c, err := smtp.Dial(sink.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "alice", "pw")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("a@example.org", []string{"b@example.org"}, strings.NewReader(testMessage)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := sink.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].AuthUser != "alice" || string(msgs[0].Data) != testMessage {
		t.Fatalf("recorded %+v", msgs[0])
	}
}
