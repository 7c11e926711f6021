package directory

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/textfold"
)

// LDAPOptions configure an LDAP directory.
type LDAPOptions struct {
	URL          string
	BindDN       string // empty: anonymous
	BindPassword string
	BaseDN       string
	Filter       string // every entry must match it; empty: the schema's default
	Schema       string // "inetorgperson" (OpenLDAP) or "ad" (Active Directory)
	// Attributes override the schema's mapping, by field name (see
	// LDAPSchemas); an empty attribute switches a field off.
	Attributes map[string]string
	CacheTTL   time.Duration
	Timeout    time.Duration
	MinQuery   int
	MaxResults int
}

// LDAPSchemas are the default mappings from directory fields to LDAP
// attributes, and the default filter, of OpenLDAP's inetOrgPerson and of
// Active Directory.
var LDAPSchemas = map[string]struct {
	Filter string
	Attrs  map[string]string
}{
	"inetorgperson": {"(&(objectClass=inetOrgPerson)(mail=*))", map[string]string{
		"display-name": "displayName", "first-name": "givenName", "last-name": "sn", "alias": "uid",
		"email": "mail", "phone": "telephoneNumber", "mobile-phone": "mobile", "home-phone": "homePhone",
		"title": "title", "company": "o", "office": "roomNumber", "department": "ou", "picture": "jpegPhoto",
		// OpenLDAP hands certificates out only with the ;binary option.
		"certificate": "userCertificate;binary",
	}},
	"ad": {"(&(objectCategory=person)(objectClass=user)(mail=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))", map[string]string{
		"display-name": "displayName", "first-name": "givenName", "last-name": "sn", "alias": "mailNickname",
		"email": "mail", "other-emails": "proxyAddresses", "phone": "telephoneNumber", "mobile-phone": "mobile",
		"home-phone": "homePhone", "title": "title", "company": "company", "office": "physicalDeliveryOfficeName",
		"department": "department", "picture": "thumbnailPhoto", "certificate": "userCertificate",
		"hidden": "msExchHideFromAddressLists",
	}},
}

// LDAP serves the directory from an LDAP server. A query becomes one
// substring search (every word the beginning of a name attribute, or of
// a word in one, or of an address); the answer is ranked as the
// PostgreSQL directory ranks (exact before prefix, accents ignored) and
// kept for CacheTTL, so paging through it asks the server once. Every
// lookup opens its own connection with a deadline: a server that is down
// or slow fails the lookup with model.ErrDirectoryUnavailable after
// Timeout, never hangs it.
type LDAP struct {
	opts   LDAPOptions
	attrs  map[string]string
	filter string

	mu    sync.Mutex
	cache map[string]ldapCached
}

type ldapCached struct {
	until   time.Time
	entries []model.DirectoryEntry
}

// ldapCacheMax bounds the cached queries; past it the cache starts over.
const ldapCacheMax = 1000

// NewLDAP returns an LDAP directory; it does not connect yet.
func NewLDAP(opts LDAPOptions) (*LDAP, error) {
	schema, ok := LDAPSchemas[opts.Schema]
	if !ok {
		return nil, fmt.Errorf("directory: unknown LDAP schema %q", opts.Schema)
	}
	attrs := map[string]string{}
	for k, v := range schema.Attrs {
		attrs[k] = v
	}
	for k, v := range opts.Attributes {
		attrs[k] = v
	}
	filter := opts.Filter
	if filter == "" {
		filter = schema.Filter
	}
	if _, err := ldap.CompileFilter(filter); err != nil {
		return nil, fmt.Errorf("directory: LDAP filter %q: %w", filter, err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = 100
	}
	return &LDAP{opts: opts, attrs: attrs, filter: filter, cache: map[string]ldapCached{}}, nil
}

// Search implements model.Directory.
func (l *LDAP) Search(ctx context.Context, query string, first, count int) (model.DirectoryPage, error) {
	words, err := checkQuery(query, l.opts.MinQuery)
	if err != nil {
		return model.DirectoryPage{}, err
	}
	key := strings.Join(words, " ")
	all, ok := l.cached(key)
	if !ok {
		if all, err = l.search(ctx, query, words); err != nil {
			return model.DirectoryPage{}, err
		}
		l.store(key, all)
	}
	page := model.DirectoryPage{Total: len(all)}
	first = max(first, 0)
	if first < len(all) && count > 0 {
		page.Entries = all[first:min(len(all), first+count)]
	}
	return page, nil
}

func (l *LDAP) cached(key string) ([]model.DirectoryEntry, bool) {
	if l.opts.CacheTTL <= 0 {
		return nil, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.cache[key]
	if !ok || time.Now().After(c.until) {
		return nil, false
	}
	return c.entries, true
}

func (l *LDAP) store(key string, entries []model.DirectoryEntry) {
	if l.opts.CacheTTL <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.cache) >= ldapCacheMax {
		l.cache = map[string]ldapCached{}
	}
	l.cache[key] = ldapCached{until: time.Now().Add(l.opts.CacheTTL), entries: entries}
}

// nameFields are matched with "begins the attribute or one of its words".
var nameFields = []string{"display-name", "first-name", "last-name", "alias"}

// queryFilter is the LDAP filter of the query words: each word must begin
// a name attribute, a word of one, or an address. Every word is escaped
// (RFC 4515), so a query cannot change the filter's structure.
func (l *LDAP) queryFilter(query string) string {
	var b strings.Builder
	b.WriteString("(&" + l.filter)
	// The user's own spelling: the server compares case-insensitively;
	// the ranking in Go then applies word boundaries and accents.
	for w := range strings.FieldsFuncSeq(query, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' }) {
		w = strings.Trim(w, `"()`)
		if w == "" {
			continue
		}
		e := ldap.EscapeFilter(w)
		b.WriteString("(|")
		for _, f := range nameFields {
			if a := l.attrs[f]; a != "" {
				fmt.Fprintf(&b, "(%s=%s*)(%s=* %s*)", a, e, a, e)
			}
		}
		if l.attrs["display-name"] != "cn" {
			fmt.Fprintf(&b, "(cn=%s*)(cn=* %s*)", e, e)
		}
		if a := l.attrs["email"]; a != "" {
			fmt.Fprintf(&b, "(%s=%s*)", a, e)
		}
		b.WriteString(")")
	}
	b.WriteString(")")
	return b.String()
}

// search asks the server and ranks its answer.
func (l *LDAP) search(ctx context.Context, query string, words []string) ([]model.DirectoryEntry, error) {
	deadline := time.Now().Add(l.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn, err := ldap.DialURL(l.opts.URL, ldap.DialWithDialer(&net.Dialer{Deadline: deadline}))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", model.ErrDirectoryUnavailable, err)
	}
	defer conn.Close()
	conn.SetTimeout(time.Until(deadline))
	if l.opts.BindDN != "" {
		if err := conn.Bind(l.opts.BindDN, l.opts.BindPassword); err != nil {
			return nil, fmt.Errorf("%w: bind: %v", model.ErrDirectoryUnavailable, err)
		}
	}
	var attrs []string
	for _, a := range l.attrs {
		if a != "" {
			attrs = append(attrs, a)
		}
	}
	attrs = append(attrs, "cn")
	// Ask for more than the cap: the ranking drops what is no word prefix.
	req := ldap.NewSearchRequest(l.opts.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		4*l.opts.MaxResults, int(time.Until(deadline).Seconds())+1, false, l.queryFilter(query), attrs, nil)
	res, err := conn.Search(req)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, fmt.Errorf("%w: search: %v", model.ErrDirectoryUnavailable, err)
	}
	if res == nil {
		return nil, nil
	}
	type ranked struct {
		model.DirectoryEntry
		key string
	}
	var out []ranked
	for _, le := range res.Entries {
		e, hidden := l.entryOf(le)
		if hidden || e.Email() == "" {
			continue
		}
		m := textfold.Rank(words, Terms(&e))
		if m == textfold.None {
			continue
		}
		e.Exact = m == textfold.Exact
		out = append(out, ranked{e, sortKey(&e)})
	}
	slices.SortFunc(out, func(a, b ranked) int {
		if a.Exact != b.Exact {
			if a.Exact {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	entries := make([]model.DirectoryEntry, 0, min(len(out), l.opts.MaxResults))
	for _, r := range out[:min(len(out), l.opts.MaxResults)] {
		entries = append(entries, r.DirectoryEntry)
	}
	return entries, nil
}

// entryOf maps an LDAP entry to a directory entry, and reports whether
// it is hidden from address lists.
func (l *LDAP) entryOf(le *ldap.Entry) (model.DirectoryEntry, bool) {
	get := func(field string) string {
		if a := l.attrs[field]; a != "" {
			return le.GetAttributeValue(a)
		}
		return ""
	}
	e := model.DirectoryEntry{DisplayName: get("display-name"), FirstName: get("first-name"), LastName: get("last-name"),
		Alias: get("alias"), Phone: get("phone"), MobilePhone: get("mobile-phone"), HomePhone: get("home-phone"),
		Title: get("title"), Company: get("company"), Office: get("office"), Department: get("department")}
	if e.DisplayName == "" {
		e.DisplayName = le.GetAttributeValue("cn")
	}
	addAddr := func(a string) {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && strings.Contains(a, "@") && !slices.Contains(e.Emails, a) {
			e.Emails = append(e.Emails, a)
		}
	}
	if a := l.attrs["email"]; a != "" {
		for _, v := range le.GetAttributeValues(a) {
			addAddr(v)
		}
	}
	if a := l.attrs["other-emails"]; a != "" {
		// Active Directory's proxyAddresses: "SMTP:primary", "smtp:other",
		// and other address types (X500:, SIP:) that are no mail.
		for _, v := range le.GetAttributeValues(a) {
			if typ, addr, ok := strings.Cut(v, ":"); ok {
				if strings.EqualFold(typ, "smtp") {
					addAddr(addr)
				}
				continue
			}
			addAddr(v)
		}
	}
	if a := l.attrs["picture"]; a != "" {
		if p := le.GetRawAttributeValue(a); len(p) > 0 && len(p) <= MaxPicture {
			e.Picture = p
		}
	}
	if a := l.attrs["certificate"]; a != "" {
		e.Certificates = le.GetRawAttributeValues(a)
		if len(e.Certificates) == 0 {
			// Some servers name the attribute without the option in
			// their answer.
			e.Certificates = le.GetRawAttributeValues(strings.TrimSuffix(a, ";binary"))
		}
	}
	hidden := strings.EqualFold(get("hidden"), "TRUE")
	return e, hidden
}
