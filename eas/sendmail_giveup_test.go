package eas_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/smtpsink"
)

// subjectCounts counts messages by Subject.
func subjectCounts(t *testing.T, raws [][]byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, raw := range raws {
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		out[m.Header.Get("Subject")]++
	}
	return out
}

// wantEachOnce checks that every one of n messages "give-up i" reached the
// SMTP server once and has one copy in user's Sent Items, and logs how
// many did not.
func wantEachOnce(t *testing.T, env *easdtest.Env, user string, n int) {
	t.Helper()
	var out, sent [][]byte
	for _, m := range env.SMTP.Messages() {
		out = append(out, m.Data)
	}
	for _, m := range mailbox(t, env, user, "Sent") {
		sent = append(sent, m.body)
	}
	delivered, saved := subjectCounts(t, out), subjectCounts(t, sent)
	var twice, lost, copies int
	for i := range n {
		s := fmt.Sprintf("give-up %d", i)
		switch {
		case delivered[s] > 1:
			twice++
		case delivered[s] == 0:
			lost++
		}
		if saved[s] != 1 {
			copies++
		}
	}
	t.Logf("%d messages: %d delivered twice or more, %d lost, %d without exactly one Sent copy", n, twice, lost, copies)
	if twice+lost+copies > 0 {
		t.Errorf("%d delivered more than once, %d lost, %d without exactly one Sent copy", twice, lost, copies)
	}
}

// A phone that gives up on a SendMail mid-request (its connection closes
// after the mail server has the message, before easd read the 250) and
// re-sends it with the same ClientId must not deliver it twice: once the
// message is on its way, easd finishes the submission, its record and the
// Sent copy whatever the phone does, and the retry finds the record.
func TestSendMailPhoneGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		confirm time.Duration // how long the mail server takes to answer the ".": on loopback the 250 follows within a millisecond, too soon for a phone to hang up between
	}{
		{"phone gives up 1-15 ms after the mail server has the message", 40, 10 * time.Millisecond},
		{"mail server confirms after 200 ms", 20, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := easdtest.Start(t, noPolicy)
			var mu sync.Mutex
			var giveUp context.CancelFunc // the phone's, for the message on its way
			env.SMTP.SetOnMessage(func(smtpsink.Message) error {
				mu.Lock()
				cancel := giveUp
				mu.Unlock()
				time.AfterFunc(time.Millisecond+rand.N(14*time.Millisecond), cancel)
				time.Sleep(tc.confirm)
				return nil
			})
			bob := env.Client("bob", "phone1")
			folderIDs(t, bob)
			for i := range tc.n {
				msg := crlf(fmt.Sprintf("To: alice@example.test\nSubject: give-up %d\n\nmessage %d\n", i, i))
				id := fmt.Sprintf("gu-%d", i)
				ctx, cancel := context.WithCancel(context.Background())
				mu.Lock()
				giveUp = cancel
				mu.Unlock()
				_, _ = bob.SendMail(ctx, id, msg, true)
				cancel()
				// The phone retries until it is told the message went out.
				for try := 0; ; try++ {
					st, err := bob.SendMail(context.Background(), id, msg, true)
					if err == nil && st == 1 {
						break
					}
					if try == 5 {
						t.Fatalf("retry of %s: %d %v", id, st, err)
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
			wantEachOnce(t, env, "bob", tc.n)
		})
	}
}

// Two SendMails with one ClientId at the same time (a phone that retried
// while its first request was still running) deliver the message once
// and leave one copy in Sent Items: the check whether the copy is saved
// and the save are one step.
func TestSendMailSameClientIDAtOnce(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	bob := env.Client("bob", "phone1")
	folderIDs(t, bob)
	const trials = 5
	for i := range trials {
		msg := crlf(fmt.Sprintf("To: alice@example.test\nSubject: give-up %d\n\nmessage %d\n", i, i))
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if st, err := bob.SendMail(context.Background(), fmt.Sprintf("twin-%d", i), msg, true); err != nil || st != 1 {
					t.Errorf("SendMail: %d %v", st, err)
				}
			})
		}
		wg.Wait()
	}
	wantEachOnce(t, env, "bob", trials)
}
