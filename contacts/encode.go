package contacts

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emersion/go-vcard"
)

// uriProperties are the vCard 4.0 properties whose value is a URI (RFC
// 6350): a data: URI photo, a web page, an IM address.
var uriProperties = map[string]bool{
	"PHOTO": true, "LOGO": true, "SOUND": true, "KEY": true, "URL": true, "SOURCE": true,
	"MEMBER": true, "FBURL": true, "CALADRURI": true, "CALURI": true, "IMPP": true, "GEO": true,
}

// EncodeCard writes card as vCard text. go-vcard escapes every comma of a
// value, which RFC 6350 asks for in text values only: in a URI the comma
// is a character of the URI, and `data:image/jpeg;base64\,...` is a photo
// that other readers (a desktop's CardDAV client) fail to show. Such
// values are written with their commas as they are; go-vcard reads both
// forms back to the same value, so nothing of our own round trips
// changes.
func EncodeCard(card vcard.Card) ([]byte, error) {
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(card); err != nil {
		return nil, fmt.Errorf("contacts: encode: %w", err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`\,`)) {
		return buf.Bytes(), nil
	}
	lines := strings.SplitAfter(buf.String(), "\r\n")
	for i, l := range lines {
		if !strings.Contains(l, `\,`) {
			continue
		}
		head, value, ok := cutValue(l)
		if !ok || !isURIValued(head) {
			continue
		}
		lines[i] = head + ":" + strings.ReplaceAll(value, `\,`, ",")
	}
	return []byte(strings.Join(lines, "")), nil
}

// cutValue splits a content line at the colon that ends its name and
// parameters (a colon inside a quoted parameter value does not count).
func cutValue(line string) (head, value string, ok bool) {
	quoted := false
	for i, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ':' && !quoted:
			return line[:i], line[i+1:], true
		}
	}
	return "", "", false
}

// isURIValued reports whether the property of a content line's head
// ("item1.PHOTO;MEDIATYPE=image/jpeg") has a URI value: a URI property,
// or any property with VALUE=uri.
func isURIValued(head string) bool {
	name, params, _ := strings.Cut(head, ";")
	if _, n, ok := strings.Cut(name, "."); ok {
		name = n // a group prefix
	}
	if uriProperties[strings.ToUpper(name)] {
		return true
	}
	for _, p := range strings.Split(params, ";") {
		if strings.EqualFold(p, "VALUE=uri") {
			return true
		}
	}
	return false
}
