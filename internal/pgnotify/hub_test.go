package pgnotify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/testenv"
)

// wakeWithin is the generous bound on a notification's delivery.
const wakeWithin = 5 * time.Second

func newHub(t *testing.T, dsn string) *Hub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := New(ctx, dsn, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// testWriter sends the Hub's log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func receive(t *testing.T, s *Sub) Payload {
	t.Helper()
	select {
	case p, ok := <-s.C():
		if !ok {
			t.Fatalf("%s: channel closed", s.topic)
		}
		return p
	case <-time.After(wakeWithin):
		t.Fatalf("%s: nothing received within %v", s.topic, wakeWithin)
	}
	return Payload{}
}

func nothing(t *testing.T, s *Sub, wait time.Duration) {
	t.Helper()
	select {
	case p, ok := <-s.C():
		if ok {
			t.Errorf("%s: unexpected %+v", s.topic, p)
		}
	case <-time.After(wait):
	}
}

func TestPublishReachesOtherInstance(t *testing.T) {
	t.Parallel()
	db := testenv.PG(t)
	a, b := newHub(t, db.DSN), newHub(t, db.DSN)
	onA, onB := a.Subscribe("device:123"), b.Subscribe("device:123")
	other := b.Subscribe("device:124")
	ctx := context.Background()

	start := time.Now()
	if err := Publish(ctx, db.Pool, "device:123", "ping 2"); err != nil {
		t.Fatal(err)
	}
	want := Payload{Topic: "device:123", Data: "ping 2"}
	if p := receive(t, onB); p != want {
		t.Errorf("other instance got %+v, want %+v", p, want)
	}
	t.Logf("publish -> other instance: %v", time.Since(start))
	if p := receive(t, onA); p != want {
		t.Errorf("publishing instance got %+v, want %+v", p, want)
	}
	nothing(t, other, 200*time.Millisecond)

	// A transaction publishes at commit, and not at all on rollback.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Publish(ctx, tx, "device:124", "rolled back"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	nothing(t, other, 300*time.Millisecond)

	// A single connection works as well as a pool.
	conn, err := pgx.Connect(ctx, db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := Publish(ctx, conn, "device:124", ""); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, other); p != (Payload{Topic: "device:124"}) {
		t.Errorf("got %+v", p)
	}
}

func TestManySubscribersAndClose(t *testing.T) {
	t.Parallel()
	db := testenv.PG(t)
	h := newHub(t, db.DSN)
	const n = 200
	subs := make([]*Sub, n)
	for i := range subs {
		subs[i] = h.Subscribe("user:45:folder:7")
	}
	if got := h.Subscribers(); got != n {
		t.Fatalf("Subscribers() = %d, want %d", got, n)
	}
	ctx := context.Background()
	if err := Publish(ctx, db.Pool, "user:45:folder:7", "changed"); err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if p := receive(t, s); p.Data != "changed" {
			t.Fatalf("got %+v", p)
		}
	}

	// Unsubscribed: the channel is closed and receives nothing more.
	gone := subs[0]
	gone.Close()
	gone.Close() // idempotent
	if err := Publish(ctx, db.Pool, "user:45:folder:7", "again"); err != nil {
		t.Fatal(err)
	}
	for _, s := range subs[1:] {
		receive(t, s)
	}
	if _, ok := <-gone.C(); ok {
		t.Error("closed subscription received a payload")
	}
	if got := h.Subscribers(); got != n-1 {
		t.Errorf("Subscribers() = %d, want %d", got, n-1)
	}

	// A slow subscriber loses payloads beyond its buffer, not its wake-up.
	slow := h.Subscribe("device:9")
	for i := range subBuffer + 5 {
		if err := Publish(ctx, db.Pool, "device:9", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if p := receive(t, slow); p.Data != "0" {
		t.Errorf("first payload %+v", p)
	}

	// Hub.Close ends every waiting subscriber promptly.
	start := time.Now()
	h.Close()
	for _, s := range subs[1:] {
		for range s.C() {
		}
	}
	if d := time.Since(start); d > wakeWithin {
		t.Errorf("Close took %v", d)
	}
	if _, ok := <-h.Subscribe("late").C(); ok {
		t.Error("subscription after Close is open")
	}
}

func TestOversizedPublishIsRefused(t *testing.T) {
	t.Parallel()
	db := testenv.PG(t)
	err := Publish(context.Background(), db.Pool, "device:1", strings.Repeat("x", MaxPayload))
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v", err)
	}
}

// TestResyncAfterRestart restarts the cluster shared by the test binary:
// it must not run in parallel with the other tests of this package.
func TestResyncAfterRestart(t *testing.T) {
	db := testenv.PG(t)
	h := newHub(t, db.DSN)
	s := h.Subscribe("device:77")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if err := testenv.PGCluster(t).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case p := <-s.C():
		if !p.Resync || p.Topic != "device:77" {
			t.Fatalf("after restart got %+v, want a resync", p)
		}
		t.Logf("resync %v after the restart", time.Since(start))
	case <-time.After(15 * time.Second):
		t.Fatal("no resync within 15 s of the restart")
	}

	// Delivery works again. The pool's connections died with the
	// server: publish on a fresh one.
	conn, err := pgx.Connect(ctx, db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := Publish(ctx, conn, "device:77", "after"); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, s); p.Data != "after" || p.Resync {
		t.Errorf("got %+v", p)
	}
}
