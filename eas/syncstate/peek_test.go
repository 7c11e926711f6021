package syncstate

import (
	"testing"
)

func TestPeekReturnsCurrentStateOnly(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, Items{"a": "1"}, NoChanges)
	_, _, k2 := f.exchange(t, f.dev, "5", k1, Items{"a": "1"}, 100)
	_, _, _ = f.exchange(t, f.dev, "6", InitialKey, nil, NoChanges)

	got, err := f.eng.Peek(f.ctx, f.dev, "5", "6", "7")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("peek: %d collections, want 2 (7 has no key): %v", len(got), got)
	}
	items, err := DecodeItems(got["5"])
	if err != nil || items["a"] != "1" {
		t.Fatalf("state of 5 at %s: %v %v, want the current key's items", k2, items, err)
	}
	if _, ok := got["6"]; !ok {
		t.Fatal("no state of 6, want its key-0 state")
	}

	// Peek must not wait for a request holding the collection.
	tx, err := f.eng.Begin(f.ctx, f.dev, "5", k2)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx)
	if _, err := f.eng.Peek(f.ctx, f.dev, "5"); err != nil {
		t.Fatalf("peek while locked: %v", err)
	}
	if got, err := f.eng.Peek(f.ctx, f.dev); err != nil || len(got) != 0 {
		t.Fatalf("peek of nothing: %v %v", got, err)
	}
}

func TestPeekHeadReturnsTheCurrentKeyAndTheStart(t *testing.T) {
	f := newFixture(t)
	_, _, k1 := f.exchange(t, f.dev, "5", InitialKey, Items{"a": "1"}, NoChanges)
	_, _, k2 := f.exchange(t, f.dev, "5", k1, Items{"a": "1", "b": "2"}, 100)
	full, err := f.eng.Peek(f.ctx, f.dev, "5")
	if err != nil {
		t.Fatal(err)
	}
	key, head, ok, err := f.eng.PeekHead(f.ctx, f.dev, "5", 3)
	if err != nil || !ok || key != k2 || string(head) != string(full["5"][:3]) {
		t.Fatalf("head: %q %x %v %v, want %q %x", key, head, ok, err, k2, full["5"][:3])
	}
	// Locked by a request: PeekHead does not wait.
	tx, err := f.eng.Begin(f.ctx, f.dev, "5", k2)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx)
	if _, _, ok, err := f.eng.PeekHead(f.ctx, f.dev, "9", 3); err != nil || ok {
		t.Fatalf("no key: %v %v", ok, err)
	}
	if _, _, _, err := f.eng.PeekHead(f.ctx, f.dev, "5", 3); err != nil {
		t.Fatalf("while locked: %v", err)
	}
}
