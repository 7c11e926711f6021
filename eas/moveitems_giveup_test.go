package eas_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// A phone that gives up on a MoveItems (1-15 ms into the request) and
// re-sends it gets the message's new ServerId, whether or not its first
// attempt moved the message: the move and its record are one step that
// the phone hanging up does not interrupt.
func TestMoveItemsPhoneGivesUp(t *testing.T) {
	s := startSync(t)
	inbox, junk := s.ids["Inbox"], s.ids["Junk"]
	const n = 60
	uids := make([]uint32, n)
	for i := range n {
		uids[i] = s.env.Append(t, "alice", "INBOX", testMail(i))
	}
	s.syncAll(t, inbox, s.start(t, inbox))
	s.syncAll(t, junk, s.start(t, junk))

	failed := 0
	seen := map[string]bool{}
	for _, uid := range uids {
		mv := message.MoveItem{SrcMsgID: model.MailID{FolderID: inbox, UID: uid}.String(), SrcFldID: inbox, DstFldID: junk}
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond+rand.N(14*time.Millisecond))
		_, _ = s.c.MoveItems(ctx, mv)
		cancel()
		r, err := s.c.MoveItems(context.Background(), mv)
		if err != nil || len(r.Response) != 1 {
			t.Fatalf("re-sent MoveItems: %+v %v", r, err)
		}
		if res := r.Response[0]; res.Status != 3 || res.DstMsgID == "" || seen[res.DstMsgID] {
			failed++
			t.Logf("re-sent move of %s: status %d, new id %q", mv.SrcMsgID, res.Status, res.DstMsgID)
		} else {
			seen[res.DstMsgID] = true
		}
	}
	t.Logf("%d of %d re-sent moves not answered with the new ServerId", failed, n)
	if failed > 0 {
		t.Errorf("%d of %d re-sent moves failed", failed, n)
	}
	if got := len(mailbox(t, s.env, "alice", "Junk")); got != n {
		t.Errorf("%d messages in Junk, want %d", got, n)
	}
	if got := len(mailbox(t, s.env, "alice", "INBOX")); got != 0 {
		t.Errorf("%d messages left in INBOX", got)
	}
}
