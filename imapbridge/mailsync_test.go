package imapbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/testenv"
)

func sampleMail(i int) []byte {
	return fmt.Appendf(nil, "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: sample %d\r\n\r\nbody %d\r\n", i, i)
}

// Change detection against Dovecot, with CONDSTORE and on the path for
// servers without it (forced here): new and expunged messages by UID set,
// flag changes by CHANGEDSINCE or by comparing all flags.
func TestMailSessionChangeDetection(t *testing.T) {
	for _, condstore := range []bool{true, false} {
		t.Run(fmt.Sprintf("condstore=%v", condstore), func(t *testing.T) {
			srv := testenv.Dovecot(t, "alice")
			s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
			ctx := context.Background()
			var uids []uint32
			for i := 1; i <= 5; i++ {
				uid, err := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", sampleMail(i))
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
			if !m.CondStore() {
				t.Fatal("Dovecot without CONDSTORE?")
			}
			m.condstore = condstore

			first, err := m.List(ctx, "INBOX", model.MailListOptions{})
			if err != nil || !slices.Equal(first.All, uids) || !first.AllFlags || len(first.Flags) != 5 {
				t.Fatalf("first listing: %+v %v", first, err)
			}

			// Another client: \Seen on one, one expunged, one new.
			other, err := s.OpenMail(ctx, "alice", "alice")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, err := other.SetFlags(ctx, "INBOX", uids[1], model.MailFlagChange{Seen: new(true)}); err != nil || !ok {
				t.Fatal(ok, err)
			}
			if _, err := other.Delete(ctx, "INBOX", []uint32{uids[2]}, ""); err != nil {
				t.Fatal(err)
			}
			other.Close()
			newUID, err := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", sampleMail(6))
			if err != nil {
				t.Fatal(err)
			}

			// STATUS sees the changes although this session has INBOX
			// selected (List left it so): it costs an UNSELECT first.
			before := m.Commands()
			st, err := m.Status(ctx, "INBOX")
			if err != nil || m.Commands()-before != 2 {
				t.Fatalf("status: %v, %d commands", err, m.Commands()-before)
			}
			// On a connection with nothing selected, STATUS is one command.
			fresh, err := (&Store{Dialer: s.Dialer}).OpenMail(ctx, "alice", "alice")
			if err != nil {
				t.Fatal(err)
			}
			before = fresh.Commands()
			if st2, err := fresh.Status(ctx, "INBOX"); err != nil || st2.UIDNext != st.UIDNext || st2.Messages != st.Messages || fresh.Commands()-before != 1 {
				t.Errorf("STATUS of a mailbox not selected: %+v %v, %d commands", st2, err, fresh.Commands()-before)
			}
			fresh.Close()
			if st == first.Status || st.Messages != 5 || st.UIDNext != newUID+1 {
				t.Fatalf("status %+v after changes, was %+v", st, first.Status)
			}
			l, err := m.List(ctx, "INBOX", model.MailListOptions{ChangedSince: first.Status.HighestModSeq})
			if err != nil {
				t.Fatal(err)
			}
			want := []uint32{uids[0], uids[1], uids[3], uids[4], newUID}
			if !slices.Equal(l.All, want) || !slices.Equal(l.InFilter, want) {
				t.Fatalf("UIDs %v, want %v", l.All, want)
			}
			if !l.Flags[uids[1]].Seen {
				t.Errorf("\\Seen not reported: %+v", l.Flags)
			}
			if condstore {
				if l.AllFlags || len(l.Flags) != 2 {
					t.Errorf("CHANGEDSINCE reported %d messages: %+v", len(l.Flags), l.Flags)
				}
			} else if !l.AllFlags || len(l.Flags) != 5 {
				t.Errorf("plain path: %+v", l)
			}

			// Filter by date; counts.
			tomorrow := time.Now().AddDate(0, 0, 1)
			if l, err := m.List(ctx, "INBOX", model.MailListOptions{Since: tomorrow}); err != nil || len(l.InFilter) != 0 || len(l.All) != 5 {
				t.Errorf("filtered listing: %+v %v", l, err)
			}
			if n, err := m.Count(ctx, "INBOX", time.Time{}); err != nil || n != 5 {
				t.Errorf("count: %d %v", n, err)
			}
			if n, err := m.Count(ctx, "INBOX", tomorrow); err != nil || n != 0 {
				t.Errorf("count since tomorrow: %d %v", n, err)
			}
		})
	}
}

// Fetch renders items in the order asked, skips UIDs that are gone, and
// turns a message the converter refuses into a bare item.
func TestMailSessionFetch(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()
	a, _ := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", sampleMail(1), `\Seen`)
	b, _ := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", []byte("this is not a header line\r\n\r\n"))
	c, _ := dovecot.Append(ctx, srv.Addr(), "alice", "alice", "INBOX", sampleMail(3), `\Flagged`)
	m, err := s.OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	items, err := m.Fetch(ctx, "INBOX", []uint32{c, 999, b, a}, model.MailFetchOptions{FolderID: "1", Version: 161,
		BodyPreferences: []message.BodyPreference{{Type: message.BodyPlain, TruncationSize: new(uint32(5))}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].UID != c || items[1].UID != b || items[2].UID != a {
		t.Fatalf("items %+v", items)
	}
	e := items[0].Data.(*message.Email)
	if e.Subject != "sample 3" || !items[0].Flags.Flagged || e.Body == nil || !e.Body.Truncated || len(e.Body.Data) > 5 {
		t.Errorf("converted: %+v %+v", e, e.Body)
	}
	if e := items[2].Data.(*message.Email); e.Read == nil || !*e.Read {
		t.Errorf("read flag: %+v", e)
	}
	if items[1].Data.(*message.Email) == nil {
		t.Error("no item for the broken message")
	}
	// The fetch selected INBOX: its UIDVALIDITY costs no command, and is
	// the one STATUS gives.
	before := m.Commands()
	uv, err := m.UIDValidity(ctx, "INBOX")
	if err != nil || uv == 0 || m.Commands() != before {
		t.Errorf("UIDVALIDITY of the selected mailbox: %d, %v, %d commands", uv, err, m.Commands()-before)
	}
	if st, err := m.Status(ctx, "INBOX"); err != nil || st.UIDValidity != uv {
		t.Errorf("STATUS says UIDVALIDITY %d (%v), the SELECT said %d", st.UIDValidity, err, uv)
	}
	// A mailbox that does not exist is ErrMailboxGone.
	if _, err := m.List(ctx, "Nope", model.MailListOptions{}); err == nil || !errors.Is(err, model.ErrMailboxGone) {
		t.Errorf("missing mailbox: %v", err)
	}
}

// A \Noselect container reads as not selectable (an empty folder), a
// missing mailbox as gone, with or without RFC 5530 codes.
func TestMailSessionOpenErrors(t *testing.T) {
	srv := testenv.Dovecot(t, "alice")
	s := &Store{Dialer: &Dialer{Addr: srv.Addr(), TLS: config.TLSNone}}
	ctx := context.Background()
	if err := s.CreateMailbox(ctx, "alice", "alice", "Parent/Child"); err != nil {
		t.Fatal(err)
	}
	// Deleting a mailbox with children leaves a \Noselect container.
	_ = s.DeleteMailbox(ctx, "alice", "alice", "Parent")
	m, err := s.OpenMail(ctx, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.List(ctx, "Nope", model.MailListOptions{}); !errors.Is(err, model.ErrMailboxGone) {
		t.Errorf("missing mailbox: %v", err)
	}
	if _, err := m.Status(ctx, "Nope"); !errors.Is(err, model.ErrMailboxGone) {
		t.Errorf("status of a missing mailbox: %v", err)
	}
	if _, err := m.List(ctx, "Parent", model.MailListOptions{}); !errors.Is(err, model.ErrNotSelectable) {
		t.Errorf("container: %v", err)
	}
}
