package imapbridge

import (
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/eas/model"
)

func TestMailFlags(t *testing.T) {
	for _, tc := range []struct {
		flags []imap.Flag
		want  model.MailFlags
	}{
		{nil, model.MailFlags{}},
		{[]imap.Flag{`\Seen`, `\Recent`, `$Junk`, "NonJunk"}, model.MailFlags{Seen: true}},
		{[]imap.Flag{`\flagged`, `\Answered`, "$Forwarded"}, model.MailFlags{Flagged: true, Answered: true, Forwarded: true}},
		{[]imap.Flag{"Work", "Red_20Category", "$label1"}, model.MailFlags{Keywords: []string{"Important", "Red Category", "Work"}}},
	} {
		got := mailFlags(tc.flags)
		if got.Seen != tc.want.Seen || got.Flagged != tc.want.Flagged || got.Answered != tc.want.Answered ||
			got.Forwarded != tc.want.Forwarded || !slices.Equal(got.Keywords, tc.want.Keywords) {
			t.Errorf("mailFlags(%v) = %+v, want %+v", tc.flags, got, tc.want)
		}
	}
	// Versions change with what a phone shows, and only with that.
	a := mailFlags([]imap.Flag{`\Seen`, "Work"})
	if a.Version() != mailFlags([]imap.Flag{"Work", `\Seen`, `$MDNSent`}).Version() {
		t.Error("an IMAP-only flag changed the version")
	}
	if a.Version() == mailFlags([]imap.Flag{`\Seen`}).Version() || a.Version() == mailFlags([]imap.Flag{"Work"}).Version() {
		t.Error("versions do not tell flag states apart")
	}
}

func TestFlagStores(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name     string
		cur      []imap.Flag
		ch       model.MailFlagChange
		add, del []imap.Flag
	}{
		{"read", nil, model.MailFlagChange{Seen: &yes}, []imap.Flag{`\Seen`}, nil},
		{"unread unflag", []imap.Flag{`\Seen`}, model.MailFlagChange{Seen: &no, Flagged: &no}, nil, []imap.Flag{`\Seen`, `\Flagged`}},
		{"categories replace", []imap.Flag{`\Seen`, "Old", "Keep", "$Junk"}, model.MailFlagChange{Keywords: &[]string{"Keep", "New One"}},
			[]imap.Flag{"New_20One"}, []imap.Flag{"Old"}},
		{"categories clear", []imap.Flag{"A_20B"}, model.MailFlagChange{Keywords: &[]string{}}, nil, []imap.Flag{"A_20B"}},
	} {
		add, del := flagStores(tc.cur, tc.ch)
		if !slices.Equal(add, tc.add) || !slices.Equal(del, tc.del) {
			t.Errorf("%s: add %v del %v, want %v %v", tc.name, add, del, tc.add, tc.del)
		}
	}
}
