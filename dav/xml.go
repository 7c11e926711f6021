package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The WebDAV wire format shared by CardDAV and (later) CalDAV: request
// bodies are decoded with encoding/xml into the small structs below;
// responses are written by hand with fixed prefixes, because
// encoding/xml's namespace handling repeats an xmlns on every element
// and some clients match on prefixes anyway.

const (
	nsDAV     = "DAV:"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCS      = "http://calendarserver.org/ns/"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
)

// prefixes of the namespaces every multistatus declares.
var prefixes = map[string]string{nsDAV: "D", nsCardDAV: "C", nsCS: "CS", nsCalDAV: "CAL"}

const xmlHead = `<?xml version="1.0" encoding="utf-8"?>` + "\n"
const xmlns = `xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/" xmlns:CAL="urn:ietf:params:xml:ns:caldav"`

// maxXMLBody bounds a request's XML body (PROPFIND, REPORT, PROPPATCH,
// MKCOL): a multiget of thousands of hrefs is well under it.
const maxXMLBody = 4 << 20

// anyElem is an element of a request body whose content is kept raw.
type anyElem struct {
	XMLName xml.Name
	Inner   []byte `xml:",innerxml"`
}

// propList is a DAV:prop of requested property names.
type propList struct {
	Names []anyElem `xml:",any"`
}

func (p *propList) names() []xml.Name {
	if p == nil {
		return nil
	}
	out := make([]xml.Name, len(p.Names))
	for i, n := range p.Names {
		out[i] = n.XMLName
	}
	return out
}

type propfindReq struct {
	XMLName  xml.Name  `xml:"DAV: propfind"`
	AllProp  *struct{} `xml:"DAV: allprop"`
	PropName *struct{} `xml:"DAV: propname"`
	Prop     *propList `xml:"DAV: prop"`
}

// errBadXML is a request body that is not the XML the method wants.
var errBadXML = errors.New("malformed XML body")

// decodeBody decodes r's XML body into v; an empty body is reported by
// empty and leaves v alone.
func decodeBody(r *http.Request, v any) (empty bool, err error) {
	body, err := readBody(r)
	if err != nil || body == nil {
		return body == nil && err == nil, err
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return false, fmt.Errorf("%w: %v", errBadXML, err)
	}
	return false, nil
}

// readBody reads r's XML body; nil when it is empty.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxXMLBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxXMLBody {
		return nil, errTooLarge
	}
	if strings.TrimSpace(string(body)) == "" {
		return nil, nil
	}
	return body, nil
}

// rootName returns the name of body's document element.
func rootName(body []byte) (xml.Name, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.Name{}, fmt.Errorf("%w: %v", errBadXML, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}

// esc escapes text for XML content and attribute values (quotes too:
// some values go into attributes).
var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\r", "&#13;").Replace

// escText escapes element content; quotes stay as they are, which keeps
// ETags readable.
var escText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;").Replace

// elem renders an element of name with inner XML (already escaped);
// names outside the declared namespaces carry their own xmlns.
func elem(name xml.Name, inner string) string {
	tag, decl := qname(name)
	if inner == "" {
		return "<" + tag + decl + "/>"
	}
	return "<" + tag + decl + ">" + inner + "</" + tag + ">"
}

func qname(name xml.Name) (tag, decl string) {
	if p, ok := prefixes[name.Space]; ok {
		return p + ":" + name.Local, ""
	}
	if name.Space == "" {
		return name.Local, ""
	}
	return "X:" + name.Local, ` xmlns:X="` + esc(name.Space) + `"`
}

func hrefElem(href string) string { return "<D:href>" + esc(href) + "</D:href>" }

// response is one DAV:response of a multistatus.
type response struct {
	href   string
	status int      // for a response without properties (a removed card)
	found  []string // rendered properties, 200
	failed map[int][]string
}

// multistatus collects responses and writes them.
type multistatus struct {
	responses []response
	syncToken string // DAV:sync-token of a sync-collection report
}

func (m *multistatus) write(w http.ResponseWriter) {
	var b strings.Builder
	b.WriteString(xmlHead + `<D:multistatus ` + xmlns + `>`)
	for _, r := range m.responses {
		b.WriteString("<D:response>" + hrefElem(r.href))
		if r.status != 0 {
			b.WriteString("<D:status>" + statusLine(r.status) + "</D:status>")
		}
		if len(r.found) > 0 || (r.status == 0 && len(r.failed) == 0) {
			b.WriteString("<D:propstat><D:prop>" + strings.Join(r.found, "") + "</D:prop><D:status>" +
				statusLine(http.StatusOK) + "</D:status></D:propstat>")
		}
		for _, code := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusFailedDependency} {
			if props := r.failed[code]; len(props) > 0 {
				b.WriteString("<D:propstat><D:prop>" + strings.Join(props, "") + "</D:prop><D:status>" +
					statusLine(code) + "</D:status></D:propstat>")
			}
		}
		b.WriteString("</D:response>")
	}
	if m.syncToken != "" {
		b.WriteString("<D:sync-token>" + escText(m.syncToken) + "</D:sync-token>")
	}
	b.WriteString("</D:multistatus>")
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusMultiStatus)
	_, _ = io.WriteString(w, b.String())
}

func statusLine(code int) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code)
}

// davError is an answer with a status and, for a precondition or
// postcondition of the RFCs, the DAV:error body naming it, so a client
// can tell what it did wrong; reason is the human-readable detail.
type davError struct {
	code   int
	cond   xml.Name // zero: a plain error
	href   string   // the resource a condition refers to (no-uid-conflict)
	reason string
}

func (e *davError) Error() string { return fmt.Sprintf("%d %s", e.code, e.reason) }

func errorf(code int, format string, args ...any) *davError {
	return &davError{code: code, reason: fmt.Sprintf(format, args...)}
}

func condition(code int, cond xml.Name, format string, args ...any) *davError {
	return &davError{code: code, cond: cond, reason: fmt.Sprintf(format, args...)}
}

func (e *davError) write(w http.ResponseWriter) {
	h := w.Header()
	if e.cond.Local == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.code)
		_, _ = io.WriteString(w, e.reason+"\n")
		return
	}
	inner := ""
	if e.href != "" {
		inner = hrefElem(e.href)
	}
	body := xmlHead + `<D:error ` + xmlns + `>` + elem(e.cond, inner) +
		`<D:responsedescription>` + escText(e.reason) + `</D:responsedescription></D:error>`
	h.Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(e.code)
	_, _ = io.WriteString(w, body)
}

// Names of the conditions this package answers with.
var (
	nameDisplayName       = xml.Name{Space: nsDAV, Local: "displayname"}
	nameValidSyncToken    = xml.Name{Space: nsDAV, Local: "valid-sync-token"}
	nameMaxResourceSize   = xml.Name{Space: nsCardDAV, Local: "max-resource-size"}
	nameValidAddressData  = xml.Name{Space: nsCardDAV, Local: "valid-address-data"}
	nameSupportedAddrData = xml.Name{Space: nsCardDAV, Local: "supported-address-data"}
	nameNoUIDConflict     = xml.Name{Space: nsCardDAV, Local: "no-uid-conflict"}

	nameCalValidData     = xml.Name{Space: nsCalDAV, Local: "valid-calendar-data"}
	nameCalValidObject   = xml.Name{Space: nsCalDAV, Local: "valid-calendar-object-resource"}
	nameCalSupportedData = xml.Name{Space: nsCalDAV, Local: "supported-calendar-data"}
	nameCalSupportedComp = xml.Name{Space: nsCalDAV, Local: "supported-calendar-component"}
	nameCalNoUIDConflict = xml.Name{Space: nsCalDAV, Local: "no-uid-conflict"}
	nameCalMaxSize       = xml.Name{Space: nsCalDAV, Local: "max-resource-size"}
	nameCalValidFilter   = xml.Name{Space: nsCalDAV, Local: "valid-filter"}
)
