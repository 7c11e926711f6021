package mailconv

import (
	"bytes"
	"strings"
)

// extensions gives a file name extension to common unnamed parts.
var extensions = map[string]string{
	"message/rfc822":                   "eml",
	"message/global":                   "eml",
	"message/delivery-status":          "txt",
	"message/disposition-notification": "txt",
	"text/plain":                       "txt",
	"text/html":                        "html",
	"text/calendar":                    "ics",
	"text/vcard":                       "vcf",
	"text/x-vcard":                     "vcf",
	"image/jpeg":                       "jpg",
	"image/png":                        "png",
	"image/gif":                        "gif",
	"image/webp":                       "webp",
	"application/pdf":                  "pdf",
	"application/pkcs7-mime":           "p7m",
	"application/x-pkcs7-mime":         "p7m",
	"application/pkcs7-signature":      "p7s",
	"application/x-pkcs7-signature":    "p7s",
	"application/pgp-encrypted":        "pgp",
	"application/zip":                  "zip",
}

// defaultName names a part that has no file name: "invite.ics" for a
// calendar, "smime.p7m" for S/MIME, else "part<path>.<ext>".
func defaultName(mediaType, path string) string {
	switch mediaType {
	case "text/calendar":
		return "invite.ics"
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return "smime.p7m"
	}
	ext, ok := extensions[mediaType]
	if !ok {
		ext = "bin"
	}
	return "part" + path + "." + ext
}

// metaCharset finds the charset an HTML document declares in a <meta>
// tag within its first 1024 bytes, for HTML parts whose Content-Type
// has none.
func metaCharset(b []byte) string {
	if len(b) > 1024 {
		b = b[:1024]
	}
	i := indexFold(b, "charset=")
	if i < 0 {
		return ""
	}
	v := b[i+len("charset="):]
	v = bytes.TrimLeft(v, `"' `)
	end := bytes.IndexAny(v, `"' ;/>`)
	if end < 0 {
		return ""
	}
	return string(v[:end])
}

// declareUTF8 makes the charset an HTML document declares in a <meta>
// tag say utf-8, since the text is now UTF-8: a client that honours the
// tag would otherwise decode it a second time. Nothing else changes.
func declareUTF8(html []byte) []byte {
	label := metaCharset(html)
	if label == "" || strings.EqualFold(label, "utf-8") {
		return html
	}
	i := indexFold(html[:min(len(html), 1024)], "charset=")
	j := bytes.Index(html[i:], []byte(label))
	if j < 0 {
		return html
	}
	at := i + j
	out := make([]byte, 0, len(html)+8)
	out = append(out, html[:at]...)
	out = append(out, "utf-8"...)
	return append(out, html[at+len(label):]...)
}

// calendarMethod returns the METHOD property of an iCalendar object,
// upper case, or "".
func calendarMethod(b []byte) string {
	i := indexFold(b, "\nMETHOD:")
	if i < 0 {
		return ""
	}
	v := b[i+len("\nMETHOD:"):]
	if end := bytes.IndexAny(v, "\r\n"); end >= 0 {
		v = v[:end]
	}
	return strings.ToUpper(strings.TrimSpace(string(v)))
}

// indexFold is bytes.Index ignoring ASCII case of s, which must be lower
// case or punctuation.
func indexFold(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		j := 0
		for ; j < len(s); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			t := s[j]
			if 'A' <= t && t <= 'Z' {
				t += 'a' - 'A'
			}
			if c != t {
				break
			}
		}
		if j == len(s) {
			return i
		}
	}
	return -1
}
