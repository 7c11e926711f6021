package syncstate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// KeyStatus classifies the SyncKey a client sent.
type KeyStatus int

// The key classes. A handler answers KeyUnknown with Status 3 (Sync) or 9
// (FolderSync) and changes nothing.
const (
	KeyUnknown  KeyStatus = iota // neither current nor previous, or malformed
	KeyInitial                   // "0": start over from an empty state
	KeyCurrent                   // the key of the last response
	KeyPrevious                  // the key before it: the last response was lost
)

func (s KeyStatus) String() string {
	switch s {
	case KeyUnknown:
		return "unknown"
	case KeyInitial:
		return "initial"
	case KeyCurrent:
		return "current"
	case KeyPrevious:
		return "previous"
	}
	return fmt.Sprintf("KeyStatus(%d)", int(s))
}

// ClientAdd is the answer given to a client Add: the ServerId created and
// the store's version of the item as the client sent it.
type ClientAdd struct {
	ServerID string
	Version  string
}

// Tx is one request's view of a collection's sync state, inside a
// PostgreSQL transaction that also carries the handler's own writes.
// A Tx is used by one goroutine.
type Tx struct {
	pgtx         pgx.Tx
	deviceID     int64
	collectionID string
	clientKey    string
	status       KeyStatus
	state        []byte

	// the locked collection row
	generation string
	counter    int64
	curKey     string
	prevKey    string
	curInitial bool

	adds       map[string]ClientAdd // recorded for clientKey, loaded lazily
	addsLoaded bool
	newAdds    map[string]ClientAdd // recorded in this request, written by Commit
	done       bool
}

// KeyStatus says how the client's key relates to the stored state.
func (t *Tx) KeyStatus() KeyStatus { return t.status }

// ClientKey is the SyncKey the request carried.
func (t *Tx) ClientKey() string { return t.clientKey }

// State is the opaque store state of the client's key, the base to compute
// changes against: empty for KeyInitial and KeyUnknown. For the common
// shape decode it with DecodeItems.
func (t *Tx) State() []byte { return t.state }

// PGTx is the underlying transaction, for the handler's own reads and
// writes: they commit or roll back together with the sync state.
func (t *Tx) PGTx() pgx.Tx { return t.pgtx }

// LookupClientAdd returns the answer recorded for clientID in an earlier
// request with the same key, that is, in the request whose response was
// lost. ClientIds are unique only within one request (some clients count
// from 1 in every request), so only the client's own key is consulted.
func (t *Tx) LookupClientAdd(ctx context.Context, clientID string) (ClientAdd, bool, error) {
	if t.done {
		return ClientAdd{}, false, ErrTxDone
	}
	if a, ok := t.newAdds[clientID]; ok {
		return a, true, nil
	}
	if t.status != KeyCurrent && t.status != KeyPrevious {
		return ClientAdd{}, false, nil
	}
	if !t.addsLoaded {
		if err := t.loadAdds(ctx); err != nil {
			return ClientAdd{}, false, err
		}
	}
	a, ok := t.adds[clientID]
	return a, ok, nil
}

func (t *Tx) loadAdds(ctx context.Context) error {
	rows, err := t.pgtx.Query(ctx, `SELECT client_id, server_id, version FROM sync_client_adds
		WHERE device_id = $1 AND collection_id = $2 AND sync_key = $3`,
		t.deviceID, t.collectionID, t.clientKey)
	if err != nil {
		return fmt.Errorf("syncstate: load client adds: %w", err)
	}
	defer rows.Close()
	t.adds = map[string]ClientAdd{}
	for rows.Next() {
		var id string
		var a ClientAdd
		if err := rows.Scan(&id, &a.ServerID, &a.Version); err != nil {
			return fmt.Errorf("syncstate: load client adds: %w", err)
		}
		t.adds[id] = a
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("syncstate: load client adds: %w", err)
	}
	t.addsLoaded = true
	return nil
}

// RecordClientAdd remembers the answer to a client Add under the client's
// key; Commit writes it. Only requests with a current or previous key can
// carry client commands.
func (t *Tx) RecordClientAdd(clientID string, add ClientAdd) error {
	if t.done {
		return ErrTxDone
	}
	if t.status != KeyCurrent && t.status != KeyPrevious {
		return fmt.Errorf("syncstate: client add %q with a %s key", clientID, t.status)
	}
	if t.newAdds == nil {
		t.newAdds = map[string]ClientAdd{}
	}
	t.newAdds[clientID] = add
	return nil
}

// Commit stores newState as the state of a new key and commits the
// transaction, with the handler's writes. It returns the key to send to the
// client. After a KeyCurrent request the client's key becomes the previous
// key; after a KeyPrevious request (a replay) the previous key stays and the
// lost response's key is dropped; after KeyInitial a new generation starts
// and older keys become unknown, except the key of a parallel key-0 request
// that the client may still use.
func (t *Tx) Commit(ctx context.Context, newState []byte) (string, error) {
	if t.done {
		return "", ErrTxDone
	}
	if t.status == KeyUnknown {
		return "", ErrUnknownKey
	}
	newKey, prevKey, err := t.nextKeys()
	if err != nil {
		return "", err
	}
	if newState == nil {
		newState = []byte{} // the column is NOT NULL; nil would be sent as NULL
	}
	if err := t.writeKeys(ctx, newKey, prevKey, newState); err != nil {
		return "", fmt.Errorf("syncstate: commit device %d collection %q: %w", t.deviceID, t.collectionID, err)
	}
	t.done = true
	if err := t.pgtx.Commit(ctx); err != nil {
		return "", fmt.Errorf("syncstate: commit device %d collection %q: %w", t.deviceID, t.collectionID, err)
	}
	return newKey, nil
}

// nextKeys returns the key to hand out and the key that stays valid as
// previous key ("" for none).
func (t *Tx) nextKeys() (newKey, prevKey string, err error) {
	gen, counter := t.generation, t.counter+1
	switch t.status {
	case KeyInitial:
		if gen, err = newGeneration(); err != nil {
			return "", "", err
		}
		counter = 1
		if t.curInitial {
			prevKey = t.curKey
		}
	case KeyCurrent:
		prevKey = t.curKey
	case KeyPrevious:
		prevKey = t.prevKey
	}
	return key{generation: gen, counter: counter}.String(), prevKey, nil
}

// writeKeys stores the new state, moves the keys and prunes every state
// (and with it every ClientId record) of a key that is no longer valid, in
// one round trip.
func (t *Tx) writeKeys(ctx context.Context, newKey, prevKey string, newState []byte) error {
	k, _ := parseKey(newKey)
	b := &pgx.Batch{}
	// updated_at is the clock now, not at the transaction's start: the
	// request read what it sends before this, and a waiting Ping tells
	// by it whether the device has seen a hierarchy change (WrittenAt).
	upd := b.Queue(`UPDATE sync_collections SET generation = $3, counter = $4, cur_key = $5,
		prev_key = $6, cur_initial = $7, updated_at = clock_timestamp()
		WHERE device_id = $1 AND collection_id = $2`,
		t.deviceID, t.collectionID, k.generation, k.counter, newKey, prevKey, t.status == KeyInitial)
	b.Queue(`INSERT INTO sync_states (device_id, collection_id, sync_key, state) VALUES ($1, $2, $3, $4)`,
		t.deviceID, t.collectionID, newKey, newState)
	if len(t.newAdds) > 0 {
		ids := make([]string, 0, len(t.newAdds))
		sids := make([]string, 0, len(t.newAdds))
		vers := make([]string, 0, len(t.newAdds))
		for id, a := range t.newAdds {
			ids, sids, vers = append(ids, id), append(sids, a.ServerID), append(vers, a.Version)
		}
		b.Queue(`INSERT INTO sync_client_adds (device_id, collection_id, sync_key, client_id, server_id, version)
			SELECT $1, $2, $3, c, s, v FROM unnest($4::text[], $5::text[], $6::text[]) AS u(c, s, v)
			ON CONFLICT (device_id, collection_id, sync_key, client_id)
			DO UPDATE SET server_id = EXCLUDED.server_id, version = EXCLUDED.version`,
			t.deviceID, t.collectionID, t.clientKey, ids, sids, vers)
	}
	b.Queue(`DELETE FROM sync_states WHERE device_id = $1 AND collection_id = $2
		AND sync_key <> ALL($3::text[])`, t.deviceID, t.collectionID, []string{newKey, prevKey})
	upd.Exec(func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() != 1 {
			return ErrStateGone
		}
		return nil
	})
	return t.pgtx.SendBatch(ctx, b).Close()
}

// Rollback abandons the request: neither the sync state nor the handler's
// writes change. It is safe to call after Commit (for use with defer).
func (t *Tx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	if err := t.pgtx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("syncstate: rollback device %d collection %q: %w", t.deviceID, t.collectionID, err)
	}
	return nil
}
