package audit

import (
	"context"
	"testing"
	"time"

	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestRecordAndList(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool)
	ctx := context.Background()
	who := Who{Actor: "token:ops", Source: "192.0.2.7"}
	start := time.Now().Add(-time.Minute)
	for _, a := range []struct{ action, target string }{
		{"device.wipe", "alice/dev1"},
		{"device.block", "bob/dev2"},
		{"policy.edit", "policy:sales"},
	} {
		if err := s.Record(ctx, who, a.action, a.target, map[string]any{"reason": "lost"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.List(ctx, Filter{Since: start})
	if err != nil || len(all) != 3 {
		t.Fatalf("list: %d entries, %v", len(all), err)
	}
	if all[0].Action != "policy.edit" || all[0].Actor != "token:ops" || all[0].Source != "192.0.2.7" || all[0].Detail["reason"] != "lost" {
		t.Fatalf("newest entry: %+v", all[0])
	}
	devices, _ := s.List(ctx, Filter{Action: "device."})
	alice, _ := s.List(ctx, Filter{Target: "alice/"})
	page, _ := s.List(ctx, Filter{Before: all[0].ID, Limit: 1})
	if len(devices) != 2 || len(alice) != 1 || len(page) != 1 || page[0].Action != "device.block" {
		t.Fatalf("filters: %d devices, %d alice, page %+v", len(devices), len(alice), page)
	}
	// An actor or action that is a prefix is not matched without its separator.
	none, _ := s.List(ctx, Filter{Action: "device"})
	if len(none) != 0 {
		t.Fatalf("action without separator matched %d", len(none))
	}
	if CLI().Actor == "" || CLI().Source == "" {
		t.Fatal("CLI caller without actor or source")
	}
}
