package contacts

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/textfold"
)

// SearchContacts finds the user's contacts with an e-mail address whose
// name or address matches query as the directory matches (every word the
// prefix of a word of the name or of an address, case and accents
// ignored), exact matches first, for ResolveRecipients (Type 2). It reads
// the indexed columns of all the user's cards, which are small, and the
// vCards of at most limit matches; a user's address book is a few
// thousand cards at most.
func (s *Store) SearchContacts(ctx context.Context, userID int64, query string, limit int) (model.DirectoryPage, error) {
	words := textfold.QueryWords(query)
	if len(words) == 0 || limit <= 0 {
		return model.DirectoryPage{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, file_as, given_name, family_name, emails FROM contacts
		WHERE user_id = $1 AND cardinality(emails) > 0`, userID)
	if err != nil {
		return model.DirectoryPage{}, fmt.Errorf("contacts: search: %w", err)
	}
	type hit struct {
		id   int64
		rank textfold.Match
		key  string
	}
	var hits []hit
	for rows.Next() {
		var id int64
		var fileAs, given, family string
		var emails []string
		if err := rows.Scan(&id, &fileAs, &given, &family, &emails); err != nil {
			rows.Close()
			return model.DirectoryPage{}, fmt.Errorf("contacts: search: %w", err)
		}
		terms := append(textfold.NameTerms(fileAs, given, family), textfold.AddressTerms(emails...)...)
		if r := textfold.Rank(words, terms); r != textfold.None {
			hits = append(hits, hit{id, r, textfold.Fold(fileAs)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return model.DirectoryPage{}, fmt.Errorf("contacts: search: %w", err)
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.rank != b.rank {
			return int(a.rank - b.rank)
		}
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return int(a.id - b.id)
	})
	page := model.DirectoryPage{Total: len(hits)}
	hits = hits[:min(limit, len(hits))]
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	cards := map[int64]vcard.Card{}
	rows, err = s.pool.Query(ctx, `SELECT id, vcard FROM contacts WHERE user_id = $1 AND id = ANY($2)`, userID, ids)
	if err != nil {
		return model.DirectoryPage{}, fmt.Errorf("contacts: search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			return model.DirectoryPage{}, fmt.Errorf("contacts: search: %w", err)
		}
		if c, err := decodeCard(text); err == nil {
			cards[id] = c
		}
	}
	if err := rows.Err(); err != nil {
		return model.DirectoryPage{}, fmt.Errorf("contacts: search: %w", err)
	}
	for _, h := range hits {
		if c, ok := cards[h.id]; ok {
			e := EntryOf(c)
			e.Exact = h.rank == textfold.Exact
			page.Entries = append(page.Entries, e)
		}
	}
	return page, nil
}

// EntryOf is what a recipient lookup shows of a card: its name, its
// addresses, phones and organisation, its photo and its S/MIME
// certificates (KEY properties holding an X.509 certificate).
func EntryOf(c vcard.Card) model.DirectoryEntry {
	ic := Columns(c)
	e := model.DirectoryEntry{DisplayName: c.Value(vcard.FieldFormattedName), FirstName: ic.GivenName, LastName: ic.FamilyName,
		Emails: ic.Emails, Title: c.Value(vcard.FieldTitle), Alias: c.Value(vcard.FieldNickname)}
	if e.DisplayName == "" {
		e.DisplayName = strings.TrimSpace(ic.GivenName + " " + ic.FamilyName)
	}
	if o := c.Get(vcard.FieldOrganization); o != nil {
		e.Company = component(splitComponents(o.Value), 0)
	}
	for _, f := range c[vcard.FieldTelephone] {
		v := strings.TrimPrefix(f.Value, "tel:")
		switch {
		case hasType(f, "cell") && e.MobilePhone == "":
			e.MobilePhone = v
		case hasType(f, "home") && e.HomePhone == "":
			e.HomePhone = v
		case hasType(f, "work") && e.Phone == "":
			e.Phone = v
		}
	}
	if p := c.Get(vcard.FieldPhoto); p != nil {
		if b, ok := photoData(p); ok {
			e.Picture = b
		}
	}
	for _, k := range c[vcard.FieldKey] {
		if der, ok := certificateData(k); ok {
			e.Certificates = append(e.Certificates, der)
		}
	}
	return e
}

// certificateData returns the DER bytes of a KEY that is an X.509
// certificate: a data: URI of type application/pkix-cert (or
// x-x509-*-cert), or a vCard 3.0 inline value typed X509.
func certificateData(f *vcard.Field) ([]byte, bool) {
	v := f.Value
	if rest, ok := strings.CutPrefix(v, "data:"); ok {
		meta, payload, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(meta, ";base64") || !strings.Contains(strings.ToLower(meta), "cert") {
			return nil, false
		}
		b, err := base64.StdEncoding.DecodeString(stripSpace(payload))
		return b, err == nil && len(b) > 0
	}
	if hasType(f, "x509") || strings.Contains(strings.ToLower(f.Params.Get(vcard.ParamMediaType)), "cert") {
		b, err := base64.StdEncoding.DecodeString(stripSpace(v))
		return b, err == nil && len(b) > 0
	}
	return nil, false
}
