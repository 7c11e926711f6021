package eas

import (
	"bytes"

	"github.com/easd/easd/wbxml"
)

// traceCapture collects a traced request and its response. Switched on per
// device (`easd device trace`), it logs both as XML so support can see what
// a phone really sent, with passwords blanked.
type traceCapture struct {
	req, resp bytes.Buffer
}

// maxTraceBytes bounds what one traced request puts in the log.
const maxTraceBytes = 256 << 10

// secretTags are the elements whose content never reaches the log,
// named by identity (code page and token), so that no spelling of the
// XML (a namespace prefix, an xmlns attribute where the page changes)
// can hide one from the redaction: Settings DevicePassword's Password,
// and the credentials ItemOperations and Search carry for document
// libraries (MS-ASCMD 2.2.3.130).
var secretTags = map[wbxml.Tag]bool{
	wbxml.MustTag("Settings:Password"):       true,
	wbxml.MustTag("ItemOperations:Password"): true,
	wbxml.MustTag("Search:Password"):         true,
}

func (t *traceCapture) log(k *call) {
	k.log.Info("protocol trace", "request", traceXML(t.req.Bytes()), "response", traceXML(t.resp.Bytes()))
}

// traceXML renders a WBXML document for the log with secrets blanked.
// The document is redacted as WBXML, before it is rendered: a document
// that cannot be parsed is not rendered at all, so nothing ever reaches
// the log unredacted.
func traceXML(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxTraceBytes {
		return "(body over the trace limit, not decoded)"
	}
	root, err := wbxml.Parse(bytes.NewReader(b), wbxml.Limits{})
	if err != nil {
		return "(not WBXML: " + err.Error() + ")"
	}
	if redact(root) {
		if b, err = root.Bytes(); err != nil {
			return "(not WBXML: " + err.Error() + ")"
		}
	}
	var out bytes.Buffer
	if err := wbxml.WriteXML(&out, bytes.NewReader(b)); err != nil {
		return "(not WBXML: " + err.Error() + ")"
	}
	return out.String()
}

// redact blanks the content of every secret element under e and reports
// whether it found one.
func redact(e *wbxml.Element) bool {
	if secretTags[e.Tag] {
		e.Text, e.Opaque, e.Children = "***", nil, nil
		return true
	}
	found := false
	for _, c := range e.Children {
		found = redact(c) || found
	}
	return found
}
