package syncstate

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestExchangePagesUntilDone(t *testing.T) {
	now := Items{"a": "1", "b": "1", "c": "1", "d": "1", "e": "1"}
	known := Items{"x": "1", "b": "0"}
	var pages [][]string
	for range 10 {
		r := Exchange{Known: known, Now: now, Window: 2}.Run()
		pages = append(pages, slices.Concat(r.Deletes, r.Changes, r.Adds))
		known = r.State
		if !r.MoreAvailable {
			break
		}
	}
	want := [][]string{{"x", "b"}, {"a", "c"}, {"d", "e"}}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages = %v, want %v (deletes, then changes, then adds)", pages, want)
	}
	if !maps.Equal(known, now) {
		t.Errorf("final state %v, want %v", known, now)
	}
}

func TestExchangeWindowSpecials(t *testing.T) {
	now := Items{"a": "1", "b": "1"}
	r := Exchange{Known: Items{}, Now: now, Window: NoChanges,
		Client: []ClientOp{{Kind: OpAdd, ServerID: "b", Version: "1"}}}.Run()
	if len(r.Adds) != 0 || !r.MoreAvailable || !maps.Equal(r.State, Items{"b": "1"}) {
		t.Errorf("NoChanges: %+v", r)
	}
	r = Exchange{Known: nil, Now: now, Window: Unlimited}.Run()
	if !slices.Equal(r.Adds, []string{"a", "b"}) || r.MoreAvailable {
		t.Errorf("Unlimited: %+v", r)
	}
}

func TestExchangeClientOps(t *testing.T) {
	known := Items{"k1": "1", "k2": "1", "k3": "1", "k4": "1"}
	// The store after the handler applied the client commands:
	// new item n1 (client Add), k1 changed by the client (accepted, now 2),
	// k2 changed by the server and the client's Change refused (server
	// wins), k3 deleted by the client, k4 deleted on the server while the
	// client changed it, n2 re-sent Add answered from the ClientId record
	// but changed on the server since.
	now := Items{"n1": "1", "k1": "2", "k2": "5", "n2": "3"}
	ops := []ClientOp{
		{Kind: OpAdd, ServerID: "n1", Version: "1"},
		{Kind: OpChange, ServerID: "k1", Version: "2"},
		{Kind: OpChange, ServerID: "k2"},
		{Kind: OpDelete, ServerID: "k3"},
		{Kind: OpChange, ServerID: "k4"},
		{Kind: OpAdd, ServerID: "n2", Version: "2"},
		{Kind: OpAdd}, // refused by the store: no ServerId
	}
	r := Exchange{Known: known, Now: now, Client: ops, Window: 10}.Run()
	if len(r.Adds) != 0 || !slices.Equal(r.Changes, []string{"k2", "n2"}) || !slices.Equal(r.Deletes, []string{"k4"}) {
		t.Errorf("got adds %v changes %v deletes %v", r.Adds, r.Changes, r.Deletes)
	}
	if !maps.Equal(r.State, now) {
		t.Errorf("state %v, want %v", r.State, now)
	}
	if !maps.Equal(known, Items{"k1": "1", "k2": "1", "k3": "1", "k4": "1"}) {
		t.Errorf("Run modified Known: %v", known)
	}
}

func TestExchangeStaleChangeOutsideWindowStaysStale(t *testing.T) {
	known := Items{"a": "1", "b": "1"}
	now := Items{"a": "1", "b": "1", "c": "1"}
	ops := []ClientOp{{Kind: OpChange, ServerID: "b"}} // refused, store unchanged
	r := Exchange{Known: known, Now: now, Client: ops, Window: 0}.Run()
	if r.State["b"] != "" || !r.MoreAvailable {
		t.Errorf("refused change must stay stale until sent: %+v", r)
	}
	r = Exchange{Known: r.State, Now: now, Window: 1}.Run()
	if !slices.Equal(r.Changes, []string{"b"}) || r.State["b"] != "1" {
		t.Errorf("stale item not re-sent first: %+v", r)
	}
}

func TestExchangeOrderAndDeterminism(t *testing.T) {
	now := Items{"1": "a", "2": "a", "10": "a", "3": "a"}
	desc := func(a, b string) int { return cmpNum(b, a) } // numeric, descending
	x := Exchange{Known: Items{}, Now: now, Window: 3, Order: desc}
	r1, r2 := x.Run(), x.Run()
	if !reflect.DeepEqual(r1, r2) {
		t.Fatal("same inputs, different results")
	}
	if !slices.Equal(r1.Adds, []string{"10", "3", "2"}) {
		t.Errorf("adds %v, want newest first", r1.Adds)
	}
}

func cmpNum(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func TestChangedOnServer(t *testing.T) {
	known := Items{"a": "1", "s": ""}
	for _, c := range []struct {
		id, ver string
		want    bool
	}{{"a", "1", false}, {"a", "2", true}, {"s", "1", true}, {"x", "1", true}} {
		if got := ChangedOnServer(known, c.id, c.ver); got != c.want {
			t.Errorf("ChangedOnServer(%q, %q) = %v", c.id, c.ver, got)
		}
	}
}
