package config

import (
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Directory configures the Global Address List: searches, and the
// optional LDAP server that serves it instead of PostgreSQL.
type Directory struct {
	MinQuery   int // fewest characters a GAL query must have
	MaxResults int // most matches one search returns

	LDAPURL          string // ldap:// or ldaps:// URL; empty: the directory is in PostgreSQL
	LDAPBindDN       string
	LDAPBindPassword string
	LDAPBaseDN       string
	LDAPFilter       string        // extra filter every entry must match, e.g. (objectClass=inetOrgPerson)
	LDAPSchema       string        // inetorgperson | ad: the default attribute mapping
	LDAPAttributes   string        // "field=attribute,..." overrides of the mapping
	LDAPCacheTTL     time.Duration // how long an answer is reused
	LDAPTimeout      time.Duration // how long one LDAP request may take
}

func directoryDefaults() Directory {
	return Directory{MinQuery: 1, MaxResults: 100, LDAPSchema: "inetorgperson",
		LDAPCacheTTL: time.Minute, LDAPTimeout: 5 * time.Second}
}

// RegisterDirectory defines the directory settings on fs.
func (d *Directory) RegisterDirectory(fs *flag.FlagSet) {
	fs.IntVar(&d.MinQuery, "directory-min-query", d.MinQuery, "fewest characters of a directory (GAL) search; shorter ones find nothing")
	fs.IntVar(&d.MaxResults, "directory-max-results", d.MaxResults, "most matches one directory search returns (1-1000)")
	fs.StringVar(&d.LDAPURL, "ldap-url", d.LDAPURL, "LDAP server for the directory, ldap://host:389 or ldaps://host:636; empty: the directory is kept in PostgreSQL")
	fs.StringVar(&d.LDAPBindDN, "ldap-bind-dn", d.LDAPBindDN, "DN to bind to the LDAP server as; empty: anonymous")
	fs.StringVar(&d.LDAPBindPassword, "ldap-bind-password", d.LDAPBindPassword, "password of --ldap-bind-dn (prefer the environment variable)")
	fs.StringVar(&d.LDAPBaseDN, "ldap-base-dn", d.LDAPBaseDN, "where directory entries are searched, e.g. ou=people,dc=example,dc=com")
	fs.StringVar(&d.LDAPFilter, "ldap-filter", d.LDAPFilter, "LDAP filter every directory entry must match; empty: the schema's default")
	fs.Var(choiceValue{&d.LDAPSchema, []string{"inetorgperson", "ad"}}, "ldap-schema", "attribute names of the LDAP server: inetorgperson (OpenLDAP) or ad (Active Directory)")
	fs.StringVar(&d.LDAPAttributes, "ldap-attributes", d.LDAPAttributes, "overrides of the attribute mapping, e.g. alias=sAMAccountName,office=roomNumber (fields: display-name, first-name, last-name, alias, email, other-emails, phone, mobile-phone, home-phone, title, company, office, department, picture, certificate, hidden)")
	fs.DurationVar(&d.LDAPCacheTTL, "ldap-cache-ttl", d.LDAPCacheTTL, "how long an LDAP answer is reused (0: never)")
	fs.DurationVar(&d.LDAPTimeout, "ldap-timeout", d.LDAPTimeout, "longest wait for the LDAP server; past it a search fails cleanly")
}

// LDAPFields are the directory fields --ldap-attributes may map.
var LDAPFields = []string{"display-name", "first-name", "last-name", "alias", "email", "other-emails", "phone",
	"mobile-phone", "home-phone", "title", "company", "office", "department", "picture", "certificate", "hidden"}

// ParseLDAPAttributes reads "field=attribute,..." into a map.
func ParseLDAPAttributes(s string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		field, attr, ok := strings.Cut(part, "=")
		field, attr = strings.TrimSpace(field), strings.TrimSpace(attr)
		known := false
		for _, f := range LDAPFields {
			known = known || f == field
		}
		if !ok || !known {
			return nil, fmt.Errorf("%q is not field=attribute with a known field", part)
		}
		out[field] = attr // an empty attribute switches the field off
	}
	return out, nil
}

func (d *Directory) validate() error {
	bad := func(flag, format string, a ...any) error {
		return &Error{Flag: flag, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case d.MinQuery < 0 || d.MinQuery > 64:
		return bad("directory-min-query", "%d is outside 0-64", d.MinQuery)
	case d.MaxResults < 1 || d.MaxResults > 1000:
		return bad("directory-max-results", "%d is outside 1-1000", d.MaxResults)
	}
	if d.LDAPURL == "" {
		return nil
	}
	if u, err := url.Parse(d.LDAPURL); err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return bad("ldap-url", "%q is not an ldap:// or ldaps:// URL", d.LDAPURL)
	}
	switch {
	case d.LDAPBaseDN == "":
		return bad("ldap-base-dn", "required with --ldap-url")
	case d.LDAPBindPassword != "" && d.LDAPBindDN == "":
		return bad("ldap-bind-dn", "required with --ldap-bind-password")
	case d.LDAPCacheTTL < 0 || d.LDAPCacheTTL > time.Hour:
		return bad("ldap-cache-ttl", "%v is outside 0-1h", d.LDAPCacheTTL)
	case d.LDAPTimeout < 100*time.Millisecond || d.LDAPTimeout > time.Minute:
		return bad("ldap-timeout", "%v is outside 100ms-1m", d.LDAPTimeout)
	case d.LDAPFilter != "" && (!strings.HasPrefix(d.LDAPFilter, "(") || !strings.HasSuffix(d.LDAPFilter, ")")):
		return bad("ldap-filter", "%q is not a parenthesised LDAP filter", d.LDAPFilter)
	}
	if _, err := ParseLDAPAttributes(d.LDAPAttributes); err != nil {
		return bad("ldap-attributes", "%v", err)
	}
	return nil
}
