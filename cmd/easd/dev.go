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
	pgListen := fs.String("postgres-listen", "", "listen address of the private PostgreSQL (default: a free port picked on the first run and kept in the data directory)")
	smtpListen := fs.String("smtp-listen", "", "listen address of the SMTP sink easd sends mail to (default: a free port picked on the first run and kept in the data directory)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	extraUsers := fs.Int("extra-users", 0, "also create users load1..loadN (password = name), for load tests")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: easd dev [flags]\n\nRuns easd with throwaway PostgreSQL, Dovecot and SMTP servers on localhost.\nEvery flag can also be set by the environment variable shown; a flag wins.\nThe other settings of easd serve are read from their variables too\n(EASD_ADMIN_LISTEN=127.0.0.1:8081 adds the admin page, say); the ones\nnaming the database, mail servers and listen address are the dev servers'.")
		config.Usage(stderr, fs)
	}
	// The variables the usage lists work, as they do for serve.
	err := parseQuietly(fs, func() error {
		if err := config.ApplyEnv(fs, os.LookupEnv); err != nil {
			return err
		}
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		switch *logLevel {
		case "debug", "info", "warn", "error":
		default:
			return &config.Error{Flag: "log-level", Msg: fmt.Sprintf("%q is not debug, info, warn or error", *logLevel)}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, oneLine("easd dev: "+err.Error()))
		return exitUsage
	}
	log := newLogger(stderr, "text", *logLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err = dev(ctx, devOptions{data: *data, listen: *listen, imapListen: *imapListen, pgListen: *pgListen, smtpListen: *smtpListen, extraUsers: *extraUsers}, stdout, log)
	var missing *binpath.MissingError
	var cfgErr *config.Error
	switch {
	case errors.As(err, &missing):
		fmt.Fprintln(stderr, oneLine("easd: "+missing.Error()))
		return exitUsage
	case errors.As(err, &cfgErr):
		fmt.Fprintln(stderr, oneLine("easd dev: "+cfgErr.Error()))
		return exitUsage
	case err != nil:
		fmt.Fprintln(stderr, oneLine("easd dev: "+err.Error()))
		return 1
	}
	return 0
}

type devOptions struct {
	data, listen, imapListen string
	pgListen, smtpListen     string // empty: the port kept in the data directory
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

	// Every port is checked before anything starts, so a busy one costs
	// no PostgreSQL start and is reported as the flag to change. The HTTP
	// port is kept bound from here on.
	ports, err := loadDevPorts(data)
	if err != nil {
		return err
	}
	if o.pgListen, err = ports.pick("postgres", o.pgListen); err != nil {
		return err
	}
	if o.smtpListen, err = ports.pick("smtp", o.smtpListen); err != nil {
		return err
	}
	sieve, err := devSievePorts(ports, o.smtpListen)
	if err != nil {
		return err
	}
	if err := ports.save(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return portBusy("listen", o.listen, err, "")
	}
	defer ln.Close()
	for _, p := range []struct{ flag, addr, stored string }{
		{"imap-listen", o.imapListen, ""},
		{"postgres-listen", o.pgListen, ports.path},
		{"smtp-listen", o.smtpListen, ports.path},
	} {
		if err := checkPortFree(p.addr); err != nil {
			return portBusy(p.flag, p.addr, err, p.stored)
		}
	}

	pgDir, err := reachableDir(data, "postgres")
	if err != nil {
		return err
	}
	pg, err := pgcluster.Start(ctx, pgcluster.Config{Dir: pgDir, Addr: o.pgListen})
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
	dovecotDir, err := reachableDir(data, "dovecot")
	if err != nil {
		return err
	}
	push, err := devPushEvents(ln.Addr())
	if err != nil {
		return err
	}
	// Events only once seeded: easd does not answer them before it serves,
	// and each would hold the seeding for Dovecot's post timeout.
	seedMark := filepath.Join(data, "seeded")
	_, err = os.Stat(seedMark)
	seeded := err == nil
	dcfg := dovecot.Config{Dir: dovecotDir, Addr: o.imapListen, Users: users, Sieve: sieve}
	if seeded {
		dcfg.PushEvents = push
	}
	imap, err := dovecot.Start(ctx, dcfg)
	if err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	defer stopLogged(log, "dovecot", imap.Stop)

	if !seeded {
		if err := seedOnce(ctx, seedMark, imap.Addr()); err != nil {
			return err
		}
		if err := imap.SetPushEvents(ctx, push); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
	}

	outbound := filepath.Join(data, "outbound.log")
	sink, err := smtpsink.Start(o.smtpListen, smtpsink.OnMessage(devDelivery(imap.LMTPAddr(), outbound, users, log)))
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer stopLogged(log, "smtp", func() error { sink.Close(); return nil })

	go restartOnSignal(ctx, log, imap.Restart, pg.Restart)

	cfg, err := devServerSettings()
	if err != nil {
		return err
	}
	cfg.Listen = ln.Addr().String()
	cfg.DatabaseURL = pg.DSN("easd")
	cfg.IMAPAddr, cfg.IMAPTLS = imap.Addr(), config.TLSNone
	cfg.SMTPAddr, cfg.SMTPTLS = sink.Addr(), config.TLSNone
	cfg.MailDomain = devDomain
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.ManageSieve = imap.ManageSieveAddr()
	cfg.PushEvents, cfg.PushSecret = "dovecot", push.Secret
	if err := cfg.Validate(); err != nil {
		return err
	}
	return serveOn(ctx, cfg, log, ln, func(addr net.Addr) {
		printDevBanner(stdout, devBanner{http: addr.String(), imap: imap.Addr(), smtp: sink.Addr(), sieve: imap.ManageSieveAddr(),
			db: cfg.DatabaseURL, data: data, outbound: outbound, admin: cfg.AdminListen})
	})
}

// devServerSettings are the defaults of `easd serve` with its settings'
// environment variables applied (EASD_ADMIN_LISTEN,
// EASD_PUSH_SWEEP_INTERVAL, ...), so the development server can be tried
// with any of them; the ones that name the dev servers are set over them.
func devServerSettings() (config.Config, error) {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	cfg.Register(fs)
	return cfg, config.ApplySettingsEnv(fs, os.LookupEnv)
}

// portBusy reports a port that cannot be bound as a setting error naming
// the flag (and variable) that changes it.
func portBusy(flagName, addr string, err error, stored string) error {
	msg := fmt.Sprintf("cannot listen on %s: %v", addr, err)
	if errors.Is(err, syscall.EADDRINUSE) {
		msg = addr + " is in use: choose another address"
	}
	if stored != "" {
		msg += " (this one was picked on an earlier run and kept in " + stored + "; the new one is kept instead)"
	}
	return &config.Error{Flag: flagName, Msg: msg}
}

func checkPortFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

type devBanner struct{ http, imap, smtp, sieve, db, data, outbound, admin string }

func printDevBanner(w io.Writer, b devBanner) {
	fmt.Fprintf(w, `
easd dev is ready.

  EAS server   http://%s/Microsoft-Server-ActiveSync
  Users        %s  (password = user name)
  IMAP         %s  (plain, no TLS)
  SMTP         %s  (sink: mail to dev users is delivered, the rest kept in %s)
  ManageSieve  %s  (out-of-office replies; Sieve runs on delivered mail)
  PostgreSQL   %s
  Data         %s
`, b.http, strings.Join(devUsers, ", "), b.imap, b.smtp, b.outbound, b.sieve, b.db, b.data)
	if b.admin != "" {
		fmt.Fprintf(w, "  Admin        http://%s/  (a token: EASD_DATABASE_URL='%s' easd admin token create NAME)\n", b.admin, b.db)
	}
	fmt.Fprint(w, "  Stop         Ctrl-C\n\n")
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
