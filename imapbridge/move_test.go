package imapbridge

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/testenv"
)

// Move keeps the flags, says the new UID, and reports a missing message
// as gone rather than as an error; Search finds by text and by arrival
// time, and says the times.
func TestMailSessionMoveAndSearch(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()
	var uids []uint32
	for i := 1; i <= 3; i++ {
		uid, err := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", sampleMail(i), `\Flagged`)
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, uid)
	}
	m, err := s.OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	newUID, flags, ok, err := m.Move(ctx, "INBOX", uids[0], "Junk")
	if err != nil || !ok || newUID == 0 || !flags.Flagged {
		t.Fatalf("move: uid %d flags %+v ok %v err %v", newUID, flags, ok, err)
	}
	if fl, err := m.Flags(ctx, "Junk", []uint32{newUID}); err != nil || !fl[newUID].Flagged {
		t.Fatalf("moved message in Junk: %+v %v", fl, err)
	}
	if _, _, ok, err := m.Move(ctx, "INBOX", uids[0], "Junk"); ok || err != nil {
		t.Fatalf("second move of the same UID: ok %v err %v", ok, err)
	}
	if _, _, _, err := m.Move(ctx, "INBOX", uids[1], "Nowhere"); !errors.Is(err, model.ErrMailboxGone) {
		t.Fatalf("move to a missing mailbox: %v", err)
	}

	got, dates, err := m.Search(ctx, "INBOX", "body 2", time.Time{}, time.Time{})
	if err != nil || !slices.Equal(got, []uint32{uids[1]}) || len(dates) != 1 || dates[0].IsZero() {
		t.Fatalf("search text: %v %v %v", got, dates, err)
	}
	got, _, err = m.Search(ctx, "INBOX", "", time.Time{}, time.Time{})
	if err != nil || !slices.Equal(got, uids[1:]) {
		t.Fatalf("search all: %v %v", got, err)
	}
	now := time.Now()
	if got, _, err = m.Search(ctx, "INBOX", "", now.Add(time.Hour), time.Time{}); err != nil || len(got) != 0 {
		t.Fatalf("search future: %v %v", got, err)
	}
	if got, _, err = m.Search(ctx, "INBOX", "", now.Add(-time.Hour), now.Add(time.Hour)); err != nil || len(got) != 2 {
		t.Fatalf("search last hour: %v %v", got, err)
	}
}
