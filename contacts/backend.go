package contacts

import (
	"context"
	"fmt"

	"github.com/easd/easd/eas/message"

	"github.com/emersion/go-vcard"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// Backend is the Contacts class behind the protocol's item-class seam
// (model.ItemStore and model.ItemMover): the Store's cards, rendered and
// edited through the EAS mapping of vcard.go.
type Backend struct{ store *Store }

// NewBackend returns the Contacts class over store.
func NewBackend(store *Store) *Backend { return &Backend{store: store} }

var (
	_ model.ItemStore = (*Backend)(nil)
	_ model.ItemMover = (*Backend)(nil)
)

// CTag is the address book's change counter.
func (b *Backend) CTag(ctx context.Context, db model.DB, userID int64, folderID string) (int64, error) {
	return b.store.CTag(ctx, db, userID, folderID)
}

// Versions lists the book's cards by ServerId; FilterType does not apply
// to contacts (MS-ASCMD 2.2.3.70.2).
func (b *Backend) Versions(ctx context.Context, db model.DB, userID int64, folderID string, _ model.ItemOptions) (map[string]int64, error) {
	return b.store.Versions(ctx, db, userID, folderID)
}

// Render renders cards as EAS contacts for the request's version and body
// preference.
func (b *Backend) Render(ctx context.Context, db model.DB, userID int64, folderID string, serverIDs []string, opts model.ItemOptions) ([]model.Item, error) {
	cards, err := b.store.Get(ctx, db, userID, folderID, serverIDs)
	if err != nil {
		return nil, err
	}
	ro := RenderOptions{Version: opts.Version, Body: opts.BodyPreferences, Zone: opts.Zone}
	out := make([]model.Item, len(cards))
	for i, c := range cards {
		out[i] = model.Item{ServerID: c.ServerID, Version: c.Version, Data: ToEAS(c.Card, ro)}
	}
	return out, nil
}

// Add stores a phone's new contact.
func (b *Backend) Add(ctx context.Context, db model.DB, userID int64, folderID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	card, err := edit(vcard.Card{}, data, opts, false)
	if err != nil {
		return model.Item{}, err
	}
	c, err := b.store.Create(ctx, db, userID, folderID, card)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: c.ServerID, Version: c.Version}, nil
}

// Change applies a phone's edit to a stored contact; what the phone
// leaves out is cleared or kept as ghosting says, and what EAS cannot
// express of the card is kept.
func (b *Backend) Change(ctx context.Context, db model.DB, userID int64, folderID, serverID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	cards, err := b.store.Get(ctx, db, userID, folderID, []string{serverID})
	if err != nil {
		return model.Item{}, err
	}
	if len(cards) == 0 {
		return model.Item{}, fmt.Errorf("%w: %s", model.ErrItemNotFound, serverID)
	}
	card, err := edit(cards[0].Card, data, opts, true)
	if err != nil {
		return model.Item{}, err
	}
	c, err := b.store.Update(ctx, db, userID, folderID, serverID, card)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: c.ServerID, Version: c.Version}, nil
}

// Delete deletes a contact.
func (b *Backend) Delete(ctx context.Context, db model.DB, userID int64, folderID, serverID string) error {
	return itemErr(b.store.Delete(ctx, db, userID, folderID, serverID))
}

// DeleteFolder deletes an address book's cards.
func (b *Backend) DeleteFolder(ctx context.Context, db model.DB, userID int64, folderID string) error {
	return b.store.DeleteBook(ctx, db, userID, folderID)
}

// Move moves a contact to another address book of the user.
func (b *Backend) Move(ctx context.Context, db model.DB, userID int64, srcFolderID, serverID, dstFolderID string) (model.Item, error) {
	c, err := b.store.Move(ctx, db, userID, srcFolderID, dstFolderID, serverID)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: c.ServerID, Version: c.Version}, nil
}

// edit applies a client's ApplicationData to base. For a Change, an
// element the client leaves out is kept when it is not in the client's
// Supported list (ghosting, MS-ASCMD 2.2.3.179); the elements of
// opts.Keep are kept when absent or empty, whatever Supported says (a
// client quirk).
func edit(base vcard.Card, data *wbxml.Element, opts model.ItemOptions, change bool) (vcard.Card, error) {
	if err := contactElements.Check(data, "contact"); err != nil {
		return nil, err
	}
	c, err := DecodeContact(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", model.ErrItemInvalid, err)
	}
	sent, ghosted := opts.Presence(data, change)
	card, err := Apply(base, Edit{Contact: c, Sent: sent, Ghosted: ghosted}, opts.Zone)
	if err != nil {
		return nil, itemErr(err)
	}
	return card, nil
}

// itemErr translates the store's and the mapping's errors into the
// seam's: what the client sent cannot be kept (ErrItemInvalid, Sync
// Status 6) or the item is not there (ErrItemNotFound).
func itemErr(err error) error {
	return model.ItemError(err, ErrNotFound, ErrPictureTooLarge, ErrBadValue, ErrTooLarge, ErrUIDExists)
}

// contactElements are the elements of message.Contact.
var contactElements = model.ElementsOf[message.Contact]()
