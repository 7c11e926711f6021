package model

import (
	"fmt"
	"strings"
)

// The meaning of IMAP flags and keywords for a phone lives here, in one
// place: the mail store uses it for sync-state versions and STORE
// commands, the MIME converter for the items it renders.

// thunderbirdLabels are Thunderbird's default tags; a phone shows them as
// categories under their visible names.
var thunderbirdLabels = map[string]string{
	"$label1": "Important", "$label2": "Work", "$label3": "Personal", "$label4": "To Do", "$label5": "Later",
}

// notCategories are keywords that mean something to mail clients or
// filters; they are never shown to a phone as categories.
var notCategories = map[string]bool{"junk": true, "nonjunk": true, "notjunk": true}

// ParseMailFlags interprets IMAP system flags and keywords, keeping the
// keywords in the server's order. Keywords starting with '$' are reserved
// for clients and filters ($Junk, $MDNSent ...) and are not categories,
// except Thunderbird's labels.
func ParseMailFlags(flags []string) MailFlags {
	var f MailFlags
	for _, fl := range flags {
		lf := strings.ToLower(fl)
		switch {
		case lf == `\seen`:
			f.Seen = true
		case lf == `\flagged`:
			f.Flagged = true
		case lf == `\answered`:
			f.Answered = true
		case lf == `\draft`:
			f.Draft = true
		case lf == "$forwarded" || lf == "forwarded":
			f.Forwarded = true
		case thunderbirdLabels[lf] != "":
			f.Keywords = append(f.Keywords, thunderbirdLabels[lf])
		case IsCategoryKeyword(fl):
			f.Keywords = append(f.Keywords, KeywordCategory(fl))
		}
	}
	return f
}

// IsCategoryKeyword reports whether an IMAP flag is a keyword that stands
// for an EAS category.
func IsCategoryKeyword(fl string) bool {
	return fl != "" && fl[0] != '\\' && fl[0] != '$' && !notCategories[strings.ToLower(fl)]
}

// CategoryKeyword turns an EAS category into an IMAP keyword. Keywords are
// atoms (no spaces, parentheses, quotes, wildcards or control characters)
// while categories ("Red Category") are free text, so every byte outside
// the safe set, and '_' itself, is escaped as "_XX": the mapping is
// reversible and one-word categories stay readable in other mail clients.
func CategoryKeyword(category string) string {
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
	// A leading '$' would make it a reserved keyword ('\' is escaped).
	if strings.HasPrefix(s, "$") {
		s = "_24" + s[1:]
	}
	return s
}

func keywordSafe(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`(){%*"\]_`, rune(c))
}

// KeywordCategory reverses CategoryKeyword; keywords other clients made
// without escapes come back unchanged.
func KeywordCategory(kw string) string {
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
