package eas

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/wbxml"
)

// Collections of the classes kept in PostgreSQL (contacts; calendar,
// tasks and notes after them) all sync the same way, through their
// model.ItemStore:
//
//   - State per (device, folder): the folder's CTag when the state was
//     computed, whether MoreAvailable is pending, the elements the client
//     declared in Supported (ghosting), and ServerId -> version of every
//     item the client holds.
//   - A Sync that carries no commands and has nothing pending reads the
//     CTag, one primary-key read; when it is the state's, the answer is
//     Status 1 with the key kept, and no item is read.
//   - Client Adds, Changes and Deletes are written in the transaction
//     that commits the new key (Tx.PGTx), each in a savepoint of its own:
//     an item the store refuses (Status 6) leaves nothing behind while
//     the others are kept. A crash before the commit keeps none of them
//     and the client, which got no answer, sends them again; an Add
//     re-sent with the key of a lost answer is found by its ClientId.
//   - Conflicts follow the collection's Conflict option: the server wins
//     by default (a Change to an item that changed since the client's
//     key is not applied and the server's copy goes back as a Change);
//     with Conflict 0 the client's Change is applied.
func (sc *syncRun) items(store model.ItemStore, col message.SyncCollection, f folders.Folder, rc *message.SyncResponseCollection) error {
	k := sc.k
	ctx := k.ctx()
	peeked, quiet, err := sc.itemsQuiet(store, col, f)
	if err != nil || quiet {
		if quiet {
			rc.Status = int(syncOK)
		}
		return err
	}
	tx, err := k.s.sync.Begin(ctx, k.dev.ID, col.CollectionID, col.SyncKey)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	switch tx.KeyStatus() {
	case syncstate.KeyUnknown:
		return &StatusError{Status: syncBadKey, Err: fmt.Errorf("unknown key %q", col.SyncKey)}
	case syncstate.KeyInitial:
		// Key 0 creates the partnership and records what the client
		// declared in Supported; the items come with the next request.
		st := itemState{supported: supportedNames(col.Supported), items: syncstate.Items{}}
		key, err := tx.Commit(ctx, st.encode())
		if err != nil {
			return err
		}
		rc.SyncKey, rc.Status = key, int(syncOK)
		return nil
	}
	st, err := decodeItemState(tx.State())
	if err != nil {
		return &StatusError{Status: syncBadKey, Err: err}
	}
	if col.Supported != nil {
		// Supported belongs to the key-0 request; one sent later replaces
		// the declared list, as the client apparently changed its mind.
		st.supported = supportedNames(col.Supported)
	}
	is := &itemSync{sc: sc, store: store, col: col, f: f, rc: rc, tx: tx, db: tx.PGTx(), st: st, peeked: peeked}
	is.reads = &queryCounter{DB: is.db}
	is.opts = sc.itemOptions(col, f, st.supported)
	return is.run()
}

// itemsQuiet answers a Sync of a store collection that carries nothing
// and finds nothing changed, from the head of the device's state (CTag,
// window, pending) and the folder's CTag: two statements, no transaction,
// no item and no whole state read. Whatever it cannot decide this way
// goes the full way, which checks the same under the collection's lock.
//
// A CTag it read and found changed is returned (peeked): the full way,
// which then carries no client command either, takes it as the CTag of
// its listing instead of reading it again. It was read before the
// listing, which is the order the listing needs (itemSync.run).
func (sc *syncRun) itemsQuiet(store model.ItemStore, col message.SyncCollection, f folders.Folder) (peeked *int64, quiet bool, err error) {
	k := sc.k
	c := col.Commands
	if col.SyncKey == syncstate.InitialKey || col.Supported != nil ||
		(c != nil && len(c.Add)+len(c.Change)+len(c.Delete)+len(c.Fetch) > 0) {
		return nil, false, nil
	}
	ctx := k.ctx()
	key, head, ok, err := k.s.sync.PeekHead(ctx, k.dev.ID, col.CollectionID, itemStateHeadLen)
	if err != nil || !ok || key != col.SyncKey {
		return nil, false, err
	}
	st, err := decodeItemHead(head)
	if err != nil || st.pending || st.window != windowKey(sc.itemOptions(col, f, nil)) {
		return nil, false, nil
	}
	reads := &queryCounter{DB: k.s.opts.Pool}
	ctag, err := store.CTag(ctx, reads, k.dev.UserID, f.ServerID)
	if err != nil {
		return nil, false, err
	}
	if ctag != st.ctag {
		return &ctag, false, nil
	}
	k.log.Debug("sync items collection", "collection", f.ServerID, "class", string(f.Type.Class()),
		"path", "unchanged", "queries", reads.n, "adds", 0, "changes", 0, "deletes", 0)
	return nil, true, nil
}

// itemSync is the work on one store collection within a Sync.
type itemSync struct {
	sc    *syncRun
	store model.ItemStore
	col   message.SyncCollection
	f     folders.Folder
	rc    *message.SyncResponseCollection
	tx    *syncstate.Tx
	db    pgx.Tx
	reads *queryCounter // is.db, counting the store's statements for the log
	st    itemState
	opts  model.ItemOptions
	ops   []syncstate.ClientOp
	resps message.SyncResponses
	// peeked is the folder's CTag as itemsQuiet read it, before this
	// transaction, for a request without client commands; nil when it
	// read none.
	peeked *int64
}

// itemOptions are the rendering and ghosting options of a collection.
func (sc *syncRun) itemOptions(col message.SyncCollection, f folders.Folder, supported []string) model.ItemOptions {
	k := sc.k
	o := model.ItemOptions{Version: k.version, Zone: k.s.opts.Zone, Supported: supported, Keep: k.profile.KeepWhenEmpty}
	for _, opt := range col.Options {
		if opt.Class != "" && opt.Class != string(f.Type.Class()) {
			continue
		}
		o.BodyPreferences = opt.BodyPreference
		if opt.FilterType != nil {
			// A value the class has no use for is ignored, as MS-ASCMD
			// 2.2.3.70.2 has contacts ignore every FilterType.
			if days, ok := filterDays(*opt.FilterType); ok && days > 0 {
				o.Since = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -days)
			}
			o.Incomplete = *opt.FilterType == 8
		}
	}
	return o
}

// windowKey names a FilterType window in the state: a Sync whose window
// differs (another FilterType, or a day later) lists the items again,
// since items may have entered or left it.
func windowKey(o model.ItemOptions) int64 {
	switch {
	case o.Incomplete:
		return -1
	case o.Since.IsZero():
		return 0
	}
	return o.Since.Unix() / 86400
}

// serverWins reports whether a conflicting client Change loses (Conflict
// 1, the default) or wins (Conflict 0).
func (is *itemSync) serverWins() bool {
	for _, o := range is.col.Options {
		if o.Conflict != nil {
			return *o.Conflict != 0
		}
	}
	return true
}

func (is *itemSync) run() error {
	ctx, k := is.sc.k.ctx(), is.sc.k
	uid, fid := k.dev.UserID, is.f.ServerID
	getChanges := is.col.GetChanges == nil || *is.col.GetChanges
	cmds := is.col.Commands
	hasCommands := cmds != nil && len(cmds.Add)+len(cmds.Change)+len(cmds.Delete)+len(cmds.Fetch) > 0
	quiet := is.tx.KeyStatus() == syncstate.KeyCurrent && !hasCommands && !is.st.pending &&
		is.st.window == windowKey(is.opts)
	if quiet && !getChanges {
		is.rc.Status = int(syncOK)
		return nil
	}
	// Without client commands nothing is written before the listing, so
	// one CTag read serves both the quiet check and the listing: the one
	// itemsQuiet made, or else the one made here.
	var ctag int64
	haveCTag := false
	if !hasCommands && is.peeked != nil {
		ctag, haveCTag = *is.peeked, true
	}
	if quiet {
		if !haveCTag {
			var err error
			if ctag, err = is.store.CTag(ctx, is.reads, uid, fid); err != nil {
				return err
			}
			haveCTag = true
		}
		if ctag == is.st.ctag {
			is.rc.Status = int(syncOK)
			is.log("unchanged", 0, 0, 0)
			return nil
		}
	}
	if hasCommands && k.s.opts.Meetings != nil && is.f.Type.Class() == model.ClassCalendar {
		// A phone's meeting is the user's: the calendar needs the
		// address to organise it and invite its attendees.
		self, err := k.userAddress()
		if err != nil {
			return err
		}
		is.opts.Self = self
	}
	if hasCommands {
		if err := is.clientCommands(); err != nil {
			return err
		}
	}
	// The CTag before the listing: a write committed between the two is
	// in the listing but not the CTag, so the next Sync looks again,
	// rather than the reverse, which would miss it. After client writes
	// (which change it) it is always read here.
	if !haveCTag {
		var err error
		if ctag, err = is.store.CTag(ctx, is.reads, uid, fid); err != nil {
			return err
		}
	}
	versions, err := is.store.Versions(ctx, is.reads, uid, fid, is.opts)
	if err != nil {
		return err
	}
	now := make(syncstate.Items, len(versions))
	for id, v := range versions {
		now[id] = strconv.FormatInt(v, 10)
	}
	window := is.sc.window(is.col)
	if !getChanges {
		window = syncstate.NoChanges
	}
	res := syncstate.Exchange{Known: is.st.items, Now: now, Client: is.ops, Window: window}.Run()
	out, err := is.serverChanges(&res)
	if err != nil {
		return err
	}
	if hasCommands && len(cmds.Fetch) > 0 {
		if err := is.clientFetches(); err != nil {
			return err
		}
	}
	newState := itemState{ctag: ctag, window: windowKey(is.opts), pending: res.MoreAvailable,
		supported: is.st.supported, items: res.State}
	key, err := is.tx.Commit(ctx, newState.encode())
	if err != nil {
		return err
	}
	if is.opts.Self != "" {
		// Invitations the client's writes queued go out now that they
		// are committed, never before (meetings.go).
		k.flushMeetings()
	}
	is.sc.spend(len(res.Adds) + len(res.Changes) + len(res.Deletes))
	is.rc.SyncKey, is.rc.Status, is.rc.MoreAvailable = key, int(syncOK), res.MoreAvailable && getChanges
	if len(out.Add)+len(out.Change)+len(out.Delete) > 0 {
		is.rc.Commands = out
	}
	if r := is.resps; len(r.Add)+len(r.Change)+len(r.Delete)+len(r.Fetch) > 0 {
		is.rc.Responses = &r
	}
	is.log("listed", len(out.Add), len(out.Change), len(out.Delete))
	return nil
}

// log reports how a collection was answered and how many statements
// the store ran for it outside the client's writes: a Sync that finds
// nothing changed costs one (the CTag).
func (is *itemSync) log(path string, adds, changes, deletes int) {
	is.sc.k.log.Debug("sync items collection", "collection", is.f.ServerID, "class", string(is.f.Type.Class()),
		"path", path, "queries", is.reads.n, "adds", adds, "changes", changes, "deletes", deletes)
}

// queryCounter is a model.DB that counts the statements run on it.
type queryCounter struct {
	model.DB
	n int
}

func (q *queryCounter) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	q.n++
	return q.DB.Exec(ctx, sql, args...)
}

func (q *queryCounter) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	q.n++
	return q.DB.Query(ctx, sql, args...)
}

func (q *queryCounter) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	q.n++
	return q.DB.QueryRow(ctx, sql, args...)
}

// clientCommands applies the client's Adds, Changes and Deletes, in the
// order Exchange expects them: Changes, Deletes, Adds.
func (is *itemSync) clientCommands() error {
	ctx, k := is.sc.k.ctx(), is.sc.k
	uid, fid := k.dev.UserID, is.f.ServerID
	cmds := is.col.Commands
	var before map[string]int64
	if len(cmds.Change) > 0 {
		var err error
		// Every item, whatever the window: a Change names any item the
		// client holds.
		if before, err = is.store.Versions(ctx, is.db, uid, fid, model.ItemOptions{}); err != nil {
			return err
		}
	}
	serverWins := is.serverWins()
	for _, c := range cmds.Change {
		op := syncstate.ClientOp{Kind: syncstate.OpChange, ServerID: c.ServerID}
		if c.InstanceID != "" {
			if err := is.clientInstance(c.ServerID, c.InstanceID, c.ApplicationData, true); err != nil {
				return err
			}
			continue
		}
		v, exists := before[c.ServerID]
		switch {
		case !exists:
			is.resps.Change = append(is.resps.Change, message.SyncResponseChange{ServerID: c.ServerID, Status: int(syncObjectNotFound)})
		case serverWins && syncstate.ChangedOnServer(is.st.items, c.ServerID, strconv.FormatInt(v, 10)):
			// The server's copy goes back to the client (empty Version).
			k.log.Info("sync: client change lost a conflict, the server's copy is sent", "collection", fid, "item", c.ServerID)
		default:
			data, _ := c.ApplicationData.(*wbxml.Element)
			var it model.Item
			err := savepoint(ctx, is.db, func(db pgx.Tx) (err error) {
				it, err = is.store.Change(ctx, db, uid, fid, c.ServerID, data, is.opts)
				return err
			})
			switch {
			case err == nil:
				op.Version = strconv.FormatInt(it.Version, 10)
			case errors.Is(err, model.ErrItemNotFound):
				is.resps.Change = append(is.resps.Change, message.SyncResponseChange{ServerID: c.ServerID, Status: int(syncObjectNotFound)})
			case errors.Is(err, model.ErrItemInvalid):
				k.log.Warn("sync: client change refused", "collection", fid, "item", c.ServerID, "err", err)
				is.resps.Change = append(is.resps.Change, message.SyncResponseChange{ServerID: c.ServerID, Status: int(syncConversionError)})
			default:
				return err
			}
		}
		is.ops = append(is.ops, op)
	}
	for _, d := range cmds.Delete {
		if d.InstanceID != "" {
			if err := is.clientInstance(d.ServerID, d.InstanceID, nil, false); err != nil {
				return err
			}
			continue
		}
		err := savepoint(ctx, is.db, func(db pgx.Tx) error {
			return is.store.Delete(ctx, db, uid, fid, d.ServerID)
		})
		// An item gone already is what the client wants: no error for
		// it (a re-sent Delete lands here too).
		if err != nil && !errors.Is(err, model.ErrItemNotFound) {
			return err
		}
		is.ops = append(is.ops, syncstate.ClientOp{Kind: syncstate.OpDelete, ServerID: d.ServerID})
	}
	for _, a := range cmds.Add {
		if err := is.clientAdd(a); err != nil {
			return err
		}
	}
	return nil
}

// clientInstance applies a 16.x Change (change) or Delete of one
// occurrence of a series. The series stays, with a new version, so for the
// state either is a Change of the item. A class without occurrences, an
// InstanceId that is no dateTime, or an occurrence the series does not
// have is refused for that item.
func (is *itemSync) clientInstance(serverID, instanceID string, appData any, change bool) error {
	ctx, k := is.sc.k.ctx(), is.sc.k
	op := syncstate.ClientOp{Kind: syncstate.OpChange, ServerID: serverID}
	st, ok := is.store.(model.ItemInstances)
	instance, err := model.ParseDateTime(instanceID)
	if !ok || err != nil {
		err = fmt.Errorf("%w: InstanceId %q on %s", model.ErrItemInvalid, instanceID, is.f.Type.Class())
	} else {
		data, _ := appData.(*wbxml.Element)
		var it model.Item
		err = savepoint(ctx, is.db, func(db pgx.Tx) (err error) {
			if change {
				it, err = st.ChangeInstance(ctx, db, k.dev.UserID, is.f.ServerID, serverID, instance, data, is.opts)
			} else {
				it, err = st.DeleteInstance(ctx, db, k.dev.UserID, is.f.ServerID, serverID, instance, is.opts)
			}
			return err
		})
		if err == nil {
			op.Version = strconv.FormatInt(it.Version, 10)
		}
	}
	status := syncOK
	switch {
	case err == nil:
	case errors.Is(err, model.ErrItemNotFound):
		status = syncObjectNotFound
	case errors.Is(err, model.ErrItemInvalid):
		k.log.Warn("sync: client change of an occurrence refused", "collection", is.f.ServerID, "item", serverID, "err", err)
		status = syncConversionError
	default:
		return err
	}
	if status != syncOK {
		if change {
			is.resps.Change = append(is.resps.Change, message.SyncResponseChange{ServerID: serverID, Status: int(status)})
		} else {
			is.resps.Delete = append(is.resps.Delete, message.SyncResponseDelete{ServerID: serverID, Status: int(status)})
		}
	}
	// A refused one keeps an empty Version: the server's copy of the
	// series goes back to the client.
	is.ops = append(is.ops, op)
	return nil
}

// clientAdd creates one item, or finds the one a re-sent Add created.
func (is *itemSync) clientAdd(a message.SyncClientAdd) error {
	ctx, k := is.sc.k.ctx(), is.sc.k
	resp := message.SyncResponseAdd{ClientID: a.ClientID}
	if a.ClientID == "" || len(a.ClientID) > clientIDMax {
		// Refused before any write: a ClientId that cannot be recorded
		// would make every retry create the item again.
		resp.Status = int(syncProtocolError)
		is.resps.Add = append(is.resps.Add, resp)
		return nil
	}
	rec, found, err := is.tx.LookupClientAdd(ctx, a.ClientID)
	if err != nil {
		return err
	}
	if found {
		resp.ServerID, resp.Status = rec.ServerID, int(syncOK)
		is.resps.Add = append(is.resps.Add, resp)
		is.ops = append(is.ops, syncstate.ClientOp{Kind: syncstate.OpAdd, ServerID: rec.ServerID, Version: rec.Version})
		return nil
	}
	data, _ := a.ApplicationData.(*wbxml.Element)
	var it model.Item
	if data == nil {
		err = fmt.Errorf("%w: Add without ApplicationData", model.ErrItemInvalid)
	} else {
		err = savepoint(ctx, is.db, func(db pgx.Tx) (err error) {
			it, err = is.store.Add(ctx, db, k.dev.UserID, is.f.ServerID, data, is.opts)
			return err
		})
	}
	if errors.Is(err, model.ErrItemInvalid) {
		k.log.Warn("sync: client add refused", "collection", is.f.ServerID, "client_id", a.ClientID, "err", err)
		resp.Status = int(syncConversionError)
		is.resps.Add = append(is.resps.Add, resp)
		return nil
	}
	if err != nil {
		return err
	}
	v := strconv.FormatInt(it.Version, 10)
	if err := is.tx.RecordClientAdd(a.ClientID, syncstate.ClientAdd{ServerID: it.ServerID, Version: v}); err != nil {
		return err
	}
	resp.ServerID, resp.Status, resp.ApplicationData = it.ServerID, int(syncOK), it.Data
	is.resps.Add = append(is.resps.Add, resp)
	is.ops = append(is.ops, syncstate.ClientOp{Kind: syncstate.OpAdd, ServerID: it.ServerID, Version: v})
	return nil
}

// serverChanges renders the window's adds and changes. An item deleted
// between the listing and the rendering is left out of the state (an
// add) or sent as a Delete (a change), so the state says what the client
// will hold.
func (is *itemSync) serverChanges(res *syncstate.Result) (*message.SyncCommands, error) {
	out := &message.SyncCommands{}
	for _, id := range res.Deletes {
		out.Delete = append(out.Delete, message.SyncItem{ServerID: id})
	}
	ids := append(append([]string(nil), res.Changes...), res.Adds...)
	if len(ids) == 0 {
		return out, nil
	}
	byID, err := is.render(ids)
	if err != nil {
		return nil, err
	}
	for _, id := range res.Changes {
		if data, ok := byID[id]; ok {
			out.Change = append(out.Change, message.SyncItem{ServerID: id, ApplicationData: data})
		} else {
			out.Delete = append(out.Delete, message.SyncItem{ServerID: id})
			delete(res.State, id)
		}
	}
	for _, id := range res.Adds {
		if data, ok := byID[id]; ok {
			out.Add = append(out.Add, message.SyncItem{ServerID: id, ApplicationData: data})
		} else {
			delete(res.State, id)
		}
	}
	return out, nil
}

// render renders the items named by ids that still exist, by ServerId;
// the store's statements are counted for the log.
func (is *itemSync) render(ids []string) (map[string]any, error) {
	items, err := is.store.Render(is.sc.k.ctx(), is.reads, is.sc.k.dev.UserID, is.f.ServerID, ids, is.opts)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]any, len(items))
	for _, it := range items {
		byID[it.ServerID] = it.Data
	}
	return byID, nil
}

// clientFetches answers the client's Fetch commands with the items in
// full.
func (is *itemSync) clientFetches() error {
	var ids []string
	for _, f := range is.col.Commands.Fetch {
		ids = append(ids, f.ServerID)
	}
	byID, err := is.render(ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		r := message.SyncResponseFetch{ServerID: id, Status: int(syncObjectNotFound)}
		if data, ok := byID[id]; ok {
			r.Status, r.ApplicationData = int(syncOK), data
		}
		is.resps.Fetch = append(is.resps.Fetch, r)
	}
	return nil
}

// estimateItems counts the changes the next Sync of a store collection
// would send: none when the CTag is the state's, else from a listing of
// versions (no item is read).
func (sc *syncRun) estimateItems(store model.ItemStore, c message.GetItemEstimateCollection, f folders.Folder, tx *syncstate.Tx) (int, Status) {
	ctx, k := sc.k.ctx(), sc.k
	st, err := decodeItemState(tx.State())
	if err != nil {
		return 0, estimateBadKey
	}
	col := message.SyncCollection{CollectionID: c.CollectionID, Options: c.Options}
	if c.FilterType != nil {
		col.Options = append(col.Options, message.SyncOptions{FilterType: c.FilterType})
	}
	opts := sc.itemOptions(col, f, st.supported)
	db := tx.PGTx()
	ctag, err := store.CTag(ctx, db, k.dev.UserID, f.ServerID)
	if err == nil && ctag == st.ctag && !st.pending && st.window == windowKey(opts) {
		return 0, estimateOK
	}
	var versions map[string]int64
	if err == nil {
		versions, err = store.Versions(ctx, db, k.dev.UserID, f.ServerID, opts)
	}
	if err != nil {
		k.log.Warn("getitemestimate: store", "collection", c.CollectionID, "err", err)
		return 0, estimateServerProblems
	}
	now := make(syncstate.Items, len(versions))
	for id, v := range versions {
		now[id] = strconv.FormatInt(v, 10)
	}
	adds, changes, deletes := syncstate.Diff(st.items, now)
	return len(adds) + len(changes) + len(deletes), estimateOK
}

// savepoint runs fn in a savepoint of db: when fn fails, its writes are
// undone and the transaction goes on (PostgreSQL otherwise refuses every
// statement after a failed one).
func savepoint(ctx context.Context, db pgx.Tx, fn func(pgx.Tx) error) error {
	sp, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(sp); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// supportedNames lists the element names of a Supported element. An
// empty <Supported/> (LG phones send one) declares nothing and is taken
// as absent: read literally it would make every element the client's to
// clear.
func supportedNames(el *wbxml.Element) []string {
	if el == nil || len(el.Children) == 0 {
		return nil
	}
	names := make([]string, 0, len(el.Children))
	for _, c := range el.Children {
		names = append(names, c.Name())
	}
	return names
}

// itemState is the sync state of a store collection (see items).
type itemState struct {
	ctag      int64
	window    int64 // windowKey of the FilterType the state was computed with
	pending   bool
	supported []string
	items     syncstate.Items
}

// itemStateFormat starts every encoded itemState, so that a state of
// another shape (a folder that changed class) is recognised as such.
const itemStateFormat = 'I'

func (s itemState) encode() []byte {
	b := []byte{itemStateFormat, 0}
	if s.pending {
		b[1] = 1
	}
	b = binary.AppendUvarint(b, uint64(s.ctag))
	b = binary.AppendVarint(b, s.window)
	b = binary.AppendUvarint(b, uint64(len(s.supported)))
	for _, n := range s.supported {
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	return append(b, s.items.Encode()...)
}

var errItemState = errors.New("malformed item sync state")

// itemStateHeadLen bounds the head of an encoded itemState: format,
// pending, CTag and window, the summary a quiet Sync or a Ping compares.
const itemStateHeadLen = 2 + binary.MaxVarintLen64*2

// decodeItemHead decodes the head of an encoded itemState: ctag, window
// and pending, nothing else.
func decodeItemHead(b []byte) (itemState, error) {
	s, _, err := decodeHead(b)
	return s, err
}

func decodeHead(b []byte) (s itemState, rest []byte, err error) {
	if len(b) < 2 || b[0] != itemStateFormat || b[1] > 1 {
		return s, nil, errItemState
	}
	s.pending = b[1] == 1
	b = b[2:]
	ctag, n := binary.Uvarint(b)
	if n <= 0 {
		return s, nil, errItemState
	}
	s.ctag, b = int64(ctag), b[n:]
	window, n := binary.Varint(b)
	if n <= 0 {
		return s, nil, errItemState
	}
	s.window, b = window, b[n:]
	return s, b, nil
}

func decodeItemState(b []byte) (itemState, error) {
	s, b, err := decodeHead(b)
	if err != nil {
		return s, err
	}
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return s, errItemState
	}
	b = b[n:]
	for range count {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return s, errItemState
		}
		s.supported = append(s.supported, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	items, err := syncstate.DecodeItems(b)
	if err != nil {
		return s, fmt.Errorf("%w: %w", errItemState, err)
	}
	s.items = items
	return s, nil
}
