package mailconv

import (
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// LastVerbExecuted values (MS-ASEMAIL 2.2.2.45).
const (
	verbReply   = 1
	verbForward = 3
)

// flagState is what the IMAP flags say (model.ParseMailFlags).
type flagState struct{ model.MailFlags }

func readFlags(flags []string) flagState { return flagState{model.ParseMailFlags(flags)} }

// flag returns the Email:Flag that the IMAP flags alone give (model.EmailFlag
// without details): active follow-up or empty. The Sync and ItemOperations
// handlers add the stored details, which this package does not see, by
// the same rule.
func (s flagState) flag() *message.Flag { return model.EmailFlag(s.Flagged, nil) }

// verb returns LastVerbExecuted; a forward counts over a reply, as IMAP
// does not say which came last.
func (s flagState) verb() int {
	switch {
	case s.Forwarded:
		return verbForward
	case s.Answered:
		return verbReply
	}
	return 0
}

// FlagChange returns the item of a Sync Change when only the IMAP flags
// of a message changed: Read, Flag (12.0+), Categories and the last verb
// (14.0+; an empty list clears the categories on the device); rendered as
// a full item renders them.
func FlagChange(f model.MailFlags, version int) *message.Email {
	s := flagState{f}
	e := &message.Email{Read: new(s.Seen)}
	if version >= 120 {
		e.Flag = s.flag()
	}
	if version >= 140 {
		e.Categories = &message.Categories{Category: s.Keywords}
		e.LastVerbExecuted = s.verb()
	}
	return e
}
