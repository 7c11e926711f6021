package mailconv

import (
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
)

// dateTimeLayout is the MS-ASDTYPE dateTime form.
const dateTimeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateTimeLayout)
}

// addressList is a parsed address header: the EAS string form and the
// parts DisplayTo and ReceivedAsBcc need.
type addressList struct {
	text      string   // `"Name" <addr>, <addr>`
	names     []string // display names, the address where there is none
	addresses []string // lower case
}

// addresses parses an address header. A list that does not parse is
// shown as decoded text, so a sloppy header still shows who sent it.
func addresses(h mail.Header, key string) addressList {
	raw := h.Get(key)
	if strings.TrimSpace(raw) == "" {
		return addressList{}
	}
	list, err := mail.ParseAddressList(fixHeaderBytes(raw))
	if err != nil || len(list) == 0 {
		t := headerText(raw)
		return addressList{text: t, names: []string{t}}
	}
	var out addressList
	var b strings.Builder
	for i, a := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		name := oneLine(a.Name)
		if name != "" {
			b.WriteByte('"')
			for _, r := range name {
				if r == '"' || r == '\\' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteString(`" `)
		}
		b.WriteByte('<')
		b.WriteString(a.Address)
		b.WriteByte('>')
		if name == "" {
			name = a.Address
		}
		out.names = append(out.names, name)
		out.addresses = append(out.addresses, strings.ToLower(a.Address))
	}
	out.text = b.String()
	return out
}

// fixHeaderBytes makes raw 8-bit header bytes valid UTF-8 before a
// structured parse (the parser rejects what is not).
func fixHeaderBytes(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 || v[i] == 0x1b {
			if strings.IndexByte(v, 0x1b) >= 0 {
				return string(toUTF8("iso-2022-jp", []byte(v)))
			}
			return string(fixUTF8([]byte(v)))
		}
	}
	return v
}

// importance reads Importance, X-Priority or X-MSMail-Priority as EAS
// Importance: 0 low, 1 normal, 2 high.
func importance(h mail.Header) int {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Importance"))); v != "" {
		switch v {
		case "high":
			return 2
		case "low":
			return 0
		}
		return 1
	}
	if v := strings.TrimSpace(h.Get("X-Priority")); v != "" {
		// "1 (Highest)", "5 (Lowest)".
		if n, err := strconv.Atoi(strings.Fields(v)[0]); err == nil {
			switch {
			case n <= 2:
				return 2
			case n >= 4:
				return 0
			}
		}
		return 1
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("X-Msmail-Priority"))) {
	case "high":
		return 2
	case "low":
		return 0
	}
	return 1
}
