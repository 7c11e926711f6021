package admin

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/easd/easd/audit"
)

// OpenAPI is the API's description, served at /api/v1/openapi.yaml; a
// test holds it to the routes.
//
//go:embed openapi.yaml
var OpenAPI []byte

// maxBody is the largest request body accepted: a policy with long
// application lists is a few kilobytes.
const maxBody = 1 << 20

// Options configures the admin server.
type Options struct {
	Pool *pgxpool.Pool
	Log  *slog.Logger
	Live *Live // nil: the live view shows zeros
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (client address in the audit log,
	// Secure cookies).
	TrustedProxies []*net.IPNet
	// IPExtractor finds the client's address (the phones' port's, so both
	// agree on who is a trusted proxy); nil: the peer address.
	IPExtractor echo.IPExtractor
	// Ready, when set, serves /readyz here: it returns the name and error
	// of the first dependency that does not answer.
	Ready func(ctx context.Context) (string, error)
	// Metrics, when set, serves /metrics here.
	Metrics http.Handler
	// SessionTTL is how long a web login lasts; 0: 8 hours.
	SessionTTL time.Duration
}

// Server is the admin listener's handler.
type Server struct {
	Echo    *echo.Echo
	Service *Service
	Tokens  *Tokens
	opts    Options
	log     *slog.Logger
	pages   pages
}

// New builds the admin server.
func New(opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{Echo: echo.New(), Service: NewService(opts.Pool, opts.Live), Tokens: NewTokens(opts.Pool),
		opts: opts, log: opts.Log, pages: pg}
	e := s.Echo
	e.HideBanner, e.HidePort = true, true
	if opts.IPExtractor != nil {
		e.IPExtractor = opts.IPExtractor
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.HTTPErrorHandler = s.errorHandler
	e.Use(s.front)

	if opts.Ready != nil {
		e.GET("/readyz", s.ready)
	}
	if opts.Metrics != nil {
		// The metrics name no users or devices, but they tell load and
		// errors: token holders only.
		e.GET("/metrics", echo.WrapHandler(opts.Metrics), s.requireToken)
	}
	e.GET("/api/v1/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", OpenAPI)
	})
	s.apiRoutes(e.Group("/api/v1", s.requireToken))
	profileRoutes(e.Group("/debug/pprof", s.requireToken))
	s.webRoutes(e)
	return s, nil
}

// front limits bodies and sets headers every answer carries.
func (s *Server) front(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBody)
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		// The pages run no script and load nothing: only their own
		// inline style and forms posting back here.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		return next(c)
	}
}

// apiError is every error body of the API.
type apiError struct {
	Error string `json:"error"`
}

// status maps an error to its HTTP status and the message the caller sees.
func (s *Server) status(c echo.Context, err error) (int, string) {
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		if msg == "" {
			msg = http.StatusText(he.Code)
		}
		return he.Code, msg
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mbe.Limit)
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrTokenNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrBadName):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrConflict), errors.Is(err, ErrTokenExists):
		return http.StatusConflict, err.Error()
	case errors.Is(err, ErrBadToken):
		return http.StatusUnauthorized, err.Error()
	}
	s.log.Error("admin request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
	return http.StatusInternalServerError, "internal error: see the server log"
}

func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := s.status(c, err)
	if code == http.StatusUnauthorized && !isAPI(c) {
		_ = c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	if isAPI(c) {
		_ = c.JSON(code, apiError{Error: msg})
		return
	}
	_ = s.render(c, code, "error", map[string]any{"Code": code, "Message": msg})
}

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/debug/") || p == "/readyz" || p == "/metrics"
}

// bearer returns the admin token of the request's Authorization header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

const whoKey = "admin.who"

// requireToken lets only requests with a valid admin token through, and
// names them "token:NAME" for the audit log.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secret := bearer(c.Request())
		if secret == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="easd admin"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "an admin token is required (Authorization: Bearer ...)")
		}
		name, err := s.Tokens.Authenticate(c.Request().Context(), secret)
		if err != nil {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="easd admin", error="invalid_token"`)
			return err
		}
		c.Set(whoKey, audit.Who{Actor: "token:" + name, Source: c.RealIP()})
		return next(c)
	}
}

func who(c echo.Context) audit.Who {
	w, _ := c.Get(whoKey).(audit.Who)
	return w
}

// ready answers anonymous callers with ready / not ready only: the names
// and errors of dependencies are for token holders.
func (s *Server) ready(c echo.Context) error {
	name, err := s.opts.Ready(c.Request().Context())
	detailed := false
	if secret := bearer(c.Request()); secret != "" {
		if _, aerr := s.Tokens.Authenticate(c.Request().Context(), secret); aerr == nil {
			detailed = true
		}
	}
	switch {
	case err == nil && detailed:
		return c.JSON(http.StatusOK, map[string]any{"ready": true})
	case err == nil:
		return c.String(http.StatusOK, "ready\n")
	case detailed:
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "failed": name, "error": err.Error()})
	}
	return c.String(http.StatusServiceUnavailable, "not ready\n")
}

// param is a path parameter, unescaped ("%40" in a login).
func param(c echo.Context, name string) (string, error) {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil || v == "" {
		return "", invalid("bad %s in path", name)
	}
	return v, nil
}

// decode reads a JSON body into v, refusing unknown fields and trailing
// data.
func decode(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return invalid("body is not the expected JSON: %v", err)
	}
	if dec.More() {
		return invalid("body holds more than one JSON value")
	}
	return nil
}

// secureEqual compares without leaking the position of a difference.
func secureEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// isHTTPS reports whether the client reached us over TLS: directly, or
// through a trusted proxy that says so.
func (s *Server) isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range s.opts.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}
