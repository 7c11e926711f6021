// Package folders keeps the folder hierarchy of each user in PostgreSQL:
// which EAS folder id stands for which IMAP mailbox or PIM folder. Ids are
// per user and stable: a mailbox keeps its id across renames (made through
// easd, or elsewhere when the server keeps UIDVALIDITY), and an id is never
// given to another folder.
package folders

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/internal/pgnotify"
)

// Folder is one entry of a user's hierarchy.
type Folder struct {
	ServerID    string
	ParentID    string // "0" at the top level
	DisplayName string
	Type        model.FolderType
	Source      string // "imap", "pim" or "virtual"
	IMAPName    string
	UIDValidity uint32
}

// Sources.
const (
	SourceIMAP    = "imap"
	SourcePIM     = "pim"
	SourceVirtual = "virtual" // offered although no store holds it (Outbox)
)

// pimDefaults are the folders easd keeps in PostgreSQL for every user.
var pimDefaults = []Folder{
	{DisplayName: "Contacts", Type: model.FolderContacts, Source: SourcePIM},
	{DisplayName: "Calendar", Type: model.FolderCalendar, Source: SourcePIM},
	{DisplayName: "Tasks", Type: model.FolderTasks, Source: SourcePIM},
	{DisplayName: "Notes", Type: model.FolderNotes, Source: SourcePIM},
}

// Store reads and reconciles hierarchies.
type Store struct {
	pool     *pgxpool.Pool
	announce Announcer // nil: changes are not announced
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Announcer publishes, in the transaction of db, that the folder hierarchy
// of userID changed; the application passes eas.NotifyHierarchyChanged
// (this package does not import eas).
type Announcer func(ctx context.Context, db pgnotify.Execer, userID int64) error

// Announcing makes s announce every change it makes to a hierarchy (a PIM
// folder made, renamed or deleted, mailboxes found made, renamed or gone
// by Reconcile) with fn, in the transaction of the change, so that the
// waiting requests of the user's other devices learn of it. It returns s.
func (s *Store) Announcing(fn Announcer) *Store {
	s.announce = fn
	return s
}

// announced announces a change of userID's hierarchy made in tx.
func (s *Store) announced(ctx context.Context, tx pgx.Tx, userID int64) error {
	if s.announce == nil {
		return nil
	}
	return s.announce(ctx, tx, userID)
}

// List returns the user's folders as last reconciled.
func (s *Store) List(ctx context.Context, userID int64) ([]Folder, error) {
	return list(ctx, s.pool, userID)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func list(ctx context.Context, q querier, userID int64) ([]Folder, error) {
	rows, err := q.Query(ctx, `SELECT server_id, parent_id, display_name, type, source,
		coalesce(imap_name, ''), uidvalidity FROM folders WHERE user_id = $1
		ORDER BY length(server_id), server_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("folders: %w", err)
	}
	defer rows.Close()
	var out []Folder
	for rows.Next() {
		var f Folder
		var uv int64
		if err := rows.Scan(&f.ServerID, &f.ParentID, &f.DisplayName, &f.Type, &f.Source, &f.IMAPName, &uv); err != nil {
			return nil, fmt.Errorf("folders: %w", err)
		}
		f.UIDValidity = uint32(uv)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Reconcile brings the user's hierarchy in line with the mailboxes the IMAP
// server lists now, adds the PIM folders and the Outbox when missing, and
// returns the result. Concurrent calls for one user are serialised.
func (s *Store) Reconcile(ctx context.Context, userID int64, mailboxes []model.Mailbox) ([]Folder, error) {
	// Almost always nothing changed: check without locking, so the devices
	// of one user do not queue behind each other on every FolderSync.
	if old, err := list(ctx, s.pool, userID); err == nil {
		if r := reconcile(old, mailboxes, 1<<62); len(r.deleted) == 0 && sameFolders(old, r.folders) {
			return r.folders, nil
		}
	}
	tx, next, old, err := s.lockUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	r := reconcile(old, mailboxes, next)
	for _, id := range r.deleted {
		if _, err := tx.Exec(ctx, `DELETE FROM folders WHERE user_id = $1 AND server_id = $2`, userID, id); err != nil {
			return nil, fmt.Errorf("folders: delete: %w", err)
		}
		// The folder's sync state on every device of the user goes with it.
		if err := syncstate.DeleteCollection(ctx, tx, userID, id); err != nil {
			return nil, err
		}
	}
	for _, f := range r.folders {
		var imapName any
		if f.Source == SourceIMAP {
			imapName = f.IMAPName
		}
		_, err := tx.Exec(ctx, `INSERT INTO folders (user_id, server_id, parent_id, display_name, type, source, imap_name, uidvalidity)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (user_id, server_id) DO UPDATE SET parent_id = EXCLUDED.parent_id,
				display_name = EXCLUDED.display_name, type = EXCLUDED.type, source = EXCLUDED.source,
				imap_name = EXCLUDED.imap_name, uidvalidity = EXCLUDED.uidvalidity`,
			userID, f.ServerID, f.ParentID, f.DisplayName, int(f.Type), f.Source, imapName, int64(f.UIDValidity))
		if err != nil {
			return nil, fmt.Errorf("folders: save %q: %w", f.DisplayName, err)
		}
	}
	if r.next != next {
		if _, err := tx.Exec(ctx, `UPDATE users SET next_folder_id = $2 WHERE id = $1`, userID, r.next); err != nil {
			return nil, fmt.Errorf("folders: %w", err)
		}
	}
	// Whoever listed the mailboxes first found the change; the user's
	// other devices learn it from this. A new UIDVALIDITY alone is no
	// change a device's hierarchy shows.
	if len(r.deleted) > 0 || !sameFolders(visible(old), visible(r.folders)) {
		if err := s.announced(ctx, tx, userID); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("folders: commit: %w", err)
	}
	return r.folders, nil
}

type reconciled struct {
	folders []Folder
	deleted []string
	next    int64
}

// reconcile is the pure part of Reconcile: match mailboxes to known folders
// by name, then by UIDVALIDITY (a rename made elsewhere), then give new ids.
// Renames made through a vanished name are moves of the same folder.
func reconcile(old []Folder, mailboxes []model.Mailbox, next int64) reconciled {
	byName := map[string]Folder{}
	var pim, virtual []Folder
	for _, f := range old {
		switch f.Source {
		case SourceIMAP:
			byName[f.IMAPName] = f
		case SourcePIM:
			pim = append(pim, f)
		case SourceVirtual:
			virtual = append(virtual, f)
		}
	}
	seen := map[string]bool{}
	for _, m := range mailboxes {
		seen[m.Name] = true
	}
	// Folders whose mailbox vanished, by UIDVALIDITY, for rename matching.
	vanished := map[uint32]Folder{}
	for name, f := range byName {
		if !seen[name] && f.UIDValidity != 0 {
			vanished[f.UIDValidity] = f
		}
	}
	newID := func() string {
		id := strconv.FormatInt(next, 10)
		next++
		return id
	}

	var out []Folder
	idOfMailbox := map[string]string{}
	kept := map[string]bool{}
	for _, m := range mailboxes {
		f, ok := byName[m.Name]
		if !ok && m.UIDValidity != 0 {
			if v, found := vanished[m.UIDValidity]; found {
				f, ok = v, true
				delete(vanished, m.UIDValidity)
			}
		}
		if !ok {
			f = Folder{ServerID: newID(), Source: SourceIMAP}
		}
		f.IMAPName, f.DisplayName, f.Type, f.UIDValidity = m.Name, m.Leaf(), m.Type, m.UIDValidity
		if f.Type == model.FolderInbox {
			f.DisplayName = "Inbox"
		}
		idOfMailbox[m.Name] = f.ServerID
		kept[f.ServerID] = true
		out = append(out, f)
	}
	for i, m := range mailboxes {
		out[i].ParentID = "0"
		if p := m.Parent(); p != "" {
			if id, ok := idOfMailbox[p]; ok {
				out[i].ParentID = id
			}
		}
	}

	hasOutbox := false
	for _, f := range out {
		if f.Type == model.FolderOutbox {
			hasOutbox = true
		}
	}
	// Some Android clients reset the account when there is no Outbox.
	if !hasOutbox {
		f := Folder{DisplayName: "Outbox", Type: model.FolderOutbox, Source: SourceVirtual, ParentID: "0"}
		if len(virtual) > 0 {
			f.ServerID = virtual[0].ServerID
		} else {
			f.ServerID = newID()
		}
		kept[f.ServerID] = true
		out = append(out, f)
	}
	have := map[model.FolderType]bool{}
	for _, p := range pim {
		have[p.Type] = true
		kept[p.ServerID] = true
		out = append(out, p)
	}
	for _, d := range pimDefaults {
		if !have[d.Type] {
			f := d
			f.ParentID, f.ServerID = "0", newID()
			kept[f.ServerID] = true
			out = append(out, f)
		}
	}
	var deleted []string
	for _, f := range old {
		if !kept[f.ServerID] {
			deleted = append(deleted, f.ServerID)
		}
	}
	return reconciled{folders: out, deleted: deleted, next: next}
}

// sameFolders reports whether a and b hold the same folders, in any order.
func sameFolders(a, b []Folder) bool {
	if len(a) != len(b) {
		return false
	}
	byID := make(map[string]Folder, len(a))
	for _, f := range a {
		byID[f.ServerID] = f
	}
	for _, f := range b {
		if byID[f.ServerID] != f {
			return false
		}
	}
	return true
}

// visible is list as devices see it: id, parent, name and type.
func visible(list []Folder) []Folder {
	out := make([]Folder, len(list))
	for i, f := range list {
		out[i] = Folder{ServerID: f.ServerID, ParentID: f.ParentID, DisplayName: f.DisplayName, Type: f.Type}
	}
	return out
}

// ByID indexes folders by their EAS id.
func ByID(list []Folder) map[string]Folder {
	byID := make(map[string]Folder, len(list))
	for _, f := range list {
		byID[f.ServerID] = f
	}
	return byID
}

// Trash is the Deleted Items mail folder in list, the zero Folder (no
// IMAPName) when there is none.
func Trash(list []Folder) Folder {
	for _, f := range list {
		if f.Type == model.FolderDeletedItems && f.Source == SourceIMAP {
			return f
		}
	}
	return Folder{}
}

// lockUser begins a transaction that holds the user's row, so that
// concurrent changes of one user's hierarchy are serialised, and returns
// the user's next folder id and folders.
func (s *Store) lockUser(ctx context.Context, userID int64) (pgx.Tx, int64, []Folder, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("folders: %w", err)
	}
	var next int64
	if err := tx.QueryRow(ctx, `SELECT next_folder_id FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&next); err != nil {
		tx.Rollback(ctx)
		return nil, 0, nil, fmt.Errorf("folders: lock user: %w", err)
	}
	old, err := list(ctx, tx, userID)
	if err != nil {
		tx.Rollback(ctx)
		return nil, 0, nil, err
	}
	return tx, next, old, nil
}
