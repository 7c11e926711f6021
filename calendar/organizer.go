package calendar

import (
	"context"
	"fmt"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/model"
)

// The Calendar backend's side of meetings the user organises on the
// phone (imip.go): its writes go through organize and queueOrganized.

// updateMeeting stores a phone's change of a series (organize before,
// queueOrganized after the write).
func (b *Backend) updateMeeting(ctx context.Context, db model.DB, userID int64, folderID, serverID string, before, after *ical.Calendar, opts model.ItemOptions) (model.Item, error) {
	organize(before, after, opts.Self)
	it, err := b.update(ctx, db, userID, folderID, serverID, after)
	if err != nil {
		return it, err
	}
	if err := queueOrganized(ctx, db, userID, opts.Self, before, after); err != nil {
		return model.Item{}, err
	}
	return it, nil
}

// meetingDelete deletes a series; when it is a meeting of the user's
// with attendees, they get a CANCEL. The Delete of the item seam carries
// no ItemOptions, so the user is the meeting's organizer as stored: only
// a meeting that went out through organize (ORGANIZER set, attendees
// invited) is cancelled.
func (b *Backend) meetingDelete(ctx context.Context, db model.DB, userID int64, folderID, serverID string) error {
	evs, err := b.store.Get(ctx, db, userID, folderID, []string{serverID})
	if err != nil {
		return err
	}
	if err := b.store.Delete(ctx, db, userID, folderID, serverID); err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	master := firstEvent(evs[0].Cal)
	if master == nil {
		return nil
	}
	organizer := organizerOf(master)
	sent, err := invitedBefore(ctx, db, userID, evs[0].UID)
	if err != nil || !sent {
		return err
	}
	return queueOrganized(ctx, db, userID, organizer, evs[0].Cal, nil)
}

// invitedBefore reports whether easd sent invitations for uid: only then
// is the user the meeting's organizer for a delete to cancel.
func invitedBefore(ctx context.Context, q Querier, userID int64, uid string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM meeting_outbox WHERE user_id = $1 AND uid = $2 AND method = 'REQUEST')`,
		userID, uid).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("calendar: invitations of %q: %w", uid, err)
	}
	return ok, nil
}
