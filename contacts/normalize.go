package contacts

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"
	"github.com/google/uuid"
	"golang.org/x/text/encoding/htmlindex"
)

// Normalize turns a parsed vCard 2.1, 3.0 or 4.0 into the vCard 4.0 form
// the store keeps: VERSION:4.0, a UID, an FN; vCard 2.1's
// QUOTED-PRINTABLE values and CHARSET decoded to UTF-8; TYPE=PREF as
// PREF=1; inline (ENCODING=b or BASE64) photos, logos and sounds as data:
// URIs; BDAY and ANNIVERSARY dates as YYYYMMDD. Everything else is kept.
// The input is not modified.
//
// go-vcard's parser drops the value of a vCard 2.1 line whose parameters
// have no name (TEL;WORK;VOICE:...); such files need TYPE= added before
// parsing, which is the importer's job.
func Normalize(card vcard.Card) (vcard.Card, error) {
	version := strings.TrimSpace(card.Value(vcard.FieldVersion))
	switch version {
	case "2.1", "3.0", "4.0":
	case "":
		// Lenient: a card without VERSION is read as the newest.
	default:
		return nil, fmt.Errorf("contacts: unsupported vCard version %q", version)
	}
	out := clone(card)
	for key, fields := range out {
		for _, f := range fields {
			if err := normalizeField(key, f, version); err != nil {
				return nil, fmt.Errorf("contacts: %s: %w", key, err)
			}
		}
	}
	out.SetValue(vcard.FieldVersion, "4.0")
	if out.Value(vcard.FieldUID) == "" {
		out.SetValue(vcard.FieldUID, "urn:uuid:"+uuid.NewString())
	}
	if out.Value(vcard.FieldFormattedName) == "" {
		fn := displayName(out)
		if fn == "" {
			return nil, fmt.Errorf("contacts: card has no name, organization or e-mail")
		}
		out.SetValue(vcard.FieldFormattedName, fn)
	}
	return out, nil
}

func normalizeField(key string, f *vcard.Field, version string) error {
	if f.Params == nil {
		f.Params = vcard.Params{}
	}
	enc := strings.ToUpper(f.Params.Get("ENCODING"))
	switch enc {
	case "QUOTED-PRINTABLE":
		b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(f.Value)))
		if err != nil {
			return fmt.Errorf("quoted-printable: %w", err)
		}
		f.Value = string(b)
		delete(f.Params, "ENCODING")
	case "B", "BASE64":
		b, err := base64.StdEncoding.DecodeString(stripSpace(f.Value))
		if err != nil {
			return fmt.Errorf("base64: %w", err)
		}
		f.Value = dataURIOf(b, f.Params)
		delete(f.Params, "ENCODING")
		delete(f.Params, vcard.ParamType)
		delete(f.Params, vcard.ParamValue)
	}
	if cs := f.Params.Get("CHARSET"); cs != "" {
		if !strings.EqualFold(cs, "utf-8") {
			e, err := htmlindex.Get(cs)
			if err != nil {
				return fmt.Errorf("charset %q: %w", cs, err)
			}
			s, err := e.NewDecoder().String(f.Value)
			if err != nil {
				return fmt.Errorf("charset %q: %w", cs, err)
			}
			f.Value = s
		}
		delete(f.Params, "CHARSET")
	}
	// vCard 3.0 and 2.1 mark the preferred one with TYPE=PREF; 4.0 has
	// PREF=1 (RFC 6350 5.3).
	if types := f.Params[vcard.ParamType]; slices.ContainsFunc(types, isPref) {
		f.Params[vcard.ParamType] = slices.DeleteFunc(slices.Clone(types), isPref)
		if len(f.Params[vcard.ParamType]) == 0 {
			delete(f.Params, vcard.ParamType)
		}
		f.Params.Set(vcard.ParamPreferred, "1")
	}
	if version != "4.0" && strings.EqualFold(f.Params.Get(vcard.ParamValue), "uri") {
		delete(f.Params, vcard.ParamValue) // the 4.0 default for PHOTO, URL ...
	}
	if key == vcard.FieldBirthday || key == vcard.FieldAnniversary {
		if d, ok := vcardDate(f.Value); ok && d.hasYear {
			f.Value = d.vcard()
			f.Params.Set(vcard.ParamValue, "date")
		}
	}
	return nil
}

func isPref(t string) bool { return strings.EqualFold(t, "pref") }

// dataURIOf makes a data: URI of inline bytes; the vCard 3.0 TYPE
// (JPEG, PNG, GIF) names the type, else it is sniffed.
func dataURIOf(b []byte, p vcard.Params) string {
	if t := strings.ToLower(strings.TrimSpace(p.Get(vcard.ParamType))); t != "" && !strings.Contains(t, "/") {
		return "data:image/" + t + ";base64," + base64.StdEncoding.EncodeToString(b)
	}
	return dataURI(b)
}
