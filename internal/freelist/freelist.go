// Package freelist keeps a few values for reuse: large buffers that a busy
// request path would otherwise allocate, zero and collect again and again.
// It is a short channel, not a sync.Pool, which the garbage collector
// empties within two cycles; a workload that allocates heavily collects
// often, and would find its pool empty.
package freelist

// List holds up to its capacity of values; Get and Put never block.
type List[T any] struct{ c chan T }

// New returns a list that keeps at most n values.
func New[T any](n int) List[T] { return List[T]{c: make(chan T, n)} }

// Get returns a kept value, or false when there is none.
func (l List[T]) Get() (T, bool) {
	select {
	case v := <-l.c:
		return v, true
	default:
		var zero T
		return zero, false
	}
}

// Put keeps v unless the list is full.
func (l List[T]) Put(v T) {
	select {
	case l.c <- v:
	default:
	}
}
