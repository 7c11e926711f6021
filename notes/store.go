// Package notes keeps users' notes (the EAS Notes class, MS-ASNOTE) in
// PostgreSQL, one row per note, and serves them to phones behind the
// protocol's item-class seam (Backend) and to desktops as an iCalendar
// VJOURNAL or text export (export.go).
//
// Every notes folder (EAS types 10 and 17) has a change counter, the
// ctag: each write bumps it in the writing transaction, stamps the note's
// version with the new value and announces the folder, so a reader
// compares one number to learn whether anything changed and a waiting
// Ping wakes on every instance.
package notes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/itemstore"
)

// Body types of a stored note: the AirSyncBase:Type values.
const (
	BodyPlain = 1
	BodyHTML  = 2
)

// DefaultMessageClass is the class of a note that names none.
const DefaultMessageClass = "IPM.StickyNote"

// Errors.
var (
	ErrNotFound   = errors.New("notes: no such note")
	ErrSameFolder = errors.New("notes: source and destination are the same folder")
	ErrBadValue   = errors.New("notes: bad value")
)

// Querier runs SQL: the caller's transaction (a Sync's, so items and the
// new sync state commit together) or a pool.
type Querier = itemstore.Querier

// NotifyFunc announces a changed notes folder inside the writing
// transaction; the application passes eas.NotifyFolderChanged.
type NotifyFunc = itemstore.NotifyFunc

// Store keeps notes.
type Store struct {
	folders itemstore.Folders
}

// NewStore returns a Store; notify may be nil (nothing waits).
func NewStore(notify NotifyFunc) *Store {
	return &Store{folders: itemstore.NewFolders("notes", "note_folders", "folder", notify)}
}

// Note is one stored note.
type Note struct {
	// ServerID names the note to EAS: "<folderID>:<id>"; it changes when
	// the note moves.
	ServerID string
	// UID is the note's iCalendar UID, kept for its life (moves too).
	UID     string
	Version int64

	Subject string
	// Body is the text as the client sent it, in BodyType (BodyPlain or
	// BodyHTML): converting on write would lose a phone's formatting.
	Body         string
	BodyType     int
	Categories   []string
	MessageClass string
	LastModified time.Time
	Updated      time.Time
}

// Limits of what one note may hold. A note is text typed on a phone;
// anything beyond these is a broken client or abuse, refused as such.
const (
	MaxSubject       = 4096    // bytes
	MaxBody          = 1 << 20 // bytes
	MaxCategories    = 300     // MS-ASNOTE 2.2.2.3: at most 300 Category elements
	MaxCategoryChars = 255
)

// check validates n and fills in defaults, before any SQL.
func check(n *Note) error {
	if n.BodyType == 0 {
		n.BodyType = BodyPlain
	}
	if n.MessageClass == "" {
		n.MessageClass = DefaultMessageClass
	}
	if n.Categories == nil {
		n.Categories = []string{}
	}
	switch {
	case n.BodyType != BodyPlain && n.BodyType != BodyHTML:
		return fmt.Errorf("%w: body type %d (plain text and HTML are kept)", ErrBadValue, n.BodyType)
	case len(n.Subject) > MaxSubject:
		return fmt.Errorf("%w: subject longer than %d bytes", ErrBadValue, MaxSubject)
	case len(n.Body) > MaxBody:
		return fmt.Errorf("%w: body longer than %d bytes", ErrBadValue, MaxBody)
	case len(n.Categories) > MaxCategories:
		return fmt.Errorf("%w: %d categories, at most %d", ErrBadValue, len(n.Categories), MaxCategories)
	case !ValidMessageClass(n.MessageClass):
		return fmt.Errorf("%w: message class %q is not a note's", ErrBadValue, n.MessageClass)
	case strings.ContainsRune(n.Subject+n.Body, 0):
		return fmt.Errorf("%w: NUL character", ErrBadValue)
	}
	for _, c := range n.Categories {
		if c == "" || len([]rune(c)) > MaxCategoryChars || strings.ContainsRune(c, 0) {
			return fmt.Errorf("%w: category %q", ErrBadValue, c)
		}
	}
	if n.LastModified.IsZero() {
		n.LastModified = time.Now()
	}
	n.LastModified = n.LastModified.UTC().Truncate(time.Millisecond)
	return nil
}

// ValidMessageClass reports whether c is a note's class: IPM.StickyNote
// or one derived from it (MS-ASNOTE 2.2.2.5).
func ValidMessageClass(c string) bool {
	rest, ok := strings.CutPrefix(c, DefaultMessageClass)
	return ok && (rest == "" || (len(rest) > 1 && rest[0] == '.' && len(c) <= 255))
}

// CTag returns the folder's change counter, 0 when it was never written.
func (s *Store) CTag(ctx context.Context, q Querier, userID int64, folderID string) (int64, error) {
	return s.folders.CTag(ctx, q, userID, folderID)
}

// Versions returns ServerId -> version of every note of the folder, from
// the index alone.
func (s *Store) Versions(ctx context.Context, q Querier, userID int64, folderID string) (map[string]int64, error) {
	out, err := itemstore.QueryVersions(ctx, q, folderID,
		`SELECT id, version FROM notes WHERE user_id = $1 AND folder_id = $2`, userID, folderID)
	if err != nil {
		return nil, fmt.Errorf("notes: versions of %q: %w", folderID, err)
	}
	return out, nil
}

const noteColumns = `id, uid, version, subject, body, body_type, categories, message_class, last_modified, updated`

func scanNote(folderID string, r pgx.Row) (Note, error) {
	var n Note
	var id int64
	var bt int16
	err := r.Scan(&id, &n.UID, &n.Version, &n.Subject, &n.Body, &bt, &n.Categories, &n.MessageClass, &n.LastModified, &n.Updated)
	n.ServerID, n.BodyType = itemstore.ServerID(folderID, id), int(bt)
	n.LastModified, n.Updated = n.LastModified.UTC(), n.Updated.UTC()
	return n, err
}

// Get returns the notes named by serverIDs, in that order; ids that name
// no note of the folder are left out.
func (s *Store) Get(ctx context.Context, q Querier, userID int64, folderID string, serverIDs []string) ([]Note, error) {
	ids := itemstore.ParseServerIDs(folderID, serverIDs)
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT `+noteColumns+` FROM notes
		WHERE user_id = $1 AND folder_id = $2 AND id = ANY($3)`, userID, folderID, ids)
	if err != nil {
		return nil, fmt.Errorf("notes: get: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]Note, len(ids))
	for rows.Next() {
		n, err := scanNote(folderID, rows)
		if err != nil {
			return nil, fmt.Errorf("notes: get: %w", err)
		}
		byID[n.ServerID] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notes: get: %w", err)
	}
	return itemstore.InOrder(serverIDs, byID), nil
}

// List returns every note of the folder, oldest first (the export).
func (s *Store) List(ctx context.Context, q Querier, userID int64, folderID string) ([]Note, error) {
	rows, err := q.Query(ctx, `SELECT `+noteColumns+` FROM notes
		WHERE user_id = $1 AND folder_id = $2 ORDER BY id`, userID, folderID)
	if err != nil {
		return nil, fmt.Errorf("notes: list %q: %w", folderID, err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		n, err := scanNote(folderID, rows)
		if err != nil {
			return nil, fmt.Errorf("notes: list %q: %w", folderID, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notes: list %q: %w", folderID, err)
	}
	return out, nil
}

// Create adds n to the folder, creating the folder's row on its first
// write. n's UID is kept when set (an import), else one is made.
func (s *Store) Create(ctx context.Context, q Querier, userID int64, folderID string, n Note) (Note, error) {
	if err := check(&n); err != nil {
		return Note{}, err
	}
	if n.UID == "" {
		n.UID = uuid.NewString()
	}
	// One statement: the upsert bumps the ctag and locks the folder's
	// row, which serialises the folder's writers, so versions strictly
	// increase and no bump is lost.
	var id int64
	err := q.QueryRow(ctx, `WITH f AS (
			INSERT INTO note_folders AS f (user_id, folder_id, ctag) VALUES ($1, $2, 1)
			ON CONFLICT (user_id, folder_id) DO UPDATE SET ctag = f.ctag + 1
			RETURNING ctag)
		INSERT INTO notes (user_id, folder_id, uid, version, subject, body, body_type, categories, message_class, last_modified)
		SELECT $1, $2, $3, f.ctag, $4, $5, $6, $7, $8, $9 FROM f
		RETURNING id, version, updated`,
		userID, folderID, n.UID, n.Subject, n.Body, n.BodyType, n.Categories, n.MessageClass, n.LastModified,
	).Scan(&id, &n.Version, &n.Updated)
	if err != nil {
		return Note{}, fmt.Errorf("notes: create in %q: %w", folderID, err)
	}
	if err := s.folders.Notify(ctx, q, userID, folderID); err != nil {
		return Note{}, err
	}
	n.ServerID, n.Updated = itemstore.ServerID(folderID, id), n.Updated.UTC()
	return n, nil
}

// Update replaces the note named by sid with n; its UID stays.
func (s *Store) Update(ctx context.Context, q Querier, userID int64, folderID, sid string, n Note) (Note, error) {
	id, ok := itemstore.ParseServerID(folderID, sid)
	if !ok {
		return Note{}, ErrNotFound
	}
	if err := check(&n); err != nil {
		return Note{}, err
	}
	row := q.QueryRow(ctx, `WITH f AS (
			UPDATE note_folders SET ctag = ctag + 1
			WHERE user_id = $1 AND folder_id = $2
				AND EXISTS (SELECT 1 FROM notes WHERE user_id = $1 AND folder_id = $2 AND id = $3)
			RETURNING ctag)
		UPDATE notes n SET version = f.ctag, subject = $4, body = $5, body_type = $6, categories = $7,
			message_class = $8, last_modified = $9, updated = now()
		FROM f WHERE n.user_id = $1 AND n.folder_id = $2 AND n.id = $3
		RETURNING `+qualified("n", noteColumns),
		userID, folderID, id, n.Subject, n.Body, n.BodyType, n.Categories, n.MessageClass, n.LastModified)
	out, err := scanNote(folderID, row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Note{}, ErrNotFound
	}
	if err != nil {
		return Note{}, fmt.Errorf("notes: update %s: %w", sid, err)
	}
	if err := s.folders.Notify(ctx, q, userID, folderID); err != nil {
		return Note{}, err
	}
	return out, nil
}

// qualified prefixes every column of a list with table alias t.
func qualified(t, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = t + "." + p
	}
	return strings.Join(parts, ", ")
}

// Delete removes the note named by sid.
func (s *Store) Delete(ctx context.Context, q Querier, userID int64, folderID, sid string) error {
	id, ok := itemstore.ParseServerID(folderID, sid)
	if !ok {
		return ErrNotFound
	}
	var ctag int64
	err := q.QueryRow(ctx, `WITH gone AS (
			DELETE FROM notes WHERE user_id = $1 AND folder_id = $2 AND id = $3 RETURNING 1)
		UPDATE note_folders SET ctag = ctag + 1
		WHERE user_id = $1 AND folder_id = $2 AND EXISTS (SELECT 1 FROM gone)
		RETURNING ctag`, userID, folderID, id).Scan(&ctag)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("notes: delete %s: %w", sid, err)
	}
	return s.folders.Notify(ctx, q, userID, folderID)
}

// Move moves the note named by sid from folder src to dst of the same
// user and returns it under its new ServerId; both folders' ctags are
// bumped and both announced.
func (s *Store) Move(ctx context.Context, q Querier, userID int64, src, dst, sid string) (Note, error) {
	id, ok := itemstore.ParseServerID(src, sid)
	if !ok {
		return Note{}, ErrNotFound
	}
	if src == dst {
		return Note{}, ErrSameFolder
	}
	if err := s.folders.LockPair(ctx, q, userID, src, dst); err != nil {
		return Note{}, fmt.Errorf("notes: move %s: %w", sid, err)
	}
	row := q.QueryRow(ctx, `WITH moved AS (
			DELETE FROM notes WHERE user_id = $1 AND folder_id = $2 AND id = $4
			RETURNING uid, subject, body, body_type, categories, message_class, last_modified),
		src_f AS (
			UPDATE note_folders SET ctag = ctag + 1
			WHERE user_id = $1 AND folder_id = $2 AND EXISTS (SELECT 1 FROM moved)),
		dst_f AS (
			UPDATE note_folders SET ctag = ctag + 1
			WHERE user_id = $1 AND folder_id = $3 AND EXISTS (SELECT 1 FROM moved)
			RETURNING ctag)
		INSERT INTO notes (user_id, folder_id, uid, version, subject, body, body_type, categories, message_class, last_modified)
		SELECT $1, $3, m.uid, d.ctag, m.subject, m.body, m.body_type, m.categories, m.message_class, m.last_modified
		FROM moved m, dst_f d
		RETURNING `+noteColumns, userID, src, dst, id)
	n, err := scanNote(dst, row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Note{}, ErrNotFound
	}
	if err != nil {
		return Note{}, fmt.Errorf("notes: move %s: %w", sid, err)
	}
	if err := s.folders.Notify(ctx, q, userID, src, dst); err != nil {
		return Note{}, err
	}
	return n, nil
}

// DeleteFolder removes the folder's notes and its counter. Deleting the
// folder row does the same through the schema; this serves FolderDelete,
// which runs it in the folder's own transaction.
func (s *Store) DeleteFolder(ctx context.Context, q Querier, userID int64, folderID string) error {
	return s.folders.Delete(ctx, q, userID, folderID)
}
