package eas

import (
	"container/heap"
	"sync"
	"time"
)

// heartbeats ends the waiting requests at their heartbeat with one runtime
// timer for all of them. A timer per wait put every waiting phone into the
// Go runtime's timer heap, which the scheduler walks whole each time some
// timer (a connection's read deadline, at every request) is moved earlier:
// with 16,667 waiting phones and 93 requests a second that walk was 14% of
// easd's CPU, and it grows with the number of waiting phones times the
// request rate. Here the waits sit in a heap of their own, touched only
// when one starts, ends or is due.
//
// The zero value is ready to use.
type heartbeats struct {
	mu    sync.Mutex
	due   heartbeatHeap
	timer *time.Timer // fires at due[0].when; nil until the first start
	epoch time.Time   // when is measured from it (monotonic clock)
}

// heartbeat is one waiting request's: C is closed when it is due, unless
// it was stopped first.
type heartbeat struct {
	C    chan struct{}
	when time.Duration // since epoch
	i    int           // index in due; -1 once fired or stopped
}

// start returns a heartbeat due after d.
func (h *heartbeats) start(d time.Duration) *heartbeat {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.epoch.IsZero() {
		h.epoch = time.Now()
	}
	now := time.Since(h.epoch)
	b := &heartbeat{C: make(chan struct{}), when: now + d}
	heap.Push(&h.due, b)
	if h.due[0] == b {
		// The new one is the earliest: the timer moves to it. Most
		// heartbeats are of similar length and later than the earliest,
		// so this is rare.
		if h.timer == nil {
			h.timer = time.AfterFunc(d, h.fire)
		} else {
			h.timer.Reset(d)
		}
	}
	return b
}

// stop forgets b; its C is never closed if it was not yet. Safe after it
// fired and more than once. The timer is left as it is: firing early, it
// finds nothing due and is set again.
func (h *heartbeats) stop(b *heartbeat) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b.i >= 0 {
		heap.Remove(&h.due, b.i)
	}
}

// fire closes the channels of the heartbeats that are due and sets the
// timer for the next.
func (h *heartbeats) fire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Since(h.epoch)
	for len(h.due) > 0 && h.due[0].when <= now {
		close(heap.Pop(&h.due).(*heartbeat).C)
	}
	if len(h.due) > 0 {
		h.timer.Reset(h.due[0].when - now)
	}
}

// heartbeatHeap is a min-heap on when (container/heap), keeping each
// heartbeat's index so that a stopped one is removed at once.
type heartbeatHeap []*heartbeat

func (q heartbeatHeap) Len() int           { return len(q) }
func (q heartbeatHeap) Less(i, j int) bool { return q[i].when < q[j].when }
func (q heartbeatHeap) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].i, q[j].i = i, j
}

func (q *heartbeatHeap) Push(x any) {
	b := x.(*heartbeat)
	b.i = len(*q)
	*q = append(*q, b)
}

func (q *heartbeatHeap) Pop() any {
	old := *q
	b := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	b.i = -1
	return b
}
