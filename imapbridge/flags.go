package imapbridge

import (
	"slices"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/eas/model"
)

// mailFlags turns IMAP flags into what a phone shows (see
// model.ParseMailFlags), keywords sorted so that the version in the sync
// state does not depend on the server's order.
func mailFlags(flags []imap.Flag) model.MailFlags {
	f := model.ParseMailFlags(flagStrings(flags))
	slices.Sort(f.Keywords)
	return f
}

func flagStrings(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

// flagStores computes the STORE operations that apply ch to a message
// whose flags are now cur (raw IMAP flags): flags to add and to remove.
func flagStores(cur []imap.Flag, ch model.MailFlagChange) (add, del []imap.Flag) {
	if ch.Seen != nil {
		if *ch.Seen {
			add = append(add, imap.FlagSeen)
		} else {
			del = append(del, imap.FlagSeen)
		}
	}
	if ch.Flagged != nil {
		if *ch.Flagged {
			add = append(add, imap.FlagFlagged)
		} else {
			del = append(del, imap.FlagFlagged)
		}
	}
	if ch.Keywords != nil {
		want := map[string]bool{}
		for _, c := range *ch.Keywords {
			want[model.CategoryKeyword(c)] = true
		}
		have := map[string]bool{}
		for _, fl := range cur {
			if kw := string(fl); model.IsCategoryKeyword(kw) {
				c := model.KeywordCategory(kw)
				have[c] = true
				if !want[model.CategoryKeyword(c)] {
					del = append(del, fl)
				}
			}
		}
		for _, c := range *ch.Keywords {
			if !have[c] {
				add = append(add, imap.Flag(model.CategoryKeyword(c)))
			}
		}
	}
	return add, del
}
