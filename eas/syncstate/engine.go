package syncstate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// HierarchyID is the collection id under which FolderSync (and FolderCreate,
// FolderUpdate, FolderDelete) keep the folder hierarchy's state. Folder ids
// are server-assigned and never start with '#'.
const HierarchyID = "#hierarchy"

// Errors callers can test with errors.Is.
var (
	// ErrUnknownKey: Commit of a Tx whose key is neither current nor previous.
	ErrUnknownKey = errors.New("syncstate: unknown sync key")
	// ErrBusy: another request of the same device on the same collection
	// held the collection longer than Options.LockWait.
	ErrBusy = errors.New("syncstate: collection busy")
	// ErrStateGone: the collection's state was deleted inside the Tx.
	ErrStateGone = errors.New("syncstate: collection state deleted during the request")
	// ErrTxDone: the Tx was already committed or rolled back.
	ErrTxDone = errors.New("syncstate: transaction already finished")
)

// Options tune an Engine.
type Options struct {
	// LockWait bounds how long Begin waits for another request of the same
	// device on the same collection (default 25 s, under the shortest
	// client timeout). Handlers must not keep a Tx open while a hanging
	// Sync waits for changes.
	LockWait time.Duration
}

// Engine hands out sync-state transactions. It is safe for concurrent use.
type Engine struct {
	pool     *pgxpool.Pool
	lockWait time.Duration
}

// New returns an Engine over pool, whose database has the migrations
// applied.
func New(pool *pgxpool.Pool, opts Options) *Engine {
	if opts.LockWait <= 0 {
		opts.LockWait = 25 * time.Second
	}
	return &Engine{pool: pool, lockWait: opts.LockWait}
}

// Begin starts the transaction of one request: it locks the collection's
// state for (deviceID, collectionID), which makes a second request of the
// same device on the same collection wait until this one commits or rolls
// back, and classifies clientKey. The returned Tx must be finished with
// Commit or Rollback, also when its KeyStatus is KeyUnknown.
func (e *Engine) Begin(ctx context.Context, deviceID int64, collectionID, clientKey string) (*Tx, error) {
	if collectionID == "" {
		return nil, errors.New("syncstate: begin: empty collection id")
	}
	pgtx, err := e.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("syncstate: begin device %d collection %q: %w", deviceID, collectionID, err)
	}
	t := &Tx{pgtx: pgtx, deviceID: deviceID, collectionID: collectionID, clientKey: clientKey}
	if err := t.open(ctx, e.lockWait); err != nil {
		_ = pgtx.Rollback(ctx)
		return nil, fmt.Errorf("syncstate: begin device %d collection %q: %w", deviceID, collectionID, err)
	}
	return t, nil
}

// open sets the lock timeout, locks the collection row and reads the state
// of the client's key.
func (t *Tx) open(ctx context.Context, lockWait time.Duration) error {
	if err := SetLockTimeout(ctx, t.pgtx, lockWait); err != nil {
		return err
	}
	if t.clientKey == InitialKey {
		return t.openInitial(ctx)
	}
	if _, ok := parseKey(t.clientKey); !ok {
		t.status = KeyUnknown
		return nil
	}
	found, err := t.lockRow(ctx)
	if err != nil || !found {
		return err
	}
	switch t.clientKey {
	case t.curKey:
		t.status = KeyCurrent
	case t.prevKey:
		t.status = KeyPrevious
	default:
		return nil
	}
	// A separate statement, so that under READ COMMITTED it sees the state
	// rows committed by the request we may have waited for.
	err = t.pgtx.QueryRow(ctx, `SELECT state FROM sync_states
		WHERE device_id = $1 AND collection_id = $2 AND sync_key = $3`,
		t.deviceID, t.collectionID, t.clientKey).Scan(&t.state)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("state of key %q missing", t.clientKey)
	}
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	return nil
}

// openInitial makes sure the collection row exists and locks it. iOS sends
// two key-0 Syncs for one folder in parallel: the insert of the second waits
// for the first transaction and then finds the row.
func (t *Tx) openInitial(ctx context.Context) error {
	t.status = KeyInitial
	// A concurrent Reset may delete the row between insert and lock: retry.
	for range 3 {
		if _, err := t.pgtx.Exec(ctx, `INSERT INTO sync_collections (device_id, collection_id)
			VALUES ($1, $2) ON CONFLICT DO NOTHING`, t.deviceID, t.collectionID); err != nil {
			return LockError("create collection state", err)
		}
		found, err := t.lockRow(ctx)
		if err != nil || found {
			return err
		}
	}
	return errors.New("collection state deleted repeatedly while starting")
}

// SetLockTimeout bounds how long the statements of transaction tx wait for
// a row lock, such as that of a collection row another request holds.
func SetLockTimeout(ctx context.Context, tx pgx.Tx, d time.Duration) error {
	ms := strconv.FormatInt(d.Milliseconds(), 10)
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, ms); err != nil {
		return fmt.Errorf("set lock timeout: %w", err)
	}
	return nil
}

// lockRow locks the collection row and loads its key columns.
func (t *Tx) lockRow(ctx context.Context) (bool, error) {
	err := t.pgtx.QueryRow(ctx, `SELECT generation, counter, cur_key, prev_key, cur_initial
		FROM sync_collections WHERE device_id = $1 AND collection_id = $2 FOR UPDATE`,
		t.deviceID, t.collectionID).Scan(&t.generation, &t.counter, &t.curKey, &t.prevKey, &t.curInitial)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, LockError("lock collection state", err)
	}
	return true, nil
}

// lockError turns PostgreSQL's lock timeout into ErrBusy.
func LockError(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available
		return fmt.Errorf("%s: %w: %w", what, ErrBusy, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
