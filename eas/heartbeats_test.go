package eas

import (
	"testing"
	"time"
)

// Heartbeats fire in order of their due time, each once; stopped ones
// never fire and leave the heap; the one timer follows the earliest.
func TestHeartbeats(t *testing.T) {
	var h heartbeats
	late := h.start(300 * time.Millisecond)
	early := h.start(50 * time.Millisecond) // earlier than the first: the timer moves
	stopped := h.start(100 * time.Millisecond)
	mid := h.start(150 * time.Millisecond)
	h.stop(stopped)
	h.stop(stopped) // twice is harmless
	if n := h.pending(); n != 3 {
		t.Fatalf("%d pending, want 3", n)
	}
	t0 := time.Now()
	order := []*heartbeat{early, mid, late}
	for i, b := range order {
		select {
		case <-b.C:
		case <-time.After(5 * time.Second):
			t.Fatalf("heartbeat %d never fired", i)
		}
		for _, later := range order[i+1:] {
			select {
			case <-later.C:
				t.Fatalf("heartbeat fired before an earlier one (%d)", i)
			default:
			}
		}
	}
	if el := time.Since(t0); el < 250*time.Millisecond {
		t.Errorf("the last heartbeat (300 ms) fired after %v", el)
	}
	select {
	case <-stopped.C:
		t.Error("a stopped heartbeat fired")
	default:
	}
	h.stop(early) // after it fired: harmless
	if n := h.pending(); n != 0 {
		t.Errorf("%d pending after all fired", n)
	}

	// Many at once, stopped in any order, leave nothing behind.
	bs := make([]*heartbeat, 1000)
	for i := range bs {
		bs[i] = h.start(time.Duration(1000-i) * time.Minute)
	}
	for i := 0; i < len(bs); i += 2 {
		h.stop(bs[i])
	}
	for i := len(bs) - 1; i > 0; i -= 2 {
		h.stop(bs[i])
	}
	if n := h.pending(); n != 0 {
		t.Errorf("%d pending after all stopped", n)
	}
	// A heartbeat started after the timer went idle still fires.
	b := h.start(10 * time.Millisecond)
	select {
	case <-b.C:
	case <-time.After(5 * time.Second):
		t.Fatal("a heartbeat started on an idle clock never fired")
	}
}

// pending is how many heartbeats wait (tests).
func (h *heartbeats) pending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.due)
}
