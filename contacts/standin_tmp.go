package contacts

// Temporary stand-ins for the vCard mapping: replaced by vcard.go (branch
// contactmap), delete this file when merging. Only what the store needs.

import (
	"fmt"
	"strings"

	"github.com/emersion/go-vcard"
)

// IndexColumns are the indexed copies of a card's searchable properties.
type IndexColumns struct {
	FileAs, GivenName, FamilyName string
	Emails, Phones                []string
}

// Normalize converts a vCard 2.1, 3.0 or 4.0 card to 4.0 with a UID.
func Normalize(card vcard.Card) (vcard.Card, error) {
	v := card.Value(vcard.FieldVersion)
	switch {
	case v == "", v == "2.1", v == "3.0", strings.HasPrefix(v, "4."):
	default:
		return nil, fmt.Errorf("unsupported vCard version %q", v)
	}
	if card.Value(vcard.FieldFormattedName) == "" && card.Name() == nil {
		return nil, fmt.Errorf("card has neither FN nor N")
	}
	vcard.ToV4(card)
	if card.Value(vcard.FieldUID) == "" {
		card.SetValue(vcard.FieldUID, "urn:uuid:"+newUUID())
	}
	return card, nil
}

// Columns derives the indexed columns of card.
func Columns(card vcard.Card) IndexColumns {
	c := IndexColumns{FileAs: card.Value(vcard.FieldFormattedName)}
	if n := card.Name(); n != nil {
		c.GivenName, c.FamilyName = n.GivenName, n.FamilyName
	}
	c.Emails = card.Values(vcard.FieldEmail)
	c.Phones = card.Values(vcard.FieldTelephone)
	return c
}
