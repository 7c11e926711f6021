package eas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/pgnotify"
)

// syncRequest is what a Sync asks for once completed from the device's
// cache: the collections with their keys, the request-wide window and the
// hanging-Sync wait (0: answer at once).
type syncRequest struct {
	cols   []message.SyncCollection
	window int
	wait   time.Duration
	noKey  map[string]bool // cached collections the device holds no key for any more
}

// cachedSync is a device's last Sync request as stored in sync_requests.
type cachedSync struct {
	cols      []message.SyncCollection
	window    int
	heartbeat time.Duration
}

// resolveSync turns a decoded request into the one to run (MS-ASCMD
// 2.2.1.21.1, 2.2.3.131):
//
//   - a full request is run as it is, and cached;
//   - an empty one (no body, or no collections and no Partial) repeats the
//     cached request: same collections, options, window and wait;
//   - a Partial one replaces the cached collections it names (by
//     CollectionId) and keeps the others; Wait, HeartbeatInterval and
//     WindowSize it leaves out keep their cached values.
//
// Collections taken from the cache run with the key the device holds now:
// the client answered by an empty Sync has received every key since the
// cached request, and the spec's "same synchronization key" can only mean
// the one it holds, not the one it sent before the last answer.
//
// Status 13 when the request needs a cache and none is stored.
//
// announce says that the request is still to end the device's waiting
// requests (announceDone), in the statement that caches it. Only a full
// request is announced so: firstSync gives any other (an empty or
// Partial Sync, which may take a wait from the cache) announceRequest.
func (k *call) resolveSync(req message.SyncRequest, emptyBody, announce bool) (syncRequest, Status, error) {
	ctx := k.ctx()
	full := syncRequest{window: req.WindowSize, wait: requestedWait(req)}
	if req.Collections != nil {
		full.cols = req.Collections.Collection
	}
	empty := emptyBody || (!req.Partial && len(full.cols) == 0)
	if !empty && !req.Partial {
		k.beside(func() { k.writeSyncRequest(ctx, full, announce) })
		return full, 0, nil
	}
	cached, ok, err := k.s.loadSyncRequest(ctx, k.dev.ID)
	if err != nil {
		return syncRequest{}, 0, err
	}
	if !ok {
		if empty || len(full.cols) == 0 {
			return syncRequest{}, syncEmptyNotCached, nil
		}
		// Partial, but nothing to complete it with: what it names is all.
		k.saveSyncRequest(ctx, full)
		return full, 0, nil
	}
	keys, err := k.s.sync.Collections(ctx, k.dev.ID)
	if err != nil {
		return syncRequest{}, 0, err
	}
	current := make(map[string]string, len(keys))
	for _, c := range keys {
		current[c.ID] = c.Key
	}
	out := syncRequest{window: cached.window, wait: cached.heartbeat, noKey: map[string]bool{}}
	named := map[string]int{} // CollectionId -> index in full.cols
	for i, c := range full.cols {
		named[c.CollectionID] = i
	}
	for _, c := range cached.cols {
		if i, ok := named[c.CollectionID]; ok && !empty {
			out.cols = append(out.cols, full.cols[i])
			delete(named, c.CollectionID)
			continue
		}
		c.SyncKey = current[c.CollectionID]
		if c.SyncKey == "" {
			out.noKey[c.CollectionID] = true
		}
		out.cols = append(out.cols, c)
	}
	if empty {
		return out, 0, nil
	}
	for _, c := range full.cols { // named by the Partial request, not cached
		if _, ok := named[c.CollectionID]; ok {
			out.cols = append(out.cols, c)
		}
	}
	if full.window > 0 {
		out.window = full.window
	}
	if full.wait > 0 {
		out.wait = full.wait
	}
	k.saveSyncRequest(ctx, out)
	return out, 0, nil
}

// requestedWait is the hanging-Sync wait a request asks for.
func requestedWait(req message.SyncRequest) time.Duration {
	if req.HeartbeatInterval > 0 {
		return time.Duration(req.HeartbeatInterval) * time.Second
	}
	return time.Duration(req.Wait) * time.Minute
}

// cachedCollection is a collection as cached: its id and options, without
// its key (see resolveSync) and without the client's commands, which
// belong to one request only.
func cachedCollection(c message.SyncCollection) message.SyncCollection {
	c.SyncKey, c.Commands, c.Supported = "", nil, nil
	return c
}

// saveSyncRequest caches the request for the device's next empty or
// Partial Sync, beside the Sync's own work: the answer waits for it
// (settle), so an empty Sync sent after it finds it. A device repeats the
// same request most of the time: the row is rewritten only when it
// differs, so that repeating costs no dead tuple. A failure costs the
// client a Status 13 on that Sync and a full request after it, so it is
// logged, not answered.
func (k *call) saveSyncRequest(ctx context.Context, r syncRequest) {
	k.beside(func() { k.writeSyncRequest(ctx, r, false) })
}

// writeSyncRequest caches r (see saveSyncRequest). With announce it also
// ends the device's waiting requests, as announceDone does: one round trip
// instead of two for the common Sync, a full request that does not wait.
func (k *call) writeSyncRequest(ctx context.Context, r syncRequest, announce bool) {
	cols := make([]message.SyncCollection, len(r.cols))
	for i, c := range r.cols {
		cols[i] = cachedCollection(c)
	}
	b, err := json.Marshal(cols)
	var prefix string
	if err == nil {
		prefix, err = pgnotify.Prefix(deviceTopic(k.dev.ID))
	}
	if err == nil {
		// Update first, insert only when there is no row: ON CONFLICT DO
		// UPDATE locks the existing row even when its WHERE is false, which
		// makes every repeated request a write transaction (a tuple lock,
		// a transaction id, a commit record). A plain UPDATE whose WHERE is
		// false neither locks nor writes. The ON CONFLICT is for the
		// first request of a device racing another one.
		// A data-modifying WITH runs to completion, RETURNING included,
		// whether or not the statement reads it.
		_, err = k.s.opts.Pool.Exec(ctx, cacheSyncRequestSQL,
			k.dev.ID, b, r.window, seconds(r.wait), announce, pgnotify.Channel, prefix)
	}
	if err != nil {
		k.log.Warn("sync: could not cache the request (nor end a waiting Ping)", "err", err)
	}
}

// loadSyncRequest reads the device's cached Sync request; ok is false when
// there is none.
func (s *Server) loadSyncRequest(ctx context.Context, deviceID int64) (c cachedSync, ok bool, err error) {
	var b []byte
	var hb int
	err = s.opts.Pool.QueryRow(ctx, `SELECT collections, window_size, heartbeat_seconds
		FROM sync_requests WHERE device_id = $1`, deviceID).Scan(&b, &c.window, &hb)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("sync: read cached request: %w", err)
	}
	if err := json.Unmarshal(b, &c.cols); err != nil {
		return c, false, fmt.Errorf("sync: cached request: %w", err)
	}
	c.heartbeat = time.Duration(hb) * time.Second
	return c, len(c.cols) > 0, nil
}

// cacheSyncRequestSQL is writeSyncRequest's statement, built once.
var cacheSyncRequestSQL = `WITH ended AS (` + endWaitingSQL("$1", "$5", "$6", "$7") + `),
	u AS (
		UPDATE sync_requests SET collections = $2, window_size = $3, heartbeat_seconds = $4, updated_at = now()
		WHERE device_id = $1 AND (collections, window_size, heartbeat_seconds)
			IS DISTINCT FROM ($2::jsonb, $3::integer, $4::integer))
	INSERT INTO sync_requests (device_id, collections, window_size, heartbeat_seconds)
	SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT FROM sync_requests WHERE device_id = $1)
	ON CONFLICT (device_id) DO UPDATE SET collections = $2, window_size = $3,
		heartbeat_seconds = $4, updated_at = now()
	WHERE (sync_requests.collections, sync_requests.window_size, sync_requests.heartbeat_seconds)
		IS DISTINCT FROM ($2::jsonb, $3::integer, $4::integer)`
