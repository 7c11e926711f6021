package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/emersion/go-webdav/carddav"
	"github.com/jackc/pgx/v5"

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

func (c *cardHome) report(w http.ResponseWriter, r *http.Request, u *user, b *book) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if body == nil {
		return errorf(http.StatusBadRequest, "REPORT without a body")
	}
	name, err := rootName(body)
	if err != nil {
		return err
	}
	raw := body
	switch name {
	case xml.Name{Space: nsCardDAV, Local: "addressbook-multiget"}:
		var req multigetReq
		if err := xml.Unmarshal(raw, &req); err != nil {
			return errorf(http.StatusBadRequest, "malformed addressbook-multiget: %v", err)
		}
		return c.multiget(w, r, u, b, &req)
	case xml.Name{Space: nsCardDAV, Local: "addressbook-query"}:
		var req queryReq
		if err := xml.Unmarshal(raw, &req); err != nil {
			return errorf(http.StatusBadRequest, "malformed addressbook-query: %v", err)
		}
		return c.query(w, r, u, b, &req)
	case xml.Name{Space: nsDAV, Local: "sync-collection"}:
		var req syncReq
		if err := xml.Unmarshal(raw, &req); err != nil {
			return errorf(http.StatusBadRequest, "malformed sync-collection: %v", err)
		}
		return c.syncCollection(w, r, u, b, &req)
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

// hrefName returns the card name an href of a multiget names in book b,
// or "" when it names no card of b.
func hrefName(b *book, href string) string { return hrefIn(b.path, href) }

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

func (c *cardHome) multiget(w http.ResponseWriter, r *http.Request, u *user, b *book, req *multigetReq) error {
	names := reqNames(req.Prop)
	var hrefs []string
	ms := &multistatus{}
	for _, h := range req.Hrefs {
		if n := hrefName(b, h); n != "" {
			hrefs = append(hrefs, n)
		} else {
			ms.responses = append(ms.responses, response{href: h, status: http.StatusNotFound})
		}
	}
	if len(hrefs) > 0 {
		resps, err := c.cardResponses(r.Context(), u, b, hrefs, names, len(names) == 0, false)
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, resps...)
	}
	ms.write(w)
	return nil
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
		p, err := cardProps(u, &cards[i])
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, answer(b.path+url.PathEscape(cards[i].Href), p, names, len(names) == 0, false))
	}
	ms.write(w)
	return nil
}

func textMatch(tm textMatchEl) carddav.TextMatch {
	return carddav.TextMatch{Text: tm.Text, NegateCondition: tm.Negate == "yes", MatchType: carddav.MatchType(tm.MatchType)}
}

// syncCollection answers what changed in the book since the client's
// token (RFC 6578): cards written since, with the properties asked for,
// and the names removed since, as 404. An empty token lists every card.
func (c *cardHome) syncCollection(w http.ResponseWriter, r *http.Request, u *user, b *book, req *syncReq) error {
	if d := r.Header.Get("Depth"); d != "" && d != "0" {
		return errorf(http.StatusBadRequest, "sync-collection needs Depth: 0 (RFC 6578 3.2)")
	}
	// An address book holds no collections: level infinite is level 1.
	if l := strings.TrimSpace(req.SyncLevel); l != "" && l != "1" && l != "infinite" {
		return errorf(http.StatusBadRequest, "bad sync-level %q", l)
	}
	var since, listedAt int64
	if tok := strings.TrimSpace(req.SyncToken); tok != "" {
		var ok bool
		if since, listedAt, ok = parseSyncToken(b.folder.ServerID, tok); !ok {
			return condition(http.StatusForbidden, nameValidSyncToken, "sync token not of this address book")
		}
	}
	ctx := r.Context()
	if err := c.prune(ctx, u, b); err != nil {
		return err
	}
	// One snapshot, so the token handed out covers exactly the changes
	// listed.
	tx, err := c.h.opts.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	ch, err := c.h.opts.Contacts.ChangesSince(ctx, tx, u.id, b.folder.ServerID, since, listedAt)
	if errors.Is(err, contacts.ErrTokenTooOld) {
		return condition(http.StatusForbidden, nameValidSyncToken, "sync token too old: sync again without a token")
	}
	if err != nil {
		return err
	}
	token, tokenListedAt := ch.CTag, int64(0)
	ms := &multistatus{}
	changed, removed := ch.Changed, ch.Removed
	if req.Limit != nil && req.Limit.NResults > 0 && len(changed)+len(removed) > req.Limit.NResults {
		// Cut at a version boundary and hand out that version as the
		// token, so the next request goes on from there; 507 on the
		// collection says more is waiting (RFC 6578 3.6).
		changed, removed, token = cut(changed, removed, req.Limit.NResults)
		switch {
		case listedAt != 0: // still the listing that started at listedAt
			tokenListedAt = listedAt
		case since == 0:
			tokenListedAt = ch.CTag
		}
		ms.responses = append(ms.responses, response{href: b.path, status: http.StatusInsufficientStorage})
	}
	names := reqNames(req.Prop)
	if len(changed) > 0 {
		hrefs := make([]string, len(changed))
		for i, rs := range changed {
			hrefs[i] = rs.Href
		}
		var resps []response
		if wantsData(names) {
			cards, err := c.h.opts.Contacts.ByHref(ctx, tx, u.id, b.folder.ServerID, hrefs)
			if err != nil {
				return err
			}
			for i := range cards {
				p, err := cardProps(u, &cards[i])
				if err != nil {
					return err
				}
				resps = append(resps, answer(b.path+url.PathEscape(cards[i].Href), p, names, false, false))
			}
		} else {
			for _, rs := range changed {
				resps = append(resps, answer(b.path+url.PathEscape(rs.Href), resourceProps(u, rs.Version, nil), names, len(names) == 0, false))
			}
		}
		ms.responses = append(resps, ms.responses...)
	}
	for _, rs := range removed {
		ms.responses = append(ms.responses, response{href: b.path + url.PathEscape(rs.Href), status: http.StatusNotFound})
	}
	if token >= tokenListedAt {
		tokenListedAt = 0
	}
	ms.syncToken = syncToken(b.folder.ServerID, token, tokenListedAt)
	ms.write(w)
	return nil
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
