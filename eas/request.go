package eas

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request is what the URL and headers of an EAS POST say (MS-ASHTTP
// 2.2.1.1), in either the plain or the base64 query form.
type Request struct {
	Cmd             string
	User            string // User query parameter (may differ from the authenticated name)
	DeviceID        string
	DeviceType      string
	ProtocolVersion string // e.g. "14.1"
	PolicyKey       uint32 // 0 when absent
	HasPolicyKey    bool
	Locale          uint16 // base64 form only

	// Command parameters.
	AttachmentName  string
	CollectionID    string
	ItemID          string
	LongID          string
	Occurrence      string
	SaveInSent      bool // SendMail/SmartReply/SmartForward (2.5-12.1)
	AcceptMultiPart bool // ItemOperations
}

// commandCodes maps the base64 form's command byte to the command name
// (MS-ASHTTP 2.2.1.1.1.1.2).
var commandCodes = map[byte]string{
	0: "Sync", 1: "SendMail", 2: "SmartForward", 3: "SmartReply", 4: "GetAttachment",
	5: "GetHierarchy", 6: "CreateCollection", 7: "DeleteCollection", 8: "MoveCollection",
	9: "FolderSync", 10: "FolderCreate", 11: "FolderDelete", 12: "FolderUpdate",
	13: "MoveItems", 14: "GetItemEstimate", 15: "MeetingResponse", 16: "Search",
	17: "Settings", 18: "Ping", 19: "ItemOperations", 20: "Provision",
	21: "ResolveRecipients", 22: "ValidateCert", 23: "Find",
}

// ErrBadRequest marks a request whose URL or headers cannot be understood.
var ErrBadRequest = errors.New("malformed EAS request")

func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, a...))
}

// ParseRequest reads the EAS request parameters from r's URL and headers.
func ParseRequest(r *http.Request) (*Request, error) {
	raw := r.URL.RawQuery
	var req *Request
	var err error
	// The plain form always names Cmd; anything else is the base64 form
	// (whose padding may contain '=').
	if raw != "" && !r.URL.Query().Has("Cmd") {
		req, err = parseBase64Query(raw)
		if err == nil && !req.HasPolicyKey {
			// Some clients send the key in the header even in this form;
			// other servers accept it there.
			if pk := r.Header.Get("X-MS-PolicyKey"); pk != "" {
				v, perr := strconv.ParseUint(strings.TrimSpace(pk), 10, 32)
				if perr != nil {
					return nil, badRequest("X-MS-PolicyKey %q is not a number", pk)
				}
				req.PolicyKey, req.HasPolicyKey = uint32(v), true
			}
		}
		if err == nil && req.ProtocolVersion == "" {
			req.ProtocolVersion = r.Header.Get("MS-ASProtocolVersion")
		}
	} else {
		req, err = parsePlainQuery(r.URL.Query())
		if err == nil {
			req.ProtocolVersion = r.Header.Get("MS-ASProtocolVersion")
			if pk := r.Header.Get("X-MS-PolicyKey"); pk != "" {
				v, perr := strconv.ParseUint(strings.TrimSpace(pk), 10, 32)
				if perr != nil {
					return nil, badRequest("X-MS-PolicyKey %q is not a number", pk)
				}
				req.PolicyKey, req.HasPolicyKey = uint32(v), true
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if req.Cmd == "" {
		return nil, badRequest("no Cmd")
	}
	if req.DeviceID == "" {
		return nil, badRequest("no DeviceId")
	}
	if len(req.DeviceID) > 128 || !utf8.ValidString(req.DeviceID) || strings.ContainsAny(req.DeviceID, "\x00\r\n") {
		return nil, badRequest("DeviceId not acceptable")
	}
	// A NUL reaches PostgreSQL as an error (text cannot hold it), and
	// other control characters have no place in these names.
	if len(req.DeviceType) > 128 || !utf8.ValidString(req.DeviceType) || hasControl(req.DeviceType) {
		return nil, badRequest("DeviceType not acceptable")
	}
	if len(req.User) > 320 || !utf8.ValidString(req.User) || hasControl(req.User) {
		return nil, badRequest("User not acceptable")
	}
	return req, nil
}

func parsePlainQuery(q url.Values) (*Request, error) {
	req := &Request{
		Cmd:            q.Get("Cmd"),
		User:           q.Get("User"),
		DeviceID:       q.Get("DeviceId"),
		DeviceType:     q.Get("DeviceType"),
		AttachmentName: q.Get("AttachmentName"),
		CollectionID:   q.Get("CollectionId"),
		ItemID:         q.Get("ItemId"),
		LongID:         q.Get("LongId"),
		Occurrence:     q.Get("Occurrence"),
	}
	// SaveInSent=T (MS-ASCMD SendMail in 12.1 and earlier).
	req.SaveInSent = strings.EqualFold(q.Get("SaveInSent"), "T")
	return req, nil
}

// base64Alphabet maps the URL-safe base64 digits, and a '+' decoded as a
// space, to the standard alphabet (parseBase64Query). Built once: the
// base64 form is how iOS and Outlook send every request.
var base64Alphabet = strings.NewReplacer("-", "+", "_", "/", " ", "+")

// parseBase64Query decodes the binary query form (MS-ASHTTP 2.2.1.1.1.1).
func parseBase64Query(raw string) (*Request, error) {
	// PathUnescape, not QueryUnescape: an unescaped '+' is a base64
	// digit here, not a space. The URL-safe alphabet ('-', '_') that some
	// clients use is mapped to the standard one.
	s, err := url.PathUnescape(raw)
	if err != nil {
		return nil, badRequest("query: %v", err)
	}
	s = base64Alphabet.Replace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// Some clients strip the padding.
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return nil, badRequest("base64 query: %v", err)
		}
	}
	p := byteReader{b: b}
	req := &Request{}
	ver := p.byte()
	if ver != 0 {
		req.ProtocolVersion = fmt.Sprintf("%d.%d", ver/10, ver%10)
		if p.err == nil && parseVersion(req.ProtocolVersion) == 0 {
			return nil, badRequest("base64 query: protocol version byte %d (0x%02X) names no version easd speaks (%s)",
				ver, ver, joinComma(ProtocolVersions))
		}
	}
	code := p.byte()
	name, ok := commandCodes[code]
	if !ok && p.err == nil {
		return nil, badRequest("base64 query: unknown command code %d", code)
	}
	req.Cmd = name
	req.Locale = p.uint16()
	req.DeviceID = deviceIDString(p.field())
	if pk := p.field(); len(pk) > 0 {
		if len(pk) != 4 {
			return nil, badRequest("base64 query: policy key of %d bytes", len(pk))
		}
		req.PolicyKey, req.HasPolicyKey = binary.LittleEndian.Uint32(pk), true
	}
	req.DeviceType = string(p.field())
	for p.err == nil && p.remaining() > 0 {
		tag := p.byte()
		val := p.field()
		switch tag {
		case 0:
			req.AttachmentName = string(val)
		case 1:
			req.CollectionID = string(val)
		case 3:
			req.ItemID = string(val)
		case 4:
			req.LongID = string(val)
		case 6:
			req.Occurrence = string(val)
		case 7: // Options: bit 0x01 SaveInSent, 0x02 AcceptMultiPart
			if len(val) > 0 {
				req.SaveInSent = val[0]&0x01 != 0
				req.AcceptMultiPart = val[0]&0x02 != 0
			}
		case 8:
			req.User = string(val)
		}
	}
	if p.err != nil {
		return nil, badRequest("base64 query: %v", p.err)
	}
	return req, nil
}

// deviceIDString renders a base64-form DeviceId: printable ids as text,
// binary ones (older clients send a GUID) as hex, so it is stable either way.
func deviceIDString(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%X", b)
		}
	}
	return string(b)
}

type byteReader struct {
	b   []byte
	off int
	err error
}

func (r *byteReader) remaining() int { return len(r.b) - r.off }

func (r *byteReader) byte() byte {
	if r.err != nil || r.remaining() < 1 {
		r.fail()
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *byteReader) uint16() uint16 {
	if r.err != nil || r.remaining() < 2 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

// field reads a one-byte length and that many bytes.
func (r *byteReader) field() []byte {
	n := int(r.byte())
	if r.err != nil || r.remaining() < n {
		r.fail()
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *byteReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("truncated at byte %d", r.off)
	}
}

// hasControl reports whether s holds a C0 control character or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
