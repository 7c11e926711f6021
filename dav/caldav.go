package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
)

// calHome is the CalDAV home (RFC 4791): the user's calendars, which are
// the user's PIM calendar folders (EAS types 8 and 13), on the calendar
// store the phones sync with, and the user's task lists (EAS types 7 and
// 15) on the tasks store. A calendar holds events only (VEVENT, with
// overrides and VTIMEZONEs), a task list tasks only (one VTODO each): the
// phones keep them apart, so a collection holds one component.
type calHome struct{ h *Handler }

func (c *calHome) segment() string { return "calendars" }

func (c *calHome) homePath(u *user) string {
	return Prefix + "calendars/" + url.PathEscape(u.login) + "/"
}

func (c *calHome) principalProps(u *user) map[string]string {
	p := props{}
	p.set(nsCalDAV, "calendar-home-set", hrefElem(c.homePath(u)))
	if strings.Contains(u.login, "@") {
		p.set(nsCalDAV, "calendar-user-address-set", hrefElem("mailto:"+u.login))
	}
	return p
}

// cal is one calendar or task list as DAV sees it.
type cal struct {
	folder folders.Folder
	name   string
	path   string
	st     objStore // the store of its objects
}

// calOrder sorts the home: the default calendar first (clients that take
// the first collection get it), other calendars, the default task list,
// other task lists.
var calOrder = map[model.FolderType]int{model.FolderCalendar: 0, model.FolderUserCalendar: 1, model.FolderTasks: 2, model.FolderUserTasks: 3}

// calendars lists u's calendars and task lists in calOrder, by name.
func (c *calHome) calendars(ctx context.Context, u *user) ([]cal, error) {
	list, err := c.h.opts.Folders.EnsurePIM(ctx, u.id)
	if err != nil {
		return nil, err
	}
	names, err := c.h.opts.Calendar.CalendarNames(ctx, c.h.opts.Pool, u.id)
	if err != nil {
		return nil, err
	}
	if c.h.opts.Tasks != nil {
		lists, err := c.h.opts.Tasks.ListNames(ctx, c.h.opts.Pool, u.id)
		if err != nil {
			return nil, err
		}
		for f, n := range lists {
			names[f] = n
		}
	}
	var out []cal
	for _, f := range list {
		if f.Source != folders.SourcePIM {
			continue
		}
		var st objStore
		switch f.Type {
		case model.FolderCalendar, model.FolderUserCalendar:
			st = eventStore{c.h.opts.Calendar}
		case model.FolderTasks, model.FolderUserTasks:
			if c.h.opts.Tasks == nil {
				continue
			}
			st = taskStore{c.h.opts.Tasks}
		default:
			continue
		}
		name := f.ServerID
		if n, ok := names[f.ServerID]; ok {
			name = n
		}
		out = append(out, cal{folder: f, name: name, path: c.homePath(u) + url.PathEscape(name) + "/", st: st})
	}
	slices.SortStableFunc(out, func(a, b cal) int {
		if d := calOrder[a.folder.Type] - calOrder[b.folder.Type]; d != 0 {
			return d
		}
		return strings.Compare(a.name, b.name)
	})
	return out, nil
}

// isDefault: the phones' own Calendar and Tasks folders, which cannot be
// deleted.
func (cl *cal) isDefault() bool {
	return cl.folder.Type == model.FolderCalendar || cl.folder.Type == model.FolderTasks
}

func (c *calHome) find(ctx context.Context, u *user, name string) (*cal, error) {
	list, err := c.calendars(ctx, u)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].name == name {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (c *calHome) serve(w http.ResponseWriter, r *http.Request, u *user, rest []string) error {
	switch len(rest) {
	case 0:
		return c.serveHome(w, r, u)
	case 1, 2:
		if len(rest) == 1 && (r.Method == "MKCALENDAR" || r.Method == "MKCOL") {
			return c.mkcalendar(w, r, u, rest[0])
		}
		cl, err := c.find(r.Context(), u, rest[0])
		if err != nil {
			return err
		}
		if cl == nil {
			return errorf(http.StatusNotFound, "no such calendar")
		}
		if len(rest) == 1 {
			return c.serveCalendar(w, r, u, cl)
		}
		return c.serveObject(w, r, u, cl, rest[1])
	}
	return errorf(http.StatusNotFound, "not found")
}

func (c *calHome) serveHome(w http.ResponseWriter, r *http.Request, u *user) error {
	switch r.Method {
	case "PROPFIND":
	case "PROPPATCH":
		return refuseProppatch(w, r, c.homePath(u))
	case "MKCALENDAR", "MKCOL":
		return errorf(http.StatusMethodNotAllowed, "the calendar home exists")
	default:
		return methodNotAllowed(w, "OPTIONS, PROPFIND")
	}
	self := func() (props, error) {
		p := commonProps(u)
		p.set(nsDAV, "resourcetype", "<D:collection/>")
		p.set(nsDAV, "displayname", "Calendars")
		return p, nil
	}
	return propfindCollection(w, r, c.homePath(u), self, func(names []string, all, nameOnly bool) ([]response, error) {
		list, err := c.calendars(r.Context(), u)
		if err != nil {
			return nil, err
		}
		var out []response
		for i := range list {
			cp, err := c.calProps(r.Context(), u, &list[i])
			if err != nil {
				return nil, err
			}
			out = append(out, answer(list[i].path, cp, names, all, nameOnly))
		}
		return out, nil
	})
}

func (c *calHome) calProps(ctx context.Context, u *user, cl *cal) (props, error) {
	ctag, err := cl.st.ctag(ctx, c.h.opts.Pool, u.id, cl.folder.ServerID)
	if err != nil {
		return nil, err
	}
	p := commonProps(u)
	p.set(nsDAV, "resourcetype", "<D:collection/><CAL:calendar/>")
	p.set(nsDAV, "displayname", escText(cl.folder.DisplayName))
	p.set(nsCS, "getctag", escText(strconv.FormatInt(ctag, 10)))
	p.set(nsDAV, "sync-token", escText(syncToken(cl.folder.ServerID, ctag, 0)))
	p.set(nsDAV, "getetag", escText(etag(ctag)))
	p.set(nsDAV, "supported-report-set",
		"<D:supported-report><D:report><CAL:calendar-query/></D:report></D:supported-report>"+
			"<D:supported-report><D:report><CAL:calendar-multiget/></D:report></D:supported-report>"+
			"<D:supported-report><D:report><CAL:free-busy-query/></D:report></D:supported-report>"+
			"<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>")
	p.set(nsCalDAV, "supported-calendar-component-set", `<CAL:comp name="`+cl.st.comp()+`"/>`)
	p.set(nsCalDAV, "supported-calendar-data", `<CAL:calendar-data content-type="text/calendar" version="2.0"/>`)
	p.set(nsCalDAV, "max-resource-size", strconv.Itoa(cl.st.maxSize()))
	return p, nil
}

func (c *calHome) serveCalendar(w http.ResponseWriter, r *http.Request, u *user, cl *cal) error {
	switch r.Method {
	case "PROPFIND":
		return c.propfindCalendar(w, r, u, cl)
	case "PROPPATCH":
		return c.proppatchCalendar(w, r, u, cl)
	case "REPORT":
		return c.report(w, r, u, cl)
	case http.MethodDelete:
		if cl.isDefault() {
			return errorf(http.StatusForbidden, "the default calendar or task list cannot be deleted")
		}
		err := c.h.opts.Folders.DeletePIM(r.Context(), u.id, cl.folder.ServerID, func(tx pgx.Tx) error {
			return cl.st.deleteFolder(r.Context(), tx, u.id, cl.folder.ServerID)
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(w, "OPTIONS, PROPFIND, PROPPATCH, REPORT, DELETE")
}

func (c *calHome) propfindCalendar(w http.ResponseWriter, r *http.Request, u *user, cl *cal) error {
	return c.coll(u, cl).propfind(w, r, func() (props, error) { return c.calProps(r.Context(), u, cl) })
}

// coll is the calendar or task list cl as the shared handlers see it.
func (c *calHome) coll(u *user, cl *cal) *coll {
	st, folder := cl.st, cl.folder.ServerID
	return &coll{
		pool: c.h.opts.Pool, u: u, path: cl.path, folderID: folder,
		kind: "calendar", what: "object",
		mediaType: "text/calendar; charset=utf-8", propType: "text/calendar; charset=utf-8; component=" + st.comp(),
		dataSpace: nsCalDAV, dataLocal: "calendar-data",
		resources: func(ctx context.Context, q calendar.Querier) ([]objRes, error) {
			return st.resources(ctx, q, u.id, folder)
		},
		read: func(ctx context.Context, q calendar.Querier, hrefs []string) ([]member, error) {
			objs, err := st.byHref(ctx, q, u.id, folder, hrefs)
			if err != nil {
				return nil, err
			}
			out := make([]member, len(objs))
			for i := range objs {
				if out[i], err = objMember(cl, &objs[i]); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
		lock: func(ctx context.Context, q calendar.Querier, href string) (objRes, error) {
			return st.lockHref(ctx, q, u.id, folder, href)
		},
		remove: func(ctx context.Context, q calendar.Querier, sid string) error {
			return st.delete(ctx, q, u.id, folder, sid)
		},
		prune: func(ctx context.Context) error {
			return st.prune(ctx, c.h.opts.Pool, u.id, folder, time.Now().Add(-pruneAge))
		},
		changes: func(ctx context.Context, q calendar.Querier, since, listedAt int64) (objChanges, error) {
			return st.changes(ctx, q, u.id, folder, since, listedAt)
		},
	}
}

// objMember is o with its iCalendar text.
func objMember(cl *cal, o *calObj) (member, error) {
	text, err := cl.st.encode(o.Cal)
	if err != nil {
		return member{}, err
	}
	return member{href: o.Href, version: o.Version, updated: o.Updated, data: []byte(text)}, nil
}

// mkcalReq is a MKCALENDAR body (RFC 4791 5.3.1) or an extended MKCOL
// (RFC 5689) one; both set properties the same way.
type mkcalReq struct {
	Set []struct {
		Prop struct {
			ResourceType *struct {
				Types []anyElem `xml:",any"`
			} `xml:"DAV: resourcetype"`
			DisplayName *string `xml:"DAV: displayname"`
			CompSet     *struct {
				Comps []struct {
					Name string `xml:"name,attr"`
				} `xml:"urn:ietf:params:xml:ns:caldav comp"`
			} `xml:"urn:ietf:params:xml:ns:caldav supported-calendar-component-set"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: set"`
}

// mkcalendar creates a calendar (a folder of type 13, which phones see
// at their next FolderSync) named name, or a task list (type 15) when the
// body asks for VTODO alone.
func (c *calHome) mkcalendar(w http.ResponseWriter, r *http.Request, u *user, name string) error {
	var req mkcalReq
	empty, err := decodeBody(r, &req)
	if err != nil {
		return err
	}
	display := name
	isCal := r.Method == "MKCALENDAR"
	events, todos := false, false
	for _, s := range req.Set {
		if rt := s.Prop.ResourceType; rt != nil {
			for _, t := range rt.Types {
				if t.XMLName == (xml.Name{Space: nsCalDAV, Local: "calendar"}) {
					isCal = true
				}
			}
		}
		if dn := s.Prop.DisplayName; dn != nil && strings.TrimSpace(*dn) != "" {
			display = strings.TrimSpace(*dn)
		}
		if cs := s.Prop.CompSet; cs != nil {
			for _, comp := range cs.Comps {
				switch {
				case strings.EqualFold(comp.Name, "VEVENT"):
					events = true
				case strings.EqualFold(comp.Name, "VTODO") && c.h.opts.Tasks != nil:
					todos = true
				default:
					return condition(http.StatusForbidden, nameCalSupportedComp,
						"a collection here holds events (VEVENT) or tasks (VTODO), not %s", comp.Name)
				}
			}
		}
	}
	if !isCal || (r.Method == "MKCOL" && empty) {
		return errorf(http.StatusForbidden, "only calendars can be made here")
	}
	if events && todos {
		// The phones keep events and tasks in folders of their own kind.
		return condition(http.StatusForbidden, nameCalSupportedComp,
			"a collection holds events (VEVENT) or tasks (VTODO), not both")
	}
	if strings.Trim(name, "0123456789") == "" || len(name) > 200 || strings.ContainsAny(name, "/\x00") {
		return errorf(http.StatusForbidden, "collection name %q not allowed: use letters as well as digits", name)
	}
	if len(display) > 256 {
		return errorf(http.StatusForbidden, "display name too long")
	}
	existing, err := c.find(r.Context(), u, name)
	if err != nil {
		return err
	}
	if existing != nil {
		return errorf(http.StatusMethodNotAllowed, "%q exists", name)
	}
	typ, nameIt := model.FolderUserCalendar, func(tx pgx.Tx, f folders.Folder) error {
		return c.h.opts.Calendar.NameCalendar(r.Context(), tx, u.id, f.ServerID, name)
	}
	if todos {
		typ, nameIt = model.FolderUserTasks, func(tx pgx.Tx, f folders.Folder) error {
			return c.h.opts.Tasks.NameList(r.Context(), tx, u.id, f.ServerID, name)
		}
	}
	_, err = c.h.opts.Folders.CreatePIM(r.Context(), u.id, "0", display, typ, nameIt)
	if isUnique(err) {
		return errorf(http.StatusMethodNotAllowed, "%q exists", name)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", c.homePath(u)+url.PathEscape(name)+"/")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// proppatchCalendar renames the calendar; other properties are refused
// (and then nothing is written). Clients' colour and order properties
// are refused too: they keep them locally.
func (c *calHome) proppatchCalendar(w http.ResponseWriter, r *http.Request, u *user, cl *cal) error {
	return proppatch(w, r, cl.path, func(name string) error {
		return c.h.opts.Folders.UpdatePIM(r.Context(), u.id, cl.folder.ServerID, cl.folder.ParentID, name)
	})
}

func (c *calHome) serveObject(w http.ResponseWriter, r *http.Request, u *user, cl *cal, name string) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return c.coll(u, cl).getMember(w, r, name)
	case http.MethodPut:
		return c.putObject(w, r, u, cl, name)
	case http.MethodDelete:
		return c.coll(u, cl).deleteMember(w, r, name)
	case "PROPFIND":
		return c.coll(u, cl).propfindMember(w, r, name)
	case "PROPPATCH":
		return refuseProppatch(w, r, cl.path+url.PathEscape(name))
	case "MKCOL", "MKCALENDAR":
		return errorf(http.StatusMethodNotAllowed, "a calendar holds no collections")
	}
	return methodNotAllowed(w, "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND")
}

// readObject reads and checks a PUT body: text/calendar, at most the
// store's size limit, one calendar object resource (RFC 4791 4.1) of the
// collection's component.
func readObject(r *http.Request, st objStore) (*ical.Calendar, string, []byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "text/calendar" {
			return nil, "", nil, condition(http.StatusUnsupportedMediaType, nameCalSupportedData,
				"content type %q is not iCalendar (text/calendar)", ct)
		}
	}
	limit := st.maxSize()
	tooLarge := condition(http.StatusRequestEntityTooLarge, nameCalMaxSize,
		"a calendar object may have at most %d bytes", limit)
	if r.ContentLength > int64(limit) {
		return nil, "", nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, "", nil, err
	}
	if len(body) > limit {
		return nil, "", nil, tooLarge
	}
	bad := func(format string, args ...any) error {
		return condition(http.StatusBadRequest, nameCalValidData, format, args...)
	}
	dec := ical.NewDecoder(bytes.NewReader(body))
	obj, err := dec.Decode()
	if err == io.EOF {
		return nil, "", nil, bad("empty body: no iCalendar object")
	}
	if err != nil {
		return nil, "", nil, bad("not iCalendar: %v", err)
	}
	if _, err := dec.Decode(); err != io.EOF {
		return nil, "", nil, bad("a calendar object resource holds exactly one VCALENDAR")
	}
	uid, err := st.objectUID(obj)
	if errors.Is(err, errObjUnsupported) {
		return nil, "", nil, condition(http.StatusForbidden, nameCalSupportedComp, "%v", err)
	}
	if err != nil {
		return nil, "", nil, condition(http.StatusBadRequest, nameCalValidObject, "%v", err)
	}
	return obj, uid, body, nil
}

// putObject creates or replaces an event or task, in one transaction
// with the checks of If-Match / If-None-Match and of the UID.
func (c *calHome) putObject(w http.ResponseWriter, r *http.Request, u *user, cl *cal, name string) error {
	if len(name) > 255 {
		return errorf(http.StatusForbidden, "resource name too long")
	}
	obj, uid, body, err := readObject(r, cl.st)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st := cl.st
	tx, err := c.h.opts.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	existing, err := st.lockHref(ctx, tx, u.id, cl.folder.ServerID, name)
	exists := err == nil
	if err != nil && !errors.Is(err, errObjNotFound) {
		return err
	}
	if err := preconditions(r, exists, existing.Version); err != nil {
		return err
	}
	var saved calObj
	if exists {
		old, err := st.get(ctx, tx, u.id, cl.folder.ServerID, []string{existing.ServerID})
		if err != nil {
			return err
		}
		if len(old) == 1 && uid != old[0].UID {
			e := condition(http.StatusConflict, nameCalNoUIDConflict, "the UID of an object cannot change (was %q)", old[0].UID)
			e.href = cl.path + url.PathEscape(name)
			return e
		}
		saved, err = st.update(ctx, tx, u.id, cl.folder.ServerID, existing.ServerID, obj)
		if err != nil {
			return c.writeErr(ctx, tx, u, cl, uid, err)
		}
	} else {
		saved, err = st.create(ctx, tx, u.id, cl.folder.ServerID, name, obj)
		if err != nil {
			return c.writeErr(ctx, tx, u, cl, uid, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	h := w.Header()
	// An ETag only when stored as sent (RFC 4791 5.3.4).
	if stored, err := st.encode(saved.Cal); err == nil && sameText([]byte(stored), body) {
		h.Set("ETag", etag(saved.Version))
	}
	if exists {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	h.Set("Location", cl.path+url.PathEscape(name))
	w.WriteHeader(http.StatusCreated)
	return nil
}

// writeErr turns the store's refusal into the CalDAV answer. The
// object a UID clashes with is found as the store tells (for events in
// any of the user's calendars, for tasks in the same list).
func (c *calHome) writeErr(ctx context.Context, tx pgx.Tx, u *user, cl *cal, uid string, err error) error {
	switch {
	case errors.Is(err, errObjUIDExists):
		_ = tx.Rollback(ctx)
		e := condition(http.StatusConflict, nameCalNoUIDConflict, "an object with UID %q exists already", uid)
		if folder, href, gerr := cl.st.uidHolder(ctx, c.h.opts.Pool, u.id, cl.folder.ServerID, uid); gerr == nil {
			if list, lerr := c.calendars(ctx, u); lerr == nil {
				for _, other := range list {
					if other.folder.ServerID == folder {
						e.href = other.path + url.PathEscape(href)
					}
				}
			}
		}
		return e
	case errors.Is(err, errObjHrefExists):
		return errorf(http.StatusPreconditionFailed, "an object of this name was made meanwhile")
	case errors.Is(err, errObjTooLarge):
		return condition(http.StatusRequestEntityTooLarge, nameCalMaxSize, "%v", err)
	case errors.Is(err, errObjBad):
		return condition(http.StatusBadRequest, nameCalValidObject, "%v", err)
	case errors.Is(err, errObjNotFound):
		return errorf(http.StatusPreconditionFailed, "the object was deleted meanwhile")
	}
	return err
}
