package eas_test

import (
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// A folder no store keeps (the Outbox; before their stores landed, the
// calendar, tasks and notes folders too) keeps nothing, so a client's
// Add, Change or Delete there must be refused item by item: answered
// Status 1, a phone deletes its own copy or stops retrying, and the item
// is lost.
func TestSyncNoStoreRefusesItems(t *testing.T) {
	s := startSync(t)
	for _, folder := range []string{"Outbox"} {
		t.Run(folder, func(t *testing.T) {
			id := s.ids[folder]
			key := s.start(t, id)
			data := wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
				wbxml.TextElement(wbxml.MustTag("Calendar:Subject"), "lunch"))
			rc := s.sync(t, message.SyncCollection{SyncKey: key, CollectionID: id, Commands: &message.SyncClientCommands{
				Add:    []message.SyncClientAdd{{ClientID: "c1", ApplicationData: data}},
				Change: []message.SyncClientChange{{ServerID: id + ":1", ApplicationData: data}},
				Delete: []message.SyncClientDelete{{ServerID: id + ":2"}},
			}})
			if rc.Status != 1 || rc.Responses == nil {
				t.Fatalf("answer %+v", rc)
			}
			r := rc.Responses
			if len(r.Add) != 1 || r.Add[0].ClientID != "c1" || r.Add[0].Status == 1 || r.Add[0].ServerID != "" {
				t.Errorf("Add answered %+v, want a failure with its ClientId", r.Add)
			}
			if len(r.Change) != 1 || r.Change[0].Status == 1 {
				t.Errorf("Change answered %+v, want a failure", r.Change)
			}
			if len(r.Delete) != 1 || r.Delete[0].Status == 1 {
				t.Errorf("Delete answered %+v, want a failure", r.Delete)
			}
			// Nothing was kept: the folder still reads as empty.
			if rc2 := s.sync(t, message.SyncCollection{SyncKey: rc.SyncKey, CollectionID: id}); rc2.Status != 1 || rc2.Commands != nil {
				t.Fatalf("after the refused items: %+v", rc2)
			}
		})
	}
	if logs := s.env.Logs(); !strings.Contains(logs, `"msg":"sync: client commands refused, this folder keeps no items"`) ||
		!strings.Contains(logs, `"class":"Email"`) {
		t.Errorf("refusal not logged with its class")
	}
}
