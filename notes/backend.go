package notes

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// Backend is the Notes class behind the protocol's item-class seam
// (model.ItemStore and model.ItemMover).
type Backend struct{ store *Store }

// NewBackend returns the Notes class over store.
func NewBackend(store *Store) *Backend { return &Backend{store: store} }

var (
	_ model.ItemStore = (*Backend)(nil)
	_ model.ItemMover = (*Backend)(nil)
)

// CTag is the folder's change counter.
func (b *Backend) CTag(ctx context.Context, db model.DB, userID int64, folderID string) (int64, error) {
	return b.store.CTag(ctx, db, userID, folderID)
}

// Versions lists the folder's notes; no FilterType applies to notes.
func (b *Backend) Versions(ctx context.Context, db model.DB, userID int64, folderID string, _ model.ItemOptions) (map[string]int64, error) {
	return b.store.Versions(ctx, db, userID, folderID)
}

// Render renders notes for the request's version and body preference.
func (b *Backend) Render(ctx context.Context, db model.DB, userID int64, folderID string, serverIDs []string, opts model.ItemOptions) ([]model.Item, error) {
	ns, err := b.store.Get(ctx, db, userID, folderID, serverIDs)
	if err != nil {
		return nil, err
	}
	out := make([]model.Item, len(ns))
	for i, n := range ns {
		out[i] = model.Item{ServerID: n.ServerID, Version: n.Version, Data: ToEAS(n, opts.Version, opts.BodyPreferences)}
	}
	return out, nil
}

// ToEAS is the note as the Notes class shows it.
func ToEAS(n Note, version int, prefs []message.BodyPreference) *message.Note {
	m := &message.Note{
		Body:             model.RenderBody(n.Body, n.BodyType, version, prefs),
		Subject:          n.Subject,
		MessageClass:     n.MessageClass,
		LastModifiedDate: n.LastModified.UTC().Format(easTime),
	}
	if m.MessageClass == "" {
		m.MessageClass = DefaultMessageClass
	}
	if len(n.Categories) > 0 {
		m.Categories = &message.NoteCategories{Category: slices.Clone(n.Categories)}
	}
	return m
}

// easTime is MS-ASDTYPE's dateTime as servers write it.
const easTime = "2006-01-02T15:04:05.000Z"

// ParseEASTime reads an MS-ASDTYPE dateTime, in the forms clients send:
// with or without fractional seconds, and the compact basic form
// (20260301T093000Z) some older clients use. It is always UTC.
func ParseEASTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z", "2006-01-02T15:04:05Z", "20060102T150405Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an MS-ASDTYPE dateTime", s)
}

// Add stores a phone's new note.
func (b *Backend) Add(ctx context.Context, db model.DB, userID int64, folderID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	n, err := Edit(Note{}, data, opts, false)
	if err != nil {
		return model.Item{}, err
	}
	out, err := b.store.Create(ctx, db, userID, folderID, n)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: out.ServerID, Version: out.Version}, nil
}

// Change applies a phone's edit to a stored note, ghosting as opts say.
func (b *Backend) Change(ctx context.Context, db model.DB, userID int64, folderID, serverID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	ns, err := b.store.Get(ctx, db, userID, folderID, []string{serverID})
	if err != nil {
		return model.Item{}, err
	}
	if len(ns) == 0 {
		return model.Item{}, fmt.Errorf("%w: %s", model.ErrItemNotFound, serverID)
	}
	n, err := Edit(ns[0], data, opts, true)
	if err != nil {
		return model.Item{}, err
	}
	out, err := b.store.Update(ctx, db, userID, folderID, serverID, n)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: out.ServerID, Version: out.Version}, nil
}

// Delete deletes a note.
func (b *Backend) Delete(ctx context.Context, db model.DB, userID int64, folderID, serverID string) error {
	return itemErr(b.store.Delete(ctx, db, userID, folderID, serverID))
}

// DeleteFolder deletes a folder's notes.
func (b *Backend) DeleteFolder(ctx context.Context, db model.DB, userID int64, folderID string) error {
	return b.store.DeleteFolder(ctx, db, userID, folderID)
}

// Move moves a note to another notes folder of the user.
func (b *Backend) Move(ctx context.Context, db model.DB, userID int64, srcFolderID, serverID, dstFolderID string) (model.Item, error) {
	n, err := b.store.Move(ctx, db, userID, srcFolderID, dstFolderID, serverID)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: n.ServerID, Version: n.Version}, nil
}

// Edit applies a client's ApplicationData to base (the zero Note for an
// Add) and returns the note to store. An element the client sent
// replaces the stored value, an empty one clears it; for a Change an
// absent element is kept when ghosted (not in the client's Supported
// list, or in opts.Keep) and cleared otherwise. LastModifiedDate is the
// client's when it sends one, else the time of the write. A truncated
// body (the client never had it whole) keeps the stored one.
func Edit(base Note, data *wbxml.Element, opts model.ItemOptions, change bool) (Note, error) {
	if err := noteElements.Check(data, "note"); err != nil {
		return Note{}, err
	}
	m, err := DecodeNote(data)
	if err != nil {
		return Note{}, fmt.Errorf("%w: %w", model.ErrItemInvalid, err)
	}
	sent, ghosted := opts.Presence(data, change)
	n := base
	n.LastModified = time.Time{}
	switch {
	case sent("Subject"):
		n.Subject = m.Subject
	case !ghosted("Subject"):
		n.Subject = ""
	}
	switch {
	case sent("Body") && m.Body != nil && m.Body.Truncated:
	case sent("Body"):
		text, typ, ok := model.BodyOf(m.Body)
		if !ok {
			return Note{}, fmt.Errorf("%w: Body: type %d is not kept (plain text or HTML)", model.ErrItemInvalid, m.Body.Type)
		}
		n.Body, n.BodyType = text, typ
	case !ghosted("Body"):
		n.Body, n.BodyType = "", BodyPlain
	}
	switch {
	case sent("MessageClass"):
		n.MessageClass = m.MessageClass
	case !ghosted("MessageClass"):
		n.MessageClass = ""
	}
	switch {
	case sent("Categories"):
		n.Categories = nil
		if m.Categories != nil {
			n.Categories = m.Categories.Category
		}
	case !ghosted("Categories"):
		n.Categories = nil
	}
	if sent("LastModifiedDate") && m.LastModifiedDate != "" {
		t, err := ParseEASTime(m.LastModifiedDate)
		if err != nil {
			return Note{}, fmt.Errorf("%w: LastModifiedDate: %w", model.ErrItemInvalid, err)
		}
		n.LastModified = t
	}
	if err := check(&n); err != nil {
		return Note{}, itemErr(err)
	}
	return n, nil
}

// DecodeNote decodes a raw ApplicationData element into a Note.
func DecodeNote(el *wbxml.Element) (*message.Note, error) {
	m, err := model.DecodeItem[message.Note](el)
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	return m, nil
}

// itemErr translates the store's errors into the seam's.
func itemErr(err error) error {
	return model.ItemError(err, ErrNotFound, ErrBadValue)
}

// noteElements are the elements of message.Note.
var noteElements = model.ElementsOf[message.Note]()
