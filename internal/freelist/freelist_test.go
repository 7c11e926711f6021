package freelist

import "testing"

// A list gives back what it kept, newest or oldest alike, keeps no more
// than its size, and never blocks.
func TestList(t *testing.T) {
	l := New[int](2)
	if _, ok := l.Get(); ok {
		t.Fatal("an empty list gave a value")
	}
	l.Put(1)
	l.Put(2)
	l.Put(3) // full: dropped
	got := 0
	for {
		v, ok := l.Get()
		if !ok {
			break
		}
		if v != 1 && v != 2 {
			t.Fatalf("got %d, which was dropped", v)
		}
		got++
	}
	if got != 2 {
		t.Fatalf("%d values kept, want 2", got)
	}
}
