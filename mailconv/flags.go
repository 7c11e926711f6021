package mailconv

import (
	"strings"

	"github.com/easd/easd/eas/message"
)

// LastVerbExecuted values (MS-ASEMAIL 2.2.2.45).
const (
	verbReply   = 1
	verbForward = 3
)

// thunderbirdLabels are the keywords Thunderbird uses for its default
// tags; they become categories under their visible names.
var thunderbirdLabels = map[string]string{
	"$label1": "Important",
	"$label2": "Work",
	"$label3": "Personal",
	"$label4": "To Do",
	"$label5": "Later",
}

// flagState is what the IMAP flags say.
type flagState struct {
	seen, flagged, answered, forwarded, draft bool
	categories                                []string
}

// readFlags interprets IMAP system flags and keywords. Keywords that are
// not protocol markers (`$Forwarded`, `$MDNSent`, `$Junk`, ...) are
// categories.
func readFlags(flags []string) flagState {
	var s flagState
	for _, f := range flags {
		lf := strings.ToLower(f)
		switch lf {
		case `\seen`:
			s.seen = true
		case `\flagged`:
			s.flagged = true
		case `\answered`:
			s.answered = true
		case `\draft`:
			s.draft = true
		case "$forwarded", "forwarded":
			s.forwarded = true
		default:
			if name, ok := thunderbirdLabels[lf]; ok {
				s.categories = append(s.categories, name)
			} else if f != "" && f[0] != '\\' && f[0] != '$' && lf != "nonjunk" && lf != "junk" {
				s.categories = append(s.categories, f)
			}
		}
	}
	return s
}

// flag returns the Email:Flag for the state: active follow-up or empty.
func (s flagState) flag() *message.Flag {
	if !s.flagged {
		return &message.Flag{}
	}
	return &message.Flag{Status: message.FlagActive, FlagType: "Flag for follow up"}
}

// verb returns LastVerbExecuted; a forward counts over a reply, as IMAP
// does not say which came last.
func (s flagState) verb() int {
	switch {
	case s.forwarded:
		return verbForward
	case s.answered:
		return verbReply
	}
	return 0
}

// FlagChange returns the item of a Sync Change when only the IMAP flags
// of a message changed: Read, Flag (12.0+) and Categories (14.0+; an
// empty list clears them on the device).
func FlagChange(flags []string, version int) *message.Email {
	s := readFlags(flags)
	e := &message.Email{Read: new(s.seen)}
	if version >= 120 {
		e.Flag = s.flag()
	}
	if version >= 140 {
		e.Categories = &message.Categories{Category: s.categories}
		e.LastVerbExecuted = s.verb()
	}
	return e
}
