package imapbridge

import (
	"context"
	"testing"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/testenv"
)

func TestMailboxTypes(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()
	for _, name := range []string{"Gesendet", "Archive", "Archive/2025"} {
		if err := s.CreateMailbox(ctx, "alice", "alice", name); err != nil {
			t.Fatal(err)
		}
	}
	types := func() map[string]model.FolderType {
		boxes, err := s.Mailboxes(ctx, "alice", "alice")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]model.FolderType{}
		for _, b := range boxes {
			m[b.Name] = b.Type
		}
		if boxes[0].Name != "INBOX" {
			t.Errorf("INBOX not first: %v", boxes)
		}
		return m
	}
	// SPECIAL-USE decides.
	got := types()
	want := map[string]model.FolderType{"INBOX": 2, "Drafts": 3, "Sent": 5, "Trash": 4, "Junk": 12, "Gesendet": 12, "Archive": 12, "Archive/2025": 12}
	for name, ty := range want {
		if got[name] != ty {
			t.Errorf("%s: type %d, want %d", name, got[name], ty)
		}
	}
	// A configured name wins and takes the type from the SPECIAL-USE one.
	s.SpecialNames = map[string]model.FolderType{"Gesendet": model.FolderSentItems}
	got = types()
	if got["Gesendet"] != model.FolderSentItems || got["Sent"] != model.FolderUserMail {
		t.Errorf("configured: Gesendet %d, Sent %d", got["Gesendet"], got["Sent"])
	}
}
