package calendar

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5"

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
type Resource struct {
	ServerID string
	Href     string
	Version  int64
}

// Resources lists the calendar's events by name and version without
// reading an object.
func (s *Store) Resources(ctx context.Context, q Querier, userID int64, folderID string) ([]Resource, error) {
	return s.resources(ctx, q, `SELECT id, href, version FROM events WHERE user_id = $1 AND folder_id = $2
		ORDER BY href`, userID, folderID)
}

func (s *Store) resources(ctx context.Context, q Querier, sql string, userID int64, folderID string, args ...any) ([]Resource, error) {
	rows, err := q.Query(ctx, sql, append([]any{userID, folderID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("calendar: resources of %q: %w", folderID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Resource, error) {
		var res Resource
		var id int64
		err := r.Scan(&id, &res.Href, &res.Version)
		res.ServerID = itemstore.ServerID(folderID, id)
		return res, err
	})
	if err != nil {
		return nil, fmt.Errorf("calendar: resources of %q: %w", folderID, err)
	}
	return out, nil
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
	var r Resource
	var id int64
	err := q.QueryRow(ctx, `SELECT id, href, version FROM events
		WHERE user_id = $1 AND folder_id = $2 AND href = $3 FOR UPDATE`, userID, folderID, href).Scan(&id, &r.Href, &r.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return Resource{}, ErrNotFound
	}
	if err != nil {
		return Resource{}, fmt.Errorf("calendar: lock %q: %w", href, err)
	}
	r.ServerID = itemstore.ServerID(folderID, id)
	return r, nil
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
	cands, err := s.resources(ctx, q, `SELECT id, href, version FROM events
		WHERE user_id = $1 AND folder_id = $2 AND first_start < $3 AND (last_end IS NULL OR last_end >= $4)
		ORDER BY href`, userID, folderID, hi, lo)
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
type Changes struct {
	CTag    int64      // the calendar's ctag now: the next token
	Changed []Resource // events written since
	Removed []Resource // names removed since (Version: of the removal)
}

// ChangesSince returns the calendar's changes after version since; since
// 0 lists every event. Run it in one snapshot (REPEATABLE READ) so CTag
// and the lists agree. listedAt has the meaning of
// contacts.Store.ChangesSince: the resume point of a cut full listing.
func (s *Store) ChangesSince(ctx context.Context, q Querier, userID int64, folderID string, since, listedAt int64) (Changes, error) {
	var ch Changes
	var floor int64
	err := q.QueryRow(ctx, `SELECT ctag, tomb_floor FROM calendars WHERE user_id = $1 AND folder_id = $2`,
		userID, folderID).Scan(&ch.CTag, &floor)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Changes{}, fmt.Errorf("calendar: changes of %q: %w", folderID, err)
	}
	if since < 0 || since > ch.CTag || listedAt > ch.CTag || (since > 0 && max(since, listedAt) < floor) {
		return Changes{}, ErrTokenTooOld
	}
	if since == ch.CTag {
		return ch, nil
	}
	if ch.Changed, err = s.resources(ctx, q, `SELECT id, href, version FROM events
		WHERE user_id = $1 AND folder_id = $2 AND version > $3 ORDER BY version`, userID, folderID, since); err != nil {
		return Changes{}, err
	}
	if since == 0 {
		return ch, nil
	}
	rows, err := q.Query(ctx, `SELECT t.href, t.version FROM event_tombstones t
		WHERE t.user_id = $1 AND t.folder_id = $2 AND t.version > $3
			AND NOT EXISTS (SELECT 1 FROM events e
				WHERE e.user_id = $1 AND e.folder_id = $2 AND e.href = t.href)
		ORDER BY t.version`, userID, folderID, since)
	if err != nil {
		return Changes{}, fmt.Errorf("calendar: removals from %q: %w", folderID, err)
	}
	ch.Removed, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Resource, error) {
		var res Resource
		err := r.Scan(&res.Href, &res.Version)
		return res, err
	})
	if err != nil {
		return Changes{}, fmt.Errorf("calendar: removals from %q: %w", folderID, err)
	}
	return ch, nil
}

// PruneTombstones forgets the names removed from the calendar before
// `before`, raising its floor of answerable tokens.
func (s *Store) PruneTombstones(ctx context.Context, q Querier, userID int64, folderID string, before time.Time) error {
	_, err := q.Exec(ctx, `WITH pruned AS (
			DELETE FROM event_tombstones WHERE user_id = $1 AND folder_id = $2 AND deleted < $3
			RETURNING version)
		UPDATE calendars SET tomb_floor = greatest(tomb_floor, (SELECT max(version) FROM pruned))
		WHERE user_id = $1 AND folder_id = $2 AND EXISTS (SELECT 1 FROM pruned)`, userID, folderID, before)
	if err != nil {
		return fmt.Errorf("calendar: prune tombstones of %q: %w", folderID, err)
	}
	return nil
}

// CalendarNames returns the DAV collection names given to the user's
// calendars by MKCALENDAR, by folder id.
func (s *Store) CalendarNames(ctx context.Context, q Querier, userID int64) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT folder_id, dav_name FROM calendars
		WHERE user_id = $1 AND dav_name IS NOT NULL`, userID)
	if err != nil {
		return nil, fmt.Errorf("calendar: calendar names: %w", err)
	}
	out := map[string]string{}
	var f, n string
	_, err = pgx.ForEachRow(rows, []any{&f, &n}, func() error {
		out[f] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("calendar: calendar names: %w", err)
	}
	return out, nil
}

// NameCalendar creates the (empty) calendar of folderID under the DAV
// collection name name, in q's transaction with the folder's creation.
func (s *Store) NameCalendar(ctx context.Context, q Querier, userID int64, folderID, name string) error {
	if _, err := q.Exec(ctx, `INSERT INTO calendars (user_id, folder_id, dav_name) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, folder_id) DO UPDATE SET dav_name = EXCLUDED.dav_name`, userID, folderID, name); err != nil {
		return fmt.Errorf("calendar: name calendar %q: %w", folderID, err)
	}
	return nil
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
