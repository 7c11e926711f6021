// Package calendar keeps users' calendars in PostgreSQL: each event series
// is one whole iCalendar object (the master VEVENT, its RECURRENCE-ID
// overrides and the VTIMEZONEs they name) plus indexed copies of what
// listings need: the UID, the first start and the end of the last
// occurrence. EAS Sync, iCalendar import/export and (later) CalDAV all go
// through the Store, so a property one protocol does not carry survives
// the other's edit.
//
// Every calendar is an EAS calendar folder (types 8 and 13) with a change
// counter, the ctag: each write bumps it in the writing transaction,
// stamps the event's version with the new value and publishes a folder
// notification, exactly as package contacts does for address books.
package calendar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/itemstore"
)

// MaxObjectSize bounds one encoded series. A series with hundreds of
// overrides and long descriptions stays far below it; a larger one is an
// error, not something every Sync may read.
const MaxObjectSize = 4 << 20

// Errors.
var (
	ErrNotFound = errors.New("calendar: no such event")
	// ErrUIDExists: the user has an event with this UID already (in this
	// or another calendar). Create returns that event with it.
	ErrUIDExists    = errors.New("calendar: an event with this UID already exists")
	ErrTooLarge     = fmt.Errorf("calendar: event larger than %d bytes", MaxObjectSize)
	ErrSameCalendar = errors.New("calendar: source and destination are the same calendar")
	// ErrBadObject: the iCalendar object is not one event series.
	ErrBadObject = errors.New("calendar: bad event")
	// ErrHrefExists: the calendar has an event of that CalDAV name.
	ErrHrefExists = errors.New("calendar: an event of this name exists")
)

// Querier runs SQL: the caller's transaction (e.g. the EAS Sync's, so
// that events and the new sync state commit together) or the pool.
type Querier = itemstore.Querier

// NotifyFunc announces a changed calendar inside the writing transaction;
// the application passes eas.NotifyFolderChanged.
type NotifyFunc = itemstore.NotifyFunc

// Store keeps calendars and events.
type Store struct {
	pool *pgxpool.Pool
	// items is the events table with its tombstones and the calendars
	// table (items.Folders).
	items itemstore.Items
	// shapes caches series' shapes for CalDAV time-range queries.
	shapes *freeBusyCache
}

// NewStore returns a Store on pool; notify may be nil (nothing waits).
func NewStore(pool *pgxpool.Pool, notify NotifyFunc) *Store {
	return &Store{pool: pool, items: itemstore.Items{
		Folders: itemstore.NewFolders("calendar", "calendars", "calendar", notify),
		Table:   "events", Tombstones: "event_tombstones", NotFound: ErrNotFound, TokenTooOld: ErrTokenTooOld},
		shapes: &freeBusyCache{m: map[fbKey]*fbSeries{}}}
}

// Pool is the store's connection pool, for callers that run their own
// transaction (import).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Event is one stored series.
type Event struct {
	// ServerID names the event to EAS: "<folderID>:<id>". It changes when
	// the event moves.
	ServerID string
	FolderID string
	UID      string
	// Href is the event's CalDAV resource name in its calendar.
	Href string
	// Version is the calendar's ctag as of the event's last write.
	Version int64
	Cal     *ical.Calendar
	Updated time.Time
}

// Calendar is one calendar of a user.
type Calendar = itemstore.Folder

// CTag returns the calendar's change counter, 0 when it was never written.
func (s *Store) CTag(ctx context.Context, q Querier, userID int64, folderID string) (int64, error) {
	return s.items.CTag(ctx, q, userID, folderID)
}

// Versions returns ServerId -> version of the calendar's events that have
// an occurrence ending after since (every event when since is zero). It
// reads the index only: last_end is the end of the series' last
// occurrence, NULL for a series without end, so "some occurrence ends
// after since" is "last_end > since".
func (s *Store) Versions(ctx context.Context, q Querier, userID int64, folderID string, since time.Time) (map[string]int64, error) {
	var out map[string]int64
	var err error
	if since.IsZero() {
		out, err = itemstore.QueryVersions(ctx, q, folderID,
			`SELECT id, version FROM events WHERE user_id = $1 AND folder_id = $2`, userID, folderID)
	} else {
		out, err = itemstore.QueryVersions(ctx, q, folderID, `SELECT id, version FROM events WHERE user_id = $1 AND folder_id = $2
			AND (last_end IS NULL OR last_end > $3)`, userID, folderID, since)
	}
	if err != nil {
		return nil, fmt.Errorf("calendar: versions of %q: %w", folderID, err)
	}
	return out, nil
}

// Get returns the events named by serverIDs, in that order; ids that name
// no event of the calendar are left out.
func (s *Store) Get(ctx context.Context, q Querier, userID int64, folderID string, serverIDs []string) ([]Event, error) {
	ids := itemstore.ParseServerIDs(folderID, serverIDs)
	if len(ids) == 0 {
		return nil, nil
	}
	got, err := s.query(ctx, q, userID, folderID, `id = ANY($3)`, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Event, len(got))
	for _, e := range got {
		byID[e.ServerID] = e
	}
	return itemstore.InOrder(serverIDs, byID), nil
}

// query returns the calendar's events that cond (SQL after WHERE user_id
// = $1 AND folder_id = $2 AND, may end in ORDER BY) selects, in the order
// SQL gives; args are $3 on.
func (s *Store) query(ctx context.Context, q Querier, userID int64, folderID, cond string, args ...any) ([]Event, error) {
	rows, err := q.Query(ctx, `SELECT id, uid, version, ical, updated, href FROM events
		WHERE user_id = $1 AND folder_id = $2 AND `+cond, append([]any{userID, folderID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("calendar: get: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var id int64
		var text string
		e := Event{FolderID: folderID}
		if err := rows.Scan(&id, &e.UID, &e.Version, &text, &e.Updated, &e.Href); err != nil {
			return nil, fmt.Errorf("calendar: get: %w", err)
		}
		if e.Cal, err = decodeObject(text); err != nil {
			return nil, fmt.Errorf("calendar: stored event %d: %w", id, err)
		}
		e.ServerID = itemstore.ServerID(folderID, id)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("calendar: get: %w", err)
	}
	return out, nil
}

// ByUID returns the user's event with uid, in whichever calendar it is.
func (s *Store) ByUID(ctx context.Context, q Querier, userID int64, uid string) (Event, error) {
	var id int64
	var text string
	e := Event{UID: uid}
	err := q.QueryRow(ctx, `SELECT folder_id, id, version, ical, updated, href FROM events WHERE user_id = $1 AND uid = $2`,
		userID, uid).Scan(&e.FolderID, &id, &e.Version, &text, &e.Updated, &e.Href)
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, ErrNotFound
	}
	if err != nil {
		return Event{}, fmt.Errorf("calendar: by uid: %w", err)
	}
	if e.Cal, err = decodeObject(text); err != nil {
		return Event{}, fmt.Errorf("calendar: stored event %d: %w", id, err)
	}
	e.ServerID = itemstore.ServerID(e.FolderID, id)
	return e, nil
}

// Count returns the number of events in the calendar.
func (s *Store) Count(ctx context.Context, q Querier, userID int64, folderID string) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM events WHERE user_id = $1 AND folder_id = $2`,
		userID, folderID).Scan(&n); err != nil {
		return 0, fmt.Errorf("calendar: count %q: %w", folderID, err)
	}
	return n, nil
}

// Calendars lists the user's calendars that were ever written.
func (s *Store) Calendars(ctx context.Context, q Querier, userID int64) ([]Calendar, error) {
	return s.items.List(ctx, q, userID)
}

// prepared is a series made ready for storing.
type prepared struct {
	uid   string
	text  string
	first time.Time
	last  *time.Time
	cal   *ical.Calendar
}

// prepare checks cal is one series, gives it uid when not empty (else
// keeps or assigns one), and encodes it.
func prepare(cal *ical.Calendar, uid string) (prepared, error) {
	if err := setUID(cal, uid); err != nil {
		return prepared{}, err
	}
	ix, err := indexOf(cal)
	if err != nil {
		return prepared{}, err
	}
	text, err := encodeObject(cal)
	if err != nil {
		return prepared{}, fmt.Errorf("%w: %w", ErrBadObject, err)
	}
	if len(text) > MaxObjectSize {
		return prepared{}, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(text))
	}
	return prepared{uid: ix.uid, text: text, first: ix.first, last: ix.last, cal: cal}, nil
}

// Create adds the series cal to the calendar, creating the calendar's row
// on its first write. A series without UID gets one. When the user has an
// event with cal's UID already, nothing is written and Create returns
// that event with ErrUIDExists.
func (s *Store) Create(ctx context.Context, q Querier, userID int64, folderID string, cal *ical.Calendar) (Event, error) {
	return s.CreateNamed(ctx, q, userID, folderID, "", cal)
}

// CreateNamed is Create with the CalDAV resource name href the client
// chose; "" lets the schema name the event after its UID. A name the
// calendar holds already is ErrHrefExists.
func (s *Store) CreateNamed(ctx context.Context, q Querier, userID int64, folderID, href string, cal *ical.Calendar) (Event, error) {
	var name *string
	if href != "" {
		name = &href
	}
	p, err := prepare(cal, "")
	if err != nil {
		return Event{}, err
	}
	// One statement, as contacts do: the calendar's upsert bumps the ctag
	// and locks its row; the bump is skipped when the UID is taken, and
	// ON CONFLICT leaves the insert out should a concurrent writer take
	// it meanwhile, instead of aborting the caller's transaction.
	var id, version int64
	var updated time.Time
	err = q.QueryRow(ctx, `WITH cal AS (
			INSERT INTO calendars AS c (user_id, folder_id, ctag)
			SELECT $1, $2, 1 WHERE NOT EXISTS (SELECT 1 FROM events WHERE user_id = $1 AND uid = $3)
			ON CONFLICT (user_id, folder_id) DO UPDATE SET ctag = c.ctag + 1
				WHERE NOT EXISTS (SELECT 1 FROM events WHERE user_id = $1 AND uid = $3)
			RETURNING ctag)
		INSERT INTO events (user_id, folder_id, uid, version, ical, first_start, last_end, href)
		SELECT $1, $2, $3, cal.ctag, $4, $5, $6, $7 FROM cal
		ON CONFLICT (user_id, uid) DO NOTHING
		RETURNING id, version, updated`,
		userID, folderID, p.uid, p.text, p.first, p.last, name,
	).Scan(&id, &version, &updated)
	if itemstore.IsUniqueViolation(err, "events_calendar_href") {
		return Event{}, ErrHrefExists
	}
	if errors.Is(err, pgx.ErrNoRows) {
		e, err := s.ByUID(ctx, q, userID, p.uid)
		if err != nil {
			return Event{}, fmt.Errorf("calendar: create in %q: %w", folderID, err)
		}
		return e, ErrUIDExists
	}
	if err != nil {
		return Event{}, fmt.Errorf("calendar: create in %q: %w", folderID, err)
	}
	if err := s.items.Notify(ctx, q, userID, folderID); err != nil {
		return Event{}, err
	}
	return Event{ServerID: itemstore.ServerID(folderID, id), FolderID: folderID, UID: p.uid, Version: version, Cal: p.cal, Updated: updated}, nil
}

// Update replaces the series named by sid with cal, keeping its UID
// whatever cal says.
func (s *Store) Update(ctx context.Context, q Querier, userID int64, folderID, sid string, cal *ical.Calendar) (Event, error) {
	id, uid, err := s.items.Lookup(ctx, q, userID, folderID, sid)
	if err != nil {
		return Event{}, err
	}
	p, err := prepare(cal, uid)
	if err != nil {
		return Event{}, err
	}
	version, updated, _, err := s.items.UpdateItem(ctx, q, userID, folderID, id,
		`ical = $4, first_start = $5, last_end = $6`, p.text, p.first, p.last)
	if err != nil {
		return Event{}, err
	}
	return Event{ServerID: sid, FolderID: folderID, UID: p.uid, Version: version, Cal: p.cal, Updated: updated}, nil
}

// Delete removes the series named by sid, leaving its tombstone (its
// name and the version of the removal) for CalDAV sync reports.
func (s *Store) Delete(ctx context.Context, q Querier, userID int64, folderID, sid string) error {
	return s.items.DeleteItem(ctx, q, userID, folderID, sid)
}

// Move moves the series named by sid from calendar src to dst of the same
// user and returns it under its new ServerId (a new id, so the old
// ServerId names nothing). Both ctags are bumped and both announced.
func (s *Store) Move(ctx context.Context, q Querier, userID int64, src, dst, sid string) (Event, error) {
	// The UID is unique per user, not per calendar, so the row itself can
	// move: an UPDATE to the new folder and a fresh id. The event keeps
	// its name in the destination unless one there holds it already.
	var newID, version int64
	var uid, text string
	var updated time.Time
	err := s.items.MoveItem(ctx, q, userID, src, dst, sid, ErrSameCalendar, nil,
		`SELECT href FROM events WHERE user_id = $1 AND folder_id = $2 AND id = $4`,
		`UPDATE events e SET folder_id = $3, id = nextval('events_id_seq'), version = dst.ctag, updated = now(),
			href = CASE WHEN EXISTS (SELECT 1 FROM events x WHERE x.user_id = $1 AND x.folder_id = $3 AND x.href = e.href)
				THEN gen_random_uuid()::text || '.ics' ELSE e.href END
		FROM dst WHERE e.user_id = $1 AND e.folder_id = $2 AND e.id = $4
		RETURNING e.id, e.uid, e.version, e.ical, e.updated`,
		func(r pgx.Row) error { return r.Scan(&newID, &uid, &version, &text, &updated) })
	if err != nil {
		return Event{}, err
	}
	cal, err := decodeObject(text)
	if err != nil {
		return Event{}, fmt.Errorf("calendar: moved event %d: %w", newID, err)
	}
	return Event{ServerID: itemstore.ServerID(dst, newID), FolderID: dst, UID: uid, Version: version, Cal: cal, Updated: updated}, nil
}

// DeleteCalendar removes the calendar and all its events.
func (s *Store) DeleteCalendar(ctx context.Context, q Querier, userID int64, folderID string) error {
	return s.items.Delete(ctx, q, userID, folderID)
}
