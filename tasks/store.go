// Package tasks keeps users' tasks in PostgreSQL, each one whole
// iCalendar object holding one VTODO (with the VTIMEZONEs it needs) plus
// indexed copies of what listings need, and serves them to phones behind
// the protocol's item-class seam (Backend, mapping in eas.go) and to
// files as VTODO .ics import and export (icsfile.go). Keeping the whole
// object means a property EAS cannot carry (an RRULE, a GEO, an X- of a
// desktop program) survives a phone's edit.
//
// Task lists are EAS folders (types 7 and 15) with a change counter, the
// ctag, bumped in every writing statement, as for contacts and notes.
package tasks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/itemstore"
)

// MaxObjectSize bounds one stored iCalendar object.
const MaxObjectSize = 2 << 20

// Errors.
var (
	ErrNotFound   = errors.New("tasks: no such task")
	ErrUIDExists  = errors.New("tasks: a task with this UID is already in the list")
	ErrSameFolder = errors.New("tasks: source and destination are the same list")
	// ErrHrefExists: the list has a task of that CalDAV name.
	ErrHrefExists = errors.New("tasks: a task of this name exists")
	ErrTooLarge   = fmt.Errorf("%w: task larger than %d bytes", ErrBadValue, MaxObjectSize)
)

// Querier runs SQL: the caller's transaction or a pool.
type Querier = itemstore.Querier

// NotifyFunc announces a changed task list inside the writing
// transaction; the application passes eas.NotifyFolderChanged.
type NotifyFunc = itemstore.NotifyFunc

// Store keeps task lists and tasks.
type Store struct {
	// items is the tasks table with its tombstones and the task_lists
	// table (items.Folders).
	items itemstore.Items
}

// NewStore returns a Store; notify may be nil.
func NewStore(notify NotifyFunc) *Store {
	return &Store{items: itemstore.Items{
		Folders: itemstore.NewFolders("tasks", "task_lists", "list", notify),
		Table:   "tasks", Tombstones: "task_tombstones", NotFound: ErrNotFound, TokenTooOld: ErrTokenTooOld}}
}

// Task is one stored task.
type Task struct {
	ServerID string // "<folderID>:<id>", changes when the task moves
	UID      string
	// Href is the CalDAV resource name: the one the client PUT it
	// under, or one made from the UID.
	Href    string
	Version int64
	// Cal is the iCalendar object: one VTODO and the VTIMEZONEs it uses.
	Cal     *ical.Calendar
	Updated time.Time
}

// Todo returns the task's VTODO.
func (t Task) Todo() *ical.Component { return todoOf(t.Cal) }

func todoOf(cal *ical.Calendar) *ical.Component {
	for _, c := range cal.Children {
		if c.Name == ical.CompToDo {
			return c
		}
	}
	return nil
}

// NewCalendar returns an iCalendar object with an empty VTODO of a new
// UID, what a phone's new task starts from.
func NewCalendar(now time.Time) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, prodID)
	todo := ical.NewComponent(ical.CompToDo)
	todo.Props.SetText(ical.PropUID, uuid.NewString())
	todo.Props.SetDateTime(ical.PropDateTimeStamp, now.UTC().Truncate(time.Second))
	todo.Props.SetDateTime(ical.PropCreated, now.UTC().Truncate(time.Second))
	cal.Children = append(cal.Children, todo)
	return cal
}

// prepared is a task made ready for a row.
type prepared struct {
	uid      string
	text     string
	summary  string
	complete bool
	due      *time.Time // the inclusive due day, as a date
}

// prepare checks cal and encodes it. The due column is computed in UTC:
// it orders and filters listings, the zone-exact day is the mapping's.
func prepare(cal *ical.Calendar) (prepared, error) {
	todo := todoOf(cal)
	if todo == nil {
		return prepared{}, fmt.Errorf("%w: no VTODO", ErrBadValue)
	}
	n := 0
	for _, c := range cal.Children {
		if c.Name == ical.CompToDo {
			n++
		} else if c.Name != ical.CompTimezone {
			return prepared{}, fmt.Errorf("%w: a task object holds a %s", ErrBadValue, c.Name)
		}
	}
	if n != 1 {
		return prepared{}, fmt.Errorf("%w: %d VTODOs in one task", ErrBadValue, n)
	}
	uid := text(todo, ical.PropUID)
	if uid == "" || len(uid) > 255 {
		return prepared{}, fmt.Errorf("%w: UID %q", ErrBadValue, uid)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return prepared{}, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	if buf.Len() > MaxObjectSize {
		return prepared{}, ErrTooLarge
	}
	p := prepared{uid: uid, text: buf.String(), summary: text(todo, ical.PropSummary), complete: IsComplete(todo)}
	if d, ok := dueDay(todo, time.UTC); ok {
		t := d.midnight(time.UTC)
		p.due = &t
	}
	return p, nil
}

func decodeCal(s string) (*ical.Calendar, error) {
	return ical.NewDecoder(strings.NewReader(s)).Decode()
}

// CTag returns the list's change counter, 0 when never written.
func (s *Store) CTag(ctx context.Context, q Querier, userID int64, folderID string) (int64, error) {
	return s.items.CTag(ctx, q, userID, folderID)
}

// Versions returns ServerId -> version of the list's tasks, only the
// incomplete ones when incomplete is set (FilterType 8), from the index
// alone.
func (s *Store) Versions(ctx context.Context, q Querier, userID int64, folderID string, incomplete bool) (map[string]int64, error) {
	out, err := itemstore.QueryVersions(ctx, q, folderID, `SELECT id, version FROM tasks WHERE user_id = $1 AND folder_id = $2
		AND NOT (complete AND $3)`, userID, folderID, incomplete)
	if err != nil {
		return nil, fmt.Errorf("tasks: versions of %q: %w", folderID, err)
	}
	return out, nil
}

func scanTasks(folderID string, rows pgx.Rows) ([]Task, error) {
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var t Task
		var id int64
		var txt string
		if err := rows.Scan(&id, &t.UID, &t.Href, &t.Version, &txt, &t.Updated); err != nil {
			return nil, err
		}
		cal, err := decodeCal(txt)
		if err != nil {
			return nil, fmt.Errorf("stored task %d: %w", id, err)
		}
		t.ServerID, t.Cal, t.Updated = itemstore.ServerID(folderID, id), cal, t.Updated.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// Get returns the tasks named by serverIDs, in that order; ids that name
// no task of the list are left out.
func (s *Store) Get(ctx context.Context, q Querier, userID int64, folderID string, serverIDs []string) ([]Task, error) {
	ids := itemstore.ParseServerIDs(folderID, serverIDs)
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT id, uid, href, version, ical, updated FROM tasks
		WHERE user_id = $1 AND folder_id = $2 AND id = ANY($3)`, userID, folderID, ids)
	if err != nil {
		return nil, fmt.Errorf("tasks: get: %w", err)
	}
	got, err := scanTasks(folderID, rows)
	if err != nil {
		return nil, fmt.Errorf("tasks: get: %w", err)
	}
	byID := make(map[string]Task, len(got))
	for _, t := range got {
		byID[t.ServerID] = t
	}
	return itemstore.InOrder(serverIDs, byID), nil
}

// List returns every task of the list in id order (the export).
func (s *Store) List(ctx context.Context, q Querier, userID int64, folderID string) ([]Task, error) {
	rows, err := q.Query(ctx, `SELECT id, uid, href, version, ical, updated FROM tasks
		WHERE user_id = $1 AND folder_id = $2 ORDER BY id`, userID, folderID)
	if err != nil {
		return nil, fmt.Errorf("tasks: list %q: %w", folderID, err)
	}
	out, err := scanTasks(folderID, rows)
	if err != nil {
		return nil, fmt.Errorf("tasks: list %q: %w", folderID, err)
	}
	return out, nil
}

// Create adds the task cal to the list, creating the list's row on its
// first write. A UID the list holds is ErrUIDExists and changes nothing.
func (s *Store) Create(ctx context.Context, q Querier, userID int64, folderID string, cal *ical.Calendar) (Task, error) {
	return s.CreateNamed(ctx, q, userID, folderID, "", cal)
}

// CreateNamed is Create with the CalDAV resource name href the client
// chose; "" lets the schema name the task after its UID. A name the list
// holds already is ErrHrefExists.
func (s *Store) CreateNamed(ctx context.Context, q Querier, userID int64, folderID, href string, cal *ical.Calendar) (Task, error) {
	p, err := prepare(cal)
	if err != nil {
		return Task{}, err
	}
	var name *string
	if href != "" {
		name = &href
	}
	var id, version int64
	var updated time.Time
	// One statement, as contacts.Store.Create: the upsert bumps the ctag
	// and locks the list's row unless the UID is taken.
	err = q.QueryRow(ctx, `WITH l AS (
			INSERT INTO task_lists AS l (user_id, folder_id, ctag) VALUES ($1, $2, 1)
			ON CONFLICT (user_id, folder_id) DO UPDATE SET ctag = l.ctag + 1
				WHERE NOT EXISTS (SELECT 1 FROM tasks WHERE user_id = $1 AND folder_id = $2 AND uid = $3)
			RETURNING ctag)
		INSERT INTO tasks (user_id, folder_id, uid, version, ical, summary, complete, due, href)
		SELECT $1, $2, $3, l.ctag, $4, $5, $6, $7, $8 FROM l
		ON CONFLICT (user_id, folder_id, uid) DO NOTHING
		RETURNING id, href, version, updated`,
		userID, folderID, p.uid, p.text, p.summary, p.complete, p.due, name).Scan(&id, &href, &version, &updated)
	if itemstore.IsUniqueViolation(err, "tasks_list_href") {
		return Task{}, ErrHrefExists
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return Task{}, ErrUIDExists
	}
	if err != nil {
		return Task{}, fmt.Errorf("tasks: create in %q: %w", folderID, err)
	}
	if err := s.items.Notify(ctx, q, userID, folderID); err != nil {
		return Task{}, err
	}
	return Task{ServerID: itemstore.ServerID(folderID, id), UID: p.uid, Href: href, Version: version, Cal: cal, Updated: updated.UTC()}, nil
}

// Update replaces the task named by sid with cal; the stored UID is
// kept whatever cal says.
func (s *Store) Update(ctx context.Context, q Querier, userID int64, folderID, sid string, cal *ical.Calendar) (Task, error) {
	id, uid, err := s.items.Lookup(ctx, q, userID, folderID, sid)
	if err != nil {
		return Task{}, err
	}
	if todo := todoOf(cal); todo != nil {
		todo.Props.SetText(ical.PropUID, uid)
	}
	p, err := prepare(cal)
	if err != nil {
		return Task{}, err
	}
	version, updated, href, err := s.items.UpdateItem(ctx, q, userID, folderID, id,
		`ical = $4, summary = $5, complete = $6, due = $7`, p.text, p.summary, p.complete, p.due)
	if err != nil {
		return Task{}, err
	}
	return Task{ServerID: sid, UID: uid, Href: href, Version: version, Cal: cal, Updated: updated.UTC()}, nil
}

// Delete removes the task named by sid, leaving its tombstone (its name
// and the version of the removal) for CalDAV sync reports.
func (s *Store) Delete(ctx context.Context, q Querier, userID int64, folderID, sid string) error {
	return s.items.DeleteItem(ctx, q, userID, folderID, sid)
}

// Move moves the task named by sid from list src to dst and returns it
// under its new ServerId. A UID dst holds already is ErrUIDExists.
func (s *Store) Move(ctx context.Context, q Querier, userID int64, src, dst, sid string) (Task, error) {
	var newID, version int64
	var uid, href, txt string
	var updated time.Time
	// The task keeps its name in the destination unless one there holds
	// it already.
	err := s.items.MoveItem(ctx, q, userID, src, dst, sid, ErrSameFolder, ErrUIDExists,
		`DELETE FROM tasks s WHERE s.user_id = $1 AND s.folder_id = $2 AND s.id = $4
				AND NOT EXISTS (SELECT 1 FROM tasks d WHERE d.user_id = $1 AND d.folder_id = $3 AND d.uid = s.uid)
			RETURNING s.uid, s.href, s.ical, s.summary, s.complete, s.due`,
		`INSERT INTO tasks (user_id, folder_id, uid, version, ical, summary, complete, due, href)
		SELECT $1, $3, m.uid, d.ctag, m.ical, m.summary, m.complete, m.due,
			CASE WHEN EXISTS (SELECT 1 FROM tasks x WHERE x.user_id = $1 AND x.folder_id = $3 AND x.href = m.href)
				THEN gen_random_uuid()::text || '.ics' ELSE m.href END
		FROM gone m, dst d
		RETURNING id, uid, href, version, ical, updated`,
		func(r pgx.Row) error { return r.Scan(&newID, &uid, &href, &version, &txt, &updated) })
	if err != nil {
		return Task{}, err
	}
	cal, err := decodeCal(txt)
	if err != nil {
		return Task{}, fmt.Errorf("tasks: moved task %d: %w", newID, err)
	}
	return Task{ServerID: itemstore.ServerID(dst, newID), UID: uid, Href: href, Version: version, Cal: cal, Updated: updated.UTC()}, nil
}

// DeleteFolder removes the list's tasks and counter (FolderDelete).
func (s *Store) DeleteFolder(ctx context.Context, q Querier, userID int64, folderID string) error {
	return s.items.Delete(ctx, q, userID, folderID)
}
