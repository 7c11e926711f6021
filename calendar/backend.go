package calendar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// Backend is the Calendar class behind the protocol's item-class seam
// (model.ItemStore and model.ItemMover): the Store's series, rendered and
// edited through the EAS mapping of eas.go and edit.go.
type Backend struct{ store *Store }

// NewBackend returns the Calendar class over store.
func NewBackend(store *Store) *Backend { return &Backend{store: store} }

var (
	_ model.ItemStore = (*Backend)(nil)
	_ model.ItemMover = (*Backend)(nil)
)

// CTag is the calendar's change counter.
func (b *Backend) CTag(ctx context.Context, db model.DB, userID int64, folderID string) (int64, error) {
	return b.store.CTag(ctx, db, userID, folderID)
}

// Versions lists the series with an occurrence ending after the
// FilterType window's start (every series without a window).
func (b *Backend) Versions(ctx context.Context, db model.DB, userID int64, folderID string, opts model.ItemOptions) (map[string]int64, error) {
	return b.store.Versions(ctx, db, userID, folderID, opts.Since)
}

// Render renders series as EAS events for the request's version.
func (b *Backend) Render(ctx context.Context, db model.DB, userID int64, folderID string, serverIDs []string, opts model.ItemOptions) ([]model.Item, error) {
	evs, err := b.store.Get(ctx, db, userID, folderID, serverIDs)
	if err != nil {
		return nil, err
	}
	ro := RenderOptions{Version: opts.Version, Body: opts.BodyPreferences, Zone: opts.Zone}
	out := make([]model.Item, 0, len(evs))
	for _, e := range evs {
		data, err := ToEAS(e.Cal, ro)
		if err != nil {
			// One object EAS cannot show must not stop the whole
			// calendar's sync: it is left out, which the Sync treats as
			// an item gone meanwhile.
			continue
		}
		out = append(out, model.Item{ServerID: e.ServerID, Version: e.Version, Data: data})
	}
	return out, nil
}

// Add stores a phone's new event. An event whose UID the user has
// already (a retried Add, or iOS's "Add to calendar" of an invitation
// already in the calendar) is not created twice: the existing one is
// answered when it is in this calendar.
func (b *Backend) Add(ctx context.Context, db model.DB, userID int64, folderID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	cal, err := edit(nil, data, opts, false)
	if err != nil {
		return model.Item{}, err
	}
	organize(nil, cal, opts.Self)
	e, err := b.store.Create(ctx, db, userID, folderID, cal)
	if err != nil && !(errors.Is(err, ErrUIDExists) && e.FolderID == folderID) {
		return model.Item{}, itemErr(err)
	}
	if err == nil {
		if err := queueOrganized(ctx, db, userID, opts.Self, nil, e.Cal); err != nil {
			return model.Item{}, err
		}
	}
	it := model.Item{ServerID: e.ServerID, Version: e.Version}
	if opts.Version >= 160 {
		// 16.x clients send no UID; the server makes it and answers it
		// with the Add (MS-ASCAL 2.2.2.46), so that the phone can match
		// invitations to the event.
		it.Data = &message.Calendar{UID: e.UID}
	}
	return it, nil
}

// Change applies a phone's edit to a stored series.
func (b *Backend) Change(ctx context.Context, db model.DB, userID int64, folderID, serverID string, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	base, err := b.get(ctx, db, userID, folderID, serverID)
	if err != nil {
		return model.Item{}, err
	}
	cal, err := edit(base.Cal, data, opts, true)
	if err != nil {
		return model.Item{}, err
	}
	return b.updateMeeting(ctx, db, userID, folderID, serverID, base.Cal, cal, opts)
}

// ChangeInstance applies a 16.x Change of one occurrence, named by its
// InstanceId (the occurrence's original start).
func (b *Backend) ChangeInstance(ctx context.Context, db model.DB, userID int64, folderID, serverID string, instance time.Time, data *wbxml.Element, opts model.ItemOptions) (model.Item, error) {
	base, err := b.get(ctx, db, userID, folderID, serverID)
	if err != nil {
		return model.Item{}, err
	}
	c, err := decode(data)
	if err != nil {
		return model.Item{}, err
	}
	cal, err := ApplyInstance(base.Cal, instance, Edit{Event: c, Version: opts.Version, Zone: opts.Zone})
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return b.updateMeeting(ctx, db, userID, folderID, serverID, base.Cal, cal, opts)
}

// DeleteInstance deletes one occurrence of a series (16.x Delete with
// InstanceId).
func (b *Backend) DeleteInstance(ctx context.Context, db model.DB, userID int64, folderID, serverID string, instance time.Time, opts model.ItemOptions) (model.Item, error) {
	base, err := b.get(ctx, db, userID, folderID, serverID)
	if err != nil {
		return model.Item{}, err
	}
	cal, err := DeleteInstance(base.Cal, instance, opts.Zone)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return b.updateMeeting(ctx, db, userID, folderID, serverID, base.Cal, cal, opts)
}

func (b *Backend) get(ctx context.Context, db model.DB, userID int64, folderID, serverID string) (Event, error) {
	evs, err := b.store.Get(ctx, db, userID, folderID, []string{serverID})
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, fmt.Errorf("%w: %s", model.ErrItemNotFound, serverID)
	}
	return evs[0], nil
}

func (b *Backend) update(ctx context.Context, db model.DB, userID int64, folderID, serverID string, cal *ical.Calendar) (model.Item, error) {
	e, err := b.store.Update(ctx, db, userID, folderID, serverID, cal)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: e.ServerID, Version: e.Version}, nil
}

// Delete deletes a series; a meeting the user organises is cancelled
// to its attendees (meetingDelete).
func (b *Backend) Delete(ctx context.Context, db model.DB, userID int64, folderID, serverID string) error {
	return itemErr(b.meetingDelete(ctx, db, userID, folderID, serverID))
}

// DeleteFolder deletes a calendar's events.
func (b *Backend) DeleteFolder(ctx context.Context, db model.DB, userID int64, folderID string) error {
	return b.store.DeleteCalendar(ctx, db, userID, folderID)
}

// Move moves a series to another calendar of the user.
func (b *Backend) Move(ctx context.Context, db model.DB, userID int64, srcFolderID, serverID, dstFolderID string) (model.Item, error) {
	e, err := b.store.Move(ctx, db, userID, srcFolderID, dstFolderID, serverID)
	if err != nil {
		return model.Item{}, itemErr(err)
	}
	return model.Item{ServerID: e.ServerID, Version: e.Version}, nil
}

// decode reads a raw ApplicationData: every child must be a Calendar
// element (dropping one would store something other than what was sent,
// and the phone, told Status 1, would never resend it).
func decode(data *wbxml.Element) (*message.Calendar, error) {
	if err := calendarElements.Check(data, "calendar"); err != nil {
		return nil, err
	}
	c, err := model.DecodeItem[message.Calendar](data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", model.ErrItemInvalid, err)
	}
	return c, nil
}

// edit applies a client's ApplicationData to base (nil for an Add). For
// a Change, an absent element is kept when ghosting says so: outside the
// client's Supported list (MS-ASCMD 2.2.3.179), in opts.Keep, or any
// absent element for a 16.x client, which sends only what changed.
func edit(base *ical.Calendar, data *wbxml.Element, opts model.ItemOptions, change bool) (*ical.Calendar, error) {
	c, err := decode(data)
	if err != nil {
		return nil, err
	}
	sent, ghosted := opts.Presence(data, change)
	e := Edit{Event: c, Version: opts.Version, Zone: opts.Zone, Sent: sent}
	if change {
		// A 16.x client sends only what changed: whatever it leaves
		// out stays.
		e.Ghosted = func(name string) bool { return opts.Version >= 160 || ghosted(name) }
	}
	cal, err := Apply(base, e)
	if err != nil {
		return nil, itemErr(err)
	}
	return cal, nil
}

// itemErr translates the store's and the mapping's errors into the seam's.
func itemErr(err error) error {
	return model.ItemError(err, ErrNotFound, ErrBadValue, ErrBadObject, ErrTooLarge, ErrUIDExists)
}

// calendarElements are the elements of message.Calendar.
var calendarElements = model.ElementsOf[message.Calendar]()
