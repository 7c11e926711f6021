package dav_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/tasks"
	"github.com/easd/easd/wbxml"
)

// todo is a one-VTODO calendar object; extra lines go into the VTODO.
func todo(uid, summary string, extra ...string) string {
	s := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:" + summary + "\r\n"
	for _, x := range extra {
		s += x + "\r\n"
	}
	return s + "END:VTODO\r\nEND:VCALENDAR\r\n"
}

// taskFolder returns the phone's Tasks folder id and starts its sync.
func (e *env) taskFolder(t testing.TB) (string, string) {
	t.Helper()
	r, err := e.phone.FolderSync(context.Background(), "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	id := ""
	for _, f := range r.Changes.Add {
		if f.Type == 7 {
			id = f.ServerID
		}
	}
	rc := e.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: id})
	return id, rc.SyncKey
}

func todoQuery(start, end string) string {
	tr := ""
	if start != "" {
		tr = `<CAL:time-range start="` + start + `" end="` + end + `"/>`
	}
	return `<?xml version="1.0"?><CAL:calendar-query xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav">` +
		`<D:prop><D:getetag/></D:prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VTODO">` +
		tr + `</CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>`
}

func TestCalDAVTasks(t *testing.T) {
	e := start(t)
	folder, key := e.taskFolder(t)
	base := "/dav/calendars/alice/" + folder + "/"
	put := func(name, body string, hdr map[string]string) res {
		h := map[string]string{"Content-Type": icalType}
		for k, v := range hdr {
			h[k] = v
		}
		return e.dav(t, "alice", "PUT", base+name, h, body)
	}
	phone := func(cmds *message.SyncClientCommands) message.SyncResponseCollection {
		f := false
		rc := e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder, Commands: cmds, GetChanges: &f})
		key = rc.SyncKey
		return rc
	}

	// The home lists the task list after the calendar, for VTODO.
	m := parseMS(t, e.dav(t, "alice", "PROPFIND", "/dav/calendars/alice/", map[string]string{"Depth": "1"},
		`<D:propfind xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><CAL:supported-calendar-component-set/></D:prop></D:propfind>`))
	if len(m.Responses) != 3 || m.Responses[2].Href != base || !strings.Contains(m.Responses[2].Propstat[0].Prop.Inner, `name="VTODO"`) ||
		!strings.Contains(m.Responses[2].Propstat[0].Prop.Inner, "calendar") || strings.Contains(m.Responses[1].Propstat[0].Prop.Inner, "VTODO") {
		t.Fatalf("home listing: %+v", m)
	}
	tok0 := prop(parseMS(t, e.dav(t, "alice", "PROPFIND", base, map[string]string{"Depth": "0"},
		propfindBody("<D:sync-token/>"))).Responses[0].Propstat[0].Prop.Inner, "sync-token")

	// A phone's task appears over CalDAV, named after its UID.
	rc := phone(&message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "t1", ApplicationData: &message.Task{
		Subject: "Phone task", Complete: "0", DueDate: "2026-03-10T00:00:00.000Z", UtcDueDate: "2026-03-10T00:00:00.000Z",
	}}}})
	if rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 1 {
		t.Fatalf("phone Add: %+v", rc.Responses)
	}
	phoneID := rc.Responses.Add[0].ServerID
	m = parseMS(t, e.dav(t, "alice", "PROPFIND", base, map[string]string{"Depth": "1"}, propfindBody("<D:getetag/>")))
	if len(m.Responses) != 2 {
		t.Fatalf("list after the phone's add: %+v", m)
	}
	phoneHref := m.Responses[1].Href
	g := e.dav(t, "alice", "GET", phoneHref, nil, "")
	if g.code != 200 || !strings.Contains(g.body, "SUMMARY:Phone task") || !strings.Contains(g.body, "BEGIN:VTODO") {
		t.Fatalf("GET phone task: %d %s", g.code, g.body)
	}

	// A DAV PUT: 201, If-None-Match, and it wakes a waiting Ping.
	woke := make(chan *message.PingResponse, 1)
	go func() {
		pr, err := e.phone.Ping(context.Background(), 60*time.Second, message.PingFolder{ID: folder, Class: "Tasks"})
		if err != nil {
			t.Errorf("Ping: %v", err)
		}
		woke <- pr
	}()
	time.Sleep(300 * time.Millisecond)
	if r := put("desk.ics", todo("desk", "Desk task", "DUE:20260320T170000Z"), map[string]string{"If-None-Match": "*"}); r.code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	select {
	case pr := <-woke:
		if pr == nil || pr.Status != 2 {
			t.Fatalf("Ping: %+v", pr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ping not woken by a DAV write")
	}
	if r := put("desk.ics", todo("desk", "again"), map[string]string{"If-None-Match": "*"}); r.code != http.StatusPreconditionFailed {
		t.Fatalf("If-None-Match: %d", r.code)
	}
	g = e.dav(t, "alice", "GET", base+"desk.ics", nil, "")
	if g.code != 200 || g.h.Get("ETag") == "" {
		t.Fatalf("GET: %d %v", g.code, g.h)
	}
	// The phone sees it.
	rc = e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder})
	key = rc.SyncKey
	if rc.Commands == nil || len(rc.Commands.Add) != 1 {
		t.Fatalf("phone did not get the DAV task: %+v", rc.Commands)
	}
	el, _ := rc.Commands.Add[0].ApplicationData.(*wbxml.Element)
	if el == nil {
		t.Fatalf("ApplicationData %T", rc.Commands.Add[0].ApplicationData)
	}
	got, err := tasks.DecodeTask(el)
	if err != nil || got.Subject != "Desk task" || got.Complete != "0" {
		t.Fatalf("phone's copy: %+v %v", got, err)
	}
	deskID := rc.Commands.Add[0].ServerID

	// Completing it over DAV with If-Match: 204, and the phone sees it done.
	if r := put("desk.ics", todo("desk", "Desk task", "DUE:20260320T170000Z", "STATUS:COMPLETED", "COMPLETED:20260319T120000Z"),
		map[string]string{"If-Match": `"stale"`}); r.code != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d", r.code)
	}
	if r := put("desk.ics", todo("desk", "Desk task", "DUE:20260320T170000Z", "STATUS:COMPLETED", "COMPLETED:20260319T120000Z"),
		map[string]string{"If-Match": g.h.Get("ETag")}); r.code != http.StatusNoContent {
		t.Fatalf("PUT complete: %d %s", r.code, r.body)
	}
	rc = e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder})
	key = rc.SyncKey
	if rc.Commands == nil || len(rc.Commands.Change) != 1 || rc.Commands.Change[0].ServerID != deskID {
		t.Fatalf("phone did not get the completion: %+v", rc.Commands)
	}
	if got, _ := tasks.DecodeTask(rc.Commands.Change[0].ApplicationData.(*wbxml.Element)); got == nil || got.Complete != "1" {
		t.Fatalf("phone's completed copy: %+v", got)
	}

	// calendar-query: VTODO time ranges on DUE (RFC 4791 9.9), and all.
	if r := put("nodates.ics", todo("nodates", "Someday"), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT nodates: %d %s", r.code, r.body)
	}
	q := func(start, end string) []string {
		return hrefs(parseMS(t, e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "1"}, todoQuery(start, end))))
	}
	phoneName := phoneHref[strings.LastIndex(phoneHref, "/")+1:]
	if got := fmt.Sprint(q("20260315T000000Z", "20260331T000000Z")); got != "[desk.ics nodates.ics]" {
		t.Fatalf("second half of March: %s", got)
	}
	if got := fmt.Sprint(q("20260309T000000Z", "20260312T000000Z")); got != "["+phoneName+" nodates.ics]" {
		t.Fatalf("10 March: %s (phone task %s)", got, phoneName)
	}
	if got := q("", ""); len(got) != 3 {
		t.Fatalf("all: %v", got)
	}
	// A VEVENT filter on a task list matches nothing.
	if got := hrefs(parseMS(t, e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "1"}, calQuery("20260101T000000Z", "20270101T000000Z")))); len(got) != 0 {
		t.Fatalf("VEVENT query on tasks: %v", got)
	}
	// calendar-multiget.
	mg := parseMS(t, e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "1"},
		`<CAL:calendar-multiget xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><CAL:calendar-data/></D:prop>`+
			`<D:href>`+base+`desk.ics</D:href><D:href>`+base+`gone.ics</D:href></CAL:calendar-multiget>`))
	if len(mg.Responses) != 2 || !strings.Contains(mg.Responses[0].Propstat[0].Prop.Inner, "STATUS:COMPLETED") || !strings.Contains(mg.Responses[1].Status, "404") {
		t.Fatalf("multiget: %+v", mg)
	}

	// sync-collection: everything from the first token, then the phone's
	// delete as a removal.
	tok := func(token string) ms {
		return parseMS(t, e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "0"}, syncBody(token, "<D:getetag/>")))
	}
	s1 := tok(tok0)
	if len(s1.Responses) != 3 || s1.SyncToken == "" {
		t.Fatalf("sync from the start: %+v", s1)
	}
	phone(&message.SyncClientCommands{Delete: []message.SyncClientDelete{{ServerID: phoneID}}})
	s2 := tok(s1.SyncToken)
	if len(s2.Responses) != 1 || s2.Responses[0].Href != phoneHref || !strings.Contains(s2.Responses[0].Status, "404") {
		t.Fatalf("sync after the phone's delete: %+v", s2)
	}
	// A DAV DELETE: 204, then 404.
	if r := e.dav(t, "alice", "DELETE", base+"nodates.ics", nil, ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", r.code)
	}
	if r := e.dav(t, "alice", "GET", base+"nodates.ics", nil, ""); r.code != http.StatusNotFound {
		t.Fatalf("GET deleted: %d", r.code)
	}
	if s3 := tok(s2.SyncToken); len(s3.Responses) != 1 || !strings.HasSuffix(s3.Responses[0].Href, "nodates.ics") {
		t.Fatalf("sync after the DAV delete: %+v", s3)
	}

	// MKCALENDAR for VTODO makes a task list (a type-15 folder) the phone sees.
	mk := `<?xml version="1.0"?><CAL:mkcalendar xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<D:displayname>Errands</D:displayname><CAL:supported-calendar-component-set><CAL:comp name="VTODO"/></CAL:supported-calendar-component-set>` +
		`</D:prop></D:set></CAL:mkcalendar>`
	if r := e.dav(t, "alice", "MKCALENDAR", "/dav/calendars/alice/errands/", nil, mk); r.code != http.StatusCreated {
		t.Fatalf("MKCALENDAR: %d %s", r.code, r.body)
	}
	fs, err := e.phone.FolderSync(context.Background(), "0")
	if err != nil {
		t.Fatal(err)
	}
	made := false
	for _, f := range fs.Changes.Add {
		made = made || (f.DisplayName == "Errands" && f.Type == 15)
	}
	if !made {
		t.Fatalf("phone's folders: %+v", fs.Changes.Add)
	}
	if r := e.dav(t, "alice", "PUT", "/dav/calendars/alice/errands/milk.ics", map[string]string{"Content-Type": icalType}, todo("milk", "Milk")); r.code != http.StatusCreated {
		t.Fatalf("PUT in new list: %d %s", r.code, r.body)
	}
	if r := e.dav(t, "alice", "PUT", "/dav/calendars/alice/errands/ev.ics", map[string]string{"Content-Type": icalType},
		event("ev", "Event", "20260302T090000Z", "20260302T093000Z")); r.code != http.StatusForbidden || !strings.Contains(r.body, "supported-calendar-component") {
		t.Fatalf("VEVENT in a task list: %d %s", r.code, r.body)
	}
	// The default list cannot be deleted; a made one can.
	if r := e.dav(t, "alice", "DELETE", base, nil, ""); r.code != http.StatusForbidden {
		t.Fatalf("DELETE default list: %d", r.code)
	}
	if r := e.dav(t, "alice", "DELETE", "/dav/calendars/alice/errands/", nil, ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE list: %d %s", r.code, r.body)
	}
}

func TestCalDAVTasksBadInput(t *testing.T) {
	e := start(t)
	folder, _ := e.taskFolder(t)
	base := "/dav/calendars/alice/" + folder + "/"
	put := func(name, ct, body string) res {
		return e.dav(t, "alice", "PUT", base+name, map[string]string{"Content-Type": ct}, body)
	}
	if r := put("a.ics", icalType, todo("a", "A")); r.code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	for _, c := range []struct {
		name, ct, body string
		code           int
		cond           string
	}{
		{"b.ics", icalType, "hello", 400, "valid-calendar-data"},
		{"b.ics", icalType, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n", 400, "valid-calendar-object-resource"},
		{"b.ics", icalType, event("b", "B", "20260302T090000Z", "20260302T093000Z"), 403, "supported-calendar-component"},
		{"b.ics", "text/plain", todo("b", "B"), 415, "supported-calendar-data"},
		{"b.ics", icalType, todo("a", "Same UID"), 409, "no-uid-conflict"},
		{"a.ics", icalType, todo("other", "UID changed"), 409, "no-uid-conflict"},
		{"b.ics", icalType, todo("b", strings.Repeat("x", 3<<20)), 413, "max-resource-size"},
	} {
		r := put(c.name, c.ct, c.body)
		if r.code != c.code || !strings.Contains(r.body, c.cond) {
			t.Errorf("%s %.40q: %d %s, want %d %s", c.name, c.body, r.code, r.body, c.code, c.cond)
		}
	}
	if r := e.dav(t, "alice", "GET", base+"b.ics", nil, ""); r.code != 404 {
		t.Fatalf("a refused PUT left something: %d", r.code)
	}
	// The UID clash names the task that holds it.
	if r := put("c.ics", icalType, todo("a", "Same UID")); !strings.Contains(r.body, base+"a.ics") {
		t.Errorf("no-uid-conflict without the href: %s", r.body)
	}
	// A MKCALENDAR for events and tasks at once is refused.
	mk := `<?xml version="1.0"?><CAL:mkcalendar xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<CAL:supported-calendar-component-set><CAL:comp name="VEVENT"/><CAL:comp name="VTODO"/></CAL:supported-calendar-component-set>` +
		`</D:prop></D:set></CAL:mkcalendar>`
	if r := e.dav(t, "alice", "MKCALENDAR", "/dav/calendars/alice/both/", nil, mk); r.code != http.StatusForbidden {
		t.Errorf("MKCALENDAR VEVENT+VTODO: %d", r.code)
	}
	// Another user's task lists are 404.
	for _, p := range []string{base, base + "a.ics"} {
		if r := e.dav(t, "bob", "PROPFIND", p, map[string]string{"Depth": "0"}, ""); r.code != 404 {
			t.Errorf("bob PROPFIND %s: %d", p, r.code)
		}
	}
	if r := e.dav(t, "bob", "GET", base+"a.ics", nil, ""); r.code != 404 {
		t.Errorf("bob GET: %d", r.code)
	}
	if r := e.dav(t, "bob", "PUT", base+"x.ics", map[string]string{"Content-Type": icalType}, todo("x", "X")); r.code != 404 {
		t.Errorf("bob PUT: %d", r.code)
	}
}

// TestCalDAVTasksPythonClient: python3-caldav finds the task list,
// creates, lists and completes a todo.
func TestCalDAVTasksPythonClient(t *testing.T) {
	py := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import caldav").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3-caldav is not installed (scripts/deps.sh test installs it)")
		}
		t.Skip("python3-caldav is not installed (scripts/deps.sh test installs it)")
	}
	e := start(t)
	folder, key := e.taskFolder(t)
	out, err := exec.Command(py, "testdata/caldav_todo_client.py", e.URL+"/dav/", "alice", "alice").CombinedOutput()
	if err != nil {
		t.Fatalf("python3-caldav: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	// The phone sees the completed todo.
	rc := e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder})
	if rc.Commands == nil || len(rc.Commands.Add) != 1 {
		t.Fatalf("phone: %+v", rc.Commands)
	}
	got, err := tasks.DecodeTask(rc.Commands.Add[0].ApplicationData.(*wbxml.Element))
	if err != nil || got.Subject != "Python todo" || got.Complete != "1" {
		t.Fatalf("phone's copy: %+v %v", got, err)
	}
}
