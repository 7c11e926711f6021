package calendar

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/internal/itemstore"
)

// What CalDAV reads of the store: events by resource name, a calendar's
// index without its objects, the changes since a sync token and the
// events in a time range. The writes are the Store's own (CreateNamed,
// Update, Delete), so a DAV write bumps the ctag, stamps the version and
// wakes the phones' Pings exactly as a phone's write does.

// TombstoneRetention is how long the name of a removed event is kept for
// sync-collection reports.
const TombstoneRetention = 90 * 24 * time.Hour

// ErrTokenTooOld: the changes since a token can no longer be told.
var ErrTokenTooOld = errors.New("calendar: sync token too old")

// Resource is an event as a DAV listing shows it.
type Resource = itemstore.Resource

// Resources lists the calendar's events by name and version without
// reading an object.
func (s *Store) Resources(ctx context.Context, q Querier, userID int64, folderID string) ([]Resource, error) {
	return s.items.Resources(ctx, q, userID, folderID)
}

// ByHref returns the calendar's events named by hrefs, in the order of
// hrefs; names of no event are left out.
func (s *Store) ByHref(ctx context.Context, q Querier, userID int64, folderID string, hrefs []string) ([]Event, error) {
	got, err := s.query(ctx, q, userID, folderID, `href = ANY($3)`, hrefs)
	if err != nil {
		return nil, err
	}
	byHref := make(map[string]Event, len(got))
	for _, e := range got {
		byHref[e.Href] = e
	}
	return itemstore.InOrder(hrefs, byHref), nil
}

// LockHref returns the event named href with its row locked until q's
// transaction ends, so that a conditional write compares the version it
// then overwrites. ErrNotFound when there is none.
func (s *Store) LockHref(ctx context.Context, q Querier, userID int64, folderID, href string) (Resource, error) {
	return s.items.LockHref(ctx, q, userID, folderID, href)
}

// AllEvents returns every event of the calendar, ordered by name.
func (s *Store) AllEvents(ctx context.Context, q Querier, userID int64, folderID string) ([]Event, error) {
	return s.query(ctx, q, userID, folderID, `TRUE ORDER BY href`)
}

// InRange returns the calendar's events with an occurrence overlapping
// [from, to) (RFC 4791 9.9), by name, ordered by name; a zero from or to
// is unbounded. The index (first start, last end) picks the candidates;
// each candidate's recurrence is then expanded, so a weekly series whose
// occurrences all miss the range is not listed. The series' shapes
// (times, rule, exceptions) and expansions are cached as free/busy's
// are, keyed by version, in the Store's own cache (a cache per database:
// ids of two databases, e.g. tests', may coincide): a month view asked again decodes only the
// series written since (5,000 events: 19 ms -> see docs/benchmarks.md).
func (s *Store) InRange(ctx context.Context, q Querier, userID int64, folderID string, from, to time.Time) ([]Resource, error) {
	lo, hi := from, to
	if lo.IsZero() {
		lo = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if hi.IsZero() {
		hi = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	cands, err := s.items.ResourcesWhere(ctx, q, userID, folderID,
		`first_start < $3 AND (last_end IS NULL OR last_end >= $4) ORDER BY href`, hi, lo)
	if err != nil {
		return nil, err
	}
	shapes := make([]*fbSeries, len(cands))
	var missing []int64
	for i, c := range cands {
		id, _ := itemstore.ParseServerID(folderID, c.ServerID)
		if sh := s.shapes.get(fbKey{userID, id}); sh != nil && sh.version == c.Version {
			shapes[i] = sh
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		loaded, err := loadFreeBusy(ctx, q, s.shapes, userID, missing)
		if err != nil {
			return nil, err
		}
		for i, c := range cands {
			if shapes[i] == nil {
				id, _ := itemstore.ParseServerID(folderID, c.ServerID)
				shapes[i] = loaded[id] // nil: the object does not parse, matches nothing
			}
		}
	}
	out := cands[:0]
	for i, c := range cands {
		if shapes[i] != nil && shapes[i].overlaps(lo, hi) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Overlaps reports whether an occurrence of the series cal overlaps
// [from, to) as RFC 4791 9.9 tells.
func Overlaps(cal *ical.Calendar, from, to time.Time) (bool, error) {
	sh, err := shapeOf(cal)
	if err != nil {
		return false, err
	}
	return sh.overlaps(from, to), nil
}

// overlaps: an occurrence starts before to and ends after from (one of
// no length: starts in [from, to)). All-day dates are read as UTC days,
// as floating times are.
func (s *fbSeries) overlaps(from, to time.Time) bool {
	hit := func(start, end time.Time) bool {
		if end.Equal(start) {
			return !start.Before(from) && start.Before(to)
		}
		return start.Before(to) && end.After(from)
	}
	for _, sp := range s.spans {
		if hit(sp.start, sp.end) {
			return true
		}
	}
	if s.dtstart.IsZero() {
		return false
	}
	occ, err := s.occurrences(to)
	if err != nil {
		return false
	}
	// Occurrences that start in [from - length, to) can reach the range.
	i := sort.Search(len(occ), func(i int) bool { return !occ[i].Before(from.Add(-s.dur - time.Second)) })
	for ; i < len(occ) && occ[i].Before(to); i++ {
		if !s.overridden[occ[i].Unix()] && hit(occ[i], occ[i].Add(s.dur)) {
			return true
		}
	}
	return false
}

// Changes are what happened to a calendar since a sync token.
type Changes = itemstore.Changes

// ChangesSince returns the calendar's changes after version since; since
// 0 lists every event. Run it in one snapshot (REPEATABLE READ) so CTag
// and the lists agree. listedAt has the meaning of
// contacts.Store.ChangesSince: the resume point of a cut full listing.
func (s *Store) ChangesSince(ctx context.Context, q Querier, userID int64, folderID string, since, listedAt int64) (Changes, error) {
	return s.items.ChangesSince(ctx, q, userID, folderID, since, listedAt)
}

// PruneTombstones forgets the names removed from the calendar before
// `before`, raising its floor of answerable tokens.
func (s *Store) PruneTombstones(ctx context.Context, q Querier, userID int64, folderID string, before time.Time) error {
	return s.items.PruneTombstones(ctx, q, userID, folderID, before)
}

// CalendarNames returns the DAV collection names given to the user's
// calendars by MKCALENDAR, by folder id.
func (s *Store) CalendarNames(ctx context.Context, q Querier, userID int64) (map[string]string, error) {
	return s.items.DAVNames(ctx, q, userID)
}

// NameCalendar creates the (empty) calendar of folderID under the DAV
// collection name name, in q's transaction with the folder's creation.
func (s *Store) NameCalendar(ctx context.Context, q Querier, userID int64, folderID, name string) error {
	return s.items.SetDAVName(ctx, q, userID, folderID, name)
}

// ObjectUID returns the UID of a CalDAV calendar object resource, after
// checking it is one: VEVENTs (a master and overrides) of one UID, no
// METHOD (RFC 4791 4.1). The store's own checks (prepare) follow on
// write.
func ObjectUID(cal *ical.Calendar) (string, error) {
	if cal.Props.Get(ical.PropMethod) != nil {
		return "", fmt.Errorf("%w: a calendar object resource has no METHOD (RFC 4791 4.1)", ErrBadObject)
	}
	uid := ""
	n := 0
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompEvent:
			n++
			p := c.Props.Get(ical.PropUID)
			if p == nil || strings.TrimSpace(p.Value) == "" {
				return "", fmt.Errorf("%w: VEVENT without UID", ErrBadObject)
			}
			if uid != "" && p.Value != uid {
				return "", fmt.Errorf("%w: VEVENTs of two UIDs in one resource (RFC 4791 4.1)", ErrBadObject)
			}
			uid = p.Value
		case ical.CompTimezone:
		case ical.CompToDo, ical.CompJournal:
			return "", fmt.Errorf("%w: %s: this calendar holds events only", ErrUnsupportedComponent, c.Name)
		}
	}
	if n == 0 {
		return "", fmt.Errorf("%w: no VEVENT", ErrBadObject)
	}
	return uid, nil
}

// ErrUnsupportedComponent: a component other than VEVENT in a calendar.
var ErrUnsupportedComponent = errors.New("calendar: unsupported component")

// Encode renders a stored object as iCalendar text.
func Encode(cal *ical.Calendar) (string, error) { return encodeObject(cal) }
