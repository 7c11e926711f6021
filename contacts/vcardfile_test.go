package contacts

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
)

// crlf turns a readable sample into the CRLF lines vCard files have.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// mixedSample has cards shaped like real exports: a vCard 2.1 card from an
// old phone (quoted-printable with soft line breaks, bare parameters), a
// 3.0 card with folded lines and no UID (Android), an iPhone 3.0 card
// with groups and private properties, a 2.1 card in ISO-8859-1, and a 4.0
// card with a UID and a multi-byte text folded between characters.
var mixedSample = crlf(`BEGIN:VCARD
VERSION:2.1
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BCller
TEL;WORK;VOICE:+49 30 1234567
TEL;CELL:+49 170 1234567
EMAIL;PREF;INTERNET:juergen@example.de
ADR;HOME;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;Hauptstra=C3=9Fe 1=0D=0A=
Hinterhaus;Berlin;;10115;Germany
NOTE;ENCODING=QUOTED-PRINTABLE:Line one=0D=0ALine two, which the phone wrapped=
 here
END:VCARD

BEGIN:VCARD
VERSION:3.0
N:Doe;Jane;;;
FN:Jane Doe
ORG:Example Corp.
TEL;TYPE=CELL:+1 555 0101
EMAIL;TYPE=INTERNET;TYPE=HOME:jane@example.org
NOTE:This is a long note that was folded by the exporting program because
  it exceeded seventy-five octets.
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//iPhone OS 17.0//EN
N:Appleseed;Johnny;;;
FN:Johnny Appleseed
item1.EMAIL;type=INTERNET;type=pref:johnny@example.com
item1.X-ABLabel:_$!<Other>!$_
X-CUSTOM-PROP:kept across round trips
END:VCARD
BEGIN:VCARD
VERSION:2.1
N;CHARSET=ISO-8859-1:Dupont;Ren` + "\xe9" + `
FN;CHARSET=ISO-8859-1:Ren` + "\xe9" + ` Dupont
END:VCARD
BEGIN:VCARD
VERSION:4.0
UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1
FN:Ελένη Παπαδοπούλου
N:Παπαδοπούλου;Ελένη;;;
EMAIL;TYPE=work:eleni@example.gr
NOTE:Πολύ μεγάλο σημείωμα που πρέπει να διπλωθεί σε πολλές γραμμές όταν εξ
 άγεται.
PHOTO:data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
END:VCARD
`)

func TestContactsImportMixedVersions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.store.Import(ctx, f.userID, "7", strings.NewReader(mixedSample), ImportOptions{})
	if err != nil || res.Created != 5 || res.Updated != 0 || len(res.Bad) != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	// One bump for the whole file, every card at that version.
	if f.ctag(t, "7") != 1 {
		t.Fatalf("ctag %d after one import", f.ctag(t, "7"))
	}
	vers, _ := f.store.Versions(ctx, f.pool, f.userID, "7")
	var ids []string
	for sid, v := range vers {
		if v != 1 {
			t.Fatalf("card %s at version %d", sid, v)
		}
		ids = append(ids, sid)
	}
	cards, err := f.store.Get(ctx, f.pool, f.userID, "7", ids)
	if err != nil || len(cards) != 5 {
		t.Fatal(len(cards), err)
	}
	byFN := map[string]vcard.Card{}
	for _, c := range cards {
		if c.Card.Value(vcard.FieldVersion) != "4.0" || c.UID == "" || c.Card.Value(vcard.FieldUID) != c.UID {
			t.Fatalf("stored card not 4.0 with UID: %v", c.Card)
		}
		byFN[c.Card.Value(vcard.FieldFormattedName)] = c.Card
	}

	j := byFN["Jürgen Müller"]
	if j == nil {
		t.Fatalf("quoted-printable FN not decoded: %v", keys(byFN))
	}
	if n := j.Name(); n == nil || n.FamilyName != "Müller" || n.GivenName != "Jürgen" {
		t.Fatalf("2.1 N: %+v", j.Name())
	}
	if a := j.Address(); a == nil || a.StreetAddress != "Hauptstraße 1\nHinterhaus" || a.Locality != "Berlin" || !a.Params.HasType("home") {
		t.Fatalf("2.1 ADR over a soft line break: %+v", j.Address())
	}
	if got := j.Value(vcard.FieldNote); got != "Line one\nLine two, which the phone wrapped here" {
		t.Fatalf("2.1 NOTE: %q", got)
	}
	tel := j.Get(vcard.FieldTelephone)
	if tel == nil || tel.Value != "+49 30 1234567" || !tel.Params.HasType("work") || !tel.Params.HasType("voice") {
		t.Fatalf("2.1 bare parameters: %+v", tel)
	}
	if e := j.Get(vcard.FieldEmail); e == nil || e.Value != "juergen@example.de" {
		t.Fatalf("2.1 EMAIL: %+v", e)
	}

	jane := byFN["Jane Doe"]
	if jane == nil || jane.Value(vcard.FieldNote) != "This is a long note that was folded by the exporting program because it exceeded seventy-five octets." {
		t.Fatalf("3.0 folded NOTE: %v", jane)
	}
	johnny := byFN["Johnny Appleseed"]
	if johnny == nil || johnny.Value("X-CUSTOM-PROP") != "kept across round trips" || johnny.Get(vcard.FieldEmail).Group != "item1" {
		t.Fatalf("iPhone card: %v", johnny)
	}
	if byFN["René Dupont"] == nil {
		t.Fatalf("ISO-8859-1 card: %v", keys(byFN))
	}
	eleni := byFN["Ελένη Παπαδοπούλου"]
	if eleni == nil || eleni.Value(vcard.FieldUID) != "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1" ||
		!strings.HasSuffix(eleni.Value(vcard.FieldNote), "όταν εξάγεται.") {
		t.Fatalf("4.0 card: %v", eleni)
	}
}

func keys(m map[string]vcard.Card) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Import, export, import again: nothing is duplicated or changed, and the
// second export is the same bytes as the first.
func TestContactsImportExportStable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.store
	if _, err := s.Import(ctx, f.userID, "7", strings.NewReader(mixedSample), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := s.Export(ctx, f.userID, "7", &first); err != nil {
		t.Fatal(err)
	}
	out := first.String()
	if strings.Count(out, "BEGIN:VCARD\r\n") != 5 || strings.Count(out, "VERSION:4.0\r\n") != 5 {
		t.Fatalf("export:\n%s", out)
	}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(line) > 75 || !utf8.ValidString(line) {
			t.Fatalf("export line %d not folded at 75 octets on a character boundary: %q", i+1, line)
		}
	}

	// The export itself, into the same book: all unchanged, no bump.
	res, err := s.Import(ctx, f.userID, "7", strings.NewReader(out), ImportOptions{})
	if err != nil || res.Unchanged != 5 || res.Created+res.Updated != 0 || f.ctag(t, "7") != 1 {
		t.Fatalf("re-import of the export: %+v %v ctag %d", res, err, f.ctag(t, "7"))
	}
	// The original file again: cards without UID got one derived from
	// their text, so they are recognised too.
	res, err = s.Import(ctx, f.userID, "7", strings.NewReader(mixedSample), ImportOptions{})
	if err != nil || res.Unchanged != 5 || f.ctag(t, "7") != 1 {
		t.Fatalf("re-import of the original: %+v %v", res, err)
	}
	var second bytes.Buffer
	if err := s.Export(ctx, f.userID, "7", &second); err != nil {
		t.Fatal(err)
	}
	if second.String() != out {
		t.Fatalf("second export differs:\n%s\n----\n%s", out, second.String())
	}

	// The export into another book makes the same book.
	if res, err := s.Import(ctx, f.userID, "8", strings.NewReader(out), ImportOptions{}); err != nil || res.Created != 5 {
		t.Fatalf("import into another book: %+v %v", res, err)
	}
	var third bytes.Buffer
	if err := s.Export(ctx, f.userID, "8", &third); err != nil || third.String() != out {
		t.Fatalf("export of the copy differs: %v\n%s", err, third.String())
	}

	// A changed card with a known UID updates it in place.
	changed := strings.Replace(out, "FN:Jane Doe", "FN:Jane Roe", 1)
	res, err = s.Import(ctx, f.userID, "7", strings.NewReader(changed), ImportOptions{})
	if err != nil || res.Updated != 1 || res.Unchanged != 4 || f.ctag(t, "7") != 2 {
		t.Fatalf("import of a changed card: %+v %v", res, err)
	}
	if n, _ := s.Count(ctx, f.pool, f.userID, "7"); n != 5 {
		t.Fatalf("%d cards after update by UID", n)
	}
}

func TestContactsImportBadCards(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	file := crlf(`BEGIN:VCARD
VERSION:3.0
FN:Good One
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Bad Line
this line has no colon
END:VCARD
BEGIN:VCARD
VERSION:5.0
FN:Future Card
END:VCARD
stray text
BEGIN:VCARD
VERSION:2.1
FN;CHARSET=X-NO-SUCH-CHARSET:Unreadable
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Latin ` + "\xe9" + ` without charset
END:VCARD
BEGIN:VCARD
VERSION:3.0
UID:same
FN:Twin A
END:VCARD
BEGIN:VCARD
VERSION:3.0
UID:same
FN:Twin B
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Good Two
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Never Ends
`)
	want := []BadCard{
		{2, 8, ""}, {3, 10, ""}, {0, 14, ""}, {4, 17, ""}, {5, 21, ""}, {7, 28, ""}, {9, 37, ""},
	}
	check := func(res ImportResult) {
		t.Helper()
		if len(res.Bad) != len(want) {
			t.Fatalf("bad cards: %v", res.Bad)
		}
		for i, b := range res.Bad {
			if b.Card != want[i].Card || b.Line != want[i].Line || b.Reason == "" {
				t.Errorf("bad card %d: %v, want card %d line %d", i, b, want[i].Card, want[i].Line)
			}
		}
	}
	res, err := f.store.Import(ctx, f.userID, "7", strings.NewReader(file), ImportOptions{})
	if !errors.Is(err, ErrBadCards) {
		t.Fatalf("import with bad cards: %v", err)
	}
	check(res)
	for _, b := range res.Bad {
		t.Log(b)
	}
	if n, _ := f.store.Count(ctx, f.pool, f.userID, "7"); n != 0 || f.ctag(t, "7") != 0 || res.Created != 0 {
		t.Fatalf("a refused file wrote %d cards, ctag %d", n, f.ctag(t, "7"))
	}

	res, err = f.store.Import(ctx, f.userID, "7", strings.NewReader(file), ImportOptions{SkipBad: true})
	if err != nil || res.Created != 3 {
		t.Fatalf("skip-bad: %+v %v", res, err)
	}
	check(res)
	if n, _ := f.store.Count(ctx, f.pool, f.userID, "7"); n != 3 || f.ctag(t, "7") != 1 {
		t.Fatalf("skip-bad wrote %d cards, ctag %d", n, f.ctag(t, "7"))
	}

	// Nothing to import at all.
	for _, empty := range []string{"", "\r\n\r\n", "not a vcard\r\n"} {
		if _, err := f.store.Import(ctx, f.userID, "7", strings.NewReader(empty), ImportOptions{SkipBad: true}); !errors.Is(err, ErrNoCards) {
			t.Errorf("import of %q: %v", empty, err)
		}
	}
	// A card above the size limit is a bad card like any other.
	huge := crlf(fmt.Sprintf("BEGIN:VCARD\nVERSION:4.0\nFN:Huge\nPHOTO:data:image/jpeg;base64,%s\nEND:VCARD\n", strings.Repeat("A", MaxCardSize)))
	res, err = f.store.Import(ctx, f.userID, "7", strings.NewReader(huge), ImportOptions{})
	if !errors.Is(err, ErrBadCards) || len(res.Bad) != 1 || !strings.Contains(res.Bad[0].Reason, "larger") {
		t.Fatalf("huge card: %+v %v", res, err)
	}
}

func TestContactsExportFolding(t *testing.T) {
	text := "BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:" + strings.Repeat("é", 100) + "\r\nEND:VCARD\r\n"
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeFolded(w, text)
	w.Flush()
	for _, l := range strings.Split(buf.String(), "\r\n") {
		if len(l) > 75 || !utf8.ValidString(l) {
			t.Fatalf("line %q", l)
		}
	}
	c, err := vcard.NewDecoder(&buf).Decode()
	if err != nil || c.Value(vcard.FieldNote) != strings.Repeat("é", 100) {
		t.Fatalf("unfolded: %q %v", c.Value(vcard.FieldNote), err)
	}
}
