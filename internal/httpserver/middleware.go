package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "easd_http_requests_total",
			Help: "HTTP requests by EAS command (or path) and HTTP status.",
		}, []string{"cmd", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "easd_http_request_duration_seconds",
			Help: "HTTP request durations by EAS command (or path). Ping and hanging Sync include their wait.",
			// Long-poll commands last up to an hour; ordinary ones milliseconds.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"cmd"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// front is the middleware every request passes through: the request id,
// the body limit, panic recovery, the access log and the metrics. They are one closure
// rather than a middleware each because every waiting Ping sits on top of
// it: fewer and smaller frames keep the stack of a waiting request below
// the quarter of 8 KiB at which the garbage collector shrinks it, instead
// of 16 KiB. The logging's locals live in logRequest, called only once the
// handler has returned.
//
// A panic becomes a 500 and a log line marked as a bug: no panic reaches
// the client as a dropped connection.
func front(f *frontState, opts Options) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			start := time.Now()
			c.Set(infoKey, &RequestInfo{front: f, start: start})
			setRequestID(c)
			defer func() {
				if r := recover(); r != nil {
					err = panicked(f.log, c, r)
				}
				afterHandler(c)
				f.logRequest(c, start, err)
				err = nil
			}()
			timeBody(c, opts.BodyGrace, opts.BodyMinRate)
			if err = limitBody(c, opts.MaxBodyBytes); err != nil {
				DropBody(c)
				return err
			}
			return next(c)
		}
	}
}

// maxRequestID is the longest X-Request-Id taken from a client; proxies
// send UUIDs or shorter.
const maxRequestID = 128

// setRequestID takes the client's X-Request-Id (a proxy's) or makes one,
// and sends it back. An id that is too long or holds anything but
// printable ASCII without spaces is replaced: it is echoed and logged
// with every line of the request, and a client could make each 900 KB.
func setRequestID(c echo.Context) {
	id := c.Request().Header.Get(echo.HeaderXRequestID)
	if !acceptableRequestID(id) {
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		id = hex.EncodeToString(b[:])
	}
	c.Response().Header().Set(echo.HeaderXRequestID, id)
	c.Set(requestIDKey, id)
}

func acceptableRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' || id[i] == '"' || id[i] == '\\' {
			return false
		}
	}
	return true
}

// limitBody answers 413 to bodies over max bytes: at once when
// Content-Length says so, else when reading passes the limit.
func limitBody(c echo.Context, max int64) error {
	if max <= 0 {
		return nil
	}
	req := c.Request()
	if req.ContentLength > max {
		Info(c).Note = fmt.Sprintf("body of %d bytes over limit %d", req.ContentLength, max)
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, max)
	return nil
}

// panicked logs a recovered panic and returns the 500 to answer.
// http.ErrAbortHandler is net/http's way to abort a response on purpose:
// it goes on up.
func panicked(log *slog.Logger, c echo.Context, r any) error {
	if r == http.ErrAbortHandler {
		panic(r)
	}
	ri := Info(c)
	log.Error("bug: panic in handler", "id", RequestID(c), "user", ri.User,
		"device", ri.Device, "cmd", ri.Cmd, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	ri.Note = "internal error"
	return echo.NewHTTPError(http.StatusInternalServerError, "internal error")
}

// logRequest writes one line per request with user, device, cmd, status
// and duration, and records the metrics. A detached request is logged
// when it ends (Detached).
func (f *frontState) logRequest(c echo.Context, start time.Time, err error) {
	if Info(c).detached {
		return
	}
	if err != nil {
		// Let echo write the error response now so the status is known.
		c.Error(err)
	}
	f.logAccess(newAccessLine(c), c.Response().Status, time.Since(start))
}

// accessLine is what the access log says of a request besides its
// outcome, taken from the echo context while the handler runs.
type accessLine struct {
	id, method, path, remote, label string
	ri                              *RequestInfo
}

func newAccessLine(c echo.Context) accessLine {
	ri := Info(c)
	label := ri.Cmd
	if label == "" {
		label = c.Path() // route pattern, bounded cardinality
		if label == "" {
			label = "unmatched"
		}
	}
	return accessLine{id: RequestID(c), method: c.Request().Method, path: c.Request().URL.Path,
		remote: c.RealIP(), label: label, ri: ri}
}

func (f *frontState) logAccess(l accessLine, status int, elapsed time.Duration) {
	ri := l.ri
	f.m.requests.WithLabelValues(l.label, strconv.Itoa(status)).Inc()
	f.m.duration.WithLabelValues(l.label).Observe(elapsed.Seconds())

	attrs := []slog.Attr{
		slog.String("id", l.id),
		slog.String("method", l.method),
		slog.String("path", l.path),
		slog.Int("status", status),
		slog.Int64("ms", elapsed.Milliseconds()),
		slog.String("remote", l.remote),
	}
	if ri.User != "" {
		attrs = append(attrs, slog.String("user", ri.User))
	}
	if ri.Device != "" {
		attrs = append(attrs, slog.String("device", ri.Device))
	}
	if ri.Cmd != "" {
		attrs = append(attrs, slog.String("cmd", ri.Cmd))
	}
	if ri.EASStatus != 0 {
		attrs = append(attrs, slog.Int("eas_status", ri.EASStatus))
	}
	if ri.Note != "" {
		attrs = append(attrs, slog.String("note", ri.Note))
	}
	level := slog.LevelInfo
	switch {
	case status == http.StatusNotImplemented:
		// A command easd does not implement: the client's choice, nothing
		// for an operator to fix.
		level = slog.LevelInfo
	case status >= 500:
		level = slog.LevelError
	case status >= 400 || (ri.EASStatus != 0 && !ri.Routine):
		level = slog.LevelWarn
	case l.path == "/healthz" || l.path == "/readyz" || l.path == "/metrics":
		level = slog.LevelDebug
	}
	f.log.LogAttrs(context.Background(), level, "request", attrs...)
}

// IsBodyTooLarge reports whether err came from reading past the body limit.
func IsBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// errorHandler writes plain-text error responses (EAS clients ignore bodies
// of HTTP errors; operators read them with curl).
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		msg := http.StatusText(code)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			msg = fmt.Sprint(he.Message)
		} else {
			ri := Info(c)
			if ri.Note == "" {
				ri.Note = err.Error()
			}
			log.Error("handler error", "id", RequestID(c), "user", ri.User, "device", ri.Device, "cmd", ri.Cmd, "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(code)
			return
		}
		_ = c.String(code, msg+"\n")
	}
}
