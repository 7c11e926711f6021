// Package contacts keeps address books: each contact is a vCard 4.0
// document (github.com/emersion/go-vcard) plus indexed columns. This file
// is the mapping between a stored card and the EAS Contact class
// (eas/message.Contact), in both directions.
//
// # The mapping
//
//	EAS element                      vCard 4.0
//	FirstName, LastName, MiddleName,
//	Title, Suffix                    N (given; family; additional; prefix; suffix)
//	CompanyName, Department          ORG (first two components; more are kept)
//	JobTitle                         TITLE
//	OfficeLocation                   X-EAS-OFFICELOCATION
//	FileAs                           X-EAS-FILEAS
//	NickName                         NICKNAME
//	Business/Home/OtherAddress*      ADR;TYPE=work / home / x-other (street,
//	                                 city, region, postal code, country; PO box
//	                                 and extended address are kept)
//	BusinessPhoneNumber, Business2   TEL;TYPE=work,voice
//	HomePhoneNumber, Home2           TEL;TYPE=home,voice
//	MobilePhoneNumber                TEL;TYPE=cell
//	BusinessFaxNumber, HomeFax       TEL;TYPE=work,fax / home,fax
//	PagerNumber                      TEL;TYPE=pager
//	CarPhoneNumber                   TEL;TYPE=car (the vCard 3.0 type)
//	RadioPhoneNumber                 TEL;TYPE=x-radio
//	AssistantPhoneNumber             TEL;TYPE=x-assistant
//	CompanyMainPhone                 TEL;TYPE=work,main (iOS writes "main")
//	MMS                              TEL;TYPE=x-mms
//	Email1Address .. Email3Address   EMAIL (value as the phone sent it)
//	IMAddress .. IMAddress3          IMPP (value as the phone sent it)
//	WebPage                          URL
//	Birthday, Anniversary            BDAY, ANNIVERSARY;VALUE=date (YYYYMMDD)
//	Spouse                           RELATED;TYPE=spouse;VALUE=text
//	Children/Child                   RELATED;TYPE=child;VALUE=text, one each
//	AssistantName                    RELATED;TYPE=agent;VALUE=text
//	ManagerName                      RELATED;TYPE=x-manager;VALUE=text
//	YomiFirstName, YomiLastName,
//	YomiCompanyName                  X-PHONETIC-FIRST-NAME, X-PHONETIC-LAST-NAME,
//	                                 X-PHONETIC-ORG (the names Apple and Google use)
//	Categories/Category              CATEGORIES, one property per category
//	Picture                          PHOTO as a data: URI (type sniffed)
//	Body (Contacts 2.5, AirSyncBase) NOTE (plain text)
//	Rtf (2.5, token CompressedRTF)   X-EAS-RTF (base64 as sent)
//	CustomerId, GovernmentId,
//	AccountName, Alias               X-EAS-CUSTOMERID, X-EAS-GOVERNMENTID,
//	                                 X-EAS-ACCOUNTNAME, X-EAS-ALIAS
//
// WeightedRank is a rank the recipient information cache computes; a
// contact has none. FN, which vCard 4.0 requires and EAS lacks, is made
// from the name (or company, or e-mail) whenever those change.
//
// Where several EAS elements share one property (TEL, EMAIL, IMPP, ADR,
// RELATED), the property written for an element carries the parameter
// X-EAS-FIELD=<element>, so that e.g. an Email2Address without an
// Email1Address reads back as Email2Address. Properties without it (a card
// from CardDAV or an import) are bound by their TYPE and order; the ones
// that fit no element (a fourth EMAIL, a TEL;TYPE=video, a RELATED URI)
// are left alone by every edit, as is any property EAS does not know.
//
// # What EAS cannot see survives
//
// A value EAS cannot carry is never cleared by a phone that could not
// have seen it: a PHOTO that is a URL or too large to send, a BDAY
// without a year. A Picture or Birthday the phone sends replaces it.
package contacts

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
	"github.com/emersion/go-vcard"
	"github.com/google/uuid"
)

// Errors of Apply. The caller answers the item with Sync Status 6
// (error in client/server conversion) and stores nothing.
var (
	// ErrPictureTooLarge: a Picture above MS-ASCNTC 2.2.2.58's limit of
	// 48 KB of base64 text.
	ErrPictureTooLarge = errors.New("contacts: picture larger than 48 KB of base64")
	// ErrBadValue: a value that cannot be stored (a malformed date,
	// invalid base64, an oversize value); wrapped with the element name.
	ErrBadValue = errors.New("contacts: bad value")
)

// Limits on what a client may store.
const (
	// MaxPicture is MS-ASCNTC 2.2.2.58's limit on the base64 text.
	MaxPicture = 48 * 1024
	// maxValue caps an ordinary element: far above any real name or
	// address, low enough that one contact cannot bloat the store.
	maxValue = 8 * 1024
	// maxBody caps the notes.
	maxBody = 1 << 20
)

// fieldParam marks a property written for one EAS element; see the
// package comment.
const fieldParam = "X-EAS-FIELD"

// RenderOptions say how to render a card for one request.
type RenderOptions struct {
	// Version is the protocol version times ten: 25, 120, 121, 140,
	// 141, 160, 161. Zero means the newest.
	Version int
	// Body are the client's body preferences (may be empty: the whole
	// note as plain text).
	Body []message.BodyPreference
	// Zone is the user's zone; nil means UTC. Dates do not depend on it
	// when rendered (see formatDate) but the field is kept so a caller
	// can pass one RenderOptions around.
	Zone *time.Location
}

// ---------------------------------------------------------------------------
// Property bindings

// slot is one EAS element held by one property of a multi-use key.
type slot struct {
	elem  string // EAS element local name
	key   string // vCard property
	types []string
	// match tells whether an unmarked property may hold this element.
	match func(f *vcard.Field) bool
	// fallback allows a second, looser pass (an untyped TEL).
	fallback func(f *vcard.Field) bool
}

func hasType(f *vcard.Field, t string) bool { return f.Params.HasType(t) }

// telOther are the TEL types that make a number not a plain voice line.
var telOther = []string{"fax", "cell", "pager", "car", "x-radio", "x-assistant", "main", "x-mms", "video", "textphone", "text"}

func plainVoice(f *vcard.Field) bool {
	for _, t := range telOther {
		if hasType(f, t) {
			return false
		}
	}
	return true
}

func untypedVoice(f *vcard.Field) bool {
	return plainVoice(f) && !hasType(f, "work") && !hasType(f, "home")
}

func isText(f *vcard.Field) bool { return strings.EqualFold(f.Params.Get(vcard.ParamValue), "text") }

var slots = []slot{
	{elem: "BusinessPhoneNumber", key: vcard.FieldTelephone, types: []string{"work", "voice"},
		match: func(f *vcard.Field) bool { return hasType(f, "work") && plainVoice(f) }, fallback: untypedVoice},
	{elem: "Business2PhoneNumber", key: vcard.FieldTelephone, types: []string{"work", "voice"},
		match: func(f *vcard.Field) bool { return hasType(f, "work") && plainVoice(f) }, fallback: untypedVoice},
	{elem: "HomePhoneNumber", key: vcard.FieldTelephone, types: []string{"home", "voice"},
		match: func(f *vcard.Field) bool { return hasType(f, "home") && plainVoice(f) }, fallback: untypedVoice},
	{elem: "Home2PhoneNumber", key: vcard.FieldTelephone, types: []string{"home", "voice"},
		match: func(f *vcard.Field) bool { return hasType(f, "home") && plainVoice(f) }, fallback: untypedVoice},
	{elem: "MobilePhoneNumber", key: vcard.FieldTelephone, types: []string{"cell"},
		match: func(f *vcard.Field) bool { return hasType(f, "cell") }},
	{elem: "BusinessFaxNumber", key: vcard.FieldTelephone, types: []string{"work", "fax"},
		match: func(f *vcard.Field) bool { return hasType(f, "fax") && !hasType(f, "home") }},
	{elem: "HomeFaxNumber", key: vcard.FieldTelephone, types: []string{"home", "fax"},
		match: func(f *vcard.Field) bool { return hasType(f, "fax") && hasType(f, "home") }},
	{elem: "PagerNumber", key: vcard.FieldTelephone, types: []string{"pager"},
		match: func(f *vcard.Field) bool { return hasType(f, "pager") }},
	{elem: "CarPhoneNumber", key: vcard.FieldTelephone, types: []string{"car"},
		match: func(f *vcard.Field) bool { return hasType(f, "car") }},
	{elem: "RadioPhoneNumber", key: vcard.FieldTelephone, types: []string{"x-radio"},
		match: func(f *vcard.Field) bool { return hasType(f, "x-radio") }},
	{elem: "AssistantPhoneNumber", key: vcard.FieldTelephone, types: []string{"x-assistant"},
		match: func(f *vcard.Field) bool { return hasType(f, "x-assistant") }},
	{elem: "CompanyMainPhone", key: vcard.FieldTelephone, types: []string{"work", "main"},
		match: func(f *vcard.Field) bool { return hasType(f, "main") }},
	{elem: "MMS", key: vcard.FieldTelephone, types: []string{"x-mms"},
		match: func(f *vcard.Field) bool { return hasType(f, "x-mms") }},

	{elem: "Email1Address", key: vcard.FieldEmail, match: anyField},
	{elem: "Email2Address", key: vcard.FieldEmail, match: anyField},
	{elem: "Email3Address", key: vcard.FieldEmail, match: anyField},
	{elem: "IMAddress", key: vcard.FieldIMPP, match: anyField},
	{elem: "IMAddress2", key: vcard.FieldIMPP, match: anyField},
	{elem: "IMAddress3", key: vcard.FieldIMPP, match: anyField},
	{elem: "WebPage", key: vcard.FieldURL, match: anyField},

	{elem: "Spouse", key: vcard.FieldRelated, types: []string{"spouse"},
		match: func(f *vcard.Field) bool { return isText(f) && hasType(f, "spouse") }},
	{elem: "AssistantName", key: vcard.FieldRelated, types: []string{"agent"},
		match: func(f *vcard.Field) bool { return isText(f) && hasType(f, "agent") }},
	{elem: "ManagerName", key: vcard.FieldRelated, types: []string{"x-manager"},
		match: func(f *vcard.Field) bool { return isText(f) && hasType(f, "x-manager") }},
}

func anyField(*vcard.Field) bool { return true }

// adrSlot is one EAS address held by one ADR property.
type adrSlot struct {
	prefix string // "Business", "Home", "Other"
	types  []string
	match  func(f *vcard.Field) bool
}

var adrSlots = []adrSlot{
	{"Business", []string{"work"}, func(f *vcard.Field) bool { return hasType(f, "work") }},
	{"Home", []string{"home"}, func(f *vcard.Field) bool { return hasType(f, "home") }},
	{"Other", []string{"x-other"}, func(f *vcard.Field) bool { return !hasType(f, "work") && !hasType(f, "home") }},
}

// The ADR components (RFC 6350 6.3.1) an EAS address fills, by index.
var adrParts = []struct {
	suffix string
	index  int
}{{"AddressStreet", 2}, {"AddressCity", 3}, {"AddressState", 4}, {"AddressPostalCode", 5}, {"AddressCountry", 6}}

// single are the elements that own the first property of their key.
var single = []struct{ elem, key string }{
	{"JobTitle", vcard.FieldTitle},
	{"NickName", vcard.FieldNickname},
	{"FileAs", "X-EAS-FILEAS"},
	{"OfficeLocation", "X-EAS-OFFICELOCATION"},
	{"YomiFirstName", "X-PHONETIC-FIRST-NAME"},
	{"YomiLastName", "X-PHONETIC-LAST-NAME"},
	{"YomiCompanyName", "X-PHONETIC-ORG"},
	{"CustomerId", "X-EAS-CUSTOMERID"},
	{"GovernmentId", "X-EAS-GOVERNMENTID"},
	{"AccountName", "X-EAS-ACCOUNTNAME"},
	{"Alias", "X-EAS-ALIAS"},
	{"CompressedRTF", "X-EAS-RTF"},
}

// The N components (RFC 6350 6.2.2) by EAS element.
var nParts = []struct {
	elem  string
	index int
}{{"LastName", 0}, {"FirstName", 1}, {"MiddleName", 2}, {"Title", 3}, {"Suffix", 4}}

// binding maps each slot element to the property holding it.
type binding map[string]*vcard.Field

// bind finds the property of every slot: first those marked for it, then
// unmarked ones by type in card order, then the loose fallback.
func bind(card vcard.Card) binding {
	b := binding{}
	used := map[*vcard.Field]bool{}
	known := map[string]bool{}
	for _, s := range slots {
		known[s.elem] = true
	}
	for _, s := range slots {
		for _, f := range card[s.key] {
			if !used[f] && f.Params.Get(fieldParam) == s.elem {
				b[s.elem], used[f] = f, true
				break
			}
		}
	}
	free := func(f *vcard.Field) bool {
		return !used[f] && !known[f.Params.Get(fieldParam)]
	}
	take := func(s slot, m func(*vcard.Field) bool) {
		if b[s.elem] != nil || m == nil {
			return
		}
		for _, f := range card[s.key] {
			if free(f) && m(f) {
				b[s.elem], used[f] = f, true
				return
			}
		}
	}
	for _, s := range slots {
		take(s, s.match)
	}
	// A TEL without work or home (the vCard default: a voice line) goes
	// to the first free home, then business number.
	for _, elem := range []string{"HomePhoneNumber", "Home2PhoneNumber", "BusinessPhoneNumber", "Business2PhoneNumber"} {
		for _, s := range slots {
			if s.elem == elem {
				take(s, s.fallback)
			}
		}
	}
	for _, a := range adrSlots {
		for _, f := range card[vcard.FieldAddress] {
			if !used[f] && f.Params.Get(fieldParam) == a.prefix+"Address" {
				b[a.prefix+"Address"], used[f] = f, true
				break
			}
		}
	}
	for _, a := range adrSlots {
		if b[a.prefix+"Address"] != nil {
			continue
		}
		for _, f := range card[vcard.FieldAddress] {
			if !used[f] && f.Params.Get(fieldParam) == "" && a.match(f) {
				b[a.prefix+"Address"], used[f] = f, true
				break
			}
		}
	}
	return b
}

// children returns the RELATED properties holding a child's name.
func children(card vcard.Card) []*vcard.Field {
	var out []*vcard.Field
	for _, f := range card[vcard.FieldRelated] {
		if isText(f) && hasType(f, "child") {
			out = append(out, f)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Structured values

// go-vcard unescapes only "\\", "\n" and "\," when it reads a line, and
// escapes only those three when it writes one; it never splits a value
// into components. So within a Field.Value a component separator ";" and
// an escaped "\;" are both still there, and we do the splitting: a
// component's ";" and "\" are stored as "\;" and "\\" (what a card from
// another program holds after go-vcard's reading, so its N:Doe\;X;Jane
// reads as family name "Doe;X"). Such values survive go-vcard's
// encoder and decoder exactly. One limit remains: go-vcard writes our
// "\;" as "\\;", which another vCard parser reads as a backslash and a
// separator; only names containing ";" or "\" are affected.

// splitComponents splits a structured Field.Value on unescaped ";".
func splitComponents(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && (v[i+1] == ';' || v[i+1] == '\\'):
			cur.WriteByte(v[i+1])
			i++
		case c == ';':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// joinComponents is the inverse of splitComponents; trailing empty
// components beyond min are dropped.
func joinComponents(parts []string, min int) string {
	for len(parts) > min && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = strings.NewReplacer(`\`, `\\`, `;`, `\;`).Replace(p)
	}
	return strings.Join(esc, ";")
}

func component(parts []string, i int) string {
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

func setComponent(parts []string, i int, v string) []string {
	for len(parts) <= i {
		parts = append(parts, "")
	}
	parts[i] = v
	return parts
}

// Categories. A CATEGORIES value is a comma-separated list; go-vcard
// turns "\," into "," when reading, so "A\,B" (one category) and "A,B"
// (two) cannot be told apart afterwards, and its SetCategories joins with
// a "," that its encoder then escapes (one category "A,B"). We write one
// CATEGORIES property per category, which every reader understands, and
// mark the ones holding a comma with X-EAS-FIELD=Category so that they
// read back whole; an unmarked property is split on commas.

const categoryMark = "Category"

func categories(card vcard.Card) []string {
	var out []string
	for _, f := range card[vcard.FieldCategories] {
		if f.Params.Get(fieldParam) == categoryMark {
			out = append(out, f.Value)
			continue
		}
		for c := range strings.SplitSeq(f.Value, ",") {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

func setCategories(card vcard.Card, cats []string) {
	delete(card, vcard.FieldCategories)
	for _, c := range cats {
		if c == "" {
			continue
		}
		f := &vcard.Field{Value: c, Params: vcard.Params{}}
		if strings.Contains(c, ",") {
			f.Params.Set(fieldParam, categoryMark)
		}
		card.Add(vcard.FieldCategories, f)
	}
}

// ---------------------------------------------------------------------------
// Dates

// Birthdays and anniversaries are dates, stored as BDAY/ANNIVERSARY
// VALUE=date YYYYMMDD. Clients send instants:
//
//	00:00Z  iOS, Windows Phone, Gmail, Samsung, Nine
//	08:00Z  stock Android 4-10
//	11:00Z  BlackBerry
//	local midnight or local noon of the date, in the user's zone
//
// From the instant alone the date is ambiguous, so parseDate also takes
// the user's zone and decides, in this order:
//
//  1. 00:00Z: the UTC date. The most common form wins every tie.
//  2. exactly local midnight or local noon in the user's zone: that
//     local date.
//  3. 08:00Z or 11:00Z: the UTC date.
//  4. anything else: the local date of the instant moved by 6 hours,
//     i.e. rounded to the nearest local midnight or noon (18:00 local
//     and later belongs to the next day).
//
// For whole-hour zones UTC-12..UTC+14 and the five conventions, rules 2
// and 3 agree everywhere except two cells, which are the residual
// conflicts (an instant that means different dates under two
// conventions):
//
//   - UTC-12, local noon of D = 00:00Z of D+1: rule 1 reads D+1. The
//     00:00Z clients are most of the market; UTC-12 is uninhabited.
//   - UTC+13, local midnight of D = 11:00Z of D-1: rule 2 reads D, so a
//     BlackBerry (11:00Z) in UTC+13 gains a day. BlackBerry's EAS
//     client is discontinued; UTC+13 (Tonga, Samoa, New Zealand summer)
//     has users of local-midnight clients.
//
// Output is the UTC midnight of the date, YYYY-MM-DDT00:00:00.000Z: the
// form most clients write themselves (so they read it as they wrote it),
// and the only instant whose UTC date is the date with no zone assumed.
func parseDate(s string, zone *time.Location) (civil, error) {
	s = strings.TrimSpace(s)
	if zone == nil {
		zone = time.UTC
	}
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "20060102T150405Z"} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		// A bare date is unambiguous; a date-time without a zone is the
		// user's wall clock, rounded as in rule 4.
		if d, derr := time.Parse("2006-01-02", s); derr == nil {
			return civilOf(d), nil
		}
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "20060102T150405"} {
			if w, werr := time.Parse(layout, s); werr == nil {
				return civilOf(w.Add(6 * time.Hour)), nil
			}
		}
		return civil{}, err
	}
	u := t.UTC()
	if hms(u) == 0 {
		return civilOf(u), nil
	}
	l := t.In(zone)
	if h := hms(l); h == 0 || h == 12*3600 {
		return civilOf(l), nil
	}
	if h := hms(u); h == 8*3600 || h == 11*3600 {
		return civilOf(u), nil
	}
	return civilOf(l.Add(6 * time.Hour)), nil
}

func hms(t time.Time) int {
	return t.Hour()*3600 + t.Minute()*60 + t.Second() + boolInt(t.Nanosecond() != 0)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// civil is a calendar date.
type civil struct {
	y       int
	m       time.Month
	d       int
	hasYear bool
}

func civilOf(t time.Time) civil { return civil{t.Year(), t.Month(), t.Day(), true} }

func (c civil) vcard() string { return fmt.Sprintf("%04d%02d%02d", c.y, c.m, c.d) }

func (c civil) eas() string { return fmt.Sprintf("%04d-%02d-%02dT00:00:00.000Z", c.y, c.m, c.d) }

// vcardDate reads a BDAY/ANNIVERSARY value: YYYYMMDD, YYYY-MM-DD, a
// date-time (vCard 3.0 allowed one; its date part is taken), or a
// yearless --MMDD (hasYear false).
func vcardDate(v string) (civil, bool) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "--") {
		if t, err := time.Parse("0102", strings.ReplaceAll(v[2:], "-", "")); err == nil && len(v) >= 6 {
			return civil{0, t.Month(), t.Day(), false}, true
		}
		return civil{}, false
	}
	if i := strings.IndexByte(v, 'T'); i > 0 {
		v = v[:i]
	}
	for _, layout := range []string{"20060102", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return civilOf(t), true
		}
	}
	return civil{}, false
}

// ---------------------------------------------------------------------------
// Pictures

// photoData returns the bytes of a data: URI PHOTO (or a vCard 3.0
// inline one) and whether it is one EAS can carry.
func photoData(f *vcard.Field) ([]byte, bool) {
	v := f.Value
	if rest, ok := strings.CutPrefix(v, "data:"); ok {
		meta, payload, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return nil, false
		}
		b, err := base64.StdEncoding.DecodeString(stripSpace(payload))
		if err != nil {
			return nil, false
		}
		return b, base64.StdEncoding.EncodedLen(len(b)) <= MaxPicture
	}
	return nil, false
}

func dataURI(b []byte) string {
	typ := http.DetectContentType(b)
	if !strings.HasPrefix(typ, "image/") {
		typ = "image/jpeg" // what phones send; sniffing fails on truncated files
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// ---------------------------------------------------------------------------
// Rendering

// field returns the contact's value for an element local name, and a
// setter; the table of simple elements drives ToEAS and Apply alike.
func stringField(c *message.Contact, elem string) *string {
	switch elem {
	case "AssistantPhoneNumber":
		return &c.AssistantPhoneNumber
	case "Business2PhoneNumber":
		return &c.Business2PhoneNumber
	case "BusinessFaxNumber":
		return &c.BusinessFaxNumber
	case "BusinessPhoneNumber":
		return &c.BusinessPhoneNumber
	case "CarPhoneNumber":
		return &c.CarPhoneNumber
	case "Email1Address":
		return &c.Email1Address
	case "Email2Address":
		return &c.Email2Address
	case "Email3Address":
		return &c.Email3Address
	case "Home2PhoneNumber":
		return &c.Home2PhoneNumber
	case "HomeFaxNumber":
		return &c.HomeFaxNumber
	case "HomePhoneNumber":
		return &c.HomePhoneNumber
	case "MobilePhoneNumber":
		return &c.MobilePhoneNumber
	case "PagerNumber":
		return &c.PagerNumber
	case "RadioPhoneNumber":
		return &c.RadioPhoneNumber
	case "WebPage":
		return &c.WebPage
	case "Spouse":
		return &c.Spouse
	case "AssistantName":
		return &c.AssistantName
	case "ManagerName":
		return &c.ManagerName
	case "IMAddress":
		return &c.IMAddress
	case "IMAddress2":
		return &c.IMAddress2
	case "IMAddress3":
		return &c.IMAddress3
	case "CompanyMainPhone":
		return &c.CompanyMainPhone
	case "MMS":
		return &c.MMS
	case "JobTitle":
		return &c.JobTitle
	case "NickName":
		return &c.NickName
	case "FileAs":
		return &c.FileAs
	case "OfficeLocation":
		return &c.OfficeLocation
	case "YomiFirstName":
		return &c.YomiFirstName
	case "YomiLastName":
		return &c.YomiLastName
	case "YomiCompanyName":
		return &c.YomiCompanyName
	case "CustomerId":
		return &c.CustomerID
	case "GovernmentId":
		return &c.GovernmentID
	case "AccountName":
		return &c.AccountName
	case "Alias":
		return &c.Alias
	case "CompressedRTF":
		return &c.Rtf
	case "FirstName":
		return &c.FirstName
	case "LastName":
		return &c.LastName
	case "MiddleName":
		return &c.MiddleName
	case "Title":
		return &c.Title
	case "Suffix":
		return &c.Suffix
	case "CompanyName":
		return &c.CompanyName
	case "Department":
		return &c.Department
	case "BusinessAddressStreet":
		return &c.BusinessAddressStreet
	case "BusinessAddressCity":
		return &c.BusinessAddressCity
	case "BusinessAddressState":
		return &c.BusinessAddressState
	case "BusinessAddressPostalCode":
		return &c.BusinessAddressPostalCode
	case "BusinessAddressCountry":
		return &c.BusinessAddressCountry
	case "HomeAddressStreet":
		return &c.HomeAddressStreet
	case "HomeAddressCity":
		return &c.HomeAddressCity
	case "HomeAddressState":
		return &c.HomeAddressState
	case "HomeAddressPostalCode":
		return &c.HomeAddressPostalCode
	case "HomeAddressCountry":
		return &c.HomeAddressCountry
	case "OtherAddressStreet":
		return &c.OtherAddressStreet
	case "OtherAddressCity":
		return &c.OtherAddressCity
	case "OtherAddressState":
		return &c.OtherAddressState
	case "OtherAddressPostalCode":
		return &c.OtherAddressPostalCode
	case "OtherAddressCountry":
		return &c.OtherAddressCountry
	}
	panic("contacts: no field for element " + elem) // a table typo: caught by every test
}

// ToEAS renders a stored card as an EAS contact for the given request.
func ToEAS(card vcard.Card, opt RenderOptions) *message.Contact {
	v := opt.Version
	if v == 0 {
		v = 161
	}
	c := &message.Contact{}
	if n := card.Get(vcard.FieldName); n != nil {
		parts := splitComponents(n.Value)
		for _, p := range nParts {
			*stringField(c, p.elem) = component(parts, p.index)
		}
	}
	if o := card.Get(vcard.FieldOrganization); o != nil {
		parts := splitComponents(o.Value)
		c.CompanyName, c.Department = component(parts, 0), component(parts, 1)
	}
	b := bind(card)
	for _, s := range slots {
		if f := b[s.elem]; f != nil {
			*stringField(c, s.elem) = f.Value
		}
	}
	for _, a := range adrSlots {
		f := b[a.prefix+"Address"]
		if f == nil {
			continue
		}
		parts := splitComponents(f.Value)
		for _, p := range adrParts {
			*stringField(c, a.prefix+p.suffix) = component(parts, p.index)
		}
	}
	for _, s := range single {
		if s.elem == "Alias" && v < 140 || s.elem == "CompressedRTF" && v != 25 {
			continue
		}
		*stringField(c, s.elem) = card.Value(s.key)
	}
	if d, ok := vcardDate(card.Value(vcard.FieldBirthday)); ok && d.hasYear {
		c.Birthday = d.eas()
	}
	if d, ok := vcardDate(card.Value(vcard.FieldAnniversary)); ok && d.hasYear {
		c.Anniversary = d.eas()
	}
	if cats := categories(card); len(cats) > 0 {
		c.Categories = &message.ContactCategories{Category: cats}
	}
	if kids := children(card); len(kids) > 0 {
		c.Children = &message.ContactChildren{}
		for _, f := range kids {
			c.Children.Child = append(c.Children.Child, f.Value)
		}
	}
	for _, f := range card[vcard.FieldPhoto] {
		if data, ok := photoData(f); ok {
			c.Picture = base64.StdEncoding.EncodeToString(data)
			break
		}
	}
	renderBody(c, card.Value(vcard.FieldNote), v, opt.Body)
	return c
}

// renderBody puts the notes in the form of the version: Contacts:Body for
// 2.5, AirSyncBase:Body after it, in the first preferred type we have
// (plain text or HTML; the HTML is the text escaped).
func renderBody(c *message.Contact, note string, v int, prefs []message.BodyPreference) {
	if v == 25 {
		if note == "" {
			return
		}
		data, truncated := model.Truncate(note, model.TextPreference(prefs).TruncationSize)
		c.Body25 = data
		c.BodyTruncated = &truncated
		if truncated {
			c.BodySize = int64(len(note))
		}
		return
	}
	c.Body = model.RenderBody(note, message.BodyPlain, v, prefs)
}

// ---------------------------------------------------------------------------
// Applying a client's Add or Change

// Edit is a client's Add or Change of one contact.
type Edit struct {
	// Contact is the decoded ApplicationData.
	Contact *message.Contact
	// Sent reports the element local names the client sent ("FirstName",
	// "Picture", "Body" for either body form, "Categories" ...), empty or
	// not; see SentNames. Nil means every element counts as sent: the
	// struct is the whole contact.
	Sent func(name string) bool
	// Ghosted reports the absent elements to keep as stored (MS-ASCMD
	// 2.2.3.179: the elements outside the client's Supported list). Nil:
	// none, every absent element is cleared.
	Ghosted func(name string) bool
}

// SentNames returns the local names of the children of a raw
// ApplicationData element, as Edit.Sent wants them. Decode the element raw
// first, learn what was sent, then decode it into a message.Contact (see
// DecodeContact).
func SentNames(el *wbxml.Element) func(string) bool {
	names := map[string]bool{}
	if el != nil {
		for _, c := range el.Children {
			names[c.Tag.Name()] = true
		}
	}
	return func(n string) bool { return names[n] }
}

// DecodeContact decodes a raw ApplicationData element into a Contact.
func DecodeContact(el *wbxml.Element) (*message.Contact, error) {
	c, err := model.DecodeItem[message.Contact](el)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return c, nil
}

func bad(elem, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadValue, elem, fmt.Sprintf(format, args...))
}

// Apply merges a client's Add or Change onto the stored card (an empty or
// nil card for an Add) and returns the new card. An element the client
// sent replaces the stored value (an empty one clears it); an absent one
// is cleared unless Ghosted keeps it. Properties EAS does not know are
// untouched. zone is the user's zone, for dates (nil: UTC). On error base
// is unchanged and nothing is returned.
func Apply(base vcard.Card, e Edit, zone *time.Location) (vcard.Card, error) {
	c := e.Contact
	if c == nil {
		c = &message.Contact{}
	}
	sent := e.Sent
	if sent == nil {
		sent = func(string) bool { return true }
	}
	ghosted := e.Ghosted
	if ghosted == nil {
		ghosted = func(string) bool { return false }
	}
	// want returns the new value of an element and whether to touch it.
	want := func(elem string) (string, bool) {
		if sent(elem) {
			return *stringField(c, elem), true
		}
		return "", !ghosted(elem)
	}

	if err := check(c, sent); err != nil {
		return nil, err
	}
	card := clone(base)
	hadFN := card.Value(vcard.FieldFormattedName) != ""
	nameBefore := card.Value(vcard.FieldName) + "\x00" + card.Value(vcard.FieldOrganization)

	// N and ORG: a component per element, other components kept.
	applyStructured(card, vcard.FieldName, want, nParts[:], 5)
	applyStructured(card, vcard.FieldOrganization, want, []struct {
		elem  string
		index int
	}{{"CompanyName", 0}, {"Department", 1}}, 1)

	b := bind(card)
	for _, s := range slots {
		val, touch := want(s.elem)
		if !touch {
			continue
		}
		f := b[s.elem]
		switch {
		case val == "" && f != nil:
			removeField(card, s.key, f)
		case val != "" && f != nil:
			f.Value = val
			mark(f, s.elem)
		case val != "":
			p := vcard.Params{}
			if len(s.types) > 0 {
				p[vcard.ParamType] = slices.Clone(s.types)
			}
			if s.key == vcard.FieldRelated {
				p.Set(vcard.ParamValue, "text")
			}
			p.Set(fieldParam, s.elem)
			card.Add(s.key, &vcard.Field{Value: val, Params: p})
		}
	}
	for _, a := range adrSlots {
		f := b[a.prefix+"Address"]
		var parts []string
		if f != nil {
			parts = splitComponents(f.Value)
		}
		touched := false
		for _, p := range adrParts {
			if val, touch := want(a.prefix + p.suffix); touch {
				parts, touched = setComponent(parts, p.index, val), true
			}
		}
		if !touched {
			continue
		}
		empty := !slices.ContainsFunc(parts, func(s string) bool { return s != "" })
		switch {
		case empty && f != nil:
			removeField(card, vcard.FieldAddress, f)
		case !empty && f != nil:
			f.Value = joinComponents(parts, 7)
			mark(f, a.prefix+"Address")
		case !empty:
			p := vcard.Params{vcard.ParamType: slices.Clone(a.types)}
			p.Set(fieldParam, a.prefix+"Address")
			card.Add(vcard.FieldAddress, &vcard.Field{Value: joinComponents(parts, 7), Params: p})
		}
	}
	for _, s := range single {
		if s.elem == "Alias" && !sent(s.elem) {
			continue // server-side only: a client never owns it
		}
		val, touch := want(s.elem)
		if !touch {
			continue
		}
		setSingle(card, s.key, val)
	}

	for _, d := range []struct {
		elem, key string
		val       string
	}{{"Birthday", vcard.FieldBirthday, c.Birthday}, {"Anniversary", vcard.FieldAnniversary, c.Anniversary}} {
		if !sent(d.elem) && ghosted(d.elem) {
			continue
		}
		if !sent(d.elem) || strings.TrimSpace(d.val) == "" {
			// A date EAS cannot show (no year) is only replaced, never
			// cleared: the phone did not see it.
			if old, ok := vcardDate(card.Value(d.key)); card.Get(d.key) == nil || ok && old.hasYear {
				delete(card, d.key)
			}
			continue
		}
		day, err := parseDate(d.val, zone)
		if err != nil {
			return nil, bad(d.elem, "%q is not a dateTime", d.val)
		}
		card.Set(d.key, &vcard.Field{Value: day.vcard(), Params: vcard.Params{vcard.ParamValue: {"date"}}})
	}

	if sent("Categories") {
		var cats []string
		if c.Categories != nil {
			cats = c.Categories.Category
		}
		setCategories(card, cats)
	} else if !ghosted("Categories") {
		delete(card, vcard.FieldCategories)
	}

	if sent("Children") || !ghosted("Children") {
		for _, f := range children(card) {
			removeField(card, vcard.FieldRelated, f)
		}
		if sent("Children") && c.Children != nil {
			for _, name := range c.Children.Child {
				if name == "" {
					continue
				}
				card.Add(vcard.FieldRelated, &vcard.Field{Value: name, Params: vcard.Params{
					vcard.ParamType: {"child"}, vcard.ParamValue: {"text"}}})
			}
		}
	}

	if err := applyPicture(card, c, sent, ghosted); err != nil {
		return nil, err
	}

	switch {
	case sent("Body") && bodyTruncated(c):
		// The phone holds only the part of the notes we sent it; writing
		// that back would cut the stored notes. Keep them.
	case sent("Body"):
		setSingle(card, vcard.FieldNote, bodyText(c))
	case !ghosted("Body"):
		delete(card, vcard.FieldNote)
	}

	// vCard 4.0 needs VERSION, FN and (for a store) UID.
	card.SetValue(vcard.FieldVersion, "4.0")
	if card.Value(vcard.FieldUID) == "" {
		card.SetValue(vcard.FieldUID, "urn:uuid:"+uuid.NewString())
	}
	nameAfter := card.Value(vcard.FieldName) + "\x00" + card.Value(vcard.FieldOrganization)
	if card.Get(vcard.FieldFormattedName) == nil || nameAfter != nameBefore || !hadFN {
		card.SetValue(vcard.FieldFormattedName, displayName(withoutFN(card)))
	}
	return card, nil
}

// check validates everything a client sent before anything is changed.
func check(c *message.Contact, sent func(string) bool) error {
	for _, elem := range allStringElems() {
		if sent(elem) && len(*stringField(c, elem)) > maxValue {
			return bad(elem, "longer than %d bytes", maxValue)
		}
	}
	if sent("Categories") && c.Categories != nil {
		for _, cat := range c.Categories.Category {
			if len(cat) > maxValue {
				return bad("Category", "longer than %d bytes", maxValue)
			}
		}
	}
	if sent("Children") && c.Children != nil {
		for _, ch := range c.Children.Child {
			if len(ch) > maxValue {
				return bad("Child", "longer than %d bytes", maxValue)
			}
		}
	}
	if sent("Body") && len(bodyText(c)) > maxBody {
		return bad("Body", "longer than %d bytes", maxBody)
	}
	if sent("Picture") && c.Picture != "" {
		p := stripSpace(c.Picture)
		if len(p) > MaxPicture {
			return ErrPictureTooLarge
		}
		if _, err := base64.StdEncoding.DecodeString(p); err != nil {
			return bad("Picture", "not base64: %v", err)
		}
	}
	return nil
}

func allStringElems() []string {
	var out []string
	for _, s := range slots {
		out = append(out, s.elem)
	}
	for _, a := range adrSlots {
		for _, p := range adrParts {
			out = append(out, a.prefix+p.suffix)
		}
	}
	for _, s := range single {
		out = append(out, s.elem)
	}
	for _, p := range nParts {
		out = append(out, p.elem)
	}
	return append(out, "CompanyName", "Department")
}

func applyStructured(card vcard.Card, key string, want func(string) (string, bool), parts []struct {
	elem  string
	index int
}, min int) {
	f := card.Get(key)
	var comps []string
	if f != nil {
		comps = splitComponents(f.Value)
	}
	touched := false
	for _, p := range parts {
		if val, touch := want(p.elem); touch {
			comps, touched = setComponent(comps, p.index, val), true
		}
	}
	if !touched {
		return
	}
	if !slices.ContainsFunc(comps, func(s string) bool { return s != "" }) {
		delete(card, key)
		return
	}
	if f == nil {
		f = &vcard.Field{Params: vcard.Params{}}
		card.Set(key, f)
	}
	f.Value = joinComponents(comps, min)
}

func applyPicture(card vcard.Card, c *message.Contact, sent, ghosted func(string) bool) error {
	if !sent("Picture") && ghosted("Picture") {
		return nil
	}
	if sent("Picture") && c.Picture != "" {
		data, _ := base64.StdEncoding.DecodeString(stripSpace(c.Picture)) // checked
		card.Set(vcard.FieldPhoto, &vcard.Field{Value: dataURI(data), Params: vcard.Params{}})
		return nil
	}
	// Cleared or absent: remove only the photos the phone could see.
	for _, f := range slices.Clone(card[vcard.FieldPhoto]) {
		if _, ok := photoData(f); ok {
			removeField(card, vcard.FieldPhoto, f)
		}
	}
	return nil
}

func bodyTruncated(c *message.Contact) bool {
	if c.Body != nil {
		return c.Body.Truncated
	}
	return c.BodyTruncated != nil && *c.BodyTruncated
}

// bodyText is the notes the client sent, as plain text.
func bodyText(c *message.Contact) string {
	if c.Body != nil {
		if c.Body.Type == message.BodyHTML {
			return model.TextOfHTML(c.Body.Data)
		}
		return c.Body.Data
	}
	return c.Body25
}

func setSingle(card vcard.Card, key, val string) {
	if val == "" {
		if len(card[key]) > 0 {
			card[key] = card[key][1:]
			if len(card[key]) == 0 {
				delete(card, key)
			}
		}
		return
	}
	if f := card.Get(key); f != nil {
		f.Value = val
		return
	}
	card.Add(key, &vcard.Field{Value: val, Params: vcard.Params{}})
}

// mark records on a property the element it holds.
func mark(f *vcard.Field, elem string) {
	if f.Params == nil {
		f.Params = vcard.Params{}
	}
	f.Params.Set(fieldParam, elem)
}

func removeField(card vcard.Card, key string, f *vcard.Field) {
	card[key] = slices.DeleteFunc(card[key], func(g *vcard.Field) bool { return g == f })
	if len(card[key]) == 0 {
		delete(card, key)
	}
}

// clone deep-copies a card so Apply never touches its input.
func clone(c vcard.Card) vcard.Card {
	out := vcard.Card{}
	for k, fs := range c {
		for _, f := range fs {
			g := &vcard.Field{Value: f.Value, Group: f.Group}
			if f.Params != nil {
				g.Params = vcard.Params{}
				for pk, pv := range f.Params {
					g.Params[pk] = slices.Clone(pv)
				}
			}
			out[k] = append(out[k], g)
		}
	}
	return out
}

func withoutFN(c vcard.Card) vcard.Card {
	out := vcard.Card{}
	for k, v := range c {
		if k != vcard.FieldFormattedName {
			out[k] = v
		}
	}
	return out
}

// displayName is FN, or one made from N, ORG or the first e-mail.
func displayName(card vcard.Card) string {
	if fn := card.Value(vcard.FieldFormattedName); fn != "" {
		return fn
	}
	if n := card.Get(vcard.FieldName); n != nil {
		p := splitComponents(n.Value)
		var words []string
		for _, i := range []int{3, 1, 2, 0, 4} {
			if w := component(p, i); w != "" {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			return strings.Join(words, " ")
		}
	}
	if o := card.Get(vcard.FieldOrganization); o != nil {
		if org := component(splitComponents(o.Value), 0); org != "" {
			return org
		}
	}
	return card.Value(vcard.FieldEmail)
}

// ---------------------------------------------------------------------------
// Indexed columns

// IndexColumns are the values the store indexes.
type IndexColumns struct {
	FileAs, GivenName, FamilyName string
	Emails, Phones                []string
}

// Columns returns a card's indexed columns. FileAs falls back to
// "Family, Given", then the company, FN and the first e-mail address.
func Columns(card vcard.Card) IndexColumns {
	var ic IndexColumns
	if n := card.Get(vcard.FieldName); n != nil {
		p := splitComponents(n.Value)
		ic.FamilyName, ic.GivenName = component(p, 0), component(p, 1)
	}
	for _, f := range card[vcard.FieldEmail] {
		if f.Value == "" {
			continue
		}
		addr := f.Value
		if a, err := mail.ParseAddress(addr); err == nil {
			addr = a.Address
		}
		ic.Emails = append(ic.Emails, strings.ToLower(addr))
	}
	for _, f := range card[vcard.FieldTelephone] {
		if f.Value != "" {
			ic.Phones = append(ic.Phones, strings.TrimPrefix(f.Value, "tel:"))
		}
	}
	ic.FileAs = card.Value("X-EAS-FILEAS")
	switch {
	case ic.FileAs != "":
	case ic.FamilyName != "" && ic.GivenName != "":
		ic.FileAs = ic.FamilyName + ", " + ic.GivenName
	case ic.FamilyName != "" || ic.GivenName != "":
		ic.FileAs = ic.FamilyName + ic.GivenName
	default:
		if o := card.Get(vcard.FieldOrganization); o != nil {
			ic.FileAs = component(splitComponents(o.Value), 0)
		}
		if ic.FileAs == "" {
			ic.FileAs = card.Value(vcard.FieldFormattedName)
		}
		if ic.FileAs == "" && len(ic.Emails) > 0 {
			ic.FileAs = ic.Emails[0]
		}
	}
	return ic
}
