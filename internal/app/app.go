// Package app wires easd together from a configuration: database pool,
// mail store, protocol server and HTTP server. `easd serve`, `easd dev` and
// the end-to-end tests all build the same App, so what the tests exercise
// is what runs in production.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/calendar"
	"github.com/easd/easd/contacts"
	"github.com/easd/easd/dav"
	"github.com/easd/easd/directory"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/backoff"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/httpserver"
	"github.com/easd/easd/migrations"
	"github.com/easd/easd/notes"
	"github.com/easd/easd/tasks"
)

// App is one running easd.
type App struct {
	cfg  config.Config
	log  *slog.Logger
	Pool *pgxpool.Pool
	HTTP *httpserver.Server
	EAS  *eas.Server
	// Admin is the admin API and web page; served on AdminAddr when
	// --admin-listen is set (admin.go).
	Admin   *admin.Server
	adminLn net.Listener
	waits   *admin.Waits // the live view's waiting requests
}

// New connects to the database (migrating it unless told not to) and
// builds the servers. version is easd's build version.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, version string) (*App, error) {
	if !cfg.SkipMigrations {
		res, err := migrateWithRetry(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return nil, err
		}
		log.Info("database schema ready", "version", res.Version, "applied", len(res.Applied))
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	poolCfg.MaxConns = int32(cfg.DBMaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}

	imapDialer := &imapbridge.Dialer{Addr: cfg.IMAPAddr, TLS: cfg.IMAPTLS}
	if cfg.IMAPTLSInsecure {
		imapDialer.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator's explicit choice
	}

	om := newOpsMetrics()
	auth := eas.NewAuthenticator(verifier{imapDialer, om}, eas.AuthOptions{
		Form: cfg.LoginForm, Case: cfg.LoginCase, Domain: cfg.MailDomain, TTL: cfg.AuthCacheTTL, Pool: pool,
		Throttled: om.throttled.Inc,
	})
	// State of logins spelled otherwise by an earlier easd joins its
	// canonical user before any request keys state by the canonical name.
	merged, err := device.MergeLogins(ctx, pool, auth.CanonicalStored, func(ctx context.Context, tx pgx.Tx, into, from int64) error {
		return folders.MovePIM(ctx, tx, into, from, contacts.MoveBook)
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	if merged > 0 {
		log.Info("merged users stored under other spellings of their login", "rows", merged)
	}

	// One store, so every mail operation shares the per-user connection pool.
	mailStore := &imapbridge.Store{Dialer: imapDialer, SpecialNames: specialNames(cfg.SpecialFolders)}
	submitter := &imapbridge.Submitter{Addr: cfg.SMTPAddr, TLS: cfg.SMTPTLS}
	if cfg.SMTPTLSInsecure {
		submitter.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator's explicit choice
	}

	quirks := eas.DefaultQuirks()
	caps, _ := config.ParseVersionCaps(cfg.VersionCaps) // validated with cfg
	for prefix, v := range caps {
		quirks.AddVersionCap(prefix, v)
	}
	proxies, _ := config.ParseCIDRs(cfg.TrustedProxies) // validated with cfg
	srv := httpserver.New(httpserver.Options{
		Logger:          log,
		TrustedProxies:  proxies,
		BodyGrace:       cfg.BodyReadGrace,
		BodyMinRate:     cfg.BodyMinRate,
		MaxConnsPerAddr: cfg.MaxConnsPerAddress,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		OpsElsewhere:    cfg.MetricsOnAdmin,
		Ready: []httpserver.Check{
			{Name: "postgres", Check: pool.Ping},
			{Name: "imap", Check: imapDialer.Ping},
		},
	})
	om.register(srv.Metrics, pool, []httpserver.Check{
		{Name: "postgres", Check: pool.Ping}, {Name: "imap", Check: imapDialer.Ping},
	})
	// One contacts store for EAS and CardDAV: every write, from either,
	// announces its folder to waiting Pings on all instances.
	contactStore := contacts.NewStore(pool, eas.NotifyFolderChanged)
	gal, err := newDirectory(cfg, pool, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	calStore := calendar.NewStore(pool, eas.NotifyFolderChanged)
	// One tasks store for the phones and CalDAV: a write from either
	// wakes the phones' Pings the same way.
	taskStore := tasks.NewStore(eas.NotifyFolderChanged)
	meetings := calendar.NewMeetings(calStore)
	// The admin live view lists the waiting requests: only when it can
	// be looked at.
	var waits *admin.Waits
	if cfg.AdminListen != "" {
		waits = admin.NewWaits()
	}
	easServer := eas.NewServer(eas.Options{
		Log:  log,
		Pool: pool,
		// A quarter of the pool per user: a user whose requests hang on
		// the mail server leaves the rest to everyone else.
		DBConnsPerUser: max(1, cfg.DBMaxConns/4),
		Auth:           auth,
		Mail:           mailStore,
		Submitter:      outbound{imapbridge.Outbound{Store: mailStore, Submitter: submitter}, om},
		MailSync:       mailSync{mailStore, om},
		Push:           newPush(ctx, cfg, log, imapDialer, srv.Metrics, waits),
		Limits: eas.Limits{
			MaxWBXMLDepth: cfg.MaxWBXMLDepth, MaxWindowSize: cfg.MaxWindowSize,
			HeartbeatMin: cfg.HeartbeatMin, HeartbeatMax: cfg.HeartbeatMax, MaxPingFolders: cfg.MaxPingFolders,
			MailRecheck: cfg.MailRecheck,
		},
		Quirks:  quirks,
		Policy:  eas.PolicyOptions{Enforce: cfg.EnforcePolicy},
		Domain:  cfg.MailDomain,
		Drain:   srv.Draining(),
		Version: version,

		PublicURL:  cfg.PublicURL,
		PublicIMAP: mailEndpoint(cfg.PublicIMAP),
		PublicSMTP: mailEndpoint(cfg.PublicSMTP),

		// The item classes kept in PostgreSQL; every write announces its
		// folder to waiting Pings on all instances.
		Items: map[model.Class]model.ItemStore{
			model.ClassContacts: contacts.NewBackend(contactStore),
			model.ClassCalendar: calendar.NewBackend(calStore),
			model.ClassNotes:    notes.NewBackend(notes.NewStore(eas.NotifyFolderChanged)),
			model.ClassTasks:    tasks.NewBackend(taskStore),
		},
		Directory:      gal,
		Contacts:       contactStore,
		Meetings:       meetings,
		FreeBusy:       meetings,
		Zone:           cfg.Zone(),
		Oof:            newOof(cfg, log),
		HoldNewDevices: cfg.NewDevices == "approve",
	}, cfg.MaxDevices)
	easServer.Register(srv.Echo)
	registerPushEvents(srv.Echo, cfg, pool, auth, log, srv.Metrics)
	// A calendar or address book made, renamed or deleted over DAV sends
	// the user's waiting phones to FolderSync.
	registerDAV(srv.Echo, easServer, dav.New(dav.Options{
		Pool: pool, Contacts: contactStore, Calendar: calStore, Tasks: taskStore,
		Folders: folders.NewStore(pool).Announcing(eas.NotifyHierarchyChanged), Log: log,
	}))
	a := &App{cfg: cfg, log: log, Pool: pool, HTTP: srv, EAS: easServer, waits: waits}
	if err := a.newAdmin(ctx, proxies); err != nil {
		pool.Close()
		return nil, err
	}
	return a, nil
}

// Run serves on ln until ctx is cancelled, then shuts down gracefully and
// closes the database pool.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	defer a.Pool.Close()
	a.log.Info("easd serving", "addr", ln.Addr().String(), "tls", a.cfg.TLSCert != "")
	errc := make(chan error, 2)
	go func() { errc <- a.HTTP.Serve(ln, a.cfg.TLSCert, a.cfg.TLSKey) }()
	stopAdmin := a.serveAdmin(errc)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	stopAdmin(sctx)
	if err := a.HTTP.Shutdown(sctx); err != nil {
		a.log.Warn("shutdown did not finish in time", "err", err)
	}
	return <-errc
}

// registerDAV serves CardDAV and CalDAV under /dav/ on the EAS listener, behind
// the EAS authentication and throttle (DESIGN: who may do what).
func registerDAV(e *echo.Echo, easServer *eas.Server, h *dav.Handler) {
	label := func(r *http.Request) string {
		// The routes take only dav.Methods, so the label set is fixed.
		return "DAV " + r.Method
	}
	serve := easServer.Authenticated(label, func(c echo.Context, login string) error {
		h.ServeDAV(c.Response(), c.Request(), login)
		return nil
	})
	e.Match(dav.Methods, "/dav", serve)
	e.Match(dav.Methods, dav.Prefix+"*", serve)
	wellKnown := echo.WrapHandler(http.HandlerFunc(dav.WellKnown))
	for _, p := range []string{"/.well-known/carddav", "/.well-known/caldav"} {
		e.Match([]string{http.MethodGet, http.MethodHead, "PROPFIND", http.MethodOptions}, p, wellKnown)
	}
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
		if !backoff.Sleep(ctx, 2*time.Second) {
			return res, ctx.Err()
		}
	}
}

// verifier adapts the IMAP login check to the protocol's Verifier.
type verifier struct {
	d *imapbridge.Dialer
	m *opsMetrics
}

func (v verifier) Verify(ctx context.Context, login, password string) error {
	start := time.Now()
	err := v.d.Verify(ctx, login, password)
	v.m.observe(ctx, "imap", "login", start, err, errors.Is(err, imapbridge.ErrAuthFailed))
	if errors.Is(err, imapbridge.ErrAuthFailed) {
		return fmt.Errorf("%w: %v", eas.ErrBadCredentials, err)
	}
	return err
}

// specialNames turns --special-folders into mailbox name -> EAS type.
func specialNames(setting string) map[string]model.FolderType {
	kinds := map[string]model.FolderType{"drafts": model.FolderDrafts, "sent": model.FolderSentItems,
		"trash": model.FolderDeletedItems, "outbox": model.FolderOutbox}
	byKind, _ := config.ParseSpecialFolders(setting) // validated with cfg
	out := map[string]model.FolderType{}
	for kind, name := range byKind {
		out[name] = kinds[kind]
	}
	return out
}

// mailSync adapts the IMAP store's sessions to the protocol's MailSync.
type mailSync struct {
	s *imapbridge.Store
	m *opsMetrics
}

func (m mailSync) OpenMail(ctx context.Context, login, password string) (eas.MailSession, error) {
	start := time.Now()
	sess, err := m.s.OpenMail(ctx, login, password)
	m.m.observe(ctx, "imap", "session", start, err, errors.Is(err, imapbridge.ErrAuthFailed))
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return sess, nil
}

// CloseIdle passes on the store's: a request that starts to wait closes
// the user's idle IMAP connections (eas.pingWait.closeIdleMail).
func (m mailSync) CloseIdle(login string) { m.s.CloseIdle(login) }

// The Ping finds CloseIdle by a type assertion, which a wrapper without it
// would silently defeat.
var _ interface{ CloseIdle(login string) } = mailSync{}

// mailEndpoint turns a validated --public-imap/--public-smtp into what
// Autodiscover hands out; nil when unset.
func mailEndpoint(s string) *eas.MailEndpoint {
	if s == "" {
		return nil
	}
	e, err := config.ParseEndpoint(s)
	if err != nil {
		return nil // Validate has refused it already
	}
	sec := eas.MailStartTLS
	switch e.TLS {
	case config.TLSImplicit:
		sec = eas.MailImplicitTLS
	case config.TLSNone:
		sec = eas.MailPlain
	}
	return &eas.MailEndpoint{Host: e.Host, Port: e.Port, Security: sec}
}

// newDirectory is the GAL: the LDAP server when one is configured, else
// the directory kept in PostgreSQL.
func newDirectory(cfg config.Config, pool *pgxpool.Pool, log *slog.Logger) (model.Directory, error) {
	d := cfg.Directory
	if d.LDAPURL == "" {
		return directory.NewStore(pool, directory.Options{Domain: cfg.MailDomain,
			MinQuery: d.MinQuery, MaxResults: d.MaxResults}), nil
	}
	attrs, _ := config.ParseLDAPAttributes(d.LDAPAttributes) // validated with cfg
	l, err := directory.NewLDAP(directory.LDAPOptions{URL: d.LDAPURL, BindDN: d.LDAPBindDN, BindPassword: d.LDAPBindPassword,
		BaseDN: d.LDAPBaseDN, Filter: d.LDAPFilter, Schema: d.LDAPSchema, Attributes: attrs,
		CacheTTL: d.LDAPCacheTTL, Timeout: d.LDAPTimeout, MinQuery: d.MinQuery, MaxResults: d.MaxResults})
	if err != nil {
		return nil, err
	}
	log.Info("directory from LDAP", "url", d.LDAPURL, "base", d.LDAPBaseDN, "schema", d.LDAPSchema)
	return l, nil
}
