package tasks

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// Backend is the Tasks class behind the protocol's item-class seam
// (model.ItemStore and model.ItemMover).
type Backend struct {
	store *Store
	now   func() time.Time
}

// NewBackend returns the Tasks class over store.
func NewBackend(store *Store) *Backend { return &Backend{store: store, now: time.Now} }

var (
	_ model.ItemStore = (*Backend)(nil)
	_ model.ItemMover = (*Backend)(nil)
)

// CTag is the list's change counter.
func (b *Backend) CTag(ctx context.Context, db model.DB, userID int64, folderID string) (int64, error) {
	return b.store.CTag(ctx, db, userID, folderID)
}

// Versions lists the list's tasks; FilterType 8 (opts.Incomplete) shows
// the incomplete ones only. Other FilterTypes do not apply to tasks.
func (b *Backend) Versions(ctx context.Context, db model.DB, userID int64, folderID string, opts model.ItemOptions) (map[string]int64, error) {
	return b.store.Versions(ctx, db, userID, folderID, opts.Incomplete)
}

// Render renders tasks for the request's version, body preference and
// the user's zone.
func (b *Backend) Render(ctx context.Context, db model.DB, userID int64, folderID string, serverIDs []string, opts model.ItemOptions) ([]model.Item, error) {
	ts, err := b.store.Get(ctx, db, userID, folderID, serverIDs)
	if err != nil {
		return nil, err
	}
	ro := RenderOptions{Version: opts.Version, Body: opts.BodyPreferences, Zone: opts.Zone}
	out := make([]model.Item, len(ts))
	for i, t := range ts {
		out[i] = model.Item{ServerID: t.ServerID, Version: t.Version, Data: ToEAS(t.Todo(), ro)}
	}
	return out, nil
}

// Add stores a phone's new task.
func (b *Backend) Add(ctx context.Context, db model.DB, userID int64, folderID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	cal := NewCalendar(b.now())
	if err := b.edit(cal, data, opts, false); err != nil {
		return model.Item{}, err
	}
	t, err := b.store.Create(ctx, db, userID, folderID, cal)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: t.ServerID, Version: t.Version}, nil
}

// Change applies a phone's edit to a stored task; what EAS cannot
// express of the VTODO is kept.
func (b *Backend) Change(ctx context.Context, db model.DB, userID int64, folderID, serverID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	ts, err := b.store.Get(ctx, db, userID, folderID, []string{serverID})
	if err != nil {
		return model.Item{}, err
	}
	if len(ts) == 0 {
		return model.Item{}, fmt.Errorf("%w: %s", model.ErrItemNotFound, serverID)
	}
	wasOpen := !IsComplete(ts[0].Todo())
	if err := b.edit(ts[0].Cal, data, opts, true); err != nil {
		return model.Item{}, err
	}
	adv, err := b.completeOccurrence(ctx, db, userID, folderID, ts[0], wasOpen, opts)
	if err != nil {
		return model.Item{}, err
	}
	if adv == Replayed {
		return model.Item{ServerID: serverID, Version: resendVersion}, nil
	}
	t, err := b.store.Update(ctx, db, userID, folderID, serverID, ts[0].Cal)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	if adv != NotAdvanced {
		// The phone holds the completed occurrence; the task is now
		// the next one (or dead): send it back.
		return model.Item{ServerID: t.ServerID, Version: resendVersion}, nil
	}
	return model.Item{ServerID: t.ServerID, Version: t.Version}, nil
}

// Delete deletes a task.
func (b *Backend) Delete(ctx context.Context, db model.DB, userID int64, folderID, serverID string) error {
	return itemErr(b.store.Delete(ctx, db, userID, folderID, serverID))
}

// DeleteFolder deletes a list's tasks.
func (b *Backend) DeleteFolder(ctx context.Context, db model.DB, userID int64, folderID string) error {
	return b.store.DeleteFolder(ctx, db, userID, folderID)
}

// Move moves a task to another list of the user.
func (b *Backend) Move(ctx context.Context, db model.DB, userID int64, srcFolderID, serverID, dstFolderID string) (model.Item, error) {
	t, err := b.store.Move(ctx, db, userID, srcFolderID, dstFolderID, serverID)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: t.ServerID, Version: t.Version}, nil
}

// edit applies a client's ApplicationData to cal's VTODO, ghosting as
// opts say: an element outside the client's Supported list, or in
// opts.Keep, is kept when absent (opts.Keep also when empty).
func (b *Backend) edit(cal *ical.Calendar, data *wbxml.Element, opts model.ItemOptions, change bool) error {
	if err := taskElements.Check(data, "task"); err != nil {
		return err
	}
	m, err := DecodeTask(data)
	if err != nil {
		return fmt.Errorf("%w: %w", model.ErrItemInvalid, err)
	}
	sent, ghosted := opts.Presence(data, change)
	e := Edit{Task: m, Sent: sent, Ghosted: ghosted, Zone: opts.Zone, Now: b.now()}
	if err := Apply(todoOf(cal), e); err != nil {
		return itemErr(err)
	}
	return nil
}

// DecodeTask decodes a raw ApplicationData element into a Task.
func DecodeTask(el *wbxml.Element) (*message.Task, error) {
	t, err := model.DecodeItem[message.Task](el)
	if err != nil {
		return nil, fmt.Errorf("tasks: %w", err)
	}
	return t, nil
}

// itemErr translates the store's and the mapping's errors into the
// seam's.
func itemErr(err error) error {
	return model.ItemError(err, ErrNotFound, ErrBadValue, ErrUIDExists)
}

// taskElements are the elements of message.Task.
var taskElements = model.ElementsOf[message.Task]()
