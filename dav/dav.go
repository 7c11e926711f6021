// Package dav serves users' address books over CardDAV (RFC 6352) under
// /dav/, from the same contacts store the phones sync with over EAS: one
// store, two protocols, no copies; and their calendars over CalDAV (RFC
// 4791) from the calendar store the same way, and their task lists as
// CalDAV collections of VTODOs from the tasks store.
//
// Layout of the URL space (every path is the user's own; another user's
// is 404, so nobody learns whether it exists):
//
//	/dav/                                   root: current-user-principal
//	/dav/principals/<login>/                the user's principal
//	/dav/addressbooks/<login>/              addressbook-home-set
//	/dav/addressbooks/<login>/<book>/       an address book (folder of type 9 or 14)
//	/dav/addressbooks/<login>/<book>/<name> a card (vCard 4.0)
//	/dav/calendars/<login>/                 calendar-home-set
//	/dav/calendars/<login>/<cal>/           a calendar (folder of type 8 or 13)
//	/dav/calendars/<login>/<cal>/<name>     an event series (iCalendar)
//	/dav/calendars/<login>/<list>/          a task list (folder of type 7 or 15)
//	/dav/calendars/<login>/<list>/<name>    a task (iCalendar, one VTODO)
//
// Each kind of collection (address books, calendars) is a home
// under /dav/<kind>/<login>/: the principal lists every home's set, and
// requests below it go to that home.
//
// Why not go-webdav's carddav.Handler: its server has no getctag, no
// sync-collection REPORT, no sync-token property, and its property and
// REPORT dispatch is in an internal package that cannot be extended; it
// answers every PUT 201 and has no place for the preconditions of RFC
// 6352. The handlers are here, small and plain; go-webdav still provides
// the addressbook-query filter types and matching (carddav.Match).
//
// Authentication (HTTP Basic, the same login rules and failed-login
// throttle as EAS) happens before ServeDAV, in the protocol server: this
// package gets the canonical login.
package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/tasks"
)

// Prefix is where DAV is served.
const Prefix = "/dav/"

// Options configure a Handler.
type Options struct {
	Pool     *pgxpool.Pool
	Contacts *contacts.Store
	Calendar *calendar.Store
	// Tasks, when set, serves the task lists beside the calendars (they
	// need Calendar too: both live in the calendar home).
	Tasks   *tasks.Store
	Folders *folders.Store
	Log     *slog.Logger
}

// Handler serves /dav/ for authenticated users.
type Handler struct {
	opts  Options
	homes []home
}

// home is one kind of collection home of a user.
type home interface {
	// segment is the home's first path segment below /dav/.
	segment() string
	// principalProps are the properties the principal shows for this
	// home (e.g. addressbook-home-set), rendered.
	principalProps(u *user) map[string]string
	// serve answers a request for u's home or something in it; rest is
	// the path below /dav/<segment>/<login>/, split, without empties.
	serve(w http.ResponseWriter, r *http.Request, u *user, rest []string) error
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	h := &Handler{opts: o}
	h.homes = []home{&cardHome{h: h}}
	if o.Calendar != nil {
		h.homes = append(h.homes, &calHome{h: h})
	}
	return h
}

// user is the authenticated user of a request.
type user struct {
	login string
	id    int64
}

func (u *user) principal() string { return Prefix + "principals/" + url.PathEscape(u.login) + "/" }

// Methods lists the methods /dav/ answers, for routing.
var Methods = []string{http.MethodOptions, http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete,
	"PROPFIND", "PROPPATCH", "REPORT", "MKCOL", "MKCALENDAR", "COPY", "MOVE", "LOCK", "UNLOCK", http.MethodPost}

// WellKnown answers /.well-known/carddav and /.well-known/caldav (RFC 6764) with a redirect to
// the DAV root, where PROPFIND finds the principal. It needs no
// credentials: it tells nothing about anyone.
func WellKnown(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
}

// ServeDAV answers r for the user whose canonical login is login.
func (h *Handler) ServeDAV(w http.ResponseWriter, r *http.Request, login string) {
	err := h.serve(w, r, login)
	if err == nil {
		return
	}
	var de *davError
	if !errors.As(err, &de) {
		switch {
		case errors.Is(err, errTooLarge):
			de = condition(http.StatusRequestEntityTooLarge, nameMaxResourceSize, "%v", err)
		case errors.Is(err, errBadXML):
			de = errorf(http.StatusBadRequest, "%v", err)
		case isTooLarge(err):
			de = condition(http.StatusRequestEntityTooLarge, nameMaxResourceSize, "request body too large")
		case errors.Is(err, context.Canceled):
			return
		default:
			h.opts.Log.Error("dav: request failed", "user", login, "method", r.Method, "path", r.URL.Path, "err", err)
			de = errorf(http.StatusInternalServerError, "internal error")
		}
	}
	de.write(w)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, login string) error {
	// Split the path as sent, then unescape each segment: a card name may
	// hold an escaped "/".
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p+"/", Prefix) {
		return errorf(http.StatusNotFound, "not found")
	}
	var segs []string
	for _, raw := range strings.Split(strings.TrimPrefix(p, Prefix), "/") {
		if raw == "" {
			continue
		}
		s, err := url.PathUnescape(raw)
		if err != nil {
			return errorf(http.StatusBadRequest, "bad path escape")
		}
		if s == "." || s == ".." {
			return errorf(http.StatusBadRequest, "path not canonical")
		}
		segs = append(segs, s)
	}
	u, err := h.user(r.Context(), login)
	if err != nil {
		return err
	}
	if r.Method == http.MethodOptions {
		return h.options(w, segs)
	}
	switch {
	case len(segs) == 0:
		return h.serveRoot(w, r, u)
	case segs[0] == "principals" && len(segs) == 2 && segs[1] == u.login:
		return h.servePrincipal(w, r, u)
	}
	for _, hm := range h.homes {
		if len(segs) >= 2 && segs[0] == hm.segment() && segs[1] == u.login {
			return hm.serve(w, r, u, segs[2:])
		}
	}
	// Another user's principal or home, or nothing: the same answer.
	return errorf(http.StatusNotFound, "not found")
}

// user returns the user row of login, created on first contact as the
// first EAS request would, with its default folders (a desktop may come
// before any phone).
func (h *Handler) user(ctx context.Context, login string) (*user, error) {
	u := &user{login: login}
	err := h.opts.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, login).Scan(&u.id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = h.opts.Pool.QueryRow(ctx, `WITH ins AS (
				INSERT INTO users (login) VALUES ($1) ON CONFLICT (login) DO NOTHING RETURNING id)
			SELECT id FROM ins UNION ALL SELECT id FROM users WHERE login = $1`, login).Scan(&u.id)
	}
	if err != nil {
		return nil, fmt.Errorf("dav: user %q: %w", login, err)
	}
	return u, nil
}

func (h *Handler) options(w http.ResponseWriter, segs []string) error {
	hd := w.Header()
	// "1, 3" (RFC 4918 without locking), "addressbook" (RFC 6352
	// 6.1), "calendar-access" (RFC 4791 5.1), "extended-mkcol" (RFC 5689).
	hd.Set("DAV", "1, 3, addressbook, calendar-access, extended-mkcol")
	allow := "OPTIONS, PROPFIND, REPORT"
	switch {
	case len(segs) == 4:
		allow = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND"
	case len(segs) == 3:
		allow = "OPTIONS, PROPFIND, PROPPATCH, REPORT, DELETE, MKCOL, MKCALENDAR, PUT"
	}
	hd.Set("Allow", allow)
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// depth reads the Depth header: 0, 1, or infinity (as 2); absent is
// infinity for PROPFIND (RFC 4918 9.1).
func depth(r *http.Request) (int, error) {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Depth"))) {
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	case "", "infinity":
		return 2, nil
	}
	return 0, errorf(http.StatusBadRequest, "bad Depth header")
}

// propfind parses a PROPFIND body: the names asked for, or allprop (nil
// names), or propname.
func propfind(r *http.Request) (names []string, all, nameOnly bool, err error) {
	var req propfindReq
	empty, err := decodeBody(r, &req)
	if err != nil {
		return nil, false, false, err
	}
	switch {
	case empty || req.AllProp != nil:
		return nil, true, false, nil
	case req.PropName != nil:
		return nil, false, true, nil
	case req.Prop != nil:
		for _, n := range req.Prop.names() {
			names = append(names, n.Space+" "+n.Local)
		}
		return names, false, false, nil
	}
	return nil, false, false, errorf(http.StatusBadRequest, "PROPFIND body without prop, allprop or propname")
}

// props are a resource's properties: key "namespace local" -> rendered
// element. Costly ones (address-data) are left to the caller.
type props map[string]string

func pk(space, local string) string { return space + " " + local }

// set renders element name with inner XML under its key.
func (p props) set(space, local, inner string) {
	p[pk(space, local)] = elemNS(space, local, inner)
}

func elemNS(space, local, inner string) string {
	return elem(xml.Name{Space: space, Local: local}, inner)
}

func sortedKeys(p props) []string { return slices.Sorted(maps.Keys(p)) }

// isUnique reports whether err is a unique violation (a concurrent
// request made the same thing first).
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// answer builds the response for href from p: the requested names, or
// all of p, or p's names only.
func answer(href string, p props, names []string, all, nameOnly bool) response {
	resp := response{href: href}
	switch {
	case all:
		for _, k := range sortedKeys(p) {
			// Not part of allprop (RFC 6352 10.4): only when asked for.
			if k != pk(nsCardDAV, "address-data") && k != pk(nsCalDAV, "calendar-data") {
				resp.found = append(resp.found, p[k])
			}
		}
	case nameOnly:
		for _, k := range sortedKeys(p) {
			sp, l, _ := strings.Cut(k, " ")
			resp.found = append(resp.found, elemNS(sp, l, ""))
		}
	default:
		for _, k := range names {
			if v, ok := p[k]; ok {
				resp.found = append(resp.found, v)
				continue
			}
			sp, l, _ := strings.Cut(k, " ")
			if resp.failed == nil {
				resp.failed = map[int][]string{}
			}
			resp.failed[http.StatusNotFound] = append(resp.failed[http.StatusNotFound], elemNS(sp, l, ""))
		}
	}
	return resp
}

// commonProps are what every resource of the user shows.
func commonProps(u *user) props {
	p := props{}
	p.set(nsDAV, "current-user-principal", hrefElem(u.principal()))
	p.set(nsDAV, "owner", hrefElem(u.principal()))
	p.set(nsDAV, "current-user-privilege-set",
		"<D:privilege><D:read/></D:privilege><D:privilege><D:write/></D:privilege>"+
			"<D:privilege><D:write-properties/></D:privilege><D:privilege><D:write-content/></D:privilege>"+
			"<D:privilege><D:bind/></D:privilege><D:privilege><D:unbind/></D:privilege>"+
			"<D:privilege><D:read-current-user-privilege-set/></D:privilege>")
	return p
}

func (h *Handler) serveRoot(w http.ResponseWriter, r *http.Request, u *user) error {
	if r.Method != "PROPFIND" {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				_, _ = w.Write([]byte("easd CardDAV and CalDAV: point your client at this address.\n"))
			}
			return nil
		}
		return methodNotAllowed(w, "OPTIONS, PROPFIND, GET, HEAD")
	}
	names, all, nameOnly, err := propfind(r)
	if err != nil {
		return err
	}
	p := commonProps(u)
	p.set(nsDAV, "resourcetype", "<D:collection/>")
	p.set(nsDAV, "principal-collection-set", hrefElem(Prefix+"principals/"))
	for _, hm := range h.homes {
		for k, v := range hm.principalProps(u) {
			p[k] = v
		}
	}
	ms := &multistatus{responses: []response{answer(Prefix, p, names, all, nameOnly)}}
	ms.write(w)
	return nil
}

func (h *Handler) servePrincipal(w http.ResponseWriter, r *http.Request, u *user) error {
	switch r.Method {
	case "PROPFIND":
	case "PROPPATCH":
		return refuseProppatch(w, r, u.principal())
	case "REPORT":
		return errorf(http.StatusForbidden, "no report is supported on a principal")
	default:
		return methodNotAllowed(w, "OPTIONS, PROPFIND, PROPPATCH")
	}
	names, all, nameOnly, err := propfind(r)
	if err != nil {
		return err
	}
	p := commonProps(u)
	p.set(nsDAV, "resourcetype", "<D:principal/>")
	p.set(nsDAV, "displayname", escText(u.login))
	p.set(nsDAV, "principal-URL", hrefElem(u.principal()))
	p.set(nsDAV, "principal-collection-set", hrefElem(Prefix+"principals/"))
	for _, hm := range h.homes {
		for k, v := range hm.principalProps(u) {
			p[k] = v
		}
	}
	ms := &multistatus{responses: []response{answer(u.principal(), p, names, all, nameOnly)}}
	ms.write(w)
	return nil
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return errorf(http.StatusMethodNotAllowed, "method not allowed here")
}
