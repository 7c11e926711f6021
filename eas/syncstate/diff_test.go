package syncstate

import (
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	known := Items{"a": "1", "b": "1", "c": "1", "d": "", "e": "1"}
	now := Items{"a": "1", "b": "2", "d": "1", "e": "1", "f": "1", "0": "9"}
	adds, changes, deletes := Diff(known, now)
	if want := []string{"0", "f"}; !slices.Equal(adds, want) {
		t.Errorf("adds = %v, want %v", adds, want)
	}
	// "d" has an empty (stale) known version: always re-sent.
	if want := []string{"b", "d"}; !slices.Equal(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	if want := []string{"c"}; !slices.Equal(deletes, want) {
		t.Errorf("deletes = %v, want %v", deletes, want)
	}
}

func TestDiffEmpty(t *testing.T) {
	a, c, d := Diff(nil, nil)
	if len(a)+len(c)+len(d) != 0 {
		t.Errorf("Diff(nil, nil) = %v %v %v", a, c, d)
	}
	a, c, d = Diff(Items{"x": "1"}, Items{"x": "1"})
	if len(a)+len(c)+len(d) != 0 {
		t.Errorf("Diff of equal items = %v %v %v", a, c, d)
	}
	a, _, _ = Diff(nil, Items{"b": "1", "a": "1"})
	if !slices.Equal(a, []string{"a", "b"}) {
		t.Errorf("initial adds = %v", a)
	}
}
