package eas

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/freelist"
	"github.com/easd/easd/internal/httpserver"
	"github.com/easd/easd/wbxml"
)

// call is one EAS request on its way through a command handler: who sent
// it, from which device, in which protocol version, and the helpers to read
// the body and write the answer.
type call struct {
	side    sync.WaitGroup // work beside the handler's (beside, settle)
	s       *Server
	c       echo.Context
	req     *Request
	creds   Credentials
	dev     *device.Device
	version int // 25, 120, 121, 140, 141, 160, 161
	profile Profile
	spec    *commandSpec
	log     *slog.Logger
	trace   *traceCapture // nil unless the device is traced
}

func (k *call) ctx() context.Context { return k.c.Request().Context() }

// StatusError ends a command with an EAS status: in the response body from
// 14.0 on, as the matching HTTP code before.
type StatusError struct {
	Status Status
	Err    error // what went wrong, for the log
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("status %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("status %d", e.Status)
}

func (e *StatusError) Unwrap() error { return e.Err }

func statusErr(s Status, format string, a ...any) error {
	return &StatusError{Status: s, Err: fmt.Errorf(format, a...)}
}

// body is the request body, captured for the trace when one is on.
func (k *call) body() io.Reader {
	r := io.Reader(k.c.Request().Body)
	if k.trace != nil {
		r = io.TeeReader(r, &k.trace.req)
	}
	return r
}

// decode reads the request body into v. It reports empty for a request
// without a body (allowed for Ping and Sync); malformed WBXML becomes
// Status 102 and an oversized body 413.
func (k *call) decode(v any) (empty bool, err error) {
	// Peek first: the decoder rightly calls an empty document truncated,
	// but an empty body is a legal request for some commands.
	r := getReqReader(k.body(), k.s.opts.Limits.MaxWBXMLDepth)
	defer r.release()
	if _, err := r.body.Peek(1); errors.Is(err, io.EOF) {
		return true, nil
	}
	err = r.dec.Decode(v)
	switch {
	case err == nil:
		return false, nil
	case httpserver.IsBodyTooLarge(err):
		return false, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
	case httpserver.IsBodyTimeout(err):
		return false, echo.NewHTTPError(http.StatusRequestTimeout, "request body too slow")
	default:
		return false, &StatusError{Status: StatusInvalidWBXML, Err: err}
	}
}

// decodeRequired is decode for commands whose body is mandatory: an empty
// body is answered with status s.
func (k *call) decodeRequired(v any, s Status) error {
	empty, err := k.decode(v)
	if err == nil && empty {
		return statusErr(s, "empty request body")
	}
	return err
}

// respond encodes v as the WBXML response.
func (k *call) respond(v any) error {
	w := getRespWriter()
	defer w.release()
	if err := w.enc.Encode(v); err != nil {
		return fmt.Errorf("encode %s response: %w", k.req.Cmd, err)
	}
	if err := w.enc.Close(); err != nil {
		return fmt.Errorf("encode %s response: %w", k.req.Cmd, err)
	}
	return k.respondBytes(w.buf.Bytes())
}

// beside runs fn on a goroutine of its own, beside the handler's work: a
// database write whose result the handler needs only at the end costs no
// round trip of its own then. settle waits for every such fn.
func (k *call) beside(fn func()) { k.side.Go(fn) }

// settle waits for the work started with beside.
func (k *call) settle() { k.side.Wait() }

// respWriter is a reusable answer buffer and its encoder. A Sync window
// of hundreds of messages is megabytes of WBXML; a fresh buffer grown for
// each answer cost more in zeroing, page faults and garbage collection
// than the encoding itself (measured with the Sync benchmark).
type respWriter struct {
	buf bytes.Buffer
	enc *wbxml.Encoder
}

// maxPooledAnswer: a buffer that grew beyond it (a huge answer) is left
// to the garbage collector rather than kept.
const maxPooledAnswer = 8 << 20

var respWriters = freelist.New[*respWriter](8)

func getRespWriter() *respWriter {
	if w, ok := respWriters.Get(); ok {
		w.enc.Reset(&w.buf)
		return w
	}
	w := &respWriter{}
	w.enc = wbxml.NewEncoder(&w.buf)
	return w
}

func (w *respWriter) release() {
	if w.buf.Cap() > maxPooledAnswer {
		return
	}
	w.buf.Reset()
	respWriters.Put(w)
}

// reqReader is a reusable request reader and its decoder. Each request
// allocated and zeroed a 64 KiB decoder buffer and a 4 KiB reader for a
// body of usually a few hundred bytes: at thousands of requests a second,
// that garbage cost more CPU than the rest of a quiet Sync's Go side
// (measured with the quiet Sync benchmark). The values decoded own their
// bytes (wbxml copies them), so the buffers can serve the next request.
type reqReader struct {
	body     *bufio.Reader
	dec      *wbxml.Decoder
	maxDepth int // the limit dec was made with
}

var reqReaders = freelist.New[*reqReader](32)

func getReqReader(body io.Reader, maxDepth int) *reqReader {
	if r, ok := reqReaders.Get(); ok && r.maxDepth == maxDepth {
		r.body.Reset(body)
		r.dec.Reset(r.body)
		return r
	}
	r := &reqReader{body: bufio.NewReader(body), maxDepth: maxDepth}
	r.dec = wbxml.NewDecoder(r.body, wbxml.Limits{MaxDepth: maxDepth})
	return r
}

// release keeps r for another request, holding no reference to this one.
func (r *reqReader) release() {
	r.body.Reset(nil)
	r.dec.Reset(nil)
	reqReaders.Put(r)
}

func (k *call) respondBytes(b []byte) error {
	if k.trace != nil {
		k.trace.resp.Write(b)
	}
	h := k.c.Response().Header()
	h.Set("MS-Server-ActiveSync", "16.1")
	// Said, not chunked: net/http chunks any answer larger than its
	// buffer, and a client that knows the length reads it in one piece.
	h.Set("Content-Length", strconv.Itoa(len(b)))
	return k.c.Blob(http.StatusOK, "application/vnd.ms-sync.wbxml", b)
}

// respondEmpty answers 200 with no body (allowed, e.g., for SendMail).
func (k *call) respondEmpty() error {
	return k.c.NoContent(http.StatusOK)
}

// fail answers with a status in <Root><Status>N</Status></Root>. Command
// statuses (below 100) travel that way in every version; global statuses
// (101 and up) do from 14.0 on, and become the matching HTTP code before
// (or when the command has no root element to carry them).
func (k *call) fail(se *StatusError) error {
	ri := httpserver.Info(k.c)
	ri.EASStatus = int(se.Status)
	if se.Err != nil {
		ri.Note = se.Err.Error()
	}
	if statusInBody(se.Status, k.version) && k.spec != nil && k.spec.root != "" {
		root := wbxml.MustTag(k.spec.root)
		if status, ok := wbxml.LookupTag(root.Namespace(), "Status"); ok {
			var buf bytes.Buffer
			enc := wbxml.NewEncoder(&buf)
			_ = enc.Start(root)
			_ = enc.Element(status, fmt.Sprint(int(se.Status)))
			_ = enc.End()
			if err := enc.Close(); err != nil {
				return err
			}
			return k.respondBytes(buf.Bytes())
		}
	}
	code := httpForStatus(se.Status)
	if code == http.StatusServiceUnavailable {
		k.c.Response().Header().Set("Retry-After", "30")
	}
	return k.c.NoContent(code)
}
