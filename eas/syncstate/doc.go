// Package syncstate is the sync-state engine behind FolderSync and every
// Sync class (mail, contacts, calendar, tasks, notes): it hands out SyncKeys,
// remembers what the client holds at each key, and makes retried requests
// safe. It knows nothing of HTTP, WBXML or IMAP; it is state logic over
// PostgreSQL (tables in migrations/00003_syncstate.sql).
//
// # Keys
//
// Keys are opaque to clients: "{generation}counter", where generation is a
// random UUID made by every key-0 request and counter counts commits. "0"
// starts over. Per (device, collection) exactly two keys are valid:
//
//   - current: the key of the last response;
//   - previous: the key before it. A client that re-sends it lost the last
//     response; it is answered from the previous state, and the lost
//     response's key is dropped, so it gets the same changes again (the
//     same ones when the store did not change meanwhile, the up-to-date ones
//     otherwise), with nothing skipped and nothing twice.
//
// Any other key is unknown: the handler answers Status 3 (Sync) or 9
// (FolderSync) and the client starts over with key 0. A key-0 request
// starts a new generation, so older keys become unknown, except the key of
// an immediately preceding key-0 request: iOS sends two key-0 Syncs for one
// folder in parallel and may use either answer. FolderSync and the Folder*
// commands use the collection HierarchyID.
//
// Two requests of one device on one collection never interleave: Begin
// locks the collection's row (SELECT ... FOR UPDATE; a first key-0 request
// inserts it with ON CONFLICT DO NOTHING, then locks) until Commit or
// Rollback. Different devices or collections never wait for each other. A
// request that re-sends a key while the first is still running therefore
// waits, then finds its key to be the previous one and is answered as a
// replay; the first response's key is then dropped, so a client that uses
// it after all gets Status 3 and starts over (correct, if slow). A handler
// must not hold a Tx while a hanging Sync or Ping waits for changes.
//
// # One transaction
//
// Begin returns a Tx wrapping a PostgreSQL transaction that the handler also
// uses (Tx.PGTx) for its own writes, such as PIM items: the store's changes,
// the ClientId records and the new key commit together or not at all.
//
// # State and ClientIds
//
// The state behind a key is opaque bytes, because stores need different
// shapes (mail: UIDVALIDITY, UIDs, HIGHESTMODSEQ; PIM: id -> version;
// hierarchy: folder id -> hash of name/parent/type). A replay recomputes its
// answer from the previous state rather than storing the lost response:
// the computation is deterministic, the store may have changed since (a
// stored answer could re-add an item deleted meanwhile), and only the state
// need be kept. Each commit stores one new state row and deletes every
// state but current and previous, so a collection holds at most two.
//
// A client Add carries a ClientId. The answer (ServerId and the item's
// version) is recorded under the request's key (RecordClientAdd); a re-sent
// request with the same key finds it (LookupClientAdd) instead of creating
// a second item. ClientIds are only looked up under the same key because
// some clients number them from 1 in every request. Records go with their
// key's state row, so they are pruned with it.
//
// # Items and Exchange
//
// Most stores fit the common shape Items (ServerId -> version), with a
// compact deterministic encoding (sorted ids, prefix-shared, about 7 bytes
// per item for 100,000 IMAP UIDs with modseq versions, 22 for random
// 16-hex-digit ids with 8-hex-digit hashes), Diff, and Exchange, which
// turns the known state, the source's items, the applied client commands and
// a window into the server changes to send, MoreAvailable and the new
// state. A typical Sync handler:
//
//	tx, err := eng.Begin(ctx, dev, coll, clientKey)
//	defer tx.Rollback(ctx)
//	if tx.KeyStatus() == syncstate.KeyUnknown { /* Status 3 */ }
//	known, err := syncstate.DecodeItems(tx.State())
//	for each client Add:    LookupClientAdd, else create in the store and RecordClientAdd
//	for each client Change: apply unless ChangedOnServer (server wins), else Version ""
//	for each client Delete: delete in the store
//	res := syncstate.Exchange{Known: known, Now: storeItems, Client: ops, Window: w}.Run()
//	// write res.Deletes, res.Changes, res.Adds (with the store's data)
//	newKey, err := tx.Commit(ctx, res.State.Encode())
//
// Conflicts: a Change the server changed meanwhile is not applied and is
// passed with an empty Version; the state then marks the client's copy
// stale and the server's copy goes back to the client. A replayed Change
// looks like such a conflict (the store holds the client's own edit, the
// previous state the older version) and is answered with the server's copy,
// which is the client's own edit: harmless.
//
// Cost: the state is read and rewritten on every request, linear in the
// collection size; for a 100,000-message folder about 0.7 MB per request
// and, on a small machine, about 16 ms of database time plus 90 ms of CPU
// for decode, diff and encode (see the benchmarks). Initial sync of a large
// folder in windows of W costs that per page; stores whose state has a
// cheaper summary (a mail folder's UIDNEXT/HIGHESTMODSEQ) should compare it
// before decoding.
package syncstate
