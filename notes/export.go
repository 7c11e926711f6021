package notes

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/easd/easd/eas/model"
	"github.com/emersion/go-ical"
)

// ErrNoNotes: an export of a folder without notes. iCalendar has no empty
// calendar (RFC 5545 3.6 wants a component), so there is nothing to write.
var ErrNoNotes = errors.New("notes: the folder has no notes")

// Properties of the VJOURNAL export that iCalendar has no standard name
// for.
const (
	// propAltDesc is the note's HTML body, as Outlook and others export
	// an HTML description; DESCRIPTION holds its text.
	propAltDesc = "X-ALT-DESC"
	// propMessageClass keeps a class other than IPM.StickyNote.
	propMessageClass = "X-EAS-MESSAGE-CLASS"
)

// WriteJournal writes ns as one iCalendar object of VJOURNAL components
// (RFC 5545 3.6.3), the form desktop calendars read notes ("memos") in:
// SUMMARY the subject, DESCRIPTION the text, CATEGORIES, DTSTART and
// LAST-MODIFIED the note's last change. DTSTAMP is that time too, so
// exporting an unchanged folder twice gives the same bytes.
func WriteJournal(w io.Writer, ns []Note) error {
	if len(ns) == 0 {
		return ErrNoNotes
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//easd//notes//EN")
	for _, n := range ns {
		j := ical.NewComponent(ical.CompJournal)
		lm := n.LastModified.UTC()
		j.Props.SetText(ical.PropUID, n.UID)
		j.Props.SetDateTime(ical.PropDateTimeStamp, lm)
		j.Props.SetDateTime(ical.PropDateTimeStart, lm)
		j.Props.SetDateTime(ical.PropLastModified, lm)
		if n.Subject != "" {
			j.Props.SetText(ical.PropSummary, n.Subject)
		}
		text := n.Body
		if n.BodyType == BodyHTML {
			text = model.TextOfHTML(n.Body)
			alt := ical.NewProp(propAltDesc)
			alt.SetText(n.Body)
			alt.Params.Set("FMTTYPE", "text/html")
			j.Props.Set(alt)
		}
		if text != "" {
			j.Props.SetText(ical.PropDescription, text)
		}
		if len(n.Categories) > 0 {
			p := ical.NewProp(ical.PropCategories)
			p.SetTextList(n.Categories)
			j.Props.Set(p)
		}
		if n.MessageClass != "" && n.MessageClass != DefaultMessageClass {
			j.Props.SetText(propMessageClass, n.MessageClass)
		}
		cal.Children = append(cal.Children, j)
	}
	return ical.NewEncoder(w).Encode(cal)
}

// WriteTextFiles writes each note to dir as a text file of its own: the
// subject, a blank line, the text. Files are named after the subject
// (made safe for any file system), numbered when two notes share a name,
// and dated with the note's last change. It returns the names written.
func WriteTextFiles(dir string, ns []Note) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	used := map[string]bool{}
	var names []string
	for _, n := range ns {
		base := fileName(n.Subject)
		name := base + ".txt"
		for i := 2; used[strings.ToLower(name)]; i++ {
			name = fmt.Sprintf("%s (%d).txt", base, i)
		}
		used[strings.ToLower(name)] = true
		text := n.Body
		if n.BodyType == BodyHTML {
			text = model.TextOfHTML(text)
		}
		var b strings.Builder
		if n.Subject != "" {
			b.WriteString(n.Subject + "\n\n")
		}
		b.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			b.WriteByte('\n')
		}
		path := filepath.Join(dir, name)
		// O_EXCL: an export never overwrites a file it did not write.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return names, fmt.Errorf("notes: %w", err)
		}
		_, err = io.WriteString(f, b.String())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return names, fmt.Errorf("notes: %s: %w", path, err)
		}
		if !n.LastModified.IsZero() {
			_ = os.Chtimes(path, time.Time{}, n.LastModified)
		}
		names = append(names, name)
	}
	return names, nil
}

// fileName makes a subject into a file name: path separators, control
// and reserved characters replaced, at most 80 characters, never empty
// or a dot name.
func fileName(subject string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(subject) {
		if n == 80 {
			break
		}
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) {
			r = '_'
		}
		b.WriteRune(r)
		n++
	}
	s := strings.TrimRight(b.String(), " .")
	if strings.Trim(s, ".") == "" {
		return "note"
	}
	return s
}
