package dav

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"

	"github.com/emersion/go-webdav/carddav"

	"github.com/easd/easd/contacts"
)

// REPORTs on an address book: addressbook-multiget and addressbook-query
// (RFC 6352 8.6, 8.7) and sync-collection (RFC 6578).

type multigetReq struct {
	Prop  *propList `xml:"DAV: prop"`
	Hrefs []string  `xml:"DAV: href"`
}

type textMatchEl struct {
	Text      string `xml:",chardata"`
	Negate    string `xml:"negate-condition,attr"`
	MatchType string `xml:"match-type,attr"`
}

type paramFilterEl struct {
	Name         string       `xml:"name,attr"`
	IsNotDefined *struct{}    `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatch    *textMatchEl `xml:"urn:ietf:params:xml:ns:carddav text-match"`
}

type propFilterEl struct {
	Name         string          `xml:"name,attr"`
	Test         string          `xml:"test,attr"`
	IsNotDefined *struct{}       `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatches  []textMatchEl   `xml:"urn:ietf:params:xml:ns:carddav text-match"`
	Params       []paramFilterEl `xml:"urn:ietf:params:xml:ns:carddav param-filter"`
}

type queryReq struct {
	Prop   *propList `xml:"DAV: prop"`
	Filter struct {
		Test  string         `xml:"test,attr"`
		Props []propFilterEl `xml:"urn:ietf:params:xml:ns:carddav prop-filter"`
	} `xml:"urn:ietf:params:xml:ns:carddav filter"`
	Limit *struct {
		NResults int `xml:"urn:ietf:params:xml:ns:carddav nresults"`
	} `xml:"urn:ietf:params:xml:ns:carddav limit"`
}

type syncReq struct {
	SyncToken string `xml:"DAV: sync-token"`
	SyncLevel string `xml:"DAV: sync-level"`
	Limit     *struct {
		NResults int `xml:"DAV: nresults"`
	} `xml:"DAV: limit"`
	Prop *propList `xml:"DAV: prop"`
}

// readReport reads a REPORT's body and the name of its root element.
func readReport(r *http.Request) ([]byte, xml.Name, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, xml.Name{}, err
	}
	if body == nil {
		return nil, xml.Name{}, errorf(http.StatusBadRequest, "REPORT without a body")
	}
	name, err := rootName(body)
	return body, name, err
}

// decodeReport unmarshals a REPORT body whose root is name into req.
func decodeReport(body []byte, name xml.Name, req any) error {
	if err := xml.Unmarshal(body, req); err != nil {
		return errorf(http.StatusBadRequest, "malformed %s: %v", name.Local, err)
	}
	return nil
}

func (c *cardHome) report(w http.ResponseWriter, r *http.Request, u *user, b *book) error {
	body, name, err := readReport(r)
	if err != nil {
		return err
	}
	switch name {
	case xml.Name{Space: nsCardDAV, Local: "addressbook-multiget"}:
		var req multigetReq
		if err := decodeReport(body, name, &req); err != nil {
			return err
		}
		return c.coll(u, b).multiget(w, r, &req)
	case xml.Name{Space: nsCardDAV, Local: "addressbook-query"}:
		var req queryReq
		if err := decodeReport(body, name, &req); err != nil {
			return err
		}
		return c.query(w, r, u, b, &req)
	case xml.Name{Space: nsDAV, Local: "sync-collection"}:
		var req syncReq
		if err := decodeReport(body, name, &req); err != nil {
			return err
		}
		return c.coll(u, b).syncCollection(w, r, &req)
	}
	return condition(http.StatusForbidden, xml.Name{Space: nsDAV, Local: "supported-report"},
		"report %s %s is not supported", name.Space, name.Local)
}

func reqNames(p *propList) []string {
	var names []string
	for _, n := range p.names() {
		names = append(names, pk(n.Space, n.Local))
	}
	return names
}

// hrefIn returns the member name href names in the collection at path
// (escaped), or "".
func hrefIn(path, href string) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ""
	}
	p := u.EscapedPath()
	rest, ok := strings.CutPrefix(p, path)
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return ""
	}
	name, err := url.PathUnescape(rest)
	if err != nil {
		return ""
	}
	return name
}

// query answers addressbook-query with go-webdav's matching of the
// filter against each card.
func (c *cardHome) query(w http.ResponseWriter, r *http.Request, u *user, b *book, req *queryReq) error {
	q := carddav.AddressBookQuery{FilterTest: carddav.FilterTest(req.Filter.Test)}
	for _, pf := range req.Filter.Props {
		f := carddav.PropFilter{Name: pf.Name, Test: carddav.FilterTest(pf.Test), IsNotDefined: pf.IsNotDefined != nil}
		for _, tm := range pf.TextMatches {
			f.TextMatches = append(f.TextMatches, textMatch(tm))
		}
		for _, pp := range pf.Params {
			p := carddav.ParamFilter{Name: pp.Name, IsNotDefined: pp.IsNotDefined != nil}
			if pp.TextMatch != nil {
				tm := textMatch(*pp.TextMatch)
				p.TextMatch = &tm
			}
			f.Params = append(f.Params, p)
		}
		q.PropFilters = append(q.PropFilters, f)
	}
	if req.Limit != nil {
		q.Limit = req.Limit.NResults
	}
	cards, err := c.h.opts.Contacts.AllCards(r.Context(), c.h.opts.Pool, u.id, b.folder.ServerID)
	if err != nil {
		return err
	}
	names := reqNames(req.Prop)
	co := c.coll(u, b)
	ms := &multistatus{}
	for i := range cards {
		ok, err := carddav.Match(&q, &carddav.AddressObject{Card: cards[i].Card})
		if err != nil {
			return errorf(http.StatusBadRequest, "addressbook-query: %v", err)
		}
		if !ok {
			continue
		}
		if q.Limit > 0 && len(ms.responses) == q.Limit {
			// RFC 6352 8.6.1: the request-URI with 507 says the answer
			// was cut.
			ms.responses = append(ms.responses, response{href: b.path, status: http.StatusInsufficientStorage})
			break
		}
		m, err := cardMember(&cards[i])
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, answer(co.href(m.href), co.props(m), names, len(names) == 0, false))
	}
	ms.write(w)
	return nil
}

func textMatch(tm textMatchEl) carddav.TextMatch {
	return carddav.TextMatch{Text: tm.Text, NegateCondition: tm.Negate == "yes", MatchType: carddav.MatchType(tm.MatchType)}
}

// cut keeps the oldest changes, at least n and all of the last version
// kept (one import writes many cards at one version), and returns the
// version they reach.
func cut(changed, removed []contacts.Resource, n int) ([]contacts.Resource, []contacts.Resource, int64) {
	var last int64
	i, j := 0, 0
	for i < len(changed) || j < len(removed) {
		var v int64
		takeChanged := j >= len(removed) || (i < len(changed) && changed[i].Version <= removed[j].Version)
		if takeChanged {
			v = changed[i].Version
		} else {
			v = removed[j].Version
		}
		if i+j >= n && v != last {
			break
		}
		last = v
		if takeChanged {
			i++
		} else {
			j++
		}
	}
	return changed[:i], removed[:j], last
}
