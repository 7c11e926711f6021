package dav

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/calendar"
)

// The handlers an address book, a calendar and a task list answer
// alike: PROPFIND, GET and DELETE of a member, multiget and
// sync-collection. coll is what they need of the collection.

// member is a resource of a collection as its answers show it.
type member struct {
	href    string // its name in the collection
	version int64
	updated time.Time
	data    []byte // nil: not read
}

// coll is one collection of the user's, adapted to its store.
type coll struct {
	pool      *pgxpool.Pool
	u         *user
	path      string // escaped, with the trailing slash
	folderID  string
	kind      string // "address book", "calendar": in reasons
	what      string // "card", "object": in reasons
	mediaType string // a GET's Content-Type
	propType  string // getcontenttype
	dataSpace string // the data property: address-data, calendar-data
	dataLocal string

	// resources lists the members without their data.
	resources func(ctx context.Context, q calendar.Querier) ([]objRes, error)
	// read reads the members of hrefs (nil: all) with their data.
	read func(ctx context.Context, q calendar.Querier, hrefs []string) ([]member, error)
	// lock locks the member of href; errObjNotFound when there is none.
	lock func(ctx context.Context, q calendar.Querier, href string) (objRes, error)
	// remove deletes the member of server id sid.
	remove func(ctx context.Context, q calendar.Querier, sid string) error
	// prune forgets old tombstones.
	prune func(ctx context.Context) error
	// changes lists changes since a token; errObjTokenOld when too old.
	changes func(ctx context.Context, q calendar.Querier, since, listedAt int64) (objChanges, error)
}

func (cl *coll) href(name string) string { return cl.path + url.PathEscape(name) }

// wantsData reports whether names ask for the members' content.
func (cl *coll) wantsData(names []string) bool {
	return slices.Contains(names, pk(cl.dataSpace, cl.dataLocal))
}

// props are a member's properties; with its data when m has it.
func (cl *coll) props(m member) props {
	p := commonProps(cl.u)
	p.set(nsDAV, "resourcetype", "")
	p.set(nsDAV, "getetag", escText(etag(m.version)))
	p.set(nsDAV, "getcontenttype", cl.propType)
	if m.data != nil {
		p.set(nsDAV, "getcontentlength", strconv.Itoa(len(m.data)))
		p.set(nsDAV, "getlastmodified", m.updated.UTC().Format(http.TimeFormat))
		p.set(cl.dataSpace, cl.dataLocal, escText(string(m.data)))
	}
	return p
}

// responses answers for the members named by hrefs (nil: all), reading
// their data only when names ask for it; a name not found is 404.
func (cl *coll) responses(ctx context.Context, q calendar.Querier, hrefs, names []string, all, nameOnly bool) ([]response, error) {
	var out []response
	found := map[string]bool{}
	if !cl.wantsData(names) {
		res, err := cl.resources(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, rs := range res {
			if hrefs != nil && !slices.Contains(hrefs, rs.Href) {
				continue
			}
			found[rs.Href] = true
			out = append(out, answer(cl.href(rs.Href), cl.props(member{version: rs.Version}), names, all, nameOnly))
		}
	} else {
		ms, err := cl.read(ctx, q, hrefs)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			found[m.href] = true
			out = append(out, answer(cl.href(m.href), cl.props(m), names, all, nameOnly))
		}
	}
	for _, h := range hrefs {
		if !found[h] {
			out = append(out, response{href: cl.href(h), status: http.StatusNotFound})
		}
	}
	return out, nil
}

// propfindCollection answers a PROPFIND of the collection at href: its
// properties (self) and, at Depth 1 or more, its members' answers.
func propfindCollection(w http.ResponseWriter, r *http.Request, href string, self func() (props, error),
	members func(names []string, all, nameOnly bool) ([]response, error)) error {
	d, err := depth(r)
	if err != nil {
		return err
	}
	names, all, nameOnly, err := propfind(r)
	if err != nil {
		return err
	}
	p, err := self()
	if err != nil {
		return err
	}
	ms := &multistatus{responses: []response{answer(href, p, names, all, nameOnly)}}
	if d > 0 {
		resps, err := members(names, all, nameOnly)
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, resps...)
	}
	ms.write(w)
	return nil
}

// propfindColl answers a PROPFIND of the collection cl with properties p.
func (cl *coll) propfind(w http.ResponseWriter, r *http.Request, p func() (props, error)) error {
	return propfindCollection(w, r, cl.path, p, func(names []string, all, nameOnly bool) ([]response, error) {
		return cl.responses(r.Context(), cl.pool, nil, names, all, nameOnly)
	})
}

// get reads the member name, or answers 404.
func (cl *coll) get(ctx context.Context, name string) (member, error) {
	ms, err := cl.read(ctx, cl.pool, []string{name})
	if err != nil {
		return member{}, err
	}
	if len(ms) == 0 {
		return member{}, errorf(http.StatusNotFound, "no such %s", cl.what)
	}
	return ms[0], nil
}

// propfindMember answers a PROPFIND of the member name.
func (cl *coll) propfindMember(w http.ResponseWriter, r *http.Request, name string) error {
	names, all, nameOnly, err := propfind(r)
	if err != nil {
		return err
	}
	m, err := cl.get(r.Context(), name)
	if err != nil {
		return err
	}
	(&multistatus{responses: []response{answer(cl.href(name), cl.props(m), names, all, nameOnly)}}).write(w)
	return nil
}

// getMember answers GET and HEAD of the member name.
func (cl *coll) getMember(w http.ResponseWriter, r *http.Request, name string) error {
	m, err := cl.get(r.Context(), name)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", etag(m.version))
	h.Set("Last-Modified", m.updated.UTC().Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchETag(inm, etag(m.version)) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", cl.mediaType)
	h.Set("Content-Length", strconv.Itoa(len(m.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(m.data)
	}
	return nil
}

// deleteMember deletes the member name, with If-Match checked in the
// same transaction.
func (cl *coll) deleteMember(w http.ResponseWriter, r *http.Request, name string) error {
	ctx := r.Context()
	tx, err := cl.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	existing, err := cl.lock(ctx, tx, name)
	if errors.Is(err, errObjNotFound) {
		if r.Header.Get("If-Match") != "" {
			return errorf(http.StatusPreconditionFailed, "If-Match: the %s is gone", cl.what)
		}
		return errorf(http.StatusNotFound, "no such %s", cl.what)
	}
	if err != nil {
		return err
	}
	if err := preconditions(r, true, existing.Version); err != nil {
		return err
	}
	if err := cl.remove(ctx, tx, existing.ServerID); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// multiget answers addressbook-multiget and calendar-multiget.
func (cl *coll) multiget(w http.ResponseWriter, r *http.Request, req *multigetReq) error {
	names := reqNames(req.Prop)
	var hrefs []string
	ms := &multistatus{}
	for _, h := range req.Hrefs {
		if n := hrefIn(cl.path, h); n != "" {
			hrefs = append(hrefs, n)
		} else {
			ms.responses = append(ms.responses, response{href: h, status: http.StatusNotFound})
		}
	}
	if len(hrefs) > 0 {
		resps, err := cl.responses(r.Context(), cl.pool, hrefs, names, len(names) == 0, false)
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, resps...)
	}
	ms.write(w)
	return nil
}

// syncCollection answers what changed in the collection since the
// client's token (RFC 6578): members written since, with the properties
// asked for, and the names removed since, as 404. An empty token lists
// every member.
func (cl *coll) syncCollection(w http.ResponseWriter, r *http.Request, req *syncReq) error {
	if d := r.Header.Get("Depth"); d != "" && d != "0" {
		return errorf(http.StatusBadRequest, "sync-collection needs Depth: 0 (RFC 6578 3.2)")
	}
	// A collection here holds no collections: level infinite is level 1.
	if l := strings.TrimSpace(req.SyncLevel); l != "" && l != "1" && l != "infinite" {
		return errorf(http.StatusBadRequest, "bad sync-level %q", l)
	}
	var since, listedAt int64
	if tok := strings.TrimSpace(req.SyncToken); tok != "" {
		var ok bool
		if since, listedAt, ok = parseSyncToken(cl.folderID, tok); !ok {
			return condition(http.StatusForbidden, nameValidSyncToken, "sync token not of this %s", cl.kind)
		}
	}
	ctx := r.Context()
	if err := cl.prune(ctx); err != nil {
		return err
	}
	// One snapshot, so the token handed out covers exactly the changes
	// listed.
	tx, err := cl.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	ch, err := cl.changes(ctx, tx, since, listedAt)
	if errors.Is(err, errObjTokenOld) {
		return condition(http.StatusForbidden, nameValidSyncToken, "sync token too old: sync again without a token")
	}
	if err != nil {
		return err
	}
	changed, removed := ch.changed, ch.removed
	token, tokenListedAt := ch.ctag, int64(0)
	ms := &multistatus{}
	if req.Limit != nil && req.Limit.NResults > 0 && len(changed)+len(removed) > req.Limit.NResults {
		// Cut at a version boundary and hand out that version as the
		// token, so the next request goes on from there; 507 on the
		// collection says more is waiting (RFC 6578 3.6).
		changed, removed, token = cut(changed, removed, req.Limit.NResults)
		switch {
		case listedAt != 0: // still the listing that started at listedAt
			tokenListedAt = listedAt
		case since == 0:
			tokenListedAt = ch.ctag
		}
		ms.responses = append(ms.responses, response{href: cl.path, status: http.StatusInsufficientStorage})
	}
	names := reqNames(req.Prop)
	if len(changed) > 0 {
		var resps []response
		if cl.wantsData(names) {
			hrefs := make([]string, len(changed))
			for i, rs := range changed {
				hrefs[i] = rs.Href
			}
			read, err := cl.read(ctx, tx, hrefs)
			if err != nil {
				return err
			}
			for _, m := range read {
				resps = append(resps, answer(cl.href(m.href), cl.props(m), names, false, false))
			}
		} else {
			for _, rs := range changed {
				resps = append(resps, answer(cl.href(rs.Href), cl.props(member{version: rs.Version}), names, len(names) == 0, false))
			}
		}
		ms.responses = append(resps, ms.responses...)
	}
	for _, rs := range removed {
		ms.responses = append(ms.responses, response{href: cl.href(rs.Href), status: http.StatusNotFound})
	}
	if token >= tokenListedAt {
		tokenListedAt = 0
	}
	ms.syncToken = syncToken(cl.folderID, token, tokenListedAt)
	ms.write(w)
	return nil
}
