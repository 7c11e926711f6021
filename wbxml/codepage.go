package wbxml

import (
	"fmt"
	"strings"
)

// Tag identifies an element: its code page in the high byte and its token
// (0x05–0x3F) in the low byte. The zero Tag is not a valid element.
type Tag uint16

// MakeTag builds a Tag from a code page number and a token.
func MakeTag(page, token byte) Tag { return Tag(page)<<8 | Tag(token&0x3F) }

// Page returns the code page number of t.
func (t Tag) Page() byte { return byte(t >> 8) }

// Token returns the token of t within its code page.
func (t Tag) Token() byte { return byte(t) }

// Name returns the element name from MS-ASWBXML, or "" when t is unknown.
func (t Tag) Name() string {
	cp := pageByNumber(t.Page())
	if cp == nil || t.Token() >= 64 {
		return ""
	}
	return cp.names[t.Token()]
}

// Namespace returns the code page name (e.g. "AirSync"), or "" when the
// page is unknown.
func (t Tag) Namespace() string {
	cp := pageByNumber(t.Page())
	if cp == nil {
		return ""
	}
	return cp.Name
}

// Known reports whether t names an element of the MS-ASWBXML tables.
func (t Tag) Known() bool { return t.Name() != "" }

// String returns "Namespace:Name", or a hexadecimal form for unknown tags.
func (t Tag) String() string {
	if n := t.Name(); n != "" {
		return t.Namespace() + ":" + n
	}
	return fmt.Sprintf("page%d:0x%02X", t.Page(), t.Token())
}

// CodePage is one MS-ASWBXML code page: a number, a namespace name and the
// element names indexed by token.
type CodePage struct {
	Number byte
	Name   string // namespace without the trailing colon, e.g. "AirSync"
	names  [64]string
	tokens map[string]byte
}

// Tags lists the tags of the page in token order.
func (cp *CodePage) Tags() []Tag {
	var out []Tag
	for tok, n := range cp.names {
		if n != "" {
			out = append(out, MakeTag(cp.Number, byte(tok)))
		}
	}
	return out
}

// Lookup returns the tag called name on this page.
func (cp *CodePage) Lookup(name string) (Tag, bool) {
	tok, ok := cp.tokens[name]
	if !ok {
		return 0, false
	}
	return MakeTag(cp.Number, tok), true
}

// The tables are built by a variable initializer rather than init, so that
// package-level variables of other files (and tests) may use them.
var pages, pagesByName = buildPages()

func buildPages() (*[256]*CodePage, map[string]*CodePage) {
	var byNum [256]*CodePage
	byName := map[string]*CodePage{}
	for _, def := range codePageDefs {
		cp := &CodePage{Number: def.number, Name: def.name, tokens: make(map[string]byte, len(def.tags))}
		for tok, name := range def.tags {
			if name == "" {
				continue
			}
			cp.names[tok] = name
			cp.tokens[name] = byte(tok)
		}
		byNum[def.number] = cp
		byName[def.name] = cp
	}
	return &byNum, byName
}

func pageByNumber(n byte) *CodePage { return pages[n] }

// PageByNumber returns the code page with number n.
func PageByNumber(n byte) (*CodePage, bool) {
	cp := pages[n]
	return cp, cp != nil
}

// PageByName returns the code page whose namespace is name. A trailing
// colon, as used in XML namespaces ("AirSync:"), is accepted.
func PageByName(name string) (*CodePage, bool) {
	cp, ok := pagesByName[strings.TrimSuffix(name, ":")]
	return cp, ok
}

// Pages returns all code pages in page order.
func Pages() []*CodePage {
	out := make([]*CodePage, 0, len(codePageDefs))
	for _, cp := range pages {
		if cp != nil {
			out = append(out, cp)
		}
	}
	return out
}

// LookupTag finds the tag called name in namespace ns ("AirSync" or
// "AirSync:").
func LookupTag(ns, name string) (Tag, bool) {
	cp, ok := PageByName(ns)
	if !ok {
		return 0, false
	}
	return cp.Lookup(name)
}

// ParseTag resolves a qualified name "Namespace:Name".
func ParseTag(qname string) (Tag, error) {
	ns, name, ok := strings.Cut(qname, ":")
	if !ok {
		return 0, fmt.Errorf("wbxml: tag %q: want Namespace:Name", qname)
	}
	t, ok := LookupTag(ns, name)
	if !ok {
		return 0, fmt.Errorf("wbxml: unknown tag %q", qname)
	}
	return t, nil
}

// MustTag is ParseTag for names fixed in the source code; it panics on a
// typo, which a test run catches at once.
func MustTag(qname string) Tag {
	t, err := ParseTag(qname)
	if err != nil {
		panic(err)
	}
	return t
}
