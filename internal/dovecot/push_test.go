package dovecot

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPushEventsPosted runs the shipped easd-push.lua: an APPEND is posted
// with the user, the mailbox and the shared secret.
func TestPushEventsPosted(t *testing.T) {
	type post struct {
		auth string
		body pushBody
	}
	posts := make(chan post, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var pb pushBody
		if err := json.Unmarshal(b, &pb); err != nil {
			t.Errorf("body %q: %v", b, err)
		}
		posts <- post{auth: r.Header.Get("Authorization"), body: pb}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	s := startServer(t, Config{Users: map[string]string{"bob": "bobpw"},
		PushEvents: &PushEvents{URL: srv.URL + "/push-events/dovecot", Secret: "s3cret"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Append(ctx, s.Addr(), "bob", "bobpw", "INBOX", []byte(sampleMessage)); err != nil {
		t.Fatal(err)
	}
	// The first login creates the mailboxes (MailboxCreate) first.
	for {
		select {
		case p := <-posts:
			if p.auth != "Bearer s3cret" || p.body.User != "bob" {
				t.Errorf("Authorization %q, body %+v", p.auth, p.body)
			}
			for _, ev := range p.body.Events {
				if ev.Event == "MessageAppend" && ev.Mailbox == "INBOX" {
					return
				}
			}
		case <-ctx.Done():
			t.Fatalf("no MessageAppend posted%s", s.logTail())
		}
	}
}

type pushBody struct {
	User   string `json:"user"`
	Events []struct {
		Event   string `json:"event"`
		Mailbox string `json:"mailbox"`
	} `json:"events"`
}
