package pgnotify

import (
	"strings"
	"time"
)

// quietLog remembers when notifications of some topics last arrived, so
// that a caller can tell that nothing was announced on a topic since a
// moment it knows the state of (Hub.QuietSince). Only topics under a
// registered prefix are remembered, each for ttl: memory follows the
// topics active within ttl, not the subscriptions. Guarded by Hub.mu.
type quietLog struct {
	since    time.Time // the LISTEN connection's last (re)connect
	up       bool      // false between a lost connection and its successor
	prefixes []quietPrefix
	last     map[string]time.Time // remembered topic -> its last arrival
	pruned   time.Time            // last walk over last
}

type quietPrefix struct {
	prefix string
	ttl    time.Duration
}

// connected notes a new LISTEN connection: notifications sent before it
// may have been lost.
func (q *quietLog) connected(at time.Time) {
	q.since, q.up = at, true
}

// arrived notes a notification of topic. Old entries are dropped in a walk
// at most once per pruneEvery, so an arrival costs a map write.
func (q *quietLog) arrived(topic string, at time.Time) {
	p, ok := q.prefixOf(topic)
	if !ok {
		return
	}
	if q.last == nil {
		q.last = map[string]time.Time{}
	}
	q.last[topic] = at
	if at.Sub(q.pruned) >= pruneEvery(p.ttl) {
		q.pruned = at
		for t, a := range q.last {
			if tp, ok := q.prefixOf(t); !ok || at.Sub(a) > tp.ttl {
				delete(q.last, t)
			}
		}
	}
}

// pruneEvery is how often the remembered arrivals are walked: a tenth of
// the time they are kept, so an entry outlives its ttl by 10% at most.
func pruneEvery(ttl time.Duration) time.Duration { return max(ttl/10, time.Second) }

func (q *quietLog) prefixOf(topic string) (quietPrefix, bool) {
	for _, p := range q.prefixes {
		if strings.HasPrefix(topic, p.prefix) {
			return p, true
		}
	}
	return quietPrefix{}, false
}

// quietSince: see Hub.QuietSince.
func (q *quietLog) quietSince(topic string, t, now time.Time) bool {
	p, ok := q.prefixOf(topic)
	if !ok || !q.up || t.Before(q.since) || now.Sub(t) >= p.ttl {
		// Not remembered, not listening, listening since after t, or
		// so long ago that an arrival may have been pruned.
		return false
	}
	a, ok := q.last[topic]
	return !ok || a.Before(t)
}

// Remember makes the hub keep, for ttl, when the last notification of each
// topic starting with prefix arrived, for QuietSince. Call it before
// relying on QuietSince; a prefix registered twice keeps the longer ttl.
func (h *Hub) Remember(prefix string, ttl time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, p := range h.quiet.prefixes {
		if p.prefix == prefix {
			h.quiet.prefixes[i].ttl = max(p.ttl, ttl)
			return
		}
	}
	h.quiet.prefixes = append(h.quiet.prefixes, quietPrefix{prefix, ttl})
}

// QuietSince reports whether the hub has been listening without a break
// since t and no notification of topic has arrived at or after t. It is
// false for a topic without a Remember'd prefix and for a t older than
// that prefix's ttl: the answer must never be a guess. A notification
// published before t but delivered after it counts as arrived after t.
func (h *Hub) QuietSince(topic string, t time.Time) bool {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.quiet.quietSince(topic, t, now)
}
