// Package config holds every setting of `easd serve`, read from flags and
// EASD_* environment variables (a flag given on the command line wins).
//
// Each flag has an environment variable named after it: --imap-addr is
// EASD_IMAP_ADDR. `easd serve -h` prints them all with their defaults. A bad
// or missing setting is reported as one line naming the flag and variable.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TLSMode says how a connection to the mail server is secured.
type TLSMode string

const (
	TLSNone     TLSMode = "none"     // plain TCP (loopback or trusted networks only)
	TLSStartTLS TLSMode = "starttls" // plain TCP upgraded with STARTTLS
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (IMAPS 993, SMTPS 465)
)

// LoginForm says how the name a phone signs in with becomes the IMAP login.
type LoginForm string

const (
	LoginAsGiven LoginForm = "as-given" // pass through unchanged
	// LoginAuto: as given, except that a name whose domain is the mail
	// domain, or a bare name, is tried in both forms (bare first), so a
	// phone may be given either the address or the user name.
	LoginAuto    LoginForm = "auto"
	LoginLocal   LoginForm = "local"   // "alice@example.com" -> "alice"
	LoginAddress LoginForm = "address" // "alice" -> "alice@<mail-domain>"
)

// LoginCase says how the case of a login is normalised before it keys any
// state: one mailbox must be one user however the phone spells the name.
type LoginCase string

const (
	// CaseLower folds logins to lower case, as mail servers that ignore
	// case do (Dovecot's default auth_username_format is %Lu).
	CaseLower LoginCase = "lower"
	// CaseAsGiven keeps the case, for mail servers with case-sensitive
	// logins.
	CaseAsGiven LoginCase = "as-given"
)

// Config is the complete configuration of a serving easd.
type Config struct {
	Listen    string // HTTP(S) listen address
	TLSCert   string // PEM certificate; with TLSKey enables HTTPS
	TLSKey    string
	PublicURL string // base URL phones use, for Autodiscover; empty: from the request
	// PublicIMAP and PublicSMTP are the IMAP and SMTP submission servers
	// users' desktop clients should use, "host:port" with an optional
	// ";tls", ";starttls" or ";none" (see ParseEndpoint). When set,
	// Autodiscover answers Outlook's own schema with an IMAP account;
	// empty: that schema is refused and Outlook is left to set up
	// Exchange ActiveSync.
	PublicIMAP string
	PublicSMTP string

	DatabaseURL    string // PostgreSQL DSN
	SkipMigrations bool

	IMAPAddr        string
	IMAPTLS         TLSMode
	IMAPTLSInsecure bool // accept any certificate (self-signed test servers)
	SMTPAddr        string
	SMTPTLS         TLSMode
	SMTPTLSInsecure bool

	LoginForm  LoginForm
	LoginCase  LoginCase
	MailDomain string // domain for LoginAddress and for users' primary SMTP address

	MaxBodyBytes   int64         // largest request body accepted
	MaxWBXMLDepth  int           // deepest element nesting accepted
	MaxWindowSize  int           // Sync WindowSize cap (spec maximum 512)
	HeartbeatMin   time.Duration // Ping/Sync heartbeat bounds
	HeartbeatMax   time.Duration
	MaxPingFolders int
	MailRecheck    time.Duration // how long an unchanged STATUS stands for an initial sync's next windows (0: none)
	MaxDevices     int           // partnerships per user; 0 = unlimited
	NewDevices     string        // "allow", or "approve": new devices wait quarantined for an administrator
	DBMaxConns     int           // PostgreSQL connections in the pool; a user's requests get at most a quarter
	AuthCacheTTL   time.Duration // how long a verified login is trusted without asking IMAP
	// TrustedProxies are the CIDRs of reverse proxies whose
	// X-Forwarded-For names the client; from anyone else the header is
	// ignored and the peer address is the client's.
	TrustedProxies string
	// A request body must arrive within BodyReadGrace plus a second per
	// BodyMinRate bytes; MaxConnsPerAddress caps the connections open at
	// once from one address (0: no cap).
	BodyReadGrace      time.Duration
	BodyMinRate        int64
	MaxConnsPerAddress int
	EnforcePolicy      bool          // devices must provision before syncing
	VersionCaps        string        // "DeviceTypePrefix=14.1,..." caps the advertised protocol version
	SpecialFolders     string        // "drafts=Entwürfe,sent=Gesendet,..." names special mailboxes
	ShutdownTimeout    time.Duration // how long in-flight requests may finish
	// TimeZone is the users' IANA time zone: phones send a contact's
	// birthday as an instant, and which day it names depends on it.
	TimeZone string

	// Push watchers (Ping): how often mailboxes other than INBOX are
	// polled, how long a user's watcher outlives its last waiting request,
	// and an optional IMAP master user (Dovecot "user*master") so that no
	// user password is kept while a watcher runs.
	PushPollInterval   time.Duration
	PushGrace          time.Duration
	IMAPMasterUser     string
	IMAPMasterPassword string
	// Push events: "dovecot" takes the mail server's own events (posted
	// with PushSecret) instead of an IMAP IDLE connection per waiting
	// user, and sweeps the watched users' STATUS once per
	// PushSweepInterval for events that got lost.
	PushEvents        string
	PushSecret        string
	PushSweepInterval time.Duration

	LogFormat string // json | text
	LogLevel  string // debug | info | warn | error

	// AdminListen is the admin API and web page's own listener (package
	// admin); empty: off. MetricsOnAdmin moves /metrics and /readyz there
	// from the phones' port.
	AdminListen    string
	MetricsOnAdmin bool

	Directory Directory // the GAL (directory.go)

	ManageSieve string // out-of-office (managesieve.go)
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Listen:             ":8080",
		IMAPTLS:            TLSStartTLS,
		SMTPTLS:            TLSStartTLS,
		LoginForm:          LoginAuto,
		LoginCase:          CaseLower,
		MaxBodyBytes:       64 << 20,
		MaxWBXMLDepth:      64,
		MaxWindowSize:      512,
		HeartbeatMin:       60 * time.Second,
		HeartbeatMax:       3540 * time.Second,
		MaxPingFolders:     300,
		MailRecheck:        time.Second,
		MaxDevices:         0,
		NewDevices:         "allow",
		DBMaxConns:         20,
		AuthCacheTTL:       5 * time.Minute,
		BodyReadGrace:      30 * time.Second,
		BodyMinRate:        1024,
		MaxConnsPerAddress: 256,
		EnforcePolicy:      true,
		ShutdownTimeout:    15 * time.Second,
		PushPollInterval:   30 * time.Second,
		PushGrace:          60 * time.Second,
		PushSweepInterval:  10 * time.Minute,
		TimeZone:           "UTC",
		LogFormat:          "json",
		LogLevel:           "info",
		Directory:          directoryDefaults(),
	}
}

// Error is a configuration problem, phrased as one line for the operator.
type Error struct {
	Flag string // without dashes
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid setting --%s (%s): %s", e.Flag, EnvName(e.Flag), e.Msg)
}

// EnvName is the environment variable that sets flag name.
func EnvName(flagName string) string {
	return "EASD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Register defines every serve setting on fs, writing into c.
func (c *Config) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "HTTP listen address (host:port)")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (PEM); with --tls-key serves HTTPS")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key file (PEM)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "public base URL of this server, e.g. https://mail.example.com (Autodiscover); empty: taken from each request")
	fs.StringVar(&c.PublicIMAP, "public-imap", c.PublicIMAP, "IMAP server users' desktop mail clients should use, host:port[;tls|;starttls|;none], e.g. mail.example.com:993; the security follows the port (993 TLS, 143 STARTTLS) unless given; with --public-smtp, Autodiscover offers Outlook an IMAP account; empty: Outlook is told to use Exchange ActiveSync")
	fs.StringVar(&c.PublicSMTP, "public-smtp", c.PublicSMTP, "SMTP submission server for users' desktop mail clients, host:port[;tls|;starttls|;none], e.g. mail.example.com:587; the security follows the port (465 TLS, 587 STARTTLS) unless given; goes with --public-imap")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL connection URL, e.g. postgres://easd@db/easd (required)")
	fs.BoolVar(&c.SkipMigrations, "skip-migrations", c.SkipMigrations, "do not apply database migrations on start")
	fs.StringVar(&c.IMAPAddr, "imap-addr", c.IMAPAddr, "IMAP server host:port (required)")
	fs.Var(tlsChoice(&c.IMAPTLS), "imap-tls", "IMAP connection security: none, starttls or implicit")
	fs.BoolVar(&c.IMAPTLSInsecure, "imap-tls-insecure", c.IMAPTLSInsecure, "accept any IMAP server certificate (testing only)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP submission server host:port (required)")
	fs.Var(tlsChoice(&c.SMTPTLS), "smtp-tls", "SMTP connection security: none, starttls or implicit")
	fs.BoolVar(&c.SMTPTLSInsecure, "smtp-tls-insecure", c.SMTPTLSInsecure, "accept any SMTP server certificate (testing only)")
	c.RegisterLogin(fs)
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest request body accepted, in bytes")
	fs.IntVar(&c.MaxWBXMLDepth, "max-wbxml-depth", c.MaxWBXMLDepth, "deepest WBXML element nesting accepted")
	fs.IntVar(&c.MaxWindowSize, "max-window-size", c.MaxWindowSize, "largest Sync WindowSize honoured (1-512)")
	fs.DurationVar(&c.HeartbeatMin, "heartbeat-min", c.HeartbeatMin, "shortest Ping/Sync heartbeat accepted")
	fs.DurationVar(&c.HeartbeatMax, "heartbeat-max", c.HeartbeatMax, "longest Ping/Sync heartbeat accepted")
	fs.IntVar(&c.MaxPingFolders, "max-ping-folders", c.MaxPingFolders, "most folders one Ping may watch")
	fs.StringVar(&c.TimeZone, "time-zone", c.TimeZone, "the users' IANA time zone (Europe/Berlin), for dates phones send as instants")
	fs.DurationVar(&c.MailRecheck, "mail-recheck", c.MailRecheck, "how long an initial mail sync trusts a STATUS that found the folder unchanged (0: one per window)")
	fs.IntVar(&c.MaxDevices, "max-devices", c.MaxDevices, "most devices per user (0: unlimited)")
	fs.StringVar(&c.NewDevices, "new-devices", c.NewDevices, "allow: new devices sync at once; approve: they wait quarantined until an administrator allows them (easd device allow); access rules decide first")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", c.DBMaxConns, "PostgreSQL connections easd keeps at most; one user's requests may hold a quarter of them (at least 1)")
	fs.DurationVar(&c.AuthCacheTTL, "auth-cache-ttl", c.AuthCacheTTL, "how long a verified login is trusted before IMAP is asked again (0: always ask)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed, e.g. 10.0.0.0/8,2001:db8::/32; empty: the peer address is the client's")
	fs.DurationVar(&c.BodyReadGrace, "body-read-grace", c.BodyReadGrace, "time a client has to send a request body, plus a second per --body-min-rate bytes sent")
	fs.Int64Var(&c.BodyMinRate, "body-min-rate", c.BodyMinRate, "slowest rate (bytes/s) at which a request body earns more time after --body-read-grace")
	fs.IntVar(&c.MaxConnsPerAddress, "max-conns-per-address", c.MaxConnsPerAddress, "most connections open at once from one client address, trusted proxies exempt (0: no cap)")
	fs.StringVar(&c.AdminListen, "admin-listen", c.AdminListen, "listen address (host:port) of the admin API and web page, never the phones' one; empty: off")
	fs.BoolVar(&c.MetricsOnAdmin, "metrics-on-admin", c.MetricsOnAdmin, "serve /metrics and /readyz on --admin-listen instead of the phones' port")
	fs.BoolVar(&c.EnforcePolicy, "enforce-provisioning", c.EnforcePolicy, "require devices to accept the device policy (Provision) before syncing")
	fs.StringVar(&c.VersionCaps, "version-caps", c.VersionCaps, "cap the EAS version offered to device types, e.g. SAMSUNG=14.1,Android=16.0")
	fs.StringVar(&c.SpecialFolders, "special-folders", c.SpecialFolders, "mailbox names of the special folders where the IMAP server has no SPECIAL-USE, e.g. drafts=Entwürfe,sent=Gesendet,trash=Papierkorb,outbox=Outbox")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight requests may finish on shutdown")
	fs.DurationVar(&c.PushPollInterval, "push-poll-interval", c.PushPollInterval, "how often push watchers check mailboxes other than INBOX (INBOX uses IDLE)")
	fs.DurationVar(&c.PushGrace, "push-grace", c.PushGrace, "how long a user's push watcher stays after the last waiting Ping")
	fs.StringVar(&c.IMAPMasterUser, "imap-master-user", c.IMAPMasterUser, "IMAP master user for push watchers (Dovecot user*master); empty: the users' own passwords")
	fs.StringVar(&c.IMAPMasterPassword, "imap-master-password", c.IMAPMasterPassword, "password of --imap-master-user (prefer the environment variable)")
	fs.StringVar(&c.PushEvents, "push-events", c.PushEvents, "where waiting Pings learn of new mail: empty for an IMAP IDLE watcher per user, or dovecot for the events Dovecot posts to /push-events/dovecot (deploy/dovecot/easd-push.lua)")
	fs.StringVar(&c.PushSecret, "push-secret", c.PushSecret, "shared secret Dovecot sends with its push events, at least 16 characters (prefer the environment variable)")
	fs.DurationVar(&c.PushSweepInterval, "push-sweep-interval", c.PushSweepInterval, "with --push-events, how often each watched user's mailboxes are checked with STATUS, for events that got lost")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: json or text")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	c.Directory.RegisterDirectory(fs)
	c.RegisterManageSieve(fs)
}

// Parse reads env (a lookup such as os.LookupEnv) and then args into c.
// Flags given in args override the environment.
func (c *Config) Parse(fs *flag.FlagSet, args []string, env func(string) (string, bool)) error {
	if err := ApplyEnv(fs, env); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c.Validate()
}

// ApplyEnv sets every flag of fs whose EASD_* variable is present.
func ApplyEnv(fs *flag.FlagSet, env func(string) (string, bool)) error {
	return applyEnv(fs, env, func(string) bool { return true })
}

// applyEnv sets the flags of fs whose names pass want from their EASD_*
// variables.
func applyEnv(fs *flag.FlagSet, env func(string) (string, bool), want func(name string) bool) error {
	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		if !want(f.Name) {
			return
		}
		v, ok := env(EnvName(f.Name))
		if !ok || firstErr != nil {
			return
		}
		if err := f.Value.Set(v); err != nil {
			firstErr = &Error{Flag: f.Name, Msg: fmt.Sprintf("%q: %v", v, err)}
		}
	})
	return firstErr
}

// IsSetting tells whether name is a flag of `easd serve`. The other
// commands read only these from the environment: a variable named after an
// action's own flag (EASD_CANCEL, EASD_OFF) must not change what a command
// does to a device.
func IsSetting(name string) bool {
	settingsOnce.Do(func() {
		fs := flag.NewFlagSet("settings", flag.ContinueOnError)
		var c Config
		c.Register(fs)
		settingNames = map[string]bool{}
		fs.VisitAll(func(f *flag.Flag) { settingNames[f.Name] = true })
	})
	return settingNames[name]
}

var (
	settingsOnce sync.Once
	settingNames map[string]bool
)

// ApplySettingsEnv is ApplyEnv for the flags of fs that are settings
// (IsSetting).
func ApplySettingsEnv(fs *flag.FlagSet, env func(string) (string, bool)) error {
	return applyEnv(fs, env, IsSetting)
}

// Validate checks the whole configuration and names the first bad setting.
func (c *Config) Validate() error {
	bad := func(flag, format string, a ...any) error {
		return &Error{Flag: flag, Msg: fmt.Sprintf(format, a...)}
	}
	if err := checkHostPort(c.Listen); err != nil {
		return bad("listen", "%v", err)
	}
	if err := checkAdminListen(c.Listen, c.AdminListen); err != nil {
		return bad("admin-listen", "%v", err)
	}
	if c.MetricsOnAdmin && c.AdminListen == "" {
		return bad("metrics-on-admin", "needs --admin-listen")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return bad("tls-cert", "--tls-cert and --tls-key go together")
	}
	for _, f := range []struct{ flag, path string }{{"tls-cert", c.TLSCert}, {"tls-key", c.TLSKey}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return bad(f.flag, "%v", err)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("public-url", "%q is not an http(s) URL", c.PublicURL)
		}
	}
	for _, f := range []struct{ flag, v string }{{"public-imap", c.PublicIMAP}, {"public-smtp", c.PublicSMTP}} {
		if f.v == "" {
			continue
		}
		if _, err := ParseEndpoint(f.v); err != nil {
			return bad(f.flag, "%v", err)
		}
	}
	if (c.PublicIMAP == "") != (c.PublicSMTP == "") {
		// An account that can receive but not send (or the reverse) is
		// not one Outlook can set up.
		return bad("public-imap", "--public-imap and --public-smtp go together")
	}
	if c.DatabaseURL == "" {
		return bad("database-url", "required")
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return bad("database-url", "must be a postgres:// URL")
	}
	if c.IMAPAddr == "" {
		return bad("imap-addr", "required")
	}
	if err := checkHostPort(c.IMAPAddr); err != nil {
		return bad("imap-addr", "%v", err)
	}
	if c.SMTPAddr == "" {
		return bad("smtp-addr", "required")
	}
	if err := checkHostPort(c.SMTPAddr); err != nil {
		return bad("smtp-addr", "%v", err)
	}
	if c.LoginForm == LoginAddress && c.MailDomain == "" {
		return bad("mail-domain", "required with --login-form=address")
	}
	switch {
	case c.MaxBodyBytes < 64<<10:
		return bad("max-body-bytes", "%d is below 65536", c.MaxBodyBytes)
	case c.MaxWBXMLDepth < 8 || c.MaxWBXMLDepth > 1024:
		return bad("max-wbxml-depth", "%d is outside 8-1024", c.MaxWBXMLDepth)
	case c.MaxWindowSize < 1 || c.MaxWindowSize > 512:
		return bad("max-window-size", "%d is outside 1-512", c.MaxWindowSize)
	case c.HeartbeatMin < time.Second:
		return bad("heartbeat-min", "%v is below 1s", c.HeartbeatMin)
	case c.TimeZone == "" || c.timeZoneErr() != nil:
		return bad("time-zone", "%q is not an IANA time zone name", c.TimeZone)
	case c.MailRecheck < 0 || c.MailRecheck > time.Minute:
		return bad("mail-recheck", "%v is outside 0-1m", c.MailRecheck)
	case c.HeartbeatMax < c.HeartbeatMin:
		return bad("heartbeat-max", "%v is below --heartbeat-min %v", c.HeartbeatMax, c.HeartbeatMin)
	case c.MaxPingFolders < 1:
		return bad("max-ping-folders", "must be at least 1")
	case c.MaxDevices < 0:
		return bad("max-devices", "must not be negative")
	case c.NewDevices != "allow" && c.NewDevices != "approve":
		return bad("new-devices", "%q is not allow or approve", c.NewDevices)
	case c.DBMaxConns < 2 || c.DBMaxConns > 1000:
		return bad("db-max-conns", "%d is outside 2-1000", c.DBMaxConns)
	case c.AuthCacheTTL < 0 || c.AuthCacheTTL > time.Hour:
		return bad("auth-cache-ttl", "%v is outside 0-1h", c.AuthCacheTTL)
	case c.BodyReadGrace < time.Second:
		return bad("body-read-grace", "%v is below 1s", c.BodyReadGrace)
	case c.BodyMinRate < 1:
		return bad("body-min-rate", "must be at least 1")
	case c.MaxConnsPerAddress < 0:
		return bad("max-conns-per-address", "must not be negative")
	case c.ShutdownTimeout < 0:
		return bad("shutdown-timeout", "must not be negative")
	case c.PushPollInterval < time.Second:
		return bad("push-poll-interval", "%v is below 1s", c.PushPollInterval)
	case c.PushGrace < 0:
		return bad("push-grace", "must not be negative")
	case (c.IMAPMasterUser == "") != (c.IMAPMasterPassword == ""):
		return bad("imap-master-user", "--imap-master-user and --imap-master-password go together")
	case c.PushEvents != "" && c.PushEvents != "dovecot":
		return bad("push-events", "%q is not empty or dovecot", c.PushEvents)
	case c.PushEvents != "" && len(c.PushSecret) < 16:
		return bad("push-secret", "--push-events needs a secret of at least 16 characters")
	case c.PushSweepInterval < time.Second:
		return bad("push-sweep-interval", "%v is below 1s", c.PushSweepInterval)
	}
	if _, err := ParseSpecialFolders(c.SpecialFolders); err != nil {
		return bad("special-folders", "%v", err)
	}
	if _, err := ParseCIDRs(c.TrustedProxies); err != nil {
		return bad("trusted-proxies", "%v", err)
	}
	if _, err := ParseVersionCaps(c.VersionCaps); err != nil {
		return bad("version-caps", "%v", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return bad("log-format", "%q is not json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log-level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if err := c.validateManageSieve(); err != nil {
		return err
	}
	return c.Directory.validate()
}

func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if port == "" {
		return errors.New("missing port")
	}
	return nil
}

// checkAdminListen refuses an admin address that could take the phones'
// port: the same port on the same or a wildcard host. Port 0 (any free
// one, in tests) never clashes.
func checkAdminListen(listen, admin string) error {
	if admin == "" {
		return nil
	}
	ah, ap, err := net.SplitHostPort(admin)
	if err != nil {
		return err
	}
	if ap == "" {
		return errors.New("missing port")
	}
	lh, lp, _ := net.SplitHostPort(listen)
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	if ap == lp && ap != "0" && (ah == lh || wild(ah) || wild(lh)) {
		return fmt.Errorf("%s shares the phones' address %s: the admin API needs its own", admin, listen)
	}
	return nil
}

// Endpoint is a mail server as users' desktop clients reach it.
type Endpoint struct {
	Host string
	Port int
	TLS  TLSMode
}

// endpointTLS maps the well-known mail ports to their security: implicit
// TLS for IMAPS (RFC 8314) and submissions, STARTTLS for IMAP and
// submission. Any other port must say which it is.
var endpointTLS = map[int]TLSMode{993: TLSImplicit, 465: TLSImplicit, 143: TLSStartTLS, 587: TLSStartTLS}

// ParseEndpoint reads "host:port" with an optional security suffix:
// ";tls" (or ";implicit"), ";starttls" or ";none". Without one the port
// decides (993 and 465 TLS, 143 and 587 STARTTLS); another port without a
// suffix is an error, so a guess never hands clients the wrong security.
func ParseEndpoint(s string) (Endpoint, error) {
	addr, sec, hasSec := strings.Cut(strings.TrimSpace(s), ";")
	host, portStr, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return Endpoint{}, fmt.Errorf("%q is not host:port", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || host == "" || port < 1 || port > 65535 {
		return Endpoint{}, fmt.Errorf("%q is not host:port", s)
	}
	e := Endpoint{Host: host, Port: port}
	switch strings.ToLower(strings.TrimSpace(sec)) {
	case "tls", "implicit":
		e.TLS = TLSImplicit
	case "starttls":
		e.TLS = TLSStartTLS
	case "none":
		e.TLS = TLSNone
	case "":
		if hasSec {
			return Endpoint{}, fmt.Errorf("%q: empty security after ';'", s)
		}
		mode, ok := endpointTLS[port]
		if !ok {
			return Endpoint{}, fmt.Errorf("%q: port %d has no well-known security; add ;tls, ;starttls or ;none", s, port)
		}
		e.TLS = mode
	default:
		return Endpoint{}, fmt.Errorf("%q: security %q is not tls, starttls or none", s, sec)
	}
	return e, nil
}

// choiceValue is a flag.Value accepting only the listed words.
type choiceValue struct {
	p       *string
	choices []string
}

func (v choiceValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v choiceValue) Set(s string) error {
	for _, c := range v.choices {
		if s == c {
			*v.p = s
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(v.choices, ", "))
}

func tlsChoice(p *TLSMode) choiceValue {
	return choiceValue{(*string)(p), []string{string(TLSNone), string(TLSStartTLS), string(TLSImplicit)}}
}

// RegisterLogin defines the settings that make a user name a login, on
// fs: serve's, and the administration commands' that name users, so that
// both key a user's state by the same canonical login.
func (c *Config) RegisterLogin(fs *flag.FlagSet) {
	fs.Var(loginChoice(&c.LoginForm), "login-form", "how a phone's user name becomes the IMAP login: auto (a name at --mail-domain is tried bare, then as the address), as-given, local (strip @domain) or address (add @mail-domain)")
	fs.Var(caseChoice(&c.LoginCase), "login-case", "how a login's case is normalised before it keys any state: lower (mail servers that ignore case) or as-given (case-sensitive logins)")
	fs.StringVar(&c.MailDomain, "mail-domain", c.MailDomain, "mail domain of the users, for --login-form=address and users' primary address")
}

func loginChoice(p *LoginForm) choiceValue {
	return choiceValue{(*string)(p), []string{string(LoginAuto), string(LoginAsGiven), string(LoginLocal), string(LoginAddress)}}
}

func caseChoice(p *LoginCase) choiceValue {
	return choiceValue{(*string)(p), []string{string(CaseLower), string(CaseAsGiven)}}
}

// Usage writes a flag listing with each setting's environment variable.
func Usage(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%s  (%s, default %s)\n      %s\n", f.Name, EnvName(f.Name), def, f.Usage)
	})
}

// ParseVersionCaps reads "DeviceTypePrefix=14.1,..." into prefix -> version
// number (141).
func ParseVersionCaps(s string) (map[string]int, error) {
	caps := map[string]int{}
	if strings.TrimSpace(s) == "" {
		return caps, nil
	}
	for _, part := range strings.Split(s, ",") {
		dt, ver, ok := strings.Cut(strings.TrimSpace(part), "=")
		major, minor, ok2 := strings.Cut(ver, ".")
		if !ok || !ok2 || dt == "" || len(major) == 0 || len(minor) != 1 {
			return nil, fmt.Errorf("%q is not DeviceType=version", part)
		}
		n := 0
		for _, c := range major + minor {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("%q is not DeviceType=version", part)
			}
			n = n*10 + int(c-'0')
		}
		caps[dt] = n
	}
	return caps, nil
}

// SpecialFolderKinds are the keys of --special-folders.
var SpecialFolderKinds = []string{"drafts", "sent", "trash", "outbox"}

// ParseSpecialFolders reads "drafts=Name,sent=Name,..." into kind -> mailbox
// name.
func ParseSpecialFolders(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		kind, name, ok := strings.Cut(strings.TrimSpace(part), "=")
		kind = strings.ToLower(strings.TrimSpace(kind))
		valid := false
		for _, k := range SpecialFolderKinds {
			valid = valid || k == kind
		}
		if !ok || !valid || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%q is not one of %s=mailbox", part, strings.Join(SpecialFolderKinds, ","))
		}
		out[kind] = strings.TrimSpace(name)
	}
	return out, nil
}

// Zone is the users' time zone (TimeZone); UTC when it does not load,
// which Validate rules out.
func (c Config) Zone() *time.Location {
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

func (c Config) timeZoneErr() error {
	_, err := time.LoadLocation(c.TimeZone)
	return err
}

// ParseCIDRs reads a comma-separated list of CIDRs; a bare address counts
// as a single-address network.
func ParseCIDRs(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", part)
		}
		out = append(out, n)
	}
	return out, nil
}
