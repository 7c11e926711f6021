package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/internal/httpserver"
)

// newAdmin builds the admin API and web page and, with --admin-listen,
// binds its listener now, so that a busy port is a start-up error and
// tests learn the address (AdminAddr) before Run.
func (a *App) newAdmin(ctx context.Context, proxies []*net.IPNet) error {
	opts := admin.Options{Pool: a.Pool, Log: a.log.With("listener", "admin"), TrustedProxies: proxies,
		IPExtractor: httpserver.IPExtractor(proxies)}
	if a.cfg.AdminListen != "" {
		// Sampling the metrics for rates costs a little every few
		// seconds: only when someone can look.
		opts.Live = admin.NewLive(ctx, a.HTTP.Metrics, a.waits)
	}
	if a.cfg.MetricsOnAdmin {
		opts.Ready, opts.Metrics = a.HTTP.CheckReady, a.HTTP.MetricsHandler()
	}
	srv, err := admin.New(opts)
	if err != nil {
		return err
	}
	a.Admin = srv
	if a.cfg.AdminListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", a.cfg.AdminListen, err)
	}
	a.adminLn = ln
	return nil
}

// AdminAddr is the bound admin address, or nil when it is off.
func (a *App) AdminAddr() net.Addr {
	if a.adminLn == nil {
		return nil
	}
	return a.adminLn.Addr()
}

// serveAdmin serves the admin listener, when there is one, reporting a
// failure on errc; the function it returns shuts it down.
func (a *App) serveAdmin(errc chan<- error) func(context.Context) {
	if a.adminLn == nil {
		return func(context.Context) {}
	}
	hs := &http.Server{Handler: a.Admin.Echo, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	a.log.Info("admin API serving", "addr", a.adminLn.Addr().String(), "tls", a.cfg.TLSCert != "",
		"metrics_and_readyz", a.cfg.MetricsOnAdmin)
	go func() {
		var err error
		if a.cfg.TLSCert != "" {
			err = hs.ServeTLS(a.adminLn, a.cfg.TLSCert, a.cfg.TLSKey)
		} else {
			err = hs.Serve(a.adminLn)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("admin listener: %w", err)
		}
	}()
	return func(ctx context.Context) {
		if err := hs.Shutdown(ctx); err != nil {
			a.log.Warn("admin listener shutdown did not finish in time", "err", err)
		}
	}
}
