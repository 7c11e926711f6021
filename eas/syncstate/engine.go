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
// of the client's key: one round trip for a known key, the statements
// pipelined in a batch. The state is read by a statement of its own after
// the lock, so that under READ COMMITTED it sees the state rows committed
// by the request we may have waited for.
func (t *Tx) open(ctx context.Context, lockWait time.Duration) error {
	if t.clientKey == InitialKey {
		if err := SetLockTimeout(ctx, t.pgtx, lockWait); err != nil {
			return err
		}
		return t.openInitial(ctx)
	}
	if _, ok := parseKey(t.clientKey); !ok {
		t.status = KeyUnknown
		return SetLockTimeout(ctx, t.pgtx, lockWait)
	}
	b := &pgx.Batch{}
	b.Queue(setLockTimeout, strconv.FormatInt(lockWait.Milliseconds(), 10))
	b.Queue(lockCollection, t.deviceID, t.collectionID)
	b.Queue(`SELECT state FROM sync_states WHERE device_id = $1 AND collection_id = $2 AND sync_key = $3`,
		t.deviceID, t.collectionID, t.clientKey)
	res := t.pgtx.SendBatch(ctx, b)
	defer res.Close()
	if _, err := res.Exec(); err != nil {
		return fmt.Errorf("set lock timeout: %w", err)
	}
	found, err := t.scanLock(res.QueryRow())
	if err != nil || !found {
		return err
	}
	var state []byte
	err = res.QueryRow().Scan(&state)
	switch t.clientKey {
	case t.curKey:
		t.status = KeyCurrent
	case t.prevKey:
		t.status = KeyPrevious
	default:
		return nil // a key no longer valid: no state to read
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("state of key %q missing", t.clientKey)
	}
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	t.state = state
	return res.Close()
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

const (
	setLockTimeout = `SELECT set_config('lock_timeout', $1, true)`
	lockCollection = `SELECT generation, counter, cur_key, prev_key, cur_initial
		FROM sync_collections WHERE device_id = $1 AND collection_id = $2 FOR UPDATE`
)

// SetLockTimeout bounds how long the statements of transaction tx wait for
// a row lock, such as that of a collection row another request holds.
func SetLockTimeout(ctx context.Context, tx pgx.Tx, d time.Duration) error {
	if _, err := tx.Exec(ctx, setLockTimeout, strconv.FormatInt(d.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("set lock timeout: %w", err)
	}
	return nil
}

// lockRow locks the collection row and loads its key columns.
func (t *Tx) lockRow(ctx context.Context) (bool, error) {
	return t.scanLock(t.pgtx.QueryRow(ctx, lockCollection, t.deviceID, t.collectionID))
}

// scanLock reads the answer of lockCollection; false when there is no row.
func (t *Tx) scanLock(row pgx.Row) (bool, error) {
	err := row.Scan(&t.generation, &t.counter, &t.curKey, &t.prevKey, &t.curInitial)
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
