package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/internal/itemstore"
)

// What CalDAV reads of the store, as calendar/dav.go does for events:
// tasks by resource name, a list's index without its objects, the changes
// since a sync token. The writes are the Store's own (CreateNamed,
// Update, Delete), so a DAV write bumps the ctag, stamps the version and
// wakes the phones' Pings exactly as a phone's write does.

// TombstoneRetention is how long the name of a removed task is kept for
// sync-collection reports.
const TombstoneRetention = 90 * 24 * time.Hour

// ErrTokenTooOld: the changes since a token can no longer be told.
var ErrTokenTooOld = errors.New("tasks: sync token too old")

// ErrUnsupportedComponent: a component other than VTODO in a task list.
var ErrUnsupportedComponent = errors.New("tasks: unsupported component")

// Resource is a task as a DAV listing shows it.
type Resource = itemstore.Resource

// Resources lists the list's tasks by name and version without reading
// an object.
func (s *Store) Resources(ctx context.Context, q Querier, userID int64, folderID string) ([]Resource, error) {
	return s.items.Resources(ctx, q, userID, folderID)
}

// ByHref returns the list's tasks named by hrefs, in the order of hrefs;
// names of no task are left out.
func (s *Store) ByHref(ctx context.Context, q Querier, userID int64, folderID string, hrefs []string) ([]Task, error) {
	rows, err := q.Query(ctx, `SELECT id, uid, href, version, ical, updated FROM tasks
		WHERE user_id = $1 AND folder_id = $2 AND href = ANY($3)`, userID, folderID, hrefs)
	if err != nil {
		return nil, fmt.Errorf("tasks: get: %w", err)
	}
	got, err := scanTasks(folderID, rows)
	if err != nil {
		return nil, fmt.Errorf("tasks: get: %w", err)
	}
	byHref := make(map[string]Task, len(got))
	for _, t := range got {
		byHref[t.Href] = t
	}
	return itemstore.InOrder(hrefs, byHref), nil
}

// ByUID returns the list's task of UID uid, ErrNotFound when none.
func (s *Store) ByUID(ctx context.Context, q Querier, userID int64, folderID, uid string) (Resource, error) {
	res, err := s.items.ResourcesWhere(ctx, q, userID, folderID, `uid = $3`, uid)
	if err != nil {
		return Resource{}, err
	}
	if len(res) == 0 {
		return Resource{}, ErrNotFound
	}
	return res[0], nil
}

// LockHref returns the task named href with its row locked until q's
// transaction ends, so that a conditional write compares the version it
// then overwrites. ErrNotFound when there is none.
func (s *Store) LockHref(ctx context.Context, q Querier, userID int64, folderID, href string) (Resource, error) {
	return s.items.LockHref(ctx, q, userID, folderID, href)
}

// Changes are what happened to a list since a sync token.
type Changes = itemstore.Changes

// ChangesSince returns the list's changes after version since; since 0
// lists every task. Run it in one snapshot (REPEATABLE READ) so CTag and
// the lists agree. listedAt has the meaning of
// contacts.Store.ChangesSince: the resume point of a cut full listing.
func (s *Store) ChangesSince(ctx context.Context, q Querier, userID int64, folderID string, since, listedAt int64) (Changes, error) {
	return s.items.ChangesSince(ctx, q, userID, folderID, since, listedAt)
}

// PruneTombstones forgets the names removed from the list before
// `before`, raising its floor of answerable tokens.
func (s *Store) PruneTombstones(ctx context.Context, q Querier, userID int64, folderID string, before time.Time) error {
	return s.items.PruneTombstones(ctx, q, userID, folderID, before)
}

// ListNames returns the DAV collection names given to the user's task
// lists by MKCALENDAR, by folder id.
func (s *Store) ListNames(ctx context.Context, q Querier, userID int64) (map[string]string, error) {
	return s.items.DAVNames(ctx, q, userID)
}

// NameList creates the (empty) list of folderID under the DAV collection
// name name, in q's transaction with the folder's creation.
func (s *Store) NameList(ctx context.Context, q Querier, userID int64, folderID, name string) error {
	return s.items.SetDAVName(ctx, q, userID, folderID, name)
}

// ObjectUID returns the UID of a CalDAV calendar object resource meant
// for a task list, after checking it is one: one VTODO (and VTIMEZONEs),
// no METHOD (RFC 4791 4.1). A VEVENT or VJOURNAL is
// ErrUnsupportedComponent; the store's own checks (prepare) follow on
// write.
func ObjectUID(cal *ical.Calendar) (string, error) {
	if cal.Props.Get(ical.PropMethod) != nil {
		return "", fmt.Errorf("%w: a calendar object resource has no METHOD (RFC 4791 4.1)", ErrBadValue)
	}
	uid := ""
	n := 0
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompToDo:
			n++
			p := c.Props.Get(ical.PropUID)
			if p == nil || strings.TrimSpace(p.Value) == "" {
				return "", fmt.Errorf("%w: VTODO without UID", ErrBadValue)
			}
			uid = p.Value
		case ical.CompTimezone:
		case ical.CompEvent, ical.CompJournal:
			return "", fmt.Errorf("%w: %s: this list holds tasks only", ErrUnsupportedComponent, c.Name)
		}
	}
	if n != 1 {
		// Recurring tasks' overrides (RECURRENCE-ID) are not kept: the
		// store holds one VTODO per task, as the phones see it.
		return "", fmt.Errorf("%w: %d VTODOs: a task object holds exactly one", ErrBadValue, n)
	}
	return uid, nil
}

// Encode renders a stored object as iCalendar text.
func Encode(cal *ical.Calendar) (string, error) {
	var b strings.Builder
	if err := ical.NewEncoder(&b).Encode(cal); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Overlaps reports whether the task's VTODO overlaps [from, to) as RFC
// 4791 9.9 tells for VTODO (from DTSTART, DUE, DURATION, COMPLETED and
// CREATED); a zero bound is unbounded. Floating times and dates are read
// as UTC. A recurring task is judged by its current instance, the one
// the store and the phones hold.
func Overlaps(cal *ical.Calendar, from, to time.Time) bool {
	todo := todoOf(cal)
	if todo == nil {
		return false
	}
	if from.IsZero() {
		from = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if to.IsZero() {
		to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	at := func(name string) (time.Time, bool) {
		p := todo.Props.Get(name)
		if p == nil {
			return time.Time{}, false
		}
		t, err := p.DateTime(time.UTC)
		return t, err == nil && !t.IsZero()
	}
	start, hasStart := at(ical.PropDateTimeStart)
	due, hasDue := at(ical.PropDue)
	var dur time.Duration
	hasDur := false
	if p := todo.Props.Get(ical.PropDuration); p != nil {
		if d, err := p.Duration(); err == nil {
			dur, hasDur = d, true
		}
	}
	completed, hasCompleted := at(ical.PropCompleted)
	created, hasCreated := at(ical.PropCreated)
	le := func(a, b time.Time) bool { return !a.After(b) }
	switch {
	case hasStart && hasDur:
		end := start.Add(dur)
		return le(from, end) && (to.After(start) || !to.Before(end))
	case hasStart && hasDue:
		return (from.Before(due) || le(from, start)) && (to.After(start) || !to.Before(due))
	case hasStart:
		return le(from, start) && to.After(start)
	case hasDue:
		return from.Before(due) && !to.Before(due)
	case hasCompleted && hasCreated:
		return (le(from, created) || le(from, completed)) && (!to.Before(created) || !to.Before(completed))
	case hasCompleted:
		return le(from, completed) && !to.Before(completed)
	case hasCreated:
		return to.After(created)
	}
	return true
}
