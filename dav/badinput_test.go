package dav_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestBadInputChangesNothing(t *testing.T) {
	e := start(t)
	put := func(name, ct, body string) res {
		return e.dav(t, "alice", "PUT", e.bookPath()+name, map[string]string{"Content-Type": ct}, body)
	}
	if r := put("a.vcf", vcardType, card("uid-a", "Ann")); r.code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	tok, ctag := e.token(t)
	for _, c := range []struct {
		name, ct, body string
		code           int
		cond           string
	}{
		{"b.vcf", vcardType, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:broken", http.StatusBadRequest, "valid-address-data"},
		{"b.vcf", vcardType, "hello", http.StatusBadRequest, "valid-address-data"},
		{"b.vcf", vcardType, card("uid-b", "B") + card("uid-c", "C"), http.StatusBadRequest, "valid-address-data"},
		{"b.vcf", vcardType, "BEGIN:VCARD\r\nVERSION:9.9\r\nUID:x\r\nFN:X\r\nEND:VCARD\r\n", http.StatusBadRequest, "valid-address-data"},
		{"b.vcf", "text/plain", card("uid-b", "B"), http.StatusUnsupportedMediaType, "supported-address-data"},
		{"b.vcf", vcardType, card("uid-a", "Clash"), http.StatusConflict, "no-uid-conflict"},
		{"a.vcf", vcardType, card("uid-other", "Ann"), http.StatusConflict, "no-uid-conflict"},
		{"b.vcf", vcardType, card("uid-b", "Big", "NOTE:"+strings.Repeat("x", 2<<20)), http.StatusRequestEntityTooLarge, ""},
	} {
		r := put(c.name, c.ct, c.body)
		if r.code != c.code || !strings.Contains(r.body, c.cond) {
			t.Errorf("%s %q...: %d %s, want %d %s", c.name, c.body[:min(len(c.body), 30)], r.code, r.body, c.code, c.cond)
		}
	}
	if tok2, ctag2 := e.token(t); tok2 != tok || ctag2 != ctag {
		t.Fatalf("refused writes changed the book: %s %s -> %s %s", tok, ctag, tok2, ctag2)
	}
	if r := e.dav(t, "alice", "GET", e.bookPath()+"a.vcf", nil, ""); !strings.Contains(r.body, "FN:Ann") {
		t.Fatalf("card changed: %s", r.body)
	}

	// Another user's collections are not there for alice, whatever the
	// method; bob's own are.
	bm := parseMS(t, e.dav(t, "bob", "PROPFIND", "/dav/addressbooks/bob/", map[string]string{"Depth": "1"}, propfindBody("<D:resourcetype/>")))
	bobBook := bm.Responses[1].Href
	if r := e.dav(t, "bob", "PUT", bobBook+"bob.vcf", map[string]string{"Content-Type": vcardType}, card("uid-bob", "Bob")); r.code != http.StatusCreated {
		t.Fatalf("bob's PUT: %d %s", r.code, r.body)
	}
	for _, m := range []string{"PROPFIND", "GET", "DELETE", "REPORT"} {
		for _, p := range []string{"/dav/addressbooks/bob/", bobBook, bobBook + "bob.vcf", "/dav/principals/bob/"} {
			if r := e.dav(t, "alice", m, p, map[string]string{"Depth": "1"}, syncBody("")); r.code != http.StatusNotFound || strings.Contains(r.body, "Bob") {
				t.Errorf("alice %s %s: %d %s", m, p, r.code, r.body)
			}
		}
	}
}

func TestMkcolAndDeleteBook(t *testing.T) {
	e := start(t)
	home := "/dav/addressbooks/alice/"
	body := `<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>Work people</D:displayname></D:prop></D:set></D:mkcol>`
	if r := e.dav(t, "alice", "MKCOL", home+"work/", nil, body); r.code != http.StatusCreated {
		t.Fatalf("MKCOL: %d %s", r.code, r.body)
	}
	if r := e.dav(t, "alice", "MKCOL", home+"work/", nil, body); r.code != http.StatusMethodNotAllowed {
		t.Fatalf("MKCOL again: %d", r.code)
	}
	if r := e.dav(t, "alice", "MKCOL", home+"123/", nil, body); r.code != http.StatusForbidden {
		t.Fatalf("MKCOL digits: %d", r.code)
	}
	m := parseMS(t, e.dav(t, "alice", "PROPFIND", home, map[string]string{"Depth": "1"}, propfindBody("<D:displayname/>")))
	if len(m.Responses) != 3 || m.Responses[2].Href != home+"work/" || prop(m.Responses[2].Propstat[0].Prop.Inner, "displayname") != "Work people" {
		t.Fatalf("books: %+v", m)
	}
	// The phone sees the new folder.
	fs, err := e.phone.FolderSync(t.Context(), "0")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fs.Changes.Add {
		if f.DisplayName == "Work people" && f.Type == 14 {
			found = true
		}
	}
	if !found {
		t.Fatalf("phone does not see the new book: %+v", fs.Changes.Add)
	}
	if r := e.dav(t, "alice", "PUT", home+"work/x.vcf", map[string]string{"Content-Type": vcardType}, card("x", "X")); r.code != http.StatusCreated {
		t.Fatalf("PUT in new book: %d", r.code)
	}
	if r := e.dav(t, "alice", "DELETE", e.bookPath(), nil, ""); r.code != http.StatusForbidden {
		t.Fatalf("DELETE default book: %d", r.code)
	}
	if r := e.dav(t, "alice", "DELETE", home+"work/", nil, ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE book: %d %s", r.code, r.body)
	}
	if r := e.dav(t, "alice", "PROPFIND", home+"work/", map[string]string{"Depth": "0"}, ""); r.code != http.StatusNotFound {
		t.Fatalf("deleted book: %d", r.code)
	}
	var n int
	if err := e.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM contacts WHERE uid = 'x'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("cards of the deleted book: %d %v", n, err)
	}
}

func TestMultigetAndQuery(t *testing.T) {
	e := start(t)
	for _, c := range [][2]string{{"a", "Alice Smith"}, {"b", "Bob Jones"}} {
		e.dav(t, "alice", "PUT", e.bookPath()+c[0]+".vcf", map[string]string{"Content-Type": vcardType}, card("uid-"+c[0], c[1]))
	}
	m := parseMS(t, e.dav(t, "alice", "REPORT", e.bookPath(), map[string]string{"Depth": "1"},
		`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>`+
			`<D:href>`+e.bookPath()+`a.vcf</D:href><D:href>`+e.bookPath()+`gone.vcf</D:href></C:addressbook-multiget>`))
	if len(m.Responses) != 2 || !strings.Contains(m.Responses[0].Propstat[0].Prop.Inner, "Alice Smith") || !strings.Contains(m.Responses[1].Status, "404") {
		t.Fatalf("multiget: %+v", m)
	}
	m = parseMS(t, e.dav(t, "alice", "REPORT", e.bookPath(), map[string]string{"Depth": "1"},
		`<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>`+
			`<C:filter><C:prop-filter name="FN"><C:text-match match-type="contains">Jones</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`))
	if len(m.Responses) != 1 || m.Responses[0].Href != e.bookPath()+"b.vcf" {
		t.Fatalf("query: %+v", m)
	}
}
