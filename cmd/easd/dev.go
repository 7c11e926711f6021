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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/pgcluster"
	"github.com/easd/easd/internal/smtpsink"
)

// devUsers are the accounts `easd dev` creates; each password is the name.
var devUsers = []string{"demo", "alice"}

const devDomain = "example.test"

// runDev starts a private PostgreSQL, a private Dovecot and an SMTP sink
// under one data directory, then serves EAS on localhost. Everything it
// starts is stopped again on SIGINT/SIGTERM; the data stays for next time.
func runDev(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("easd dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./.easd-dev", "directory for the dev servers' data (kept across runs)")
	listen := fs.String("listen", "127.0.0.1:8080", "EAS HTTP listen address")
	imapListen := fs.String("imap-listen", "127.0.0.1:10143", "IMAP listen address of the private Dovecot")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	extraUsers := fs.Int("extra-users", 0, "also create users load1..loadN (password = name), for load tests")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: easd dev [flags]\n\nRuns easd with throwaway PostgreSQL, Dovecot and SMTP servers on localhost.")
		config.Usage(stderr, fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	log := newLogger(stderr, "text", *logLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := dev(ctx, devOptions{data: *data, listen: *listen, imapListen: *imapListen, extraUsers: *extraUsers}, stdout, log)
	var missing *binpath.MissingError
	switch {
	case errors.As(err, &missing):
		fmt.Fprintln(stderr, "easd:", missing)
		return exitUsage
	case err != nil:
		fmt.Fprintln(stderr, "easd dev:", err)
		return 1
	}
	return 0
}

type devOptions struct {
	data, listen, imapListen string
	extraUsers               int
}

func dev(ctx context.Context, o devOptions, stdout io.Writer, log *slog.Logger) error {
	data, err := filepath.Abs(o.data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	pg, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(data, "postgres"), Addr: "127.0.0.1:0"})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer stopLogged(log, "postgres", pg.Stop)
	if err := ensureDatabase(ctx, pg, "easd"); err != nil {
		return err
	}

	users := map[string]string{}
	for _, u := range devUsers {
		users[u] = u
	}
	for i := 1; i <= o.extraUsers; i++ {
		u := fmt.Sprintf("load%d", i)
		users[u] = u
	}
	imap, err := dovecot.Start(ctx, dovecot.Config{Dir: filepath.Join(data, "dovecot"), Addr: o.imapListen, Users: users})
	if err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	defer stopLogged(log, "dovecot", imap.Stop)

	if err := seedOnce(ctx, filepath.Join(data, "seeded"), imap.Addr()); err != nil {
		return err
	}

	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.OnMessage(devDelivery(imap.Addr(), filepath.Join(data, "outbound.log"), users, log)))
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer stopLogged(log, "smtp", func() error { sink.Close(); return nil })

	go restartOnSignal(ctx, log, imap.Restart, pg.Restart)

	cfg := config.Defaults()
	cfg.Listen = o.listen
	cfg.DatabaseURL = pg.DSN("easd")
	cfg.IMAPAddr, cfg.IMAPTLS = imap.Addr(), config.TLSNone
	cfg.SMTPAddr, cfg.SMTPTLS = sink.Addr(), config.TLSNone
	cfg.MailDomain = devDomain
	cfg.ShutdownTimeout = 5 * time.Second
	if err := cfg.Validate(); err != nil {
		return err
	}
	return serve(ctx, cfg, log, func(addr net.Addr) {
		printDevBanner(stdout, addr.String(), imap.Addr(), cfg.DatabaseURL, data)
	})
}

func printDevBanner(w io.Writer, httpAddr, imapAddr, dbURL, data string) {
	fmt.Fprintf(w, `
easd dev is ready.

  EAS server   http://%s/Microsoft-Server-ActiveSync
  Users        %s  (password = user name)
  IMAP         %s  (plain, no TLS)
  PostgreSQL   %s
  Data         %s
  Stop         Ctrl-C

`, httpAddr, strings.Join(devUsers, ", "), imapAddr, dbURL, data)
}

// ensureDatabase creates the database name once; later runs find it.
func ensureDatabase(ctx context.Context, pg *pgcluster.Cluster, name string) error {
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if exists {
		return nil
	}
	return pg.CreateDatabase(ctx, name, "")
}

func stopLogged(log *slog.Logger, what string, stop func() error) {
	if err := stop(); err != nil {
		log.Warn("stopping "+what, "err", err)
		return
	}
	log.Info("stopped " + what)
}

// restartOnSignal restarts the dev Dovecot on SIGUSR1 and the dev
// PostgreSQL on SIGUSR2, so fault drills (and the soak in
// docs/benchmarks.md) can take each server down under load and watch easd
// recover.
func restartOnSignal(ctx context.Context, log *slog.Logger, imap, pg func(context.Context) error) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sig)
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-sig:
			name, restart := "dovecot", imap
			if s == syscall.SIGUSR2 {
				name, restart = "postgres", pg
			}
			t0 := time.Now()
			if err := restart(ctx); err != nil {
				log.Error("restart failed", "server", name, "err", err)
				continue
			}
			log.Warn("restarted on signal", "server", name, "ms", time.Since(t0).Milliseconds())
		}
	}
}
