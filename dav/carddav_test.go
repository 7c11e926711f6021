package dav_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
)

// ms is a parsed multistatus.
type ms struct {
	Responses []struct {
		Href     string `xml:"href"`
		Status   string `xml:"status"`
		Propstat []struct {
			Status string `xml:"status"`
			Prop   struct {
				Inner string `xml:",innerxml"`
			} `xml:"prop"`
		} `xml:"propstat"`
	} `xml:"response"`
	SyncToken string `xml:"sync-token"`
}

func parseMS(t testing.TB, r res) ms {
	t.Helper()
	if r.code != http.StatusMultiStatus {
		t.Fatalf("want 207, got %d: %s", r.code, r.body)
	}
	var m ms
	if err := xml.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("multistatus: %v\n%s", err, r.body)
	}
	return m
}

// prop returns the text of the first element local in s.
func prop(s, local string) string {
	m := regexp.MustCompile(`<[A-Za-z]*:?` + local + `[^>]*>([^<]*)<`).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

func (e *env) bookPath() string { return "/dav/addressbooks/alice/" + e.folder + "/" }

// token is the book's sync-token and ctag.
func (e *env) token(t testing.TB) (string, string) {
	t.Helper()
	m := parseMS(t, e.dav(t, "alice", "PROPFIND", e.bookPath(), map[string]string{"Depth": "0"},
		propfindBody("<D:sync-token/>", "<CS:getctag/>")))
	p := m.Responses[0].Propstat[0].Prop.Inner
	return prop(p, "sync-token"), prop(p, "getctag")
}

// syncReport runs sync-collection and returns changed hrefs -> etag,
// removed hrefs, and the new token.
func (e *env) syncReport(t testing.TB, token string) (map[string]string, []string, string) {
	t.Helper()
	m := parseMS(t, e.dav(t, "alice", "REPORT", e.bookPath(), map[string]string{"Depth": "0", "Content-Type": "application/xml"},
		syncBody(token, "<D:getetag/>")))
	changed := map[string]string{}
	var removed []string
	for _, r := range m.Responses {
		if strings.Contains(r.Status, "404") {
			removed = append(removed, r.Href)
			continue
		}
		changed[r.Href] = prop(r.Propstat[0].Prop.Inner, "getetag")
	}
	return changed, removed, m.SyncToken
}

func TestDiscovery(t *testing.T) {
	e := start(t)
	r := e.dav(t, "", "GET", "/.well-known/carddav", nil, "")
	if r.code != http.StatusMovedPermanently || r.h.Get("Location") != "/dav/" {
		t.Fatalf("well-known: %d %v", r.code, r.h)
	}
	if r := e.dav(t, "", "PROPFIND", "/dav/", nil, ""); r.code != http.StatusUnauthorized || r.h.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credentials: %d %v", r.code, r.h)
	}
	if r := e.dav(t, "alice", "OPTIONS", "/dav/", nil, ""); !strings.Contains(r.h.Get("DAV"), "addressbook") {
		t.Fatalf("OPTIONS: %d %v", r.code, r.h)
	}
	m := parseMS(t, e.dav(t, "alice", "PROPFIND", "/dav/", map[string]string{"Depth": "0"}, propfindBody("<D:current-user-principal/>")))
	if !strings.Contains(m.Responses[0].Propstat[0].Prop.Inner, "/dav/principals/alice/") {
		t.Fatalf("principal: %+v", m)
	}
	m = parseMS(t, e.dav(t, "alice", "PROPFIND", "/dav/principals/alice/", map[string]string{"Depth": "0"},
		propfindBody("<C:addressbook-home-set/>", "<D:displayname/>")))
	if !strings.Contains(m.Responses[0].Propstat[0].Prop.Inner, "/dav/addressbooks/alice/") {
		t.Fatalf("home set: %+v", m)
	}
	m = parseMS(t, e.dav(t, "alice", "PROPFIND", "/dav/addressbooks/alice/", map[string]string{"Depth": "1"},
		propfindBody("<D:resourcetype/>", "<D:displayname/>", "<CS:getctag/>", "<D:sync-token/>", "<D:x-unknown/>")))
	if len(m.Responses) != 2 || m.Responses[1].Href != e.bookPath() ||
		prop(m.Responses[1].Propstat[0].Prop.Inner, "displayname") != "Contacts" ||
		!strings.Contains(m.Responses[1].Propstat[0].Prop.Inner, "addressbook") {
		t.Fatalf("books: %+v", m)
	}
	if len(m.Responses[1].Propstat) != 2 || !strings.Contains(m.Responses[1].Propstat[1].Status, "404") {
		t.Fatalf("unknown property not 404: %+v", m.Responses[1])
	}
}

func TestWritesConditionsAndPhone(t *testing.T) {
	e := start(t)
	path := e.bookPath() + "jane.vcf"
	body := card("jane-1", "Jane Doe", "N:Doe;Jane;;;", "EMAIL:jane@example.test", "X-DESKTOP-ONLY:kept")
	r := e.dav(t, "alice", "PUT", path, map[string]string{"Content-Type": vcardType, "If-None-Match": "*"}, body)
	if r.code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	// The phone sees it.
	cmds := e.pull(t)
	if len(cmds.Add) != 1 || decoded(t, cmds.Add[0]).Email1Address != "jane@example.test" {
		t.Fatalf("phone after PUT: %+v", cmds)
	}
	sid := cmds.Add[0].ServerID
	r = e.dav(t, "alice", "GET", path, nil, "")
	tag1 := r.h.Get("ETag")
	if r.code != 200 || tag1 == "" || !strings.Contains(r.body, "X-DESKTOP-ONLY:kept") {
		t.Fatalf("GET: %d %v %s", r.code, r.h, r.body)
	}
	if r := e.dav(t, "alice", "PUT", path, map[string]string{"Content-Type": vcardType, "If-None-Match": "*"}, body); r.code != http.StatusPreconditionFailed {
		t.Fatalf("If-None-Match * on existing: %d", r.code)
	}
	if r := e.dav(t, "alice", "PUT", path, map[string]string{"Content-Type": vcardType, "If-Match": `"999"`}, body); r.code != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d", r.code)
	}

	// A phone edit keeps the desktop-only property and changes ETag,
	// ctag and sync token.
	tok1, ctag1 := e.token(t)
	e.phoneChange(t, sid, &message.Contact{FirstName: "Jane", LastName: "Doe", Email1Address: "jane@phone.test", FileAs: "Doe, Jane"})
	r = e.dav(t, "alice", "GET", path, nil, "")
	if r.h.Get("ETag") == tag1 || !strings.Contains(r.body, "X-DESKTOP-ONLY:kept") || !strings.Contains(r.body, "jane@phone.test") {
		t.Fatalf("after phone edit: %v %s", r.h, r.body)
	}
	tok2, ctag2 := e.token(t)
	if tok2 == tok1 || ctag2 == ctag1 {
		t.Fatalf("token/ctag unchanged by phone edit: %s %s", tok2, ctag2)
	}
	changed, removed, _ := e.syncReport(t, tok1)
	if len(changed) != 1 || changed[path] != r.h.Get("ETag") || len(removed) != 0 {
		t.Fatalf("sync after phone edit: %v %v", changed, removed)
	}

	// A DAV PUT replaces the whole card: nothing of the old one stays.
	tag2 := r.h.Get("ETag")
	r = e.dav(t, "alice", "PUT", path, map[string]string{"Content-Type": vcardType, "If-Match": tag2},
		card("jane-1", "Jane Roe", "N:Roe;Jane;;;"))
	if r.code != http.StatusNoContent {
		t.Fatalf("PUT If-Match: %d %s", r.code, r.body)
	}
	r = e.dav(t, "alice", "GET", path, nil, "")
	if strings.Contains(r.body, "EMAIL") || strings.Contains(r.body, "X-DESKTOP-ONLY") || !strings.Contains(r.body, "Roe") {
		t.Fatalf("stale data after PUT: %s", r.body)
	}
	cmds = e.pull(t)
	if len(cmds.Change) != 1 || decoded(t, cmds.Change[0]).LastName != "Roe" || decoded(t, cmds.Change[0]).Email1Address != "" {
		t.Fatalf("phone after DAV edit: %+v", cmds)
	}

	// A DAV write wakes a waiting Ping.
	woke := make(chan *message.PingResponse, 1)
	go func() {
		pr, err := e.phone.Ping(context.Background(), 60*time.Second, message.PingFolder{ID: e.folder, Class: "Contacts"})
		if err != nil {
			t.Errorf("Ping: %v", err)
		}
		woke <- pr
	}()
	time.Sleep(500 * time.Millisecond)
	e.dav(t, "alice", "PUT", e.bookPath()+"ping.vcf", map[string]string{"Content-Type": vcardType}, card("ping-1", "Ping Me"))
	select {
	case pr := <-woke:
		if pr == nil || pr.Status != 2 {
			t.Fatalf("Ping: %+v", pr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ping not woken by a DAV write")
	}
	e.pull(t)

	// Deletes: If-Match, then the phone and the sync report see it.
	tag3 := e.dav(t, "alice", "GET", path, nil, "").h.Get("ETag")
	if r := e.dav(t, "alice", "DELETE", path, map[string]string{"If-Match": tag1}, ""); r.code != http.StatusPreconditionFailed {
		t.Fatalf("DELETE stale If-Match: %d", r.code)
	}
	tok3, _ := e.token(t)
	if r := e.dav(t, "alice", "DELETE", path, map[string]string{"If-Match": tag3}, ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.code, r.body)
	}
	if r := e.dav(t, "alice", "GET", path, nil, ""); r.code != http.StatusNotFound {
		t.Fatalf("GET deleted: %d", r.code)
	}
	if cmds := e.pull(t); len(cmds.Delete) != 1 || cmds.Delete[0].ServerID != sid {
		t.Fatalf("phone after DAV delete: %+v", cmds)
	}
	changed, removed, _ = e.syncReport(t, tok3)
	if len(changed) != 0 || len(removed) != 1 || removed[0] != path {
		t.Fatalf("sync after delete: %v %v", changed, removed)
	}
	// A phone delete too.
	psid := ""
	for _, a := range e.pull(t).Add {
		psid = a.ServerID
	}
	_ = psid
}

func TestSyncTokens(t *testing.T) {
	e := start(t)
	for i := range 3 {
		e.dav(t, "alice", "PUT", e.bookPath()+fmt.Sprintf("c%d.vcf", i), map[string]string{"Content-Type": vcardType},
			card(fmt.Sprintf("uid-%d", i), fmt.Sprintf("Card %d", i)))
	}
	all, removed, tok := e.syncReport(t, "")
	if len(all) != 3 || len(removed) != 0 {
		t.Fatalf("initial: %v %v", all, removed)
	}
	if c, r, tok2 := e.syncReport(t, tok); len(c)+len(r) != 0 || tok2 != tok {
		t.Fatalf("no change: %v %v %s", c, r, tok2)
	}
	// A phone add and delete.
	sid := e.phoneAdd(t, &message.Contact{FirstName: "From", LastName: "Phone"})
	c, r, tok2 := e.syncReport(t, tok)
	if len(c) != 1 || len(r) != 0 {
		t.Fatalf("after phone add: %v %v", c, r)
	}
	e.send(t, &message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: sid}}})
	c, r, _ = e.syncReport(t, tok2)
	if len(c) != 0 || len(r) != 1 {
		t.Fatalf("after phone delete: %v %v", c, r)
	}
	// From the first token, the card added and deleted since is reported
	// removed (a client may not know it; RFC 6578 allows it) and never
	// changed.
	c, _, _ = e.syncReport(t, tok)
	if len(c) != 0 {
		t.Fatalf("from the first token: %v", c)
	}
	for _, bad := range []string{"urn:x-easd:sync:999:1", "garbage", strings.Replace(tok, ":", ":9", 1)} {
		rr := e.dav(t, "alice", "REPORT", e.bookPath(), map[string]string{"Depth": "0"}, syncBody(bad, "<D:getetag/>"))
		if rr.code != http.StatusForbidden || !strings.Contains(rr.body, "valid-sync-token") {
			t.Fatalf("token %q: %d %s", bad, rr.code, rr.body)
		}
	}
	// A token from the future (as after the book was made again) too.
	future := tok[:strings.LastIndex(tok, ":")+1] + "99999"
	if rr := e.dav(t, "alice", "REPORT", e.bookPath(), map[string]string{"Depth": "0"}, syncBody(future)); rr.code != http.StatusForbidden {
		t.Fatalf("future token: %d", rr.code)
	}
	// Pruned tombstones make older tokens too old.
	if _, err := e.DB.Pool.Exec(context.Background(), `UPDATE contact_tombstones SET deleted = now() - interval '1000 days'`); err != nil {
		t.Fatal(err)
	}
	if rr := e.dav(t, "alice", "REPORT", e.bookPath(), map[string]string{"Depth": "0"}, syncBody(tok)); rr.code != http.StatusForbidden ||
		!strings.Contains(rr.body, "valid-sync-token") {
		t.Fatalf("token older than pruned tombstones: %d %s", rr.code, rr.body)
	}
	// Limit: cut with 507 and a token that goes on from there.
	m := parseMS(t, e.dav(t, "alice", "REPORT", e.bookPath(), map[string]string{"Depth": "0"},
		`<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:limit><D:nresults>2</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>`))
	if len(m.Responses) != 3 || !strings.Contains(m.Responses[2].Status, "507") {
		t.Fatalf("limit: %+v", m)
	}
	if c, _, _ := e.syncReport(t, m.SyncToken); len(c) != 1 {
		t.Fatalf("after a cut report: %v", c)
	}
}
