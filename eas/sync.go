package eas

import (
	"context"
	"errors"
	"fmt"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

func init() {
	addCommand("Sync", &commandSpec{root: "AirSync:Sync", run: syncCmd})
}

// Sync statuses (MS-ASCMD 2.2.3.177.17).
const (
	syncOK               Status = 1
	syncBadKey           Status = 3
	syncProtocolError    Status = 4
	syncServerError      Status = 5
	syncConversionError  Status = 6
	syncObjectNotFound   Status = 8
	syncHierarchyChanged Status = 12
	syncEmptyNotCached   Status = 13
	syncWaitOutOfRange   Status = 14
	syncRetry            Status = 16
)

// Bounds of a Sync request (MS-ASCMD 2.2.3.199, 2.2.3.198, 2.2.3.88.2).
const (
	defaultSyncWindow   = 100
	maxSyncWindow       = 512
	minWaitMinutes      = 1
	maxWaitMinutes      = 59
	minHeartbeatSeconds = 60
	maxHeartbeatSeconds = 3540
)

// syncCmd answers a Sync (MS-ASCMD 2.2.1.21): for each collection, apply
// the client's commands, then send the server's changes since its key.
// Each collection succeeds or fails on its own; one failing never fails
// the others.
//
// Mail collections (sync_mail.go), the choices a client would notice:
//
//   - State per (device, folder): the mailbox's UIDVALIDITY, UIDNEXT,
//     MESSAGES and HIGHESTMODSEQ at the last listing, the FilterType
//     window, whether MoreAvailable is pending, and UID -> flags version
//     of every message the client holds (sync_mailstate.go). A Sync that
//     sends nothing, carries no commands and has nothing pending costs the
//     head of its state (no transaction, no items read) and one STATUS,
//     which quiet Syncs of the same mailbox asking at once share when it
//     was sent after they began (sync_mailstatus.go); it keeps its key and
//     writes nothing.
//   - Adds go newest first (UID descending); only the messages of the
//     window are fetched and converted. Deletes and flag changes go before
//     adds. A message that left the FilterType window is a SoftDelete.
//   - Client Read/Flag/Categories are applied with STORE +FLAGS/-FLAGS,
//     which merges with concurrent changes; when the message changed on
//     the server meanwhile, the merged result goes back as a Change.
//     A flag's dates and completion, which IMAP cannot hold, are kept in
//     PostgreSQL (sync_mailflags.go).
//   - The windows of an initial sync after the first come from a queue in
//     the state while the mailbox is unchanged; a stream on a connection
//     of its own fetches them a few windows ahead of the client
//     (sync_prefetch.go).
//   - Client Delete: moved to Deleted Items unless DeletesAsMoves is 0 or
//     the folder is Deleted Items; then \Deleted and UID EXPUNGE.
//   - A changed UIDVALIDITY answers Status 3: the client's UIDs name other
//     messages. A mailbox gone answers 12 (FolderSync first); a \Noselect
//     container reads as an empty folder. Mail server failures answer 16
//     (retry) and leave the state as it was.
//   - Folders no store keeps (the Outbox, a class without a store) read
//     as empty; client commands there are refused item by item.
//
// Contacts (and the other PostgreSQL classes) go through their
// model.ItemStore: sync_items.go. Which class serves a folder is decided
// in one place, collection.go.
//
// Empty, Partial and hanging Sync (sync_cache.go, sync_wait.go): each
// request's collections and options are cached in PostgreSQL, so an
// empty or Partial Sync is completed on any instance; a request with Wait
// or HeartbeatInterval that finds nothing to send waits as a Ping does.
func syncCmd(k *call) error {
	w := &pingWait{k: k}
	defer w.close()
	sc, sr, err := firstSync(k, w)
	if sc == nil {
		return err
	}
	// The wait runs from this shallow frame: the stack of a hanging Sync
	// then shrinks to its minimum at the next collections, as a Ping's
	// does (a goroutine's stack stays as large as its deepest use until
	// less than a quarter of it is in use).
	return sc.hang(sr, w)
}

// firstSync decodes and runs a Sync once and answers it, unless it is a
// hanging Sync that found nothing: then it returns the run to hang.
func firstSync(k *call, w *pingWait) (*syncRun, syncRequest, error) {
	// A hanging Sync ends when a newer request of the device arrives:
	// subscribe to the device's announcements before making our own, so
	// that one arriving from now on always reaches us (as Ping does).
	if hub := k.s.opts.Push.Hub; hub != nil {
		w.device = hub.Subscribe(deviceTopic(k.dev.ID))
	}
	defer k.settle()
	var req message.SyncRequest
	empty, err := k.decode(&req)
	// A Sync from the device ends its waiting Ping, on any instance. The
	// announcement runs beside the Sync's own work (it is one statement
	// on a connection of its own); its generation is needed only to wait.
	// A Sync that may wait (it asks to, or takes its wait from the cache)
	// announces as a Ping does; one that will not costs no write and no
	// NOTIFY unless a request of the device may be waiting (announceDone).
	ann := announcement{waits: err == nil && mayWait(req, empty)}
	switch {
	case ann.waits:
		k.beside(func() { ann.gen, _, ann.err = k.s.announceRequest(k.ctx(), k.dev.ID) })
	case err != nil:
		k.beside(func() { ann.err = k.s.announceDone(k.ctx(), k.dev.ID) })
	}
	// Otherwise resolveSync announces it: a full request is cached, in the
	// same statement (writeSyncRequest).
	if err != nil {
		return nil, syncRequest{}, err
	}
	if req.Wait != 0 && req.HeartbeatInterval != 0 {
		// Either one, never both (MS-ASCMD 2.2.3.198).
		return nil, syncRequest{}, k.respond(&message.SyncResponse{Status: int(syncProtocolError)})
	}
	if limit, bad := k.waitOutOfRange(req); bad {
		return nil, syncRequest{}, k.respond(&message.SyncResponse{Status: int(syncWaitOutOfRange), Limit: limit})
	}
	sr, status, err := k.resolveSync(req, empty, !ann.waits)
	if err != nil {
		return nil, syncRequest{}, fmt.Errorf("sync: %w", err)
	}
	if status != 0 {
		return nil, syncRequest{}, k.respond(&message.SyncResponse{Status: int(status)})
	}
	list, err := k.s.folders.List(k.ctx(), k.dev.UserID)
	if err != nil {
		return nil, syncRequest{}, fmt.Errorf("sync: folders: %w", err)
	}
	sc := &syncRun{k: k, conn: mailConn{k: k}, byID: folders.ByID(list), trash: folders.Trash(list), noKey: sr.noKey}
	// No mail session is held past this run, waiting or not.
	defer sc.conn.drop()

	resp := sc.run(sr)
	k.settle()
	ann.record(k, w)
	if sr.wait > 0 && ann.waits && quietSync(sr.cols, resp) {
		return sc, sr, nil
	}
	return nil, syncRequest{}, k.respond(resp)
}

// announcement is the outcome of announcing a request (announceRequest,
// or announceDone when it will not wait).
type announcement struct {
	waits bool
	gen   int64
	err   error
}

// mayWait tells whether a Sync may hang: it asks for a wait, or it may take
// one from the cached request (an empty or Partial Sync, resolveSync).
func mayWait(req message.SyncRequest, empty bool) bool {
	return empty || req.Partial || req.Wait != 0 || req.HeartbeatInterval != 0 ||
		req.Collections == nil || len(req.Collections.Collection) == 0
}

// record keeps the request's generation in w, which a hanging Sync waits
// with.
func (a announcement) record(k *call, w *pingWait) {
	if a.err != nil {
		k.log.Warn("sync: could not end a waiting Ping", "err", a.err)
		// Without our own generation every announcement would look newer.
		if w.device != nil {
			w.device.Close()
			w.device = nil
		}
	}
	w.gen = a.gen
}

// run answers every collection of the request once.
func (sc *syncRun) run(sr syncRequest) *message.SyncResponse {
	sc.budget = -1
	if sr.window > 0 {
		sc.budget = sr.window
	}
	resp := &message.SyncResponse{Collections: &message.SyncResponseCollections{}}
	for _, col := range sr.cols {
		rc := sc.collection(col)
		resp.Collections.Collection = append(resp.Collections.Collection, rc)
	}
	return resp
}

// waitOutOfRange checks the hanging-Sync parameters: Wait in minutes
// (1-59), HeartbeatInterval in seconds (the configured heartbeat bounds,
// by default 60-3540 as for Ping). Out of range, the answer is Status 14
// with the bound that was crossed as Limit.
func (k *call) waitOutOfRange(req message.SyncRequest) (limit int, bad bool) {
	hbMin, hbMax := minHeartbeatSeconds, maxHeartbeatSeconds
	if l := k.s.opts.Limits; l.HeartbeatMin > 0 {
		hbMin = seconds(l.HeartbeatMin)
	}
	if l := k.s.opts.Limits; l.HeartbeatMax > 0 {
		hbMax = seconds(l.HeartbeatMax)
	}
	switch {
	case req.Wait != 0 && req.Wait < minWaitMinutes:
		return minWaitMinutes, true
	case req.Wait > maxWaitMinutes:
		return maxWaitMinutes, true
	case req.HeartbeatInterval != 0 && req.HeartbeatInterval < hbMin:
		return hbMin, true
	case req.HeartbeatInterval > hbMax:
		return hbMax, true
	}
	return 0, false
}

// syncRun is one Sync request across its collections: the folders, the
// mail session (opened on first use, reopened after a failure), and the
// request-wide window budget (12.1+ Sync-level WindowSize).
type syncRun struct {
	k      *call
	byID   map[string]folders.Folder
	trash  folders.Folder // Deleted Items; no IMAPName when there is none
	conn   mailConn
	budget int // changes left for the request; -1: no request-wide limit
	// noKey: collections of a cached request (empty or Partial Sync) whose
	// state is gone since; the client must start them over.
	noKey map[string]bool
}

// windowSize is the collection's WindowSize within the server's limit.
func (sc *syncRun) windowSize(col message.SyncCollection) int {
	w := col.WindowSize
	if w <= 0 {
		w = defaultSyncWindow
	}
	limit := sc.k.s.opts.Limits.MaxWindowSize
	if limit <= 0 || limit > maxSyncWindow {
		limit = maxSyncWindow
	}
	return min(w, limit)
}

// window is the number of server changes a collection may carry.
func (sc *syncRun) window(col message.SyncCollection) int {
	w := sc.windowSize(col)
	if sc.budget >= 0 {
		// Once the request's budget is spent, further collections send
		// nothing and say MoreAvailable.
		w = min(w, sc.budget)
	}
	return w
}

// spend takes n changes off the request-wide budget.
func (sc *syncRun) spend(n int) {
	if sc.budget >= 0 {
		sc.budget = max(sc.budget-n, 0)
	}
}

// collection answers one collection of the request.
func (sc *syncRun) collection(col message.SyncCollection) message.SyncResponseCollection {
	k := sc.k
	rc := message.SyncResponseCollection{SyncKey: col.SyncKey, CollectionID: col.CollectionID}
	if k.version < 140 {
		rc.Class = col.Class
	}
	if sc.noKey[col.CollectionID] {
		rc.SyncKey, rc.Status = "0", int(syncBadKey)
		return rc
	}
	if col.SyncKey == "" || col.CollectionID == "" {
		rc.Status = int(syncProtocolError)
		return rc
	}
	f, ok := sc.byID[col.CollectionID]
	if !ok {
		rc.Status = int(syncObjectNotFound)
		k.collectionFailed(col.CollectionID, syncObjectNotFound, errNoCollection)
		return rc
	}
	if k.version < 140 && rc.Class == "" {
		rc.Class = string(f.Type.Class())
	}
	if err := k.s.classOf(f).sync(sc, col, f, &rc); err != nil {
		rc.Status = int(sc.statusFor(err))
		rc.SyncKey = col.SyncKey
		rc.MoreAvailable, rc.Commands, rc.Responses = false, nil, nil
		k.log.Warn("sync collection failed", "collection", col.CollectionID, "status", rc.Status, "err", err)
		k.collectionFailed(col.CollectionID, Status(rc.Status), err)
	}
	return rc
}

// statusFor maps a failure of one collection to its Sync status.
func (sc *syncRun) statusFor(err error) Status {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return se.Status
	case errors.Is(err, syncstate.ErrBusy):
		return syncRetry
	case errors.Is(err, model.ErrMailboxGone):
		return syncHierarchyChanged
	case errors.Is(err, errMailStore):
		return syncRetry
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syncRetry
	}
	return syncServerError
}

// errMailStore marks failures of the mail server (connection refused or
// dropped, NO or BAD): transient, the client retries.
var errMailStore = errors.New("mail server failure")

func mailErr(err error) error {
	if err == nil || errors.Is(err, model.ErrMailboxGone) {
		return err
	}
	return fmt.Errorf("%w: %w", errMailStore, err)
}

// empty answers a collection whose folder holds no items: the Outbox,
// a class without a store, a mail folder that cannot be opened. Keys
// advance as usual so the client's state machine is satisfied; its Adds,
// Changes and Deletes are refused item by item (Status 6 for an Add or
// Change, 8 for a Delete: there is no such item), logged, and never
// answered as done, because nothing was kept. Android's Outbox Sync lands
// here too.
func (sc *syncRun) empty(col message.SyncCollection, f folders.Folder, rc *message.SyncResponseCollection) error {
	ctx := sc.k.ctx()
	tx, err := sc.k.s.sync.Begin(ctx, sc.k.dev.ID, col.CollectionID, col.SyncKey)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if tx.KeyStatus() == syncstate.KeyUnknown {
		return &StatusError{Status: syncBadKey, Err: fmt.Errorf("unknown key %q", col.SyncKey)}
	}
	refused := sc.refuseCommands(col, f)
	if tx.KeyStatus() == syncstate.KeyCurrent && refused == nil {
		// Nothing can have changed: the key stays.
		rc.Status = int(syncOK)
		return nil
	}
	key, err := tx.Commit(ctx, nil)
	if err != nil {
		return err
	}
	rc.SyncKey, rc.Status, rc.Responses = key, int(syncOK), refused
	return nil
}

// refuseCommands answers the client commands of a collection that keeps
// no items; nil when there were none.
func (sc *syncRun) refuseCommands(col message.SyncCollection, f folders.Folder) *message.SyncResponses {
	c := col.Commands
	if c == nil || len(c.Add)+len(c.Change)+len(c.Delete)+len(c.Fetch) == 0 {
		return nil
	}
	r := &message.SyncResponses{}
	for _, a := range c.Add {
		r.Add = append(r.Add, message.SyncResponseAdd{ClientID: a.ClientID, Status: int(syncConversionError)})
	}
	for _, ch := range c.Change {
		r.Change = append(r.Change, message.SyncResponseChange{ServerID: ch.ServerID, Status: int(syncConversionError)})
	}
	for _, d := range c.Delete {
		r.Delete = append(r.Delete, message.SyncResponseDelete{ServerID: d.ServerID, Status: int(syncObjectNotFound)})
	}
	for _, fe := range c.Fetch {
		r.Fetch = append(r.Fetch, message.SyncResponseFetch{ServerID: fe.ServerID, Status: int(syncObjectNotFound)})
	}
	sc.k.log.Warn("sync: client commands refused, this folder keeps no items",
		"collection", col.CollectionID, "class", string(f.Type.Class()),
		"adds", len(c.Add), "changes", len(c.Change), "deletes", len(c.Delete))
	return r
}
