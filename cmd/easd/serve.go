package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/easd/easd/internal/app"
	"github.com/easd/easd/internal/config"
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
	err := parseQuietly(fs, func() error { return cfg.Parse(fs, args, os.LookupEnv) })
	if err == nil {
		err = checkTLSFiles(cfg)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, oneLine("easd: "+err.Error()))
		return exitUsage
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("easd stopped", "err", oneLine(err.Error()))
		return 1
	}
	return 0
}

// checkTLSFiles loads the certificate and key now, so that a file that is
// not PEM, or a key that is not the certificate's, is a setting error
// before anything is reported as serving.
func checkTLSFiles(cfg config.Config) error {
	if cfg.TLSCert == "" {
		return nil
	}
	certPEM, err := os.ReadFile(cfg.TLSCert)
	if err != nil {
		return &config.Error{Flag: "tls-cert", Msg: err.Error()}
	}
	if b, _ := pem.Decode(certPEM); b == nil || !bytes.Contains(certPEM, []byte("-----BEGIN CERTIFICATE-----")) {
		return &config.Error{Flag: "tls-cert", Msg: cfg.TLSCert + " holds no PEM certificate"}
	}
	if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
		return &config.Error{Flag: "tls-key", Msg: fmt.Sprintf("%s is not the PEM private key of --tls-cert: %v", cfg.TLSKey, err)}
	}
	return nil
}

// serve runs easd with cfg until ctx is cancelled. listening, when set, is
// called with the bound address once requests are accepted.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, listening func(net.Addr)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	return serveOn(ctx, cfg, log, ln, listening)
}

// serveOn is serve on a listener the caller bound (easd dev binds its
// port before it starts anything else). It closes ln.
func serveOn(ctx context.Context, cfg config.Config, log *slog.Logger, ln net.Listener, listening func(net.Addr)) error {
	log.Info("easd starting", "version", version, "listen", cfg.Listen, "tls", cfg.TLSCert != "")
	if cfg.SkipMigrations {
		if err := checkSchema(ctx, cfg.DatabaseURL); err != nil {
			ln.Close()
			return err
		}
	}
	a, err := app.New(ctx, cfg, log, version)
	if err != nil {
		ln.Close()
		return err
	}
	if listening != nil {
		listening(ln.Addr())
	}
	return a.Run(ctx, ln)
}

// checkSchema refuses a database whose schema is older than this binary's
// (--skip-migrations on a new or not yet migrated database): every request
// would fail with 500 otherwise. A newer schema is fine: migrations only
// add, and a rolling upgrade runs old and new easd side by side.
func checkSchema(ctx context.Context, dsn string) error {
	have, err := migrations.Current(ctx, dsn)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if want := migrations.Latest(); have < want {
		return fmt.Errorf("database schema is at version %d, this easd needs %d: run easd migrate (or start without --skip-migrations)", have, want)
	}
	return nil
}
