package pgnotify

import (
	"context"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
)

// waitQuiet polls QuietSince until it answers want: arrivals and
// reconnects are noted by the hub's goroutine.
func waitQuiet(t *testing.T, h *Hub, topic string, since time.Time, want bool) {
	t.Helper()
	deadline := time.Now().Add(wakeWithin)
	for h.QuietSince(topic, since) != want {
		if time.Now().After(deadline) {
			t.Fatalf("QuietSince(%s, %v) stays %v", topic, since.Format(time.StampMicro), !want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestQuietSince: a remembered topic is quiet until a notification of it
// arrives; other topics, times before the hub listened and times older
// than the ttl are never vouched for.
func TestQuietSince(t *testing.T) {
	t.Parallel()
	db := testenv.PG(t)
	h := newHub(t, db.DSN)
	h.Remember("folders:", time.Hour)
	ctx := context.Background()

	before := time.Now()
	if h.QuietSince("folders:1", before.Add(-time.Minute)) {
		t.Error("quiet since before the hub listened")
	}
	if !h.QuietSince("folders:1", before) {
		t.Error("a remembered topic without notifications is not quiet")
	}
	if h.QuietSince("device:1", before) {
		t.Error("a topic without a remembered prefix is vouched for")
	}

	// No subscriber is needed: arrivals are noted per topic.
	if err := Publish(ctx, db.Pool, "folders:1", "x"); err != nil {
		t.Fatal(err)
	}
	waitQuiet(t, h, "folders:1", before, false)
	if !h.QuietSince("folders:2", before) {
		t.Error("a notification of folders:1 made folders:2 noisy")
	}
	after := time.Now()
	if !h.QuietSince("folders:1", after) {
		t.Error("not quiet since after the last arrival")
	}

	// A short ttl: older times are not vouched for, old arrivals pruned.
	h.Remember("short:", time.Second)
	if err := Publish(ctx, db.Pool, "short:1", "x"); err != nil {
		t.Fatal(err)
	}
	waitQuiet(t, h, "short:1", after, false)
	time.Sleep(1100 * time.Millisecond)
	if h.QuietSince("short:1", after) {
		t.Error("vouched for a time older than the ttl")
	}
	if err := Publish(ctx, db.Pool, "short:2", "x"); err != nil { // prunes
		t.Fatal(err)
	}
	waitQuiet(t, h, "short:2", after.Add(time.Second), false)
	h.mu.Lock()
	_, kept := h.quiet.last["short:1"]
	n := len(h.quiet.last)
	h.mu.Unlock()
	if kept || n != 2 { // folders:1, short:2
		t.Errorf("after pruning: short:1 kept %v, %d entries, want folders:1 and short:2", kept, n)
	}
}

// TestQuietSinceBreak: after the LISTEN connection is cut and restored,
// no time before the reconnect is quiet; later ones are again.
func TestQuietSinceBreak(t *testing.T) {
	t.Parallel()
	db := testenv.PG(t)
	h := newHub(t, db.DSN)
	h.Remember("folders:", time.Hour)
	s := h.Subscribe("folders:9")
	ctx := context.Background()
	before := time.Now()
	if !h.QuietSince("folders:9", before) {
		t.Fatal("not quiet before the break")
	}
	// The hub's connection is the one of this database that LISTENs.
	if _, err := db.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, s); !p.Resync {
		t.Fatalf("got %+v, want a resync", p)
	}
	if h.QuietSince("folders:9", before) {
		t.Error("quiet since before the break")
	}
	if !h.QuietSince("folders:9", time.Now()) {
		t.Error("not quiet since after the reconnect")
	}
}
