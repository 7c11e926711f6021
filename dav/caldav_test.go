package dav_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/easd/easd/eas/message"
)

const icalType = "text/calendar; charset=utf-8"

// event is a one-VEVENT calendar object; extra lines go into the VEVENT.
func event(uid, summary, start, end string, extra ...string) string {
	s := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nDTEND:" + end + "\r\nSUMMARY:" + summary + "\r\n"
	for _, x := range extra {
		s += x + "\r\n"
	}
	return s + "END:VEVENT\r\nEND:VCALENDAR\r\n"
}

// calFolder returns the phone's Calendar folder id and starts its sync.
func (e *env) calFolder(t testing.TB) (string, string) {
	t.Helper()
	r, err := e.phone.FolderSync(context.Background(), "0")
	if err != nil || r.Status != 1 {
		t.Fatalf("FolderSync: %+v %v", r, err)
	}
	id := ""
	for _, f := range r.Changes.Add {
		if f.Type == 8 {
			id = f.ServerID
		}
	}
	rc := e.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: id})
	return id, rc.SyncKey
}

func calQuery(start, end string) string {
	return `<?xml version="1.0"?><CAL:calendar-query xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav">` +
		`<D:prop><D:getetag/></D:prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT">` +
		`<CAL:time-range start="` + start + `" end="` + end + `"/></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>`
}

func hrefs(m ms) []string {
	var out []string
	for _, r := range m.Responses {
		out = append(out, r.Href[strings.LastIndex(r.Href, "/")+1:])
	}
	return out
}

func TestCalDAV(t *testing.T) {
	e := start(t)
	folder, key := e.calFolder(t)
	base := "/dav/calendars/alice/" + folder + "/"
	put := func(name, body string, hdr map[string]string) res {
		h := map[string]string{"Content-Type": icalType}
		for k, v := range hdr {
			h[k] = v
		}
		return e.dav(t, "alice", "PUT", base+name, h, body)
	}

	// Discovery: well-known, the principal's calendar-home-set, the home's calendars.
	if r := e.dav(t, "", "GET", "/.well-known/caldav", nil, ""); r.code != http.StatusMovedPermanently || r.h.Get("Location") != "/dav/" {
		t.Fatalf("well-known: %d %v", r.code, r.h)
	}
	m := parseMS(t, e.dav(t, "alice", "PROPFIND", "/dav/principals/alice/", map[string]string{"Depth": "0"},
		`<D:propfind xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:prop><CAL:calendar-home-set/></D:prop></D:propfind>`))
	if !strings.Contains(m.Responses[0].Propstat[0].Prop.Inner, "/dav/calendars/alice/") {
		t.Fatalf("calendar-home-set: %+v", m)
	}
	m = parseMS(t, e.dav(t, "alice", "PROPFIND", "/dav/calendars/alice/", map[string]string{"Depth": "1"}, propfindBody("<D:resourcetype/>")))
	// The home, the default calendar, then the default task list.
	if len(m.Responses) != 3 || !strings.Contains(m.Responses[1].Propstat[0].Prop.Inner, "calendar") ||
		m.Responses[1].Href != base {
		t.Fatalf("home listing: %+v", m)
	}

	// Create: 201, then GET with the ETag; a second create with If-None-Match is 412.
	r := put("one.ics", event("one", "Standup", "20260302T090000Z", "20260302T093000Z"), map[string]string{"If-None-Match": "*"})
	if r.code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	g := e.dav(t, "alice", "GET", base+"one.ics", nil, "")
	if g.code != 200 || !strings.Contains(g.body, "SUMMARY:Standup") || g.h.Get("ETag") == "" {
		t.Fatalf("GET: %d %v %s", g.code, g.h, g.body)
	}
	if r := put("one.ics", event("one", "x", "20260302T090000Z", "20260302T093000Z"), map[string]string{"If-None-Match": "*"}); r.code != http.StatusPreconditionFailed {
		t.Fatalf("If-None-Match: %d", r.code)
	}
	// The phone sees it.
	rc := e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder})
	key = rc.SyncKey
	if rc.Commands == nil || len(rc.Commands.Add) != 1 {
		t.Fatalf("phone did not get the DAV event: %+v", rc.Commands)
	}
	phoneID := rc.Commands.Add[0].ServerID

	// A weekly series from 2 February to 23 March, and a one-off in April.
	if r := put("weekly.ics", event("weekly", "Weekly", "20260202T140000Z", "20260202T150000Z", "RRULE:FREQ=WEEKLY;COUNT=8"), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT weekly: %d %s", r.code, r.body)
	}
	if r := put("april.ics", event("april", "April", "20260415T100000Z", "20260415T110000Z"), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT april: %d %s", r.code, r.body)
	}
	// A series every 5 weeks from 5 January (9 Feb, 16 Mar, 20 Apr): none in 2-8 March.
	if r := put("sparse.ics", event("sparse", "Sparse", "20260105T080000Z", "20260105T090000Z", "RRULE:FREQ=WEEKLY;INTERVAL=5"), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT sparse: %d %s", r.code, r.body)
	}
	q := func(start, end string) []string {
		return hrefs(parseMS(t, e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "1"}, calQuery(start, end))))
	}
	if got := fmt.Sprint(q("20260302T000000Z", "20260308T000000Z")); got != "[one.ics weekly.ics]" {
		t.Fatalf("first week of March: %s", got)
	}
	if got := fmt.Sprint(q("20260401T000000Z", "20260501T000000Z")); got != "[april.ics sparse.ics]" {
		t.Fatalf("April: %s", got)
	}

	// multiget with data.
	m = parseMS(t, e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "1"},
		`<CAL:calendar-multiget xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><CAL:calendar-data/></D:prop>`+
			`<D:href>`+base+`april.ics</D:href><D:href>`+base+`nope.ics</D:href></CAL:calendar-multiget>`))
	if len(m.Responses) != 2 || !strings.Contains(m.Responses[0].Propstat[0].Prop.Inner, "SUMMARY:April") || !strings.Contains(m.Responses[1].Status, "404") {
		t.Fatalf("multiget: %+v", m)
	}

	// sync-collection: a token, then an update with If-Match, a phone
	// edit and a delete are what changed.
	tokM := parseMS(t, e.dav(t, "alice", "PROPFIND", base, map[string]string{"Depth": "0"}, propfindBody("<D:sync-token/>", "<CS:getctag/>")))
	tok := prop(tokM.Responses[0].Propstat[0].Prop.Inner, "sync-token")
	if r := put("april.ics", event("april", "April moved", "20260416T100000Z", "20260416T110000Z"), map[string]string{"If-Match": `"1"`}); r.code != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d", r.code)
	}
	ga := e.dav(t, "alice", "GET", base+"april.ics", nil, "")
	if r := put("april.ics", event("april", "April moved", "20260416T100000Z", "20260416T110000Z"), map[string]string{"If-Match": ga.h.Get("ETag")}); r.code != http.StatusNoContent {
		t.Fatalf("update: %d %s", r.code, r.body)
	}
	rc = e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder, Commands: &message.SyncClientCommands{
		Change: []message.SyncClientChange{{ServerID: phoneID, ApplicationData: &message.Calendar{
			Subject: "Standup (phone)", StartTime: "20260302T091500Z", EndTime: "20260302T094500Z", BusyStatus: "2"}}}}})
	key = rc.SyncKey
	if r := e.dav(t, "alice", "DELETE", base+"sparse.ics", nil, ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", r.code)
	}
	sm := parseMS(t, e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "0"}, syncBody(tok, "<D:getetag/>")))
	var changed, removed []string
	for _, x := range sm.Responses {
		n := x.Href[strings.LastIndex(x.Href, "/")+1:]
		if strings.Contains(x.Status, "404") {
			removed = append(removed, n)
		} else {
			changed = append(changed, n)
		}
	}
	if fmt.Sprint(changed) != "[april.ics one.ics]" || fmt.Sprint(removed) != "[sparse.ics]" {
		t.Fatalf("sync-collection: changed %v removed %v", changed, removed)
	}
	if g := e.dav(t, "alice", "GET", base+"one.ics", nil, ""); !strings.Contains(g.body, "Standup (phone)") {
		t.Fatalf("phone edit not seen: %s", g.body)
	}
	// The phone's Change above fetched the DAV adds and update; the
	// delete came after.
	rc = e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder})
	if rc.Commands == nil || len(rc.Commands.Delete) != 1 || len(rc.Commands.Add)+len(rc.Commands.Change) != 0 {
		t.Fatalf("phone after DAV writes: %+v", rc.Commands)
	}

	// free/busy: the phone's 09:15-09:45 in half hours.
	fb := e.dav(t, "alice", "REPORT", base, map[string]string{"Depth": "1"},
		`<CAL:free-busy-query xmlns:CAL="urn:ietf:params:xml:ns:caldav"><CAL:time-range start="20260302T000000Z" end="20260303T000000Z"/></CAL:free-busy-query>`)
	if fb.code != 200 || !strings.Contains(fb.body, "FREEBUSY;FBTYPE=BUSY:20260302T090000Z/20260302T100000Z") {
		t.Fatalf("free-busy: %d %s", fb.code, fb.body)
	}

	// MKCALENDAR makes a calendar the phone sees.
	mk := e.dav(t, "alice", "MKCALENDAR", "/dav/calendars/alice/work/", nil,
		`<CAL:mkcalendar xmlns:D="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></CAL:mkcalendar>`)
	if mk.code != http.StatusCreated {
		t.Fatalf("MKCALENDAR: %d %s", mk.code, mk.body)
	}
	fs, err := e.phone.FolderSync(context.Background(), "0")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fs.Changes.Add {
		found = found || (f.DisplayName == "Work" && f.Type == 13)
	}
	if !found {
		t.Fatalf("phone does not see the new calendar: %+v", fs.Changes.Add)
	}
	if r := e.dav(t, "alice", "PUT", "/dav/calendars/alice/work/x.ics", map[string]string{"Content-Type": icalType},
		event("x", "Work", "20260310T090000Z", "20260310T100000Z")); r.code != http.StatusCreated {
		t.Fatalf("PUT in new calendar: %d %s", r.code, r.body)
	}
}

func TestCalDAVBadInput(t *testing.T) {
	e := start(t)
	folder, _ := e.calFolder(t)
	base := "/dav/calendars/alice/" + folder + "/"
	put := func(name, ct, body string) res {
		return e.dav(t, "alice", "PUT", base+name, map[string]string{"Content-Type": ct}, body)
	}
	if r := put("a.ics", icalType, event("a", "A", "20260302T090000Z", "20260302T093000Z")); r.code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	for _, c := range []struct {
		name, ct, body string
		code           int
		cond           string
	}{
		{"b.ics", icalType, "hello", 400, "valid-calendar-data"},
		{"b.ics", icalType, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n", 400, "valid-calendar-object-resource"},
		{"b.ics", icalType, event("b", "B", "20260302T090000Z", "20260302T080000Z"), 400, "valid-calendar-object-resource"},
		{"b.ics", "text/plain", event("b", "B", "20260302T090000Z", "20260302T093000Z"), 415, "supported-calendar-data"},
		{"b.ics", icalType, event("a", "Same UID", "20260302T090000Z", "20260302T093000Z"), 409, "no-uid-conflict"},
		{"a.ics", icalType, event("other", "UID changed", "20260302T090000Z", "20260302T093000Z"), 409, "no-uid-conflict"},
		{"b.ics", icalType, event("b", strings.Repeat("x", 5<<20), "20260302T090000Z", "20260302T093000Z"), 413, "max-resource-size"},
	} {
		r := put(c.name, c.ct, c.body)
		if r.code != c.code || !strings.Contains(r.body, c.cond) {
			t.Errorf("%s %.40q: %d %s, want %d %s", c.name, c.body, r.code, r.body, c.code, c.cond)
		}
	}
	if r := e.dav(t, "alice", "GET", base+"b.ics", nil, ""); r.code != 404 {
		t.Fatalf("a refused PUT left something: %d", r.code)
	}
	// Another user's calendars are 404, never readable.
	for _, p := range []string{base, base + "a.ics", "/dav/calendars/alice/"} {
		if r := e.dav(t, "bob", "PROPFIND", p, map[string]string{"Depth": "0"}, ""); r.code != 404 {
			t.Errorf("bob PROPFIND %s: %d", p, r.code)
		}
	}
	if r := e.dav(t, "bob", "GET", base+"a.ics", nil, ""); r.code != 404 {
		t.Errorf("bob GET: %d", r.code)
	}
}

// TestCalDAVPythonClient drives easd with python3-caldav, an independent
// CalDAV client: create, query by time range, update, delete, free/busy.
func TestCalDAVPythonClient(t *testing.T) {
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
	out, err := exec.Command(py, "testdata/caldav_client.py", e.URL+"/dav/", "alice", "alice").CombinedOutput()
	if err != nil {
		t.Fatalf("python3-caldav: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestVdirsyncerCalendarWithPhone syncs alice's calendar both ways with a
// local folder of .ics files while her phone edits it over EAS.
func TestVdirsyncerCalendarWithPhone(t *testing.T) {
	e := start(t)
	folder, key := e.calFolder(t)
	dir := t.TempDir()
	v := &vdirsyncer{bin: need(t, "vdirsyncer"), conf: filepath.Join(dir, "config"), local: filepath.Join(dir, "local")}
	if err := os.MkdirAll(v.local, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := `[general]
status_path = "` + filepath.Join(dir, "status") + `/"

[pair cal]
a = "local"
b = "easd"
collections = null
conflict_resolution = "b wins"

[storage local]
type = "filesystem"
path = "` + v.local + `/"
fileext = ".ics"

[storage easd]
type = "caldav"
url = "` + e.URL + "/dav/calendars/alice/" + folder + `/"
username = "alice"
password = "alice"
`
	if err := os.WriteFile(v.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	v.run(t, "discover")
	phoneSync := func(cmds *message.SyncClientCommands) message.SyncResponseCollection {
		rc := e.sync(t, message.SyncCollection{SyncKey: key, CollectionID: folder, Commands: cmds})
		key = rc.SyncKey
		return rc
	}

	// The phone's event reaches the local folder.
	rc := phoneSync(&message.SyncClientCommands{Add: []message.SyncClientAdd{{ClientID: "p1", ApplicationData: &message.Calendar{
		Subject: "Phone lunch", StartTime: "20260305T120000Z", EndTime: "20260305T130000Z", BusyStatus: "2"}}}})
	if rc.Responses == nil || len(rc.Responses.Add) != 1 || rc.Responses.Add[0].Status != 1 {
		t.Fatalf("phone Add: %+v", rc.Responses)
	}
	sid := rc.Responses.Add[0].ServerID
	v.run(t, "sync")
	files := v.files(t)
	if len(files) != 1 || find(files, "Phone lunch") == "" {
		t.Fatalf("local after phone add: %v", files)
	}

	// A local event reaches the phone, with its recurrence.
	if err := os.WriteFile(filepath.Join(v.local, "desk.ics"), []byte(event("desk-1", "Desk review", "20260306T150000Z", "20260306T160000Z", "RRULE:FREQ=WEEKLY;COUNT=3")), 0o644); err != nil {
		t.Fatal(err)
	}
	v.run(t, "sync")
	rc = phoneSync(nil)
	if rc.Commands == nil || len(rc.Commands.Add) != 1 {
		t.Fatalf("phone after local add: %+v", rc.Commands)
	}

	// The phone edits its event; the local folder follows.
	phoneSync(&message.SyncClientCommands{Change: []message.SyncClientChange{{ServerID: sid, ApplicationData: &message.Calendar{
		Subject: "Phone lunch later", StartTime: "20260305T130000Z", EndTime: "20260305T140000Z", BusyStatus: "2"}}}})
	v.run(t, "sync")
	files = v.files(t)
	if len(files) != 2 || find(files, "Phone lunch later") == "" || find(files, "Desk review") == "" {
		t.Fatalf("local after phone edit: %v", files)
	}
	if !strings.Contains(files[find(files, "Desk review")], "RRULE:FREQ=WEEKLY;COUNT=3") {
		t.Fatalf("the rule did not survive: %s", files[find(files, "Desk review")])
	}

	// A local delete reaches the phone; repeated runs change nothing.
	if err := os.Remove(filepath.Join(v.local, find(files, "Desk review"))); err != nil {
		t.Fatal(err)
	}
	v.run(t, "sync")
	v.run(t, "sync")
	rc = phoneSync(nil)
	if rc.Commands == nil || len(rc.Commands.Delete) != 1 || len(rc.Commands.Add)+len(rc.Commands.Change) != 0 {
		t.Fatalf("phone after local delete: %+v", rc.Commands)
	}
	if files = v.files(t); len(files) != 1 {
		t.Fatalf("local after repeated syncs: %v", files)
	}
}
