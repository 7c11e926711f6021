package folders

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

// CreatePIM adds a user-created contacts, calendar, tasks or notes folder
// (FolderCreate types 13-17) and returns it.
//
// with runs in the same transaction after the folder's insert: a store
// that keeps something of its own per folder (a CardDAV collection name)
// writes it there, so the folder never exists without it.
func (s *Store) CreatePIM(ctx context.Context, userID int64, parentID, name string, t model.FolderType, with ...func(pgx.Tx, Folder) error) (Folder, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Folder{}, fmt.Errorf("folders: %w", err)
	}
	defer tx.Rollback(ctx)
	var next int64
	if err := tx.QueryRow(ctx, `UPDATE users SET next_folder_id = next_folder_id + 1 WHERE id = $1
		RETURNING next_folder_id - 1`, userID).Scan(&next); err != nil {
		return Folder{}, fmt.Errorf("folders: new id: %w", err)
	}
	f := Folder{ServerID: strconv.FormatInt(next, 10), ParentID: parentID, DisplayName: name, Type: t, Source: SourcePIM}
	_, err = tx.Exec(ctx, `INSERT INTO folders (user_id, server_id, parent_id, display_name, type, source)
		VALUES ($1, $2, $3, $4, $5, 'pim')`, userID, f.ServerID, f.ParentID, f.DisplayName, int(f.Type))
	if err != nil {
		return Folder{}, fmt.Errorf("folders: create: %w", err)
	}
	for _, fn := range with {
		if err := fn(tx, f); err != nil {
			return Folder{}, err
		}
	}
	if err := s.announced(ctx, tx, userID); err != nil {
		return Folder{}, err
	}
	return f, tx.Commit(ctx)
}

// UpdatePIM renames or moves a PIM folder.
func (s *Store) UpdatePIM(ctx context.Context, userID int64, serverID, parentID, name string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("folders: %w", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE folders SET parent_id = $3, display_name = $4
		WHERE user_id = $1 AND server_id = $2 AND source = 'pim'`, userID, serverID, parentID, name)
	if err != nil {
		return fmt.Errorf("folders: update: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // no such folder: nothing changed, nothing to announce
	}
	if err := s.announced(ctx, tx, userID); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("folders: update: %w", err)
	}
	return nil
}

// DeletePIM removes a PIM folder and the sync state of it on every device.
//
// with runs in the same transaction first: the folder's store deletes
// its items there, so folder and items go together or not at all.
func (s *Store) DeletePIM(ctx context.Context, userID int64, serverID string, with ...func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("folders: %w", err)
	}
	defer tx.Rollback(ctx)
	for _, fn := range with {
		if err := fn(tx); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM folders WHERE user_id = $1 AND server_id = $2 AND source = 'pim'`, userID, serverID); err != nil {
		return fmt.Errorf("folders: delete: %w", err)
	}
	if err := syncstate.DeleteCollection(ctx, tx, userID, serverID); err != nil {
		return err
	}
	if err := s.announced(ctx, tx, userID); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// EnsurePIM gives the user the default contacts, calendar, tasks and notes
// folders it lacks, with the ids the first FolderSync would give them
// (that FolderSync then keeps them), and returns the user's folders. Mail
// folders are left alone: it serves tools such as `easd contacts import`
// that write PIM data of a user whose phone has not synced yet.
func (s *Store) EnsurePIM(ctx context.Context, userID int64) ([]Folder, error) {
	if old, err := list(ctx, s.pool, userID); err == nil && len(missingPIM(old)) == 0 {
		return old, nil
	}
	tx, next, old, err := s.lockUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	missing := missingPIM(old)
	if len(missing) == 0 { // made meanwhile
		return old, nil
	}
	for _, d := range missing {
		if _, err := tx.Exec(ctx, `INSERT INTO folders (user_id, server_id, parent_id, display_name, type, source)
			VALUES ($1, $2, '0', $3, $4, 'pim')`, userID, strconv.FormatInt(next, 10), d.DisplayName, int(d.Type)); err != nil {
			return nil, fmt.Errorf("folders: create %q: %w", d.DisplayName, err)
		}
		next++
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET next_folder_id = $2 WHERE id = $1`, userID, next); err != nil {
		return nil, fmt.Errorf("folders: %w", err)
	}
	if err := s.announced(ctx, tx, userID); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("folders: commit: %w", err)
	}
	return list(ctx, s.pool, userID)
}

// missingPIM returns the default PIM folders absent from list.
func missingPIM(list []Folder) []Folder {
	have := map[model.FolderType]bool{}
	for _, f := range list {
		if f.Source == SourcePIM {
			have[f.Type] = true
		}
	}
	var out []Folder
	for _, d := range pimDefaults {
		if !have[d.Type] {
			out = append(out, d)
		}
	}
	return out
}

// ItemMover moves the items a store keeps in folder fromFolder of user
// from to folder intoFolder of user into, in tx (the folder rows exist
// for both while it runs).
type ItemMover func(ctx context.Context, tx pgx.Tx, from int64, fromFolder string, into int64, intoFolder string) error

// MovePIM gives every PIM folder of user from to user into, with its
// items, in tx: when two users are merged into one (device.MergeLogins),
// the contacts and calendars of the one that goes are kept, never deleted
// with it. A moved folder gets a new id of into's (the ids of the two
// users overlap) and becomes a user folder of its class (a second
// default Contacts folder would confuse phones); its name says where it
// came from. Each store moves its items with its ItemMover.
func MovePIM(ctx context.Context, tx pgx.Tx, into, from int64, movers ...ItemMover) error {
	var login string
	if err := tx.QueryRow(ctx, `SELECT login FROM users WHERE id = $1`, from).Scan(&login); err != nil {
		return fmt.Errorf("folders: move from user %d: %w", from, err)
	}
	old, err := list(ctx, tx, from)
	if err != nil {
		return err
	}
	for _, f := range old {
		if f.Source != SourcePIM {
			continue
		}
		var next int64
		if err := tx.QueryRow(ctx, `UPDATE users SET next_folder_id = next_folder_id + 1 WHERE id = $1
			RETURNING next_folder_id - 1`, into).Scan(&next); err != nil {
			return fmt.Errorf("folders: new id: %w", err)
		}
		id := strconv.FormatInt(next, 10)
		if _, err := tx.Exec(ctx, `INSERT INTO folders (user_id, server_id, parent_id, display_name, type, source)
			VALUES ($1, $2, '0', $3, $4, 'pim')`, into, id, f.DisplayName+" ("+login+")", int(userType(f.Type))); err != nil {
			return fmt.Errorf("folders: move %q: %w", f.DisplayName, err)
		}
		for _, mv := range movers {
			if err := mv(ctx, tx, from, f.ServerID, into, id); err != nil {
				return fmt.Errorf("folders: move the items of %q: %w", f.DisplayName, err)
			}
		}
	}
	return nil
}

// userType is the user-created folder type of t's class (MS-ASCMD
// 2.2.3.186.3).
func userType(t model.FolderType) model.FolderType {
	switch t {
	case model.FolderContacts:
		return model.FolderUserContacts
	case model.FolderCalendar:
		return model.FolderUserCalendar
	case model.FolderTasks:
		return model.FolderUserTasks
	case model.FolderNotes:
		return model.FolderUserNotes
	case model.FolderJournal:
		return model.FolderUserJournal
	}
	return t
}
