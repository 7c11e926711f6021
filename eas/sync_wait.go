package eas

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// quietSync tells whether a Sync's answer carries nothing for the client:
// every collection succeeded, kept its key, and has no commands, responses
// or MoreAvailable. Only such a Sync may hang: anything else is news the
// client must get now.
func quietSync(cols []message.SyncCollection, resp *message.SyncResponse) bool {
	if resp.Collections == nil || len(resp.Collections.Collection) != len(cols) {
		return false
	}
	for i, rc := range resp.Collections.Collection {
		if rc.Status != int(syncOK) || rc.SyncKey != cols[i].SyncKey || rc.MoreAvailable ||
			rc.Commands != nil || rc.Responses != nil {
			return false
		}
	}
	return true
}

// hang is a hanging Sync (MS-ASCMD 2.2.3.198, 2.2.3.88.2) whose first run
// found nothing: it waits as a Ping would, on the collections' folders,
// then runs the Sync again and answers. Waking ends with Ping's outcomes:
//
//   - a folder changed: run again and answer what it finds;
//   - the hierarchy changed (pingWait.hierarchyStale) or a watched folder
//     is gone: Status 12, the client runs FolderSync;
//   - the wait passed, a newer request of the device arrived (on any
//     instance), or easd is shutting down: the empty Sync response (HTTP
//     200 without a body, MS-ASCMD 2.2.1.21.2), "nothing changed"; the
//     client keeps its keys and syncs again, maybe elsewhere;
//   - the client went away: nothing to answer.
//
// No syncstate transaction is open while waiting (each collection commits
// or rolls back within the run), and the mail session is let go: a hanging
// Sync costs a goroutine and its subscriptions, like a Ping.
func (sc *syncRun) hang(sr syncRequest, w *pingWait) error {
	k := sc.k
	sc.conn.drop()
	w.kind = WaitSync
	w.heartbeat = k.capHeartbeat(sr.wait)
	watch := make([]pingFolder, len(sr.cols))
	for i, c := range sr.cols {
		watch[i] = pingFolder{ID: c.CollectionID}
	}
	ctx, cancel := context.WithTimeout(k.ctx(), pingStartTimeout)
	status, err := w.start(ctx, watch, sc.byID) // the folders the Sync just ran on
	cancel()
	if err != nil {
		if k.ctx().Err() != nil {
			return nil
		}
		// Nothing changed when the Sync ran a moment ago: say so, and the
		// client asks again.
		k.log.Warn("sync: cannot wait for changes", "err", err)
		return k.respondEmpty()
	}
	if status == 0 {
		status = w.wait()
	}
	switch status {
	case 0: // the client went away
		return nil
	case pingExpired:
		return k.respondEmpty()
	case pingHierarchyChanged:
		// A folder made, renamed or deleted elsewhere, or a watched one
		// gone: FolderSync first (MS-ASCMD 2.2.3.177.17, Status 12).
		return k.respond(&message.SyncResponse{Status: int(syncHierarchyChanged)})
	}
	resp := sc.run(sr)
	if quietSync(sr.cols, resp) {
		// Woken by a change the Sync does not show (a hint that raced with
		// the first run): the same as a wait that passed.
		return k.respondEmpty()
	}
	return k.respond(resp)
}
