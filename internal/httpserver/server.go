// Package httpserver is easd's HTTP front: an echo instance with the
// middleware every request passes through (request id, access log, metrics,
// panic recovery, body limit), the operational endpoints (/healthz, /readyz,
// /metrics) and graceful shutdown. Protocol handlers (package eas) register
// their routes on Server.Echo.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one readiness probe: a named dependency and how to reach it.
type Check struct {
	Name  string // e.g. "postgres", "imap"
	Check func(context.Context) error
}

// Options configures a Server.
type Options struct {
	Logger       *slog.Logger
	MaxBodyBytes int64   // requests with a larger body get 413
	Ready        []Check // all must pass for /readyz to answer 200
	// ReadyTimeout bounds each readiness check; 0 means 3 s.
	ReadyTimeout time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For names the
	// client (c.RealIP); from any other peer the header is ignored, or
	// every request could claim a new address and pass the login
	// throttle.
	TrustedProxies []*net.IPNet
	// BodyGrace and BodyMinRate set the request body's read deadline:
	// start + BodyGrace + received/BodyMinRate (defaults
	// DefaultBodyGrace, DefaultBodyMinRate).
	BodyGrace   time.Duration
	BodyMinRate int64
	// MaxConnsPerAddr caps the connections open at once from one address
	// (trusted proxies exempt); 0: no cap.
	MaxConnsPerAddr int
	// OpsElsewhere leaves /readyz and /metrics off this server: they are
	// served on the admin listener (CheckReady, MetricsHandler).
	OpsElsewhere bool
}

// Server is the HTTP server of one easd process.
type Server struct {
	Echo    *echo.Echo
	Metrics *prometheus.Registry

	log      *slog.Logger
	opts     Options
	http     *http.Server
	baseCtx  context.Context
	drain    context.CancelFunc
	stopOnce sync.Once
	front    *frontState
}

// New builds the server and its middleware chain.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 3 * time.Second
	}
	if opts.BodyGrace <= 0 {
		opts.BodyGrace = DefaultBodyGrace
	}
	if opts.BodyMinRate <= 0 {
		opts.BodyMinRate = DefaultBodyMinRate
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(opts.Logger)
	e.IPExtractor = ipExtractor(opts.TrustedProxies)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)

	baseCtx, drain := context.WithCancel(context.Background())
	s := &Server{Echo: e, Metrics: reg, log: opts.Logger, opts: opts, baseCtx: baseCtx, drain: drain}

	s.front = &frontState{log: opts.Logger, m: m, back: newReturnListener()}
	e.Use(front(s.front, opts))

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	if !opts.OpsElsewhere {
		e.GET("/readyz", s.ready)
		e.GET("/metrics", echo.WrapHandler(s.MetricsHandler()))
	}
	return s
}

// MetricsHandler serves the instance's metrics in the Prometheus format.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{Registry: s.Metrics})
}

// CheckReady runs the readiness checks and returns the name and error of
// the first dependency that does not answer.
func (s *Server) CheckReady(ctx context.Context) (string, error) {
	for _, chk := range s.opts.Ready {
		cctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
		err := chk.Check(cctx)
		cancel()
		if err != nil {
			// The check's error often names its package already
			// ("imap: connect ..."): say the name once.
			return chk.Name, errors.New(strings.TrimPrefix(err.Error(), chk.Name+": "))
		}
	}
	return "", nil
}

// ready answers 200 when every dependency answers, else 503 naming the first
// one that did not.
func (s *Server) ready(c echo.Context) error {
	if name, err := s.CheckReady(c.Request().Context()); err != nil {
		Info(c).Note = name + ": " + err.Error()
		return c.String(http.StatusServiceUnavailable, fmt.Sprintf("%s: not ready: %s\n", name, err))
	}
	return c.String(http.StatusOK, "ready\n")
}

// Draining is closed when shutdown begins. Handlers that wait (Ping, a
// hanging Sync) select on it and answer at once so the phone simply asks
// again, possibly of another instance.
func (s *Server) Draining() <-chan struct{} { return s.baseCtx.Done() }

// Serve answers requests on ln until Shutdown. With certFile and keyFile it
// serves HTTPS. It returns nil after a clean shutdown.
func (s *Server) Serve(ln net.Listener, certFile, keyFile string) error {
	s.http = &http.Server{
		Handler:           s.Echo,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests inherit a context that is cancelled when draining starts,
		// so long waits end promptly on shutdown.
		BaseContext: func(net.Listener) context.Context { return s.baseCtx },
	}
	ln = newLimitListener(quietListener{ln}, s.opts.MaxConnsPerAddr, s.opts.TrustedProxies, s.log)
	// Connections of detached requests come back for their next request.
	s.front.back.addr = ln.Addr()
	go func() { _ = s.http.Serve(s.front.back) }()
	var err error
	if certFile != "" {
		err = s.http.ServeTLS(ln, certFile, keyFile)
	} else {
		err = s.http.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, ends long waits, and lets in-flight
// requests finish until ctx expires.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		s.drain()
		if s.http != nil {
			err = s.http.Shutdown(ctx)
		}
		s.front.back.Close()
		// Detached requests answer on drain; net/http no longer counts
		// their connections.
		done := make(chan struct{})
		go func() { s.front.waiting.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
		}
	})
	return err
}

// IPExtractor is the client address of the phones' port, for other
// listeners that must agree on it (the admin API's audit log).
func IPExtractor(trusted []*net.IPNet) echo.IPExtractor { return ipExtractor(trusted) }

// ipExtractor believes X-Forwarded-For only from trusted proxies. echo's
// own default believes it from anyone, and its XFF extractor trusts
// loopback and private networks unless told otherwise: both are turned
// off, so only the configured networks count.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
