package eas

import (
	"bytes"
	"regexp"

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

var secretElements = regexp.MustCompile(`(?s)(<Password>).*?(</Password>)`)

func (t *traceCapture) log(k *call) {
	k.log.Info("protocol trace", "request", traceXML(t.req.Bytes()), "response", traceXML(t.resp.Bytes()))
}

func traceXML(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxTraceBytes {
		return "(body over the trace limit, not decoded)"
	}
	var out bytes.Buffer
	if err := wbxml.WriteXML(&out, bytes.NewReader(b)); err != nil {
		return "(not WBXML: " + err.Error() + ")"
	}
	return secretElements.ReplaceAllString(out.String(), "${1}***${2}")
}
