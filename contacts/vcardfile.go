package contacts

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/encoding/htmlindex"
)

// ImportOptions change how Import treats a file.
type ImportOptions struct {
	// SkipBad imports the good cards of a file that has bad ones; by
	// default a single bad card leaves the book untouched, so a user never
	// ends up with half a file and no easy way to tell which half.
	SkipBad bool
}

// BadCard is a card Import refused, with where it is in the file.
type BadCard struct {
	Card   int // 1 for the file's first card; 0 for text outside any card
	Line   int // line of the file, 1-based: the problem's, else the card's BEGIN
	Reason string
}

func (b BadCard) String() string {
	if b.Card == 0 {
		return fmt.Sprintf("line %d: %s", b.Line, b.Reason)
	}
	return fmt.Sprintf("card %d, line %d: %s", b.Card, b.Line, b.Reason)
}

// ImportResult says what Import did.
type ImportResult struct {
	Created   int       // cards whose UID the book did not have
	Updated   int       // cards that replaced the book's card of their UID
	Unchanged int       // cards the book already held exactly so
	Bad       []BadCard // cards not imported, in file order
}

// Errors of Import.
var (
	// ErrBadCards: the file has bad cards (listed in ImportResult.Bad) and
	// ImportOptions.SkipBad was not set; nothing was imported.
	ErrBadCards = errors.New("contacts: bad cards in the file, nothing imported")
	ErrNoCards  = errors.New("contacts: no vCard in the file")
)

// maxLine bounds one physical line of an imported file: an unfolded
// picture may be long, but no valid card line exceeds a card.
const maxLine = MaxCardSize + 4096

// Import reads a file of vCards 2.1, 3.0 and 4.0 into the address book
// folderID of userID, normalised to vCard 4.0. A card whose UID the book
// holds replaces that card, so importing a file again (or an export of
// the book) creates no duplicates; a card without UID gets one derived
// from its text, for the same reason. Everything happens in one
// transaction with one ctag bump and one notification, and none when
// nothing changed.
func (s *Store) Import(ctx context.Context, userID int64, folderID string, r io.Reader, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	raws, bad, err := splitCards(r)
	if err != nil {
		return res, err
	}
	res.Bad = bad
	var good []prepared
	firstOfUID := map[string]int{}
	for _, rc := range raws {
		p, b := rc.prepare()
		if b == nil {
			if n, dup := firstOfUID[p.uid]; dup {
				b = &BadCard{Card: rc.num, Line: rc.line, Reason: fmt.Sprintf("UID %q is also card %d's", p.uid, n)}
			} else {
				firstOfUID[p.uid] = rc.num
			}
		}
		if b != nil {
			res.Bad = append(res.Bad, *b)
			continue
		}
		good = append(good, p)
	}
	sortBad(res.Bad)
	if len(res.Bad) > 0 && !opts.SkipBad {
		return res, ErrBadCards
	}
	if len(raws) == 0 {
		return res, ErrNoCards
	}
	if len(good) == 0 {
		return res, nil
	}

	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res.Created, res.Updated, res.Unchanged = 0, 0, 0
		return s.importCards(ctx, tx, userID, folderID, good, &res)
	})
	if err != nil {
		return ImportResult{Bad: res.Bad}, err
	}
	return res, nil
}

// importCards writes the cards in tx: the book's row is locked first, so
// every written card gets the one new ctag as its version.
func (s *Store) importCards(ctx context.Context, tx pgx.Tx, userID int64, folderID string, cards []prepared, res *ImportResult) error {
	var ctag int64
	if err := tx.QueryRow(ctx, `INSERT INTO address_books AS b (user_id, folder_id) VALUES ($1, $2)
		ON CONFLICT (user_id, folder_id) DO UPDATE SET ctag = b.ctag RETURNING ctag`,
		userID, folderID).Scan(&ctag); err != nil {
		return fmt.Errorf("contacts: import into %q: %w", folderID, err)
	}
	version := ctag + 1
	// One round trip for the whole file. A card equal to the stored one is
	// left alone (no row returned), so a re-import changes nothing.
	b := &pgx.Batch{}
	for _, p := range cards {
		emails, phones := columnsOf(p)
		b.Queue(`INSERT INTO contacts AS c (user_id, folder_id, uid, version, vcard, file_as, given_name, family_name, emails, phones)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (user_id, folder_id, uid) DO UPDATE SET version = EXCLUDED.version, vcard = EXCLUDED.vcard,
				file_as = EXCLUDED.file_as, given_name = EXCLUDED.given_name, family_name = EXCLUDED.family_name,
				emails = EXCLUDED.emails, phones = EXCLUDED.phones, updated = now()
			WHERE c.vcard IS DISTINCT FROM EXCLUDED.vcard
			RETURNING xmax = 0`,
			userID, folderID, p.uid, version, p.text, p.cols.FileAs, p.cols.GivenName, p.cols.FamilyName, emails, phones)
	}
	br := tx.SendBatch(ctx, b)
	for _, p := range cards {
		var created bool
		err := br.QueryRow().Scan(&created)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			res.Unchanged++
		case err != nil:
			br.Close()
			return fmt.Errorf("contacts: import %q: %w", p.uid, err)
		case created:
			res.Created++
		default:
			res.Updated++
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("contacts: import: %w", err)
	}
	if res.Created+res.Updated == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE address_books SET ctag = $3 WHERE user_id = $1 AND folder_id = $2`,
		userID, folderID, version); err != nil {
		return fmt.Errorf("contacts: import: %w", err)
	}
	return s.items.Notify(ctx, tx, userID, folderID)
}

// Export writes every card of the book as vCard 4.0, ordered by name and
// UID so that exporting an unchanged book gives the same bytes. Lines
// are folded at 75 octets as RFC 6350 asks.
func (s *Store) Export(ctx context.Context, userID int64, folderID string, w io.Writer) error {
	rows, err := s.pool.Query(ctx, `SELECT vcard FROM contacts WHERE user_id = $1 AND folder_id = $2
		ORDER BY file_as, uid`, userID, folderID)
	if err != nil {
		return fmt.Errorf("contacts: export %q: %w", folderID, err)
	}
	defer rows.Close()
	bw := bufio.NewWriter(w)
	var text string
	for rows.Next() {
		if err := rows.Scan(&text); err != nil {
			return fmt.Errorf("contacts: export %q: %w", folderID, err)
		}
		writeFolded(bw, text)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("contacts: export %q: %w", folderID, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("contacts: export: %w", err)
	}
	return nil
}

// writeFolded writes a vCard document with its lines folded at 75
// octets, never inside a UTF-8 sequence.
func writeFolded(w *bufio.Writer, text string) {
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		limit := 75
		for len(line) > limit {
			cut := limit
			for cut > 1 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			w.WriteString(line[:cut])
			w.WriteString("\r\n ")
			line = line[cut:]
			limit = 74 // the continuation's leading space counts
		}
		w.WriteString(line)
		w.WriteString("\r\n")
	}
}

// rawCard is one card of an imported file, as logical (unfolded) lines.
type rawCard struct {
	num, line int // card number and line of its BEGIN
	lines     []logical
	bad       *BadCard // a problem found while splitting
}

// logical is one unfolded content line and where it starts in the file.
type logical struct {
	text string
	line int
	qp   bool // its value is quoted-printable (vCard 2.1)
}

// splitCards cuts a file into cards, unfolding lines. It does this itself
// rather than leaving it to go-vcard's decoder, which silently drops lines
// it cannot parse, knows no line numbers, and neither joins vCard 2.1's
// quoted-printable soft line breaks nor reads its bare parameters.
func splitCards(r io.Reader) ([]rawCard, []BadCard, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var cards []rawCard
	var bad []BadCard
	var cur *rawCard
	var pending *logical
	num, lineNo := 0, 0

	flush := func() {
		if pending == nil {
			return
		}
		l := *pending
		pending = nil
		name, value := lineNameValue(l.text)
		isVCard := strings.EqualFold(strings.TrimSpace(value), "VCARD")
		switch {
		case name == "BEGIN" && isVCard:
			if cur != nil {
				// vCard 2.1's AGENT may embed a card; nobody uses it and
				// EAS cannot carry it.
				if cur.bad == nil {
					cur.bad = &BadCard{Card: cur.num, Line: l.line, Reason: "a vCard inside a vCard"}
				}
				return
			}
			num++
			cur = &rawCard{num: num, line: l.line}
		case name == "END" && isVCard:
			if cur == nil {
				bad = append(bad, BadCard{Line: l.line, Reason: "END:VCARD without BEGIN:VCARD"})
				return
			}
			cards = append(cards, *cur)
			cur = nil
		case cur == nil:
			bad = append(bad, BadCard{Line: l.line, Reason: "text outside any vCard"})
		default:
			cur.lines = append(cur.lines, l)
		}
	}

	for sc.Scan() {
		lineNo++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if lineNo == 1 {
			text = strings.TrimPrefix(text, "\uFEFF") // a byte order mark some exporters write
		}
		if pending != nil && pending.qp && strings.HasSuffix(pending.text, "=") {
			// A quoted-printable soft line break: the value goes on
			// unindented on the next line.
			pending.text = pending.text[:len(pending.text)-1] + text
			continue
		}
		if pending != nil && text != "" && (text[0] == ' ' || text[0] == '\t') {
			pending.text += text[1:]
			continue
		}
		flush()
		if strings.TrimSpace(text) == "" {
			continue // blank lines between cards, or ending a 2.1 picture
		}
		pending = &logical{text: text, line: lineNo, qp: isQuotedPrintable(text)}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("contacts: line %d: %w", lineNo+1, err)
	}
	flush()
	if cur != nil {
		if cur.bad == nil {
			cur.bad = &BadCard{Card: cur.num, Line: cur.line, Reason: "no END:VCARD"}
		}
		cards = append(cards, *cur)
	}
	return cards, bad, nil
}

// prepare turns the card into what the store writes, or says why not.
func (rc rawCard) prepare() (prepared, *BadCard) {
	if rc.bad != nil {
		return prepared{}, rc.bad
	}
	var doc strings.Builder
	doc.WriteString("BEGIN:VCARD\r\n")
	for _, l := range rc.lines {
		text, err := cleanLine(l)
		if err != nil {
			return prepared{}, &BadCard{Card: rc.num, Line: l.line, Reason: err.Error()}
		}
		doc.WriteString(text)
		doc.WriteString("\r\n")
	}
	doc.WriteString("END:VCARD\r\n")
	card, err := vcard.NewDecoder(strings.NewReader(doc.String())).Decode()
	if err != nil {
		return prepared{}, &BadCard{Card: rc.num, Line: rc.line, Reason: err.Error()}
	}
	if card.Value(vcard.FieldUID) == "" {
		// Derived from the card's text, so that importing the same file
		// twice updates instead of duplicating.
		sum := sha256.Sum256([]byte(doc.String()))
		card.SetValue(vcard.FieldUID, "urn:uuid:"+derivedUUID(sum[:]))
	}
	p, err := prepare(card, "")
	if err != nil {
		return prepared{}, &BadCard{Card: rc.num, Line: rc.line, Reason: strings.TrimPrefix(err.Error(), "contacts: ")}
	}
	return p, nil
}

// cleanLine checks one content line and rewrites what go-vcard cannot
// read: vCard 2.1's bare parameters ("TEL;WORK;VOICE:") become TYPE=
// (and ENCODING=) parameters, and quoted-printable or non-UTF-8 values
// are decoded to UTF-8 text.
func cleanLine(l logical) (string, error) {
	colon := valueStart(l.text)
	if colon < 0 {
		return "", errors.New("a line without ':'")
	}
	head, value := l.text[:colon], l.text[colon+1:]
	parts := splitParams(head)
	if parts == nil {
		return "", errors.New("unterminated quoted parameter")
	}
	name := parts[0]
	if !validName(name) {
		return "", fmt.Errorf("bad property name %q", name)
	}
	var keep []string
	var encoding, charset string
	for _, p := range parts[1:] {
		k, v, hasValue := strings.Cut(p, "=")
		if !hasValue {
			k, v = "TYPE", p
			switch strings.ToUpper(p) {
			case "QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT":
				k = "ENCODING"
			}
		}
		switch strings.ToUpper(k) {
		case "ENCODING":
			switch strings.ToUpper(v) {
			case "QUOTED-PRINTABLE":
				encoding = "qp"
				continue
			case "8BIT", "7BIT":
				continue // what every line is anyway
			}
		case "CHARSET":
			charset = strings.Trim(v, `"`)
			continue
		}
		keep = append(keep, k+"="+v)
	}
	if encoding == "qp" {
		dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(value)))
		if err != nil {
			return "", fmt.Errorf("bad quoted-printable value: %v", err)
		}
		value = string(dec)
	}
	if charset != "" && !strings.EqualFold(charset, "utf-8") && !strings.EqualFold(charset, "us-ascii") {
		enc, err := htmlindex.Get(charset)
		if err != nil {
			return "", fmt.Errorf("unknown CHARSET %q", charset)
		}
		if value, err = enc.NewDecoder().String(value); err != nil {
			return "", fmt.Errorf("value not in CHARSET %q: %v", charset, err)
		}
	}
	if !utf8.ValidString(value) || !utf8.ValidString(head) {
		return "", errors.New("text is not UTF-8 and the line names no CHARSET")
	}
	if encoding == "qp" {
		// Line breaks the encoding carried become vCard's escaped ones.
		value = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(value)
	}
	return strings.Join(append([]string{name}, keep...), ";") + ":" + value, nil
}

// valueStart is the index of the ':' that ends a line's name and
// parameters (one inside a quoted parameter value does not), -1 if none.
func valueStart(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// splitParams splits "group.NAME;A=1;B="x;y"" at the semicolons outside
// quotes; nil when a quote is not closed.
func splitParams(head string) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(head); i++ {
		switch head[i] {
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				parts = append(parts, head[start:i])
				start = i + 1
			}
		}
	}
	if quoted {
		return nil
	}
	parts = append(parts, head[start:])
	// Empty parameters ("TEL;;WORK:") carry nothing.
	out := parts[:1]
	for _, p := range parts[1:] {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validName reports whether s is "[group.]NAME" with the characters RFC
// 6350 allows (letters, digits, '-').
func validName(s string) bool {
	group, name, dotted := strings.Cut(s, ".")
	if !dotted {
		group, name = "", s
	} else if group == "" {
		return false
	}
	ok := func(t string, mayBeEmpty bool) bool {
		if t == "" {
			return mayBeEmpty
		}
		for i := 0; i < len(t); i++ {
			c := t[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
		return true
	}
	return ok(group, true) && ok(name, false)
}

// lineNameValue returns the upper-case property name (without group) and
// the value of a content line, for recognising BEGIN and END.
func lineNameValue(text string) (string, string) {
	i := valueStart(text)
	if i < 0 {
		return "", ""
	}
	head := text[:i]
	if j := strings.IndexByte(head, ';'); j >= 0 {
		head = head[:j]
	}
	if j := strings.IndexByte(head, '.'); j >= 0 {
		head = head[j+1:]
	}
	return strings.ToUpper(strings.TrimSpace(head)), text[i+1:]
}

// isQuotedPrintable reports whether a line's parameters declare a
// quoted-printable value, whose soft line breaks then continue it.
func isQuotedPrintable(text string) bool {
	i := valueStart(text)
	if i < 0 {
		return false
	}
	for _, p := range strings.Split(strings.ToUpper(text[:i]), ";")[1:] {
		if p == "QUOTED-PRINTABLE" || p == "ENCODING=QUOTED-PRINTABLE" {
			return true
		}
	}
	return false
}

// sortBad orders bad cards by their place in the file.
func sortBad(b []BadCard) {
	slices.SortStableFunc(b, func(x, y BadCard) int { return cmp.Compare(x.Line, y.Line) })
}

// FileCard is one good card of a file read by ReadCards.
type FileCard struct {
	Num, Line int // card number and line of its BEGIN
	Card      vcard.Card
}

// ReadCards reads a file of vCards 2.1, 3.0 and 4.0 as Import does,
// normalised to vCard 4.0, without storing anything: for other stores
// (the directory) that import vCards. Bad cards are reported by line.
func ReadCards(r io.Reader) ([]FileCard, []BadCard, error) {
	raws, bad, err := splitCards(r)
	if err != nil {
		return nil, nil, err
	}
	var good []FileCard
	for _, rc := range raws {
		p, b := rc.prepare()
		if b != nil {
			bad = append(bad, *b)
			continue
		}
		good = append(good, FileCard{Num: rc.num, Line: rc.line, Card: p.card})
	}
	sortBad(bad)
	if len(raws) == 0 && len(bad) == 0 {
		return nil, nil, ErrNoCards
	}
	return good, bad, nil
}
