package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/httpserver"
	"github.com/easd/easd/migrations"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("easd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: easd serve [flags]\n\nEvery flag can also be set by the environment variable shown.")
		config.Usage(stderr, fs)
	}
	if err := cfg.Parse(fs, args, os.LookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "easd:", err)
		return exitUsage
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("easd stopped", "err", err)
		return 1
	}
	return 0
}

// serve runs easd with cfg until ctx is cancelled, then shuts down
// gracefully. listening, when set, is called with the bound address once
// requests are accepted.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, listening func(net.Addr)) error {
	if !cfg.SkipMigrations {
		res, err := migrateWithRetry(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return err
		}
		log.Info("database schema ready", "version", res.Version, "applied", len(res.Applied))
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()

	imapDialer := &imapbridge.Dialer{Addr: cfg.IMAPAddr, TLS: cfg.IMAPTLS}
	if cfg.IMAPTLSInsecure {
		imapDialer.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // operator's explicit choice
	}

	srv := httpserver.New(httpserver.Options{
		Logger:       log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Ready: []httpserver.Check{
			{Name: "postgres", Check: pool.Ping},
			{Name: "imap", Check: imapDialer.Ping},
		},
	})
	eas.Register(srv.Echo)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	log.Info("easd serving", "addr", ln.Addr().String(), "tls", cfg.TLSCert != "", "version", version)
	if listening != nil {
		listening(ln.Addr())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln, cfg.TLSCert, cfg.TLSKey) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown did not finish in time", "err", err)
	}
	return <-errc
}

// migrateWithRetry applies migrations, waiting up to a minute for the
// database to accept connections (it may still be starting next to us).
func migrateWithRetry(ctx context.Context, dsn string, log *slog.Logger) (migrations.Result, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := migrations.Up(ctx, dsn)
		if err == nil {
			return res, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return res, err
		}
		log.Warn("database not ready, retrying", "err", err)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}
