package syncstate

import (
	"fmt"
	"maps"
	"slices"
)

// OpKind is the kind of a client command in a Sync (or FolderCreate,
// FolderUpdate, FolderDelete) request.
type OpKind int

// The client commands.
const (
	OpAdd OpKind = iota + 1
	OpChange
	OpDelete
)

func (k OpKind) String() string {
	switch k {
	case OpAdd:
		return "Add"
	case OpChange:
		return "Change"
	case OpDelete:
		return "Delete"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// ClientOp tells the exchange what the handler did with one client command,
// after it applied the command to the store.
type ClientOp struct {
	Kind OpKind
	// ServerID is the item the command concerns: for an Add the ServerId the
	// handler created (or found with Tx.LookupClientAdd); empty for an Add
	// the store refused, which leaves the state untouched.
	ServerID string
	// Version is the store's version of the item holding exactly what the
	// client sent: the version the store assigned when it applied the Add or
	// Change now, or the recorded ClientAdd.Version of a re-sent Add. Empty
	// when the handler did not apply the command (a conflict the server wins,
	// an item that no longer exists, a refused change): the server's copy is
	// then sent back as a Change, or a Delete if the item is gone. Ignored
	// for Delete: after a Delete the client holds nothing, whatever the
	// outcome, and an item that still exists is sent again as an Add.
	Version string
}

// Window sizes with a special meaning.
const (
	// NoChanges sends no server changes (GetChanges false, FolderCreate,
	// FolderUpdate, FolderDelete) but still records the client commands.
	NoChanges = 0
	// Unlimited sends every change (FolderSync has no window).
	Unlimited = -1
)

// Exchange computes one Sync response for a collection whose state is Items.
type Exchange struct {
	Known  Items      // decoded Tx.State(): what the client holds at its key
	Now    Items      // the source's items after the client commands were applied
	Client []ClientOp // the client commands of this request, as applied
	Window int        // at most this many server changes; NoChanges or Unlimited
	// Order, if set, orders the adds (for example newest mail first); it
	// must be a deterministic total order. Default: by ServerId.
	Order func(a, b string) int
}

// Result is the server side of a Sync response and the state to commit.
type Result struct {
	// Server changes to send, at most Window in total: deletes first (they
	// are small and free space on the client), then changes, then adds.
	Deletes, Changes, Adds []string
	MoreAvailable          bool
	// State is what the client holds once it has this response: commit
	// State.Encode() with Tx.Commit.
	State Items
}

// Run applies the client commands to the known state, compares the result
// with Now and takes the first Window changes. Changes beyond the window stay
// out of the new state, so the next request finds them again; a replay of
// the same key with the same store and commands gives the same Result. Run
// does not modify its inputs.
func (x Exchange) Run() Result {
	state := maps.Clone(x.Known)
	if state == nil {
		state = Items{}
	}
	for _, op := range x.Client {
		applyClientOp(state, op)
	}
	adds, changes, deletes := Diff(state, x.Now)
	if x.Order != nil {
		slices.SortFunc(adds, x.Order)
	}
	total := len(deletes) + len(changes) + len(adds)
	budget := x.Window
	if budget < 0 || budget > total {
		budget = total
	}
	res := Result{MoreAvailable: budget < total}
	res.Deletes, budget = take(deletes, budget)
	res.Changes, budget = take(changes, budget)
	res.Adds, _ = take(adds, budget)
	for _, id := range res.Deletes {
		delete(state, id)
	}
	for _, id := range res.Changes {
		state[id] = x.Now[id]
	}
	for _, id := range res.Adds {
		state[id] = x.Now[id]
	}
	res.State = state
	return res
}

// applyClientOp records in state what the client holds after op.
func applyClientOp(state Items, op ClientOp) {
	if op.ServerID == "" {
		return
	}
	switch op.Kind {
	case OpAdd, OpChange:
		// An empty version makes Diff send the server's copy (or a Delete).
		state[op.ServerID] = op.Version
	case OpDelete:
		delete(state, op.ServerID)
	}
}

func take(ids []string, budget int) (taken []string, left int) {
	n := min(len(ids), budget)
	return ids[:n:n], budget - n
}

// ChangedOnServer reports whether the item changed in the store since the
// state the client holds: the store's version differs from the known one,
// or the client's copy is already marked stale, or the item is not known at
// all. A handler checks it before applying a client Change: by default the
// server wins such a conflict, so the handler does not apply the Change and
// passes it with an empty Version, and the server's copy goes back to the
// client.
func ChangedOnServer(known Items, serverID, storeVersion string) bool {
	kv, ok := known[serverID]
	return !ok || kv == "" || kv != storeVersion
}
