package imapbridge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/eas/model"
)

// flagForwarded is the keyword most clients (Thunderbird, Dovecot's own
// tools, Apple Mail) set on a forwarded message.
const flagForwarded imap.Flag = "$Forwarded"

// notCategories are keywords that mean something to mail clients or
// filters; they are never shown to a phone as categories.
var notCategories = map[string]bool{
	"junk": true, "nonjunk": true, "notjunk": true,
}

// thunderbirdLabels are Thunderbird's default tags, shown as categories
// under their visible names, as package mailconv shows them in items.
var thunderbirdLabels = map[string]string{
	"$label1": "Important", "$label2": "Work", "$label3": "Personal", "$label4": "To Do", "$label5": "Later",
}

// mailFlags turns IMAP flags into what a phone shows. Keywords starting
// with '$' are reserved for clients and filters ($Junk, $MDNSent,
// $label1 ...) and are not categories.
func mailFlags(flags []imap.Flag) model.MailFlags {
	var f model.MailFlags
	for _, fl := range flags {
		switch {
		case strings.EqualFold(string(fl), string(imap.FlagSeen)):
			f.Seen = true
		case strings.EqualFold(string(fl), string(imap.FlagFlagged)):
			f.Flagged = true
		case strings.EqualFold(string(fl), string(imap.FlagAnswered)):
			f.Answered = true
		case strings.EqualFold(string(fl), string(flagForwarded)), strings.EqualFold(string(fl), "forwarded"):
			f.Forwarded = true
		case thunderbirdLabels[strings.ToLower(string(fl))] != "":
			f.Keywords = append(f.Keywords, thunderbirdLabels[strings.ToLower(string(fl))])
		case strings.HasPrefix(string(fl), "\\") || strings.HasPrefix(string(fl), "$"):
		case notCategories[strings.ToLower(string(fl))]:
		default:
			f.Keywords = append(f.Keywords, categoryOf(string(fl)))
		}
	}
	slices.Sort(f.Keywords)
	return f
}

// IMAP keywords are atoms: no spaces, parentheses, quotes, wildcards or
// control characters, while EAS categories ("Red Category") are free
// text. keywordOf escapes every byte outside the safe set, and '_' itself,
// as "_XX", so the mapping is reversible and plain one-word categories stay
// readable in other mail clients.
func keywordOf(category string) imap.Flag {
	var b strings.Builder
	for i := 0; i < len(category); i++ {
		c := category[i]
		if keywordSafe(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	s := b.String()
	// A leading '$' or '\' would make it a system flag or a reserved
	// keyword; escaping covers '\', '$' needs it here.
	if strings.HasPrefix(s, "$") {
		s = "_24" + s[1:]
	}
	return imap.Flag(s)
}

func keywordSafe(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`(){%*"\]_`, rune(c))
}

// categoryOf reverses keywordOf; keywords other clients made without
// escapes come back unchanged.
func categoryOf(kw string) string {
	if !strings.Contains(kw, "_") {
		return kw
	}
	var b strings.Builder
	for i := 0; i < len(kw); i++ {
		if kw[i] == '_' && i+2 < len(kw) {
			var c byte
			if _, err := fmt.Sscanf(kw[i+1:i+3], "%02X", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(kw[i])
	}
	return b.String()
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
		want := map[imap.Flag]bool{}
		for _, c := range *ch.Keywords {
			want[keywordOf(c)] = true
		}
		have := map[string]bool{}
		for _, fl := range cur {
			if isCategoryKeyword(fl) {
				have[categoryOf(string(fl))] = true
				if !want[keywordOf(categoryOf(string(fl)))] {
					del = append(del, fl)
				}
			}
		}
		for _, c := range *ch.Keywords {
			if !have[c] {
				add = append(add, keywordOf(c))
			}
		}
	}
	return add, del
}

func isCategoryKeyword(fl imap.Flag) bool {
	s := string(fl)
	return s != "" && !strings.HasPrefix(s, "\\") && !strings.HasPrefix(s, "$") && !notCategories[strings.ToLower(s)]
}
