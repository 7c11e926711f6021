package main

import (
	"context"
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

// serve runs easd with cfg until ctx is cancelled. listening, when set, is
// called with the bound address once requests are accepted.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, listening func(net.Addr)) error {
	a, err := app.New(ctx, cfg, log, version)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		a.Pool.Close()
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	if listening != nil {
		listening(ln.Addr())
	}
	return a.Run(ctx, ln)
}
