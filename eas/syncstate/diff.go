package syncstate

import "slices"

// Diff compares what the client holds (known) with what the source holds
// now. adds are in now but not known, changes are in both with a different
// version (or an empty known version, see Items), deletes are in known but
// not now. Each list is sorted by ServerId, so the same inputs always give
// the same answer; a replayed request relies on that.
func Diff(known, now Items) (adds, changes, deletes []string) {
	for id, ver := range now {
		kv, ok := known[id]
		switch {
		case !ok:
			adds = append(adds, id)
		case kv == "" || kv != ver:
			changes = append(changes, id)
		}
	}
	for id := range known {
		if _, ok := now[id]; !ok {
			deletes = append(deletes, id)
		}
	}
	slices.Sort(adds)
	slices.Sort(changes)
	slices.Sort(deletes)
	return adds, changes, deletes
}
