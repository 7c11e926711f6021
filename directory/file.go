package directory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-vcard"

	"github.com/easd/easd/contacts"
)

// FileEntry is an entry read from a file, with the line it starts on.
type FileEntry struct {
	Line int
	Entry
}

// LineError is a problem with one line of an imported file.
type LineError struct {
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// CSVColumns are the columns a CSV file may have, named in its first
// line, in any order; email is required. other-emails holds addresses
// separated by ";", hidden is true or false, kind person or resource.
var CSVColumns = []string{"display-name", "first-name", "last-name", "alias", "email", "other-emails", "phone",
	"mobile-phone", "home-phone", "title", "company", "office", "department", "kind", "hidden"}

// ReadCSV reads entries from CSV. Every bad line is reported; the entries
// are returned only when there is none.
func ReadCSV(r io.Reader) ([]FileEntry, []LineError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, []LineError{{1, "no header line: " + err.Error()}}
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range CSVColumns {
			known = known || c == h
		}
		if !known {
			return nil, []LineError{{1, fmt.Sprintf("unknown column %q (columns: %s)", h, strings.Join(CSVColumns, ", "))}}
		}
		col[h] = i
	}
	if _, ok := col["email"]; !ok {
		return nil, []LineError{{1, "no email column"}}
	}
	var out []FileEntry
	var bad []LineError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LineError{pe.Line, pe.Err.Error()})
				continue
			}
			return nil, append(bad, LineError{line, err.Error()})
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := Entry{Kind: get("kind")}
		e.DisplayName, e.FirstName, e.LastName, e.Alias = get("display-name"), get("first-name"), get("last-name"), get("alias")
		e.Phone, e.MobilePhone, e.HomePhone = get("phone"), get("mobile-phone"), get("home-phone")
		e.Title, e.Company, e.Office, e.Department = get("title"), get("company"), get("office"), get("department")
		e.Emails = append([]string{get("email")}, strings.Split(get("other-emails"), ";")...)
		if h := get("hidden"); h != "" {
			v, err := strconv.ParseBool(h)
			if err != nil {
				bad = append(bad, LineError{line, fmt.Sprintf("hidden %q is not true or false", h)})
				continue
			}
			e.Hidden = v
		}
		out = append(out, FileEntry{line, e})
	}
	return checkFile(out, bad)
}

// ReadVCards reads entries from a vCard file (2.1, 3.0 or 4.0): FN, N,
// NICKNAME (alias), EMAIL (the first or PREF one primary), TEL (work,
// cell, home), TITLE, ORG (company; department), ROLE or X-OFFICE
// (office), PHOTO and KEY (S/MIME certificates). A card with
// X-EASD-HIDDEN:true is hidden, one with KIND:location or KIND:device a
// resource.
func ReadVCards(r io.Reader) ([]FileEntry, []LineError) {
	cards, badCards, err := contacts.ReadCards(r)
	if err != nil {
		return nil, []LineError{{1, err.Error()}}
	}
	var bad []LineError
	for _, b := range badCards {
		bad = append(bad, LineError{b.Line, b.Reason})
	}
	var out []FileEntry
	for _, fc := range cards {
		e := Entry{DirectoryEntry: contacts.EntryOf(fc.Card)}
		if o := fc.Card.Get(vcard.FieldOrganization); o != nil {
			if _, dept, ok := strings.Cut(o.Value, ";"); ok {
				e.Department = strings.TrimSpace(strings.ReplaceAll(dept, ";", ", "))
			}
		}
		e.Office = fc.Card.Value("X-OFFICE")
		if strings.EqualFold(fc.Card.Value("X-EASD-HIDDEN"), "true") {
			e.Hidden = true
		}
		switch strings.ToLower(fc.Card.Value(vcard.FieldKind)) {
		case "location", "device":
			e.Kind = Resource
		}
		out = append(out, FileEntry{fc.Line, e})
	}
	return checkFile(out, bad)
}

// checkFile checks every entry and that no address is the primary one of
// two entries.
func checkFile(entries []FileEntry, bad []LineError) ([]FileEntry, []LineError) {
	first := map[string]int{}
	for i := range entries {
		fe := &entries[i]
		if err := Check(&fe.Entry); err != nil {
			bad = append(bad, LineError{fe.Line, err.Error()})
			continue
		}
		if l, dup := first[fe.Emails[0]]; dup {
			bad = append(bad, LineError{fe.Line, fmt.Sprintf("%s is also the address of line %d", fe.Emails[0], l)})
			continue
		}
		first[fe.Emails[0]] = fe.Line
	}
	if len(bad) > 0 {
		slices.SortStableFunc(bad, func(a, b LineError) int { return a.Line - b.Line })
		return nil, bad
	}
	return entries, nil
}
