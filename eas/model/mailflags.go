package model

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/easd/easd/eas/message"
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

// FlagDetails are what a phone set on a follow-up flag beyond what IMAP
// holds (\Flagged or not): its type, dates and reminder, and whether it
// was completed. easd keeps them per message in PostgreSQL; zero times
// and "" are absent fields.
type FlagDetails struct {
	Complete                                     bool // Status 1; else active (2)
	FlagType                                     string
	StartDate, UtcStartDate, DueDate, UtcDueDate time.Time
	ReminderSet                                  *bool
	ReminderTime, OrdinalDate                    time.Time
	SubOrdinalDate                               string // a string in MS-ASEMAIL, not a date
	CompleteTime, DateCompleted                  time.Time
}

// defaultFlagType is the FlagType of a flag set without one (by an IMAP
// client, or a phone that sent only Status).
const defaultFlagType = "Flag for follow up"

// EmailFlag is the one rule for the Email:Flag shown to a phone, from
// \Flagged and the stored details (nil: none). IMAP is the truth for
// flagged or not; the details only add to a state they agree with:
//   - \Flagged with active details: Status 2 with them;
//   - \Flagged otherwise: the default active flag (no details, or
//     completed ones that another client flagged again);
//   - not \Flagged with completed details: Status 1 with the dates, as
//     IMAP has no "complete";
//   - not \Flagged otherwise: no flag (active details mean the flag was
//     cleared elsewhere).
func EmailFlag(flagged bool, d *FlagDetails) *message.Flag {
	switch {
	case flagged && d != nil && !d.Complete:
		return d.flag(message.FlagActive)
	case flagged:
		return &message.Flag{Status: message.FlagActive, FlagType: defaultFlagType}
	case d != nil && d.Complete:
		return d.flag(message.FlagComplete)
	}
	return &message.Flag{}
}

// Agrees reports whether details fit the IMAP state: when not, EmailFlag
// ignores them and they may be dropped.
func (d *FlagDetails) Agrees(flagged bool) bool { return d.Complete != flagged }

func (d *FlagDetails) flag(status int) *message.Flag {
	f := &message.Flag{
		Status: status, FlagType: d.FlagType,
		StartDate: formatFlagTime(d.StartDate), UtcStartDate: formatFlagTime(d.UtcStartDate),
		DueDate: formatFlagTime(d.DueDate), UtcDueDate: formatFlagTime(d.UtcDueDate),
		ReminderSet: d.ReminderSet, ReminderTime: formatFlagTime(d.ReminderTime),
		OrdinalDate: formatFlagTime(d.OrdinalDate), SubOrdinalDate: d.SubOrdinalDate,
	}
	if f.FlagType == "" {
		f.FlagType = defaultFlagType
	}
	if d.Complete {
		f.CompleteTime, f.DateCompleted = formatFlagTime(d.CompleteTime), formatFlagTime(d.DateCompleted)
	}
	return f
}

// ErrFlagStatus is a client Flag with a Status other than 0, 1 or 2
// (MS-ASEMAIL 2.2.2.74: the server answers Sync Status 6).
var ErrFlagStatus = errors.New("flag status not 0, 1 or 2")

// ParseClientFlag reads a client's Email:Flag: whether the message is to
// be \Flagged, and the details to keep (nil: none, the flag is cleared).
// A completed flag is not \Flagged; it gets a completion time when the
// client sent none, since a Status 1 flag shown to other phones must carry
// one (MS-ASEMAIL 2.2.2.19, 2.2.2.23). A date that does not parse is left
// out rather than failing the whole change.
func ParseClientFlag(f message.Flag, now time.Time) (flagged bool, d *FlagDetails, err error) {
	switch f.Status {
	case message.FlagCleared:
		return false, nil, nil
	case message.FlagActive, message.FlagComplete:
	default:
		return false, nil, fmt.Errorf("%w: %d", ErrFlagStatus, f.Status)
	}
	d = &FlagDetails{
		Complete: f.Status == message.FlagComplete, FlagType: f.FlagType,
		StartDate: parseFlagTime(f.StartDate), UtcStartDate: parseFlagTime(f.UtcStartDate),
		DueDate: parseFlagTime(f.DueDate), UtcDueDate: parseFlagTime(f.UtcDueDate),
		ReminderSet: f.ReminderSet, ReminderTime: parseFlagTime(f.ReminderTime),
		OrdinalDate: parseFlagTime(f.OrdinalDate), SubOrdinalDate: f.SubOrdinalDate,
	}
	if d.Complete {
		d.CompleteTime, d.DateCompleted = parseFlagTime(f.CompleteTime), parseFlagTime(f.DateCompleted)
		now = now.UTC().Truncate(time.Millisecond)
		if d.CompleteTime.IsZero() {
			d.CompleteTime = now
		}
		if d.DateCompleted.IsZero() {
			d.DateCompleted = d.CompleteTime
		}
	}
	return !d.Complete, d, nil
}

// flagTimeLayout is the MS-ASDTYPE dateTime form phones send and expect.
const flagTimeLayout = "2006-01-02T15:04:05.000Z"

func formatFlagTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(flagTimeLayout)
}

// parseFlagTime accepts the MS-ASDTYPE form and the variants clients are
// known to send (no milliseconds, an offset, the compact basic form).
func parseFlagTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{flagTimeLayout, time.RFC3339Nano, "2006-01-02T15:04:05", "20060102T150405Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
