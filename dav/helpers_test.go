package dav_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/wbxml"
)

// env is an easd with alice's phone synced to her Contacts folder and a
// DAV client for her.
type env struct {
	*easdtest.Env
	phone  *client.Client
	folder string // the Contacts folder id
	key    string // the phone's sync key of it
}

func start(t testing.TB) *env {
	t.Helper()
	e := &env{Env: easdtest.Start(t, func(c *config.Config) { c.EnforcePolicy = false })}
	e.phone = e.Client("alice", "phone-dav")
	r, err := e.phone.FolderSync(context.Background(), "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	for _, f := range r.Changes.Add {
		if f.DisplayName == "Contacts" {
			e.folder = f.ServerID
		}
	}
	rc := e.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: e.folder})
	e.key = rc.SyncKey
	e.pull(t)
	return e
}

func (e *env) sync(t testing.TB, col message.SyncCollection) message.SyncResponseCollection {
	t.Helper()
	r, err := e.phone.Sync(context.Background(), &message.SyncRequest{Collections: &message.SyncCollections{
		Collection: []message.SyncCollection{col}}})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if r.Collections == nil || len(r.Collections.Collection) != 1 || r.Collections.Collection[0].Status != 1 {
		t.Fatalf("Sync answer: %+v", r)
	}
	return r.Collections.Collection[0]
}

// pull syncs the phone until nothing is left and returns the server's
// commands.
func (e *env) pull(t testing.TB) message.SyncCommands {
	t.Helper()
	var all message.SyncCommands
	for range 100 {
		rc := e.sync(t, message.SyncCollection{SyncKey: e.key, CollectionID: e.folder, WindowSize: 512})
		e.key = rc.SyncKey
		if rc.Commands != nil {
			all.Add = append(all.Add, rc.Commands.Add...)
			all.Change = append(all.Change, rc.Commands.Change...)
			all.Delete = append(all.Delete, rc.Commands.Delete...)
		}
		if !rc.MoreAvailable {
			return all
		}
	}
	t.Fatal("MoreAvailable forever")
	return all
}

// send sends the phone's commands and returns the answer.
func (e *env) send(t testing.TB, cmds *message.SyncClientCommands) message.SyncResponseCollection {
	t.Helper()
	f := false
	rc := e.sync(t, message.SyncCollection{SyncKey: e.key, CollectionID: e.folder, Commands: cmds, GetChanges: &f})
	e.key = rc.SyncKey
	return rc
}

// phoneAdd adds a contact from the phone and returns its ServerId.
func (e *env) phoneAdd(t testing.TB, c *message.Contact) string {
	t.Helper()
	rc := e.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "c1", ApplicationData: c}}})
	if rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 1 {
		t.Fatalf("Add answer: %+v", rc.Responses)
	}
	return rc.Responses.Add[0].ServerID
}

// phoneChange sends a Change of serverID with c.
func (e *env) phoneChange(t testing.TB, serverID string, c *message.Contact) {
	t.Helper()
	rc := e.send(t, &message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: serverID, ApplicationData: c}}})
	if rc.Responses != nil && len(rc.Responses.Change) > 0 && rc.Responses.Change[0].Status != 1 {
		t.Fatalf("Change answer: %+v", rc.Responses)
	}
}

// decoded is the contact of a server Add or Change.
func decoded(t testing.TB, it message.SyncItem) *message.Contact {
	t.Helper()
	el, ok := it.ApplicationData.(*wbxml.Element)
	if !ok {
		t.Fatalf("ApplicationData %T", it.ApplicationData)
	}
	c, err := contacts.DecodeContact(el)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// res is an HTTP answer.
type res struct {
	code int
	h    http.Header
	body string
}

// dav sends a request as user (password = user name).
func (e *env) dav(t testing.TB, user, method, path string, hdr map[string]string, body string) res {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, user)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return res{code: resp.StatusCode, h: resp.Header, body: string(b)}
}

const vcardType = "text/vcard; charset=utf-8"

func card(uid, fn string, extra ...string) string {
	s := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\n"
	for _, x := range extra {
		s += x + "\r\n"
	}
	return s + "END:VCARD\r\n"
}

func propfindBody(props ...string) string {
	return `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
		strings.Join(props, "") + `</D:prop></D:propfind>`
}

func syncBody(token string, props ...string) string {
	return `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:sync-token>` +
		token + `</D:sync-token><D:sync-level>1</D:sync-level><D:prop>` + strings.Join(props, "") + `</D:prop></D:sync-collection>`
}
