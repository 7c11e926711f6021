package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
)

// cardHome is the CardDAV home: the user's address books, which are the
// user's PIM contacts folders (EAS types 9 and 14).
type cardHome struct{ h *Handler }

func (c *cardHome) segment() string { return "addressbooks" }

func (c *cardHome) homePath(u *user) string {
	return Prefix + "addressbooks/" + url.PathEscape(u.login) + "/"
}

func (c *cardHome) principalProps(u *user) map[string]string {
	p := props{}
	p.set(nsCardDAV, "addressbook-home-set", hrefElem(c.homePath(u)))
	return p
}

// book is one address book as DAV sees it.
type book struct {
	folder folders.Folder
	name   string // the collection's path segment
	path   string
}

// books lists u's address books; the default Contacts folder first.
func (c *cardHome) books(ctx context.Context, u *user) ([]book, error) {
	list, err := c.h.opts.Folders.EnsurePIM(ctx, u.id)
	if err != nil {
		return nil, err
	}
	names, err := c.h.opts.Contacts.BookNames(ctx, c.h.opts.Pool, u.id)
	if err != nil {
		return nil, err
	}
	var out []book
	for _, f := range list {
		if f.Source != folders.SourcePIM || (f.Type != model.FolderContacts && f.Type != model.FolderUserContacts) {
			continue
		}
		name := f.ServerID
		if n, ok := names[f.ServerID]; ok {
			name = n
		}
		out = append(out, book{folder: f, name: name, path: c.homePath(u) + url.PathEscape(name) + "/"})
	}
	slices.SortStableFunc(out, func(a, b book) int {
		if (a.folder.Type == model.FolderContacts) != (b.folder.Type == model.FolderContacts) {
			if a.folder.Type == model.FolderContacts {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return out, nil
}

// find returns the book named name, or nil.
func (c *cardHome) find(ctx context.Context, u *user, name string) (*book, error) {
	list, err := c.books(ctx, u)
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

func (c *cardHome) serve(w http.ResponseWriter, r *http.Request, u *user, rest []string) error {
	switch len(rest) {
	case 0:
		return c.serveHome(w, r, u)
	case 1, 2:
		if len(rest) == 1 && r.Method == "MKCOL" {
			return c.mkcol(w, r, u, rest[0])
		}
		b, err := c.find(r.Context(), u, rest[0])
		if err != nil {
			return err
		}
		if b == nil {
			return errorf(http.StatusNotFound, "no such address book")
		}
		if len(rest) == 1 {
			return c.serveBook(w, r, u, b)
		}
		return c.serveCard(w, r, u, b, rest[1])
	}
	return errorf(http.StatusNotFound, "not found")
}

func (c *cardHome) serveHome(w http.ResponseWriter, r *http.Request, u *user) error {
	switch r.Method {
	case "PROPFIND":
	case "PROPPATCH":
		return refuseProppatch(w, r, c.homePath(u))
	case "MKCOL":
		return errorf(http.StatusMethodNotAllowed, "the address book home exists")
	default:
		return methodNotAllowed(w, "OPTIONS, PROPFIND")
	}
	self := func() (props, error) {
		p := commonProps(u)
		p.set(nsDAV, "resourcetype", "<D:collection/>")
		p.set(nsDAV, "displayname", "Address books")
		return p, nil
	}
	return propfindCollection(w, r, c.homePath(u), self, func(names []string, all, nameOnly bool) ([]response, error) {
		list, err := c.books(r.Context(), u)
		if err != nil {
			return nil, err
		}
		var out []response
		for i := range list {
			bp, err := c.bookProps(r.Context(), u, &list[i])
			if err != nil {
				return nil, err
			}
			out = append(out, answer(list[i].path, bp, names, all, nameOnly))
		}
		return out, nil
	})
}

// syncToken is the token naming version ctag of the collection (book or
// calendar) of folderID: a URI (RFC 6578
// 3.2) that also names the book, so a token of one book is never taken
// for another's. listedAt, when not 0, marks the resume point of a cut
// listing of the whole book made at that ctag (contacts.ChangesSince).
func syncToken(folderID string, ctag, listedAt int64) string {
	t := "urn:x-easd:sync:" + folderID + ":" + strconv.FormatInt(ctag, 10)
	if listedAt != 0 {
		t += "-" + strconv.FormatInt(listedAt, 10)
	}
	return t
}

// parseSyncToken returns the version a token of b names, and the ctag of
// the listing it resumes.
func parseSyncToken(folderID string, tok string) (since, listedAt int64, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(tok), "urn:x-easd:sync:"+folderID+":")
	if !ok {
		return 0, 0, false
	}
	v, l, cut := strings.Cut(rest, "-")
	since, err := strconv.ParseInt(v, 10, 64)
	if err != nil || since < 0 {
		return 0, 0, false
	}
	if cut {
		if listedAt, err = strconv.ParseInt(l, 10, 64); err != nil || listedAt <= 0 {
			return 0, 0, false
		}
	}
	return since, listedAt, true
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

func (c *cardHome) bookProps(ctx context.Context, u *user, b *book) (props, error) {
	ctag, err := c.h.opts.Contacts.CTag(ctx, c.h.opts.Pool, u.id, b.folder.ServerID)
	if err != nil {
		return nil, err
	}
	p := commonProps(u)
	p.set(nsDAV, "resourcetype", "<D:collection/><C:addressbook/>")
	p.set(nsDAV, "displayname", escText(b.folder.DisplayName))
	p.set(nsCS, "getctag", escText(strconv.FormatInt(ctag, 10)))
	p.set(nsDAV, "sync-token", escText(syncToken(b.folder.ServerID, ctag, 0)))
	p.set(nsDAV, "getetag", escText(etag(ctag)))
	p.set(nsDAV, "supported-report-set",
		"<D:supported-report><D:report><C:addressbook-query/></D:report></D:supported-report>"+
			"<D:supported-report><D:report><C:addressbook-multiget/></D:report></D:supported-report>"+
			"<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>")
	// Stored and served as vCard 4.0; 3.0 is accepted on PUT and kept as
	// 4.0 (docs/dav.md).
	p.set(nsCardDAV, "supported-address-data",
		`<C:address-data-type content-type="text/vcard" version="4.0"/>`+
			`<C:address-data-type content-type="text/vcard" version="3.0"/>`)
	p.set(nsCardDAV, "max-resource-size", strconv.Itoa(contacts.MaxCardSize))
	return p, nil
}

func (c *cardHome) serveBook(w http.ResponseWriter, r *http.Request, u *user, b *book) error {
	switch r.Method {
	case "PROPFIND":
		return c.propfindBook(w, r, u, b)
	case "PROPPATCH":
		return c.proppatchBook(w, r, u, b)
	case "REPORT":
		return c.report(w, r, u, b)
	case http.MethodDelete:
		return c.deleteBook(w, r, u, b)
	case "MKCOL":
		return errorf(http.StatusMethodNotAllowed, "the address book exists")
	}
	return methodNotAllowed(w, "OPTIONS, PROPFIND, PROPPATCH, REPORT, DELETE")
}

func (c *cardHome) propfindBook(w http.ResponseWriter, r *http.Request, u *user, b *book) error {
	return c.coll(u, b).propfind(w, r, func() (props, error) { return c.bookProps(r.Context(), u, b) })
}

// cardErrs map the contacts store's refusals to the errObj errors.
var cardErrs = []errMap{{contacts.ErrNotFound, errObjNotFound}, {contacts.ErrTokenTooOld, errObjTokenOld}}

// coll is the book b as the shared handlers see it.
func (c *cardHome) coll(u *user, b *book) *coll {
	st, folder := c.h.opts.Contacts, b.folder.ServerID
	return &coll{
		pool: c.h.opts.Pool, u: u, path: b.path, folderID: folder,
		kind: "address book", what: "card",
		mediaType: "text/vcard; charset=utf-8", propType: "text/vcard; charset=utf-8",
		dataSpace: nsCardDAV, dataLocal: "address-data",
		resources: func(ctx context.Context, q calendar.Querier) ([]objRes, error) {
			return st.Resources(ctx, q, u.id, folder)
		},
		read: func(ctx context.Context, q calendar.Querier, hrefs []string) ([]member, error) {
			var cards []contacts.Card
			var err error
			if hrefs == nil {
				cards, err = st.AllCards(ctx, q, u.id, folder)
			} else {
				cards, err = st.ByHref(ctx, q, u.id, folder, hrefs)
			}
			if err != nil {
				return nil, err
			}
			out := make([]member, len(cards))
			for i := range cards {
				if out[i], err = cardMember(&cards[i]); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
		lock: func(ctx context.Context, q calendar.Querier, href string) (objRes, error) {
			r, err := st.LockHref(ctx, q, u.id, folder, href)
			return r, mapErr(err, cardErrs)
		},
		remove: func(ctx context.Context, q calendar.Querier, sid string) error {
			return st.Delete(ctx, q, u.id, folder, sid)
		},
		prune: func(ctx context.Context) error {
			return st.PruneTombstones(ctx, c.h.opts.Pool, u.id, folder, time.Now().Add(-pruneAge))
		},
		changes: func(ctx context.Context, q calendar.Querier, since, listedAt int64) (objChanges, error) {
			ch, err := st.ChangesSince(ctx, q, u.id, folder, since, listedAt)
			if err != nil {
				return objChanges{}, mapErr(err, cardErrs)
			}
			return objChanges{ctag: ch.CTag, changed: ch.Changed, removed: ch.Removed}, nil
		},
	}
}

// cardMember is card with its vCard.
func cardMember(card *contacts.Card) (member, error) {
	data, err := encodeCard(card.Card)
	if err != nil {
		return member{}, err
	}
	return member{href: card.Href, version: card.Version, updated: card.Updated, data: data}, nil
}

func encodeCard(c vcard.Card) ([]byte, error) {
	return contacts.EncodeCard(c)
}

// mkcolReq is an extended MKCOL body (RFC 5689).
type mkcolReq struct {
	XMLName xml.Name `xml:"DAV: mkcol"`
	Set     []struct {
		Prop struct {
			ResourceType *struct {
				Types []anyElem `xml:",any"`
			} `xml:"DAV: resourcetype"`
			DisplayName *string `xml:"DAV: displayname"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: set"`
}

// mkcol creates an address book (a folder of type 14) named name.
func (c *cardHome) mkcol(w http.ResponseWriter, r *http.Request, u *user, name string) error {
	var req mkcolReq
	empty, err := decodeBody(r, &req)
	if err != nil {
		return err
	}
	display := name
	if !empty {
		isBook := false
		for _, s := range req.Set {
			if rt := s.Prop.ResourceType; rt != nil {
				for _, t := range rt.Types {
					if t.XMLName == (xml.Name{Space: nsCardDAV, Local: "addressbook"}) {
						isBook = true
					}
				}
			}
			if dn := s.Prop.DisplayName; dn != nil && strings.TrimSpace(*dn) != "" {
				display = strings.TrimSpace(*dn)
			}
		}
		if !isBook {
			return errorf(http.StatusForbidden, "only address books can be made here")
		}
	}
	// Folder ids are numbers: a collection named by digits could later be
	// taken for the folder of that id.
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
	_, err = c.h.opts.Folders.CreatePIM(r.Context(), u.id, "0", display, model.FolderUserContacts,
		func(tx pgx.Tx, f folders.Folder) error {
			return c.h.opts.Contacts.NameBook(r.Context(), tx, u.id, f.ServerID, name)
		})
	if isUnique(err) {
		return errorf(http.StatusMethodNotAllowed, "%q exists", name)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", c.homePath(u)+url.PathEscape(name)+"/")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (c *cardHome) deleteBook(w http.ResponseWriter, r *http.Request, u *user, b *book) error {
	if b.folder.Type == model.FolderContacts {
		// Phones need their default Contacts folder (MS-ASCMD: it cannot
		// be deleted by FolderDelete either).
		return errorf(http.StatusForbidden, "the default address book cannot be deleted")
	}
	err := c.h.opts.Folders.DeletePIM(r.Context(), u.id, b.folder.ServerID, func(tx pgx.Tx) error {
		return c.h.opts.Contacts.DeleteBook(r.Context(), tx, u.id, b.folder.ServerID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type proppatchReq struct {
	XMLName xml.Name `xml:"DAV: propertyupdate"`
	Ops     []struct {
		XMLName xml.Name
		Prop    struct {
			Props []anyElem `xml:",any"`
		} `xml:"DAV: prop"`
	} `xml:",any"`
}

// proppatchBook renames the book (DAV:displayname, the folder's name the
// phones see too); no other property can be written, and then nothing
// is (RFC 4918 9.2: all or none).
func (c *cardHome) proppatchBook(w http.ResponseWriter, r *http.Request, u *user, b *book) error {
	return proppatch(w, r, b.path, func(name string) error {
		return c.h.opts.Folders.UpdatePIM(r.Context(), u.id, b.folder.ServerID, b.folder.ParentID, name)
	})
}

// proppatch answers a PROPPATCH of the resource at href: DAV:displayname
// is set by rename, when rename is not nil; every other property is
// refused 403, and then nothing is written (RFC 4918 9.2: all or none).
func proppatch(w http.ResponseWriter, r *http.Request, href string, rename func(name string) error) error {
	var req proppatchReq
	if _, err := decodeBody(r, &req); err != nil {
		return err
	}
	var name *string
	resp := response{href: href, failed: map[int][]string{}}
	var okProps []string
	for _, op := range req.Ops {
		for _, p := range op.Prop.Props {
			rendered := elem(p.XMLName, "")
			if n, ok := displayNameSet(op.XMLName, p); ok && rename != nil {
				name = &n
				okProps = append(okProps, rendered)
				continue
			}
			resp.failed[http.StatusForbidden] = append(resp.failed[http.StatusForbidden], rendered)
		}
	}
	if len(resp.failed[http.StatusForbidden]) > 0 {
		resp.failed[http.StatusFailedDependency] = okProps
	} else {
		resp.found = okProps
		if name != nil {
			if err := rename(*name); err != nil {
				return err
			}
		}
	}
	(&multistatus{responses: []response{resp}}).write(w)
	return nil
}

// displayNameSet returns the name a PROPPATCH op sets DAV:displayname
// to, when p is that and the name is one a folder can have.
func displayNameSet(op xml.Name, p anyElem) (string, bool) {
	if p.XMLName != nameDisplayName || op.Local != "set" {
		return "", false
	}
	var v struct {
		Text string `xml:",chardata"`
	}
	_ = xml.Unmarshal(append(append([]byte("<x>"), p.Inner...), "</x>"...), &v)
	n := strings.TrimSpace(v.Text)
	return n, n != "" && len(n) <= 256
}

// refuseProppatch answers a PROPPATCH of a resource with no writable
// property: every property 403.
func refuseProppatch(w http.ResponseWriter, r *http.Request, href string) error {
	return proppatch(w, r, href, nil)
}

func (c *cardHome) serveCard(w http.ResponseWriter, r *http.Request, u *user, b *book, name string) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return c.coll(u, b).getMember(w, r, name)
	case http.MethodPut:
		return c.putCard(w, r, u, b, name)
	case http.MethodDelete:
		return c.coll(u, b).deleteMember(w, r, name)
	case "PROPFIND":
		return c.coll(u, b).propfindMember(w, r, name)
	case "PROPPATCH":
		return refuseProppatch(w, r, b.path+url.PathEscape(name))
	case "MKCOL":
		return errorf(http.StatusMethodNotAllowed, "an address book holds no collections")
	}
	return methodNotAllowed(w, "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND")
}

// matchETag reports whether an If-Match / If-None-Match list names tag
// ("*" names any).
func matchETag(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

// errTooLarge is a body over the limit.
var errTooLarge = errors.New("body too large")

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || errors.Is(err, contacts.ErrTooLarge)
}

// readCard reads and checks a PUT body: a media type of vCard, at most
// MaxCardSize bytes, exactly one vCard that the store can keep.
func readCard(r *http.Request) (vcard.Card, []byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "text/vcard" && mt != "text/x-vcard" && mt != "text/directory") {
			return nil, nil, condition(http.StatusUnsupportedMediaType, nameSupportedAddrData,
				"content type %q is not a vCard (text/vcard)", ct)
		}
	}
	if r.ContentLength > contacts.MaxCardSize {
		return nil, nil, condition(http.StatusRequestEntityTooLarge, nameMaxResourceSize,
			"a card may have at most %d bytes", contacts.MaxCardSize)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, contacts.MaxCardSize+1))
	if err != nil {
		return nil, nil, err
	}
	if len(body) > contacts.MaxCardSize {
		return nil, nil, condition(http.StatusRequestEntityTooLarge, nameMaxResourceSize,
			"a card may have at most %d bytes", contacts.MaxCardSize)
	}
	bad := func(format string, args ...any) error {
		return condition(http.StatusBadRequest, nameValidAddressData, format, args...)
	}
	dec := vcard.NewDecoder(bytes.NewReader(body))
	card, err := dec.Decode()
	if err == io.EOF {
		return nil, nil, bad("empty body: no vCard")
	}
	if err != nil {
		return nil, nil, bad("not a vCard: %v", err)
	}
	if _, err := dec.Decode(); err != io.EOF {
		return nil, nil, bad("an address object holds exactly one vCard (RFC 6352 5.1)")
	}
	if _, err := contacts.Normalize(copyOf(card)); err != nil {
		return nil, nil, bad("%v", err)
	}
	if card.Value(vcard.FieldFormattedName) == "" && card.Name() == nil && card.Value(vcard.FieldOrganization) == "" {
		return nil, nil, bad("the vCard has no FN, N or ORG")
	}
	return card, body, nil
}

// copyOf returns a copy of c deep enough for Normalize to change freely.
func copyOf(c vcard.Card) vcard.Card {
	out := make(vcard.Card, len(c))
	for k, fs := range c {
		cp := make([]*vcard.Field, len(fs))
		for i, f := range fs {
			nf := *f
			nf.Params = maps.Clone(f.Params)
			cp[i] = &nf
		}
		out[k] = cp
	}
	return out
}

// putCard creates or replaces a card, in one transaction with the
// checks of If-Match / If-None-Match and of the UID, so a concurrent
// writer (a phone, another desktop) cannot slip in between check and
// write.
func (c *cardHome) putCard(w http.ResponseWriter, r *http.Request, u *user, b *book, name string) error {
	if len(name) > 255 {
		return errorf(http.StatusForbidden, "resource name too long")
	}
	card, body, err := readCard(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st := c.h.opts.Contacts
	tx, err := c.h.opts.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	existing, err := st.LockHref(ctx, tx, u.id, b.folder.ServerID, name)
	exists := err == nil
	if err != nil && !errors.Is(err, contacts.ErrNotFound) {
		return err
	}
	if err := preconditions(r, exists, existing.Version); err != nil {
		return err
	}
	uid := card.Value(vcard.FieldUID)
	var saved contacts.Card
	if exists {
		old, err := st.Get(ctx, tx, u.id, b.folder.ServerID, []string{existing.ServerID})
		if err != nil {
			return err
		}
		if len(old) == 1 && uid != "" && uid != old[0].UID {
			e := condition(http.StatusConflict, nameNoUIDConflict, "the UID of a card cannot change (was %q)", old[0].UID)
			e.href = b.path + url.PathEscape(name)
			return e
		}
		saved, err = st.Update(ctx, tx, u.id, b.folder.ServerID, existing.ServerID, card)
		if err != nil {
			return c.writeErr(ctx, tx, u, b, uid, err)
		}
	} else {
		saved, err = st.CreateNamed(ctx, tx, u.id, b.folder.ServerID, name, card)
		if err != nil {
			return c.writeErr(ctx, tx, u, b, uid, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	h := w.Header()
	// An ETag only for a card stored as sent: a client that gets one
	// takes its own copy for the server's (RFC 6352 6.3.2.3).
	if stored, err := encodeCard(saved.Card); err == nil && sameText(stored, body) {
		h.Set("ETag", etag(saved.Version))
	}
	if exists {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	h.Set("Location", b.path+url.PathEscape(saved.Href))
	w.WriteHeader(http.StatusCreated)
	return nil
}

// sameText compares two vCards as text, line ends aside.
func sameText(a, b []byte) bool {
	norm := func(x []byte) []byte {
		return bytes.TrimRight(bytes.ReplaceAll(x, []byte("\r\n"), []byte("\n")), "\n")
	}
	return bytes.Equal(norm(a), norm(b))
}

// writeErr turns the store's refusal into the CardDAV answer.
func (c *cardHome) writeErr(ctx context.Context, tx pgx.Tx, u *user, b *book, uid string, err error) error {
	switch {
	case errors.Is(err, contacts.ErrUIDExists):
		_ = tx.Rollback(ctx)
		e := condition(http.StatusConflict, nameNoUIDConflict, "the address book has a card with UID %q already", uid)
		if href, herr := c.h.opts.Contacts.HrefOfUID(ctx, c.h.opts.Pool, u.id, b.folder.ServerID, uid); herr == nil && href != "" {
			e.href = b.path + url.PathEscape(href)
		}
		return e
	case errors.Is(err, contacts.ErrHrefExists):
		return errorf(http.StatusPreconditionFailed, "a card of this name was made meanwhile")
	case errors.Is(err, contacts.ErrTooLarge):
		return condition(http.StatusRequestEntityTooLarge, nameMaxResourceSize, "%v", err)
	case errors.Is(err, contacts.ErrNotFound):
		return errorf(http.StatusPreconditionFailed, "the card was deleted meanwhile")
	}
	return err
}

// preconditions applies If-Match and If-None-Match (RFC 9110 13.1) to a
// resource that exists (with version) or not.
func preconditions(r *http.Request, exists bool, version int64) error {
	tag := etag(version)
	if im := r.Header.Get("If-Match"); im != "" && (!exists || !matchETag(im, tag)) {
		return errorf(http.StatusPreconditionFailed, "If-Match: the card changed or is gone")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && exists && matchETag(inm, tag) {
		return errorf(http.StatusPreconditionFailed, "If-None-Match: the card exists")
	}
	return nil
}

// pruneAge is how old a tombstone may grow; a variable for tests.
var pruneAge = contacts.TombstoneRetention
