package tasks

import (
	"context"
	"errors"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/model"
)

// resendVersion is the version a Change answer records for the phone
// when the stored task is not what the phone sent (its series moved on):
// no stored task has it, so the next Exchange sends the task back.
const resendVersion = -1

// completeOccurrence advances the series of t, which a phone's edit has
// just marked complete (see CompleteOccurrence), storing the completed
// occurrence as a task of its own in the same list and transaction.
func (b *Backend) completeOccurrence(ctx context.Context, db model.DB, userID int64, folderID string, t Task, wasOpen bool, opts model.ItemOptions) (Advance, error) {
	done, adv, err := CompleteOccurrence(t.Todo(), wasOpen, opts.Zone)
	if err != nil || adv != Advanced {
		return adv, itemErr(err)
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, prodID)
	for _, c := range t.Cal.Children {
		if c.Name == ical.CompTimezone {
			cal.Children = append(cal.Children, c)
		}
	}
	cal.Children = append(cal.Children, done)
	if _, err := b.store.Create(ctx, db, userID, folderID, cal); err != nil {
		if errors.Is(err, ErrUIDExists) {
			// Made by the first of two identical requests.
			return Replayed, nil
		}
		return adv, itemErr(err)
	}
	return adv, nil
}
