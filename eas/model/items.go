package model

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// ItemStore is the backend of an item class kept in PostgreSQL (contacts,
// and after them calendar, tasks and notes). Package eas drives every such
// class through it with one Sync algorithm (eas/sync_items.go); the store
// knows its documents (vCard, iCalendar) and the mapping to its EAS item
// type, nothing of sync keys or WBXML framing.
//
// Every method runs in the caller's transaction db: a Sync writes the
// client's items in the same transaction as its new sync state, so a crash
// between the two can neither lose nor duplicate an item. Every write bumps
// the folder's change counter (CTag) and announces the change in that
// transaction (NOTIFY, sent at commit).
//
// ServerIds are the store's: unique within the user, naming their folder,
// stable while the item stays in its folder.
type ItemStore interface {
	// CTag is the folder's change counter: any write to its items raises
	// it. A folder never written to has CTag 0. It is one indexed read,
	// the whole cost of a Sync or Ping that finds nothing changed.
	CTag(ctx context.Context, db DB, userID int64, folderID string) (int64, error)
	// Versions lists the folder's items that the client's FilterType
	// window (opts.Since) shows: ServerId -> version. Versions only grow;
	// a write gives the item a new one.
	Versions(ctx context.Context, db DB, userID int64, folderID string, opts ItemOptions) (map[string]int64, error)
	// Render returns the items named by serverIDs that still exist, in
	// that order, as the class's ApplicationData value.
	Render(ctx context.Context, db DB, userID int64, folderID string, serverIDs []string, opts ItemOptions) ([]Item, error)
	// Add creates an item from a client's ApplicationData. An item the
	// store cannot keep as sent is refused with an error wrapping
	// ErrItemInvalid, and nothing is written.
	Add(ctx context.Context, db DB, userID int64, folderID string, data *wbxml.Element, opts ItemOptions) (Item, error)
	// Change applies a client's change to an item (ghosting as opts say).
	// ErrItemNotFound when the item is gone; ErrItemInvalid as for Add.
	Change(ctx context.Context, db DB, userID int64, folderID, serverID string, data *wbxml.Element, opts ItemOptions) (Item, error)
	// Delete removes an item; ErrItemNotFound when it is gone already.
	Delete(ctx context.Context, db DB, userID int64, folderID, serverID string) error
	// DeleteFolder removes every item of the folder (FolderDelete).
	DeleteFolder(ctx context.Context, db DB, userID int64, folderID string) error
}

// ItemMover is an ItemStore that moves items between folders of its class
// (MoveItems). The item gets a new ServerId in the destination.
type ItemMover interface {
	Move(ctx context.Context, db DB, userID int64, srcFolderID, serverID, dstFolderID string) (Item, error)
}

// DB is where a store runs its SQL: the request's transaction (pgx.Tx),
// or the pool for a read outside one (a Ping's first check).
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ItemInstances is an ItemStore whose items are series of occurrences
// (calendar events): a 16.x client changes or deletes one occurrence with
// AirSyncBase:InstanceId (MS-ASCMD 2.2.3.42.2), the occurrence's original
// start. Either leaves the series in place with a new version.
type ItemInstances interface {
	ChangeInstance(ctx context.Context, db DB, userID int64, folderID, serverID string, instance time.Time, data *wbxml.Element, opts ItemOptions) (Item, error)
	DeleteInstance(ctx context.Context, db DB, userID int64, folderID, serverID string, instance time.Time, opts ItemOptions) (Item, error)
}

// Item is one rendered or written item.
type Item struct {
	ServerID string
	Version  int64
	// Data is the ApplicationData value (e.g. *message.Contact). For a
	// client's Add it is what the answer carries back, if anything (16.x
	// calendar: the UID the server made); nil otherwise.
	Data any
}

// ItemOptions are what one request tells a store about rendering and
// applying items.
type ItemOptions struct {
	// Version is the request's protocol version times ten (25 ... 161).
	Version int
	// BodyPreferences are the collection's AirSyncBase:BodyPreference.
	BodyPreferences []message.BodyPreference
	// Since is the start of the collection's FilterType window (zero:
	// every item). A class the window does not apply to (contacts)
	// ignores it; calendar shows the events that end after it, tasks
	// (FilterType 8) only the incomplete ones (Incomplete).
	Since time.Time
	// Incomplete: FilterType 8, incomplete tasks only.
	Incomplete bool
	// Zone is the user's time zone: dates that clients send as instants
	// (a contact's birthday) are read in it.
	Zone *time.Location
	// Supported lists the elements the client declared in Sync Options
	// Supported (MS-ASCMD 2.2.3.179): those it leaves out of a Change are
	// cleared; any other element it leaves out keeps the stored value
	// (ghosting). Nil: the client declared none, and an element left out
	// is cleared.
	Supported []string
	// Keep lists elements whose absence, or emptiness, means "unchanged"
	// for this client whatever Supported says (client quirks, e.g. iOS's
	// empty Picture). Empty elements named here are treated as absent.
	Keep []string
	// Self is the user's mail address when the request carries client
	// writes: the calendar makes a phone's meeting the user's own
	// (ORGANIZER) and invites its attendees. "": no meeting mail is sent.
	Self string
}

// Errors of item stores, tested with errors.Is.
var (
	// ErrItemNotFound: the ServerId names no item of the folder.
	ErrItemNotFound = errors.New("item not found")
	// ErrItemInvalid: the client's item cannot be kept as sent: a
	// malformed value, a picture above its limit (Sync Status 6 for that
	// item, the rest of the request goes on).
	ErrItemInvalid = errors.New("item invalid")
)
