package eas_test

import (
	"testing"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/wbxml"
)

// Helpers every PIM class's Sync tests share; contactsEnv's pull and
// send serve any store folder.

// startFolder is the phone's folder of that display name ("Notes"),
// synced to the end; version, when not empty, is the protocol version
// the phone speaks.
func startFolder(t *testing.T, s *syncEnv, name, version string) *contactsEnv {
	t.Helper()
	if version != "" {
		s.c.Version = version
	}
	e := &contactsEnv{syncEnv: s, folder: s.ids[name]}
	e.key = e.start(t, e.folder)
	e.key, _ = e.pull(t)
	return e
}

// decodedAs decodes a rendered ApplicationData as the item struct T
// (message.Note, ...).
func decodedAs[T any](t *testing.T, data any) *T {
	t.Helper()
	el, ok := data.(*wbxml.Element)
	if !ok {
		t.Fatalf("ApplicationData %T", data)
	}
	v, err := model.DecodeItem[T](el)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// deleteReplayed has phone a delete serverID and send the same request
// again, as after a lost response: the replay is answered with nothing,
// phone b sees one Delete, and a nothing more.
func deleteReplayed(t *testing.T, a, b *contactsEnv, serverID string) {
	t.Helper()
	del := &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: serverID}}}
	key := a.key
	a.send(t, del)
	a.key = key
	if rc := a.send(t, del); rc.Responses != nil && len(rc.Responses.Delete) > 0 {
		t.Fatalf("replayed Delete answered %+v", rc.Responses.Delete)
	}
	if _, cmds := b.pull(t); len(cmds.Delete) != 1 || cmds.Delete[0].ServerID != serverID {
		t.Fatalf("other phone after the delete: %+v", cmds)
	}
	if _, cmds := a.pull(t); len(cmds.Add)+len(cmds.Change)+len(cmds.Delete) != 0 {
		t.Fatalf("replaying phone after the delete: %+v", cmds)
	}
}
