package eas_test

import (
	"context"
	"errors"
	"testing"

	"github.com/easd/easd/eas/client"
)

// GetItemEstimate's "server problems" is the global status 111: a 14.x
// client gets it in the collection's Response, a 12.1 client (which
// knows only Statuses 1-4 there) HTTP 503.
func TestGetItemEstimateServerProblemsPerVersion(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	inbox := s.ids["Inbox"]
	s.env.Append(t, "alice", "INBOX", testMail(1))
	key := s.start(t, inbox)
	old := s.env.Client("alice", "phone-121")
	old.Version = "12.1"
	oldIDs := syncFolderIDs(t, old)
	oldKey := (&syncEnv{env: s.env, c: old, ids: oldIDs}).start(t, oldIDs["Inbox"])
	if err := s.env.IMAP.Stop(); err != nil {
		t.Fatal(err)
	}
	r, err := s.c.GetItemEstimate(ctx, inbox, key, nil)
	if err != nil || len(r.Response) != 1 || r.Response[0].Status != 111 {
		t.Errorf("16.1, mail server down: %+v %v, want Response Status 111", r, err)
	}
	_, err = old.GetItemEstimate(ctx, oldIDs["Inbox"], oldKey, nil)
	var he *client.HTTPError
	if !errors.As(err, &he) || he.Code != 503 {
		t.Errorf("12.1, mail server down: %v, want HTTP 503", err)
	}
}
