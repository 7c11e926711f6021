package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
)

// probeOptions is what `easd probe` checks and how.
type probeOptions struct {
	baseURL   string // without the EAS path
	user      string
	password  string
	email     string // for Autodiscover
	deviceID  string
	insecure  bool
	timeout   time.Duration // per step
	heartbeat time.Duration // of the Ping
}

func probeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, `usage: easd probe URL --user USER [flags]

Checks a deployment as a phone would: Autodiscover, OPTIONS, Provision,
FolderSync, a Sync of the Inbox and a Ping, with timings. The password is
taken from EASD_PROBE_PASSWORD, else asked for. Exit code 0 when every step
passed (warnings allowed), 1 when one failed, 2 on bad usage.

The probe registers as its own device (--device-id, default easdprobe);
remove it afterwards with: easd device remove USER easdprobe`)
	fmt.Fprintln(w)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func runProbe(args []string, stdout, stderr io.Writer) int {
	o := probeOptions{}
	fs := flag.NewFlagSet("easd probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.user, "user", "", "user name to sign in with (required)")
	fs.StringVar(&o.email, "email", "", "e-mail address for Autodiscover (default: --user if it is an address, else user@host)")
	fs.StringVar(&o.deviceID, "device-id", "easdprobe", "DeviceId to register as")
	fs.BoolVar(&o.insecure, "insecure", false, "accept any TLS certificate (self-signed test servers)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit of each step")
	fs.DurationVar(&o.heartbeat, "ping-heartbeat", 10*time.Second,
		"heartbeat the Ping asks for; below the server's minimum it answers at once with its limits, longer values test that long requests pass proxies")
	pos, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		probeUsage(stderr, fs)
		return 0
	case err != nil:
	case len(pos) != 1:
		err = errors.New("want exactly one URL (e.g. https://mail.example.com)")
	case o.user == "":
		err = errors.New("--user is required")
	case o.timeout <= 0 || o.heartbeat < time.Second:
		err = errors.New("--timeout must be positive and --ping-heartbeat at least 1s")
	}
	if err == nil {
		o.baseURL, err = probeBaseURL(pos[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd probe: "+err.Error()))
		return exitUsage
	}
	if o.email == "" {
		o.email = o.user
		if !strings.Contains(o.user, "@") {
			u, _ := url.Parse(o.baseURL)
			o.email = o.user + "@" + u.Hostname()
		}
	}
	if pw, ok := os.LookupEnv("EASD_PROBE_PASSWORD"); ok {
		o.password = pw
	} else if o.password, err = readPassword(stderr, "Password for "+o.user+": "); err != nil {
		fmt.Fprintln(stderr, oneLine("easd probe: password: "+err.Error()))
		return exitUsage
	}
	return probe(context.Background(), o, stdout)
}

// probeBaseURL accepts the server's base URL, a bare host name (HTTPS
// assumed) or the full EAS URL, and returns the base URL.
func probeBaseURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", s)
	}
	u.RawQuery, u.Fragment = "", ""
	p := strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(strings.ToLower(p), strings.ToLower(client.Path)) {
		p = p[:len(p)-len(client.Path)]
	}
	u.Path = p
	return u.String(), nil
}

// readPassword asks on the terminal with echo off. Without a terminal
// (a pipe), it reads one line of standard input. Echo is switched with
// stty, which every Unix has, rather than a terminal library.
func readPassword(prompt io.Writer, text string) (string, error) {
	fmt.Fprint(prompt, text)
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		stty := func(arg string) error {
			cmd := exec.Command("stty", arg)
			cmd.Stdin = os.Stdin
			return cmd.Run()
		}
		if stty("-echo") == nil {
			defer func() {
				_ = stty("echo")
				fmt.Fprintln(prompt)
			}()
		}
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// Step outcomes.
type probeLevel int

const (
	probeOK probeLevel = iota
	probeWarn
	probeFail
	probeSkip
)

func (l probeLevel) String() string {
	return [...]string{"ok", "warn", "FAIL", "skip"}[l]
}

// prober runs the steps in order and prints each as it finishes.
type prober struct {
	o     probeOptions
	c     *client.Client
	out   io.Writer
	total time.Duration
	warns int
	fails []string
	stop  string // set after a failure that makes further logins pointless
}

// step runs fn with the step's time limit and reports its outcome.
func (p *prober) step(ctx context.Context, name string, timeout time.Duration, fn func(context.Context) (probeLevel, string, error)) probeLevel {
	if p.stop != "" {
		fmt.Fprintf(p.out, "  %-4s  %-12s %7s  %s\n", probeSkip, name, "", p.stop)
		return probeSkip
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	level, detail, err := fn(ctx)
	took := time.Since(start)
	p.total += took
	if err != nil {
		level, detail = probeError(err)
	}
	switch level {
	case probeWarn:
		p.warns++
	case probeFail:
		p.fails = append(p.fails, name)
		var he *client.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusUnauthorized {
			// Every further login would fail too and count towards the
			// server's lockout of this user.
			p.stop = "not tried: credentials refused"
		}
	}
	fmt.Fprintf(p.out, "  %-4s  %-12s %5d ms  %s\n", level, name, took.Milliseconds(), detail)
	return level
}

// probeError turns a failed request into a verdict an administrator can
// act on. Commands the server lacks (HTTP 501) are warnings: easd grows
// its command set over releases and answers 501 for the missing ones.
func probeError(err error) (probeLevel, string) {
	var he *client.HTTPError
	var ae *client.AutodiscoverError
	var ue *url.Error
	switch {
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotImplemented:
			return probeWarn, "not implemented by this server (HTTP 501)"
		case http.StatusUnauthorized:
			return probeFail, "credentials refused (HTTP 401)"
		case http.StatusForbidden:
			return probeFail, "access denied (HTTP 403): device blocked or user not allowed to sync"
		case 449:
			return probeFail, "server demands provisioning (HTTP 449)"
		case http.StatusServiceUnavailable:
			return probeFail, "server unavailable (HTTP 503): mail server down or logins throttled; retry after " + orDash(he.Header.Get("Retry-After")) + " s"
		case http.StatusNotFound:
			return probeFail, "HTTP 404: the path is not routed to easd (check the proxy)"
		default:
			return probeFail, fmt.Sprintf("HTTP %d", he.Code)
		}
	case errors.As(err, &ae):
		return probeFail, ae.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return probeFail, "no answer within the time limit"
	case errors.As(err, &ue):
		return probeFail, "network: " + ue.Err.Error()
	default:
		return probeFail, err.Error()
	}
}

// probe runs every step against o and returns the exit code.
func probe(ctx context.Context, o probeOptions, out io.Writer) int {
	hc := &http.Client{}
	if o.insecure {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator's explicit choice
		hc.Transport = tr
	}
	p := &prober{o: o, out: out, c: &client.Client{
		BaseURL: o.baseURL, User: o.user, Password: o.password, DeviceID: o.deviceID,
		DeviceType: "easdprobe", UserAgent: "easd-probe/" + version, Version: "16.1", HTTP: hc,
	}}
	fmt.Fprintf(out, "easd probe of %s as %s (device %s)\n", o.baseURL, o.user, o.deviceID)

	p.step(ctx, "Autodiscover", o.timeout, p.autodiscover)
	if p.step(ctx, "OPTIONS", o.timeout, p.options) == probeFail && p.stop == "" {
		p.stop = "not tried: OPTIONS did not pass"
	}
	p.step(ctx, "Provision", o.timeout, p.provision)
	var inbox string
	if p.step(ctx, "FolderSync", o.timeout, func(ctx context.Context) (probeLevel, string, error) {
		return p.folderSync(ctx, &inbox)
	}) != probeOK && p.stop == "" {
		p.stop = "not tried: FolderSync did not pass"
	}
	p.step(ctx, "Sync Inbox", o.timeout, func(ctx context.Context) (probeLevel, string, error) {
		return p.syncInbox(ctx, inbox)
	})
	p.step(ctx, "Ping", o.timeout+o.heartbeat, func(ctx context.Context) (probeLevel, string, error) {
		return p.ping(ctx, inbox)
	})

	switch {
	case len(p.fails) > 0:
		fmt.Fprintf(out, "FAILED: %s (%d ms in all)\n", strings.Join(p.fails, ", "), p.total.Milliseconds())
		return 1
	case p.warns > 0:
		fmt.Fprintf(out, "OK with %d warning(s) (%d ms in all)\n", p.warns, p.total.Milliseconds())
	default:
		fmt.Fprintf(out, "OK (%d ms in all)\n", p.total.Milliseconds())
	}
	return 0
}

func (p *prober) autodiscover(ctx context.Context) (probeLevel, string, error) {
	res, err := p.c.Autodiscover(ctx, p.o.email, "")
	if err != nil {
		return 0, "", err
	}
	want := p.o.baseURL + client.Path
	if !strings.EqualFold(res.URL, want) {
		// Phones use what Autodiscover says, not what was probed: an
		// http URL behind a TLS proxy, or an internal host name, breaks
		// their setup (see --public-url).
		return probeWarn, fmt.Sprintf("points phones to %s, not to the probed %s", res.URL, want), nil
	}
	return probeOK, res.URL, nil
}

// probeVersions are the protocol versions the probe speaks, best first.
var probeVersions = []string{"16.1", "16.0", "14.1", "14.0"}

func (p *prober) options(ctx context.Context) (probeLevel, string, error) {
	versions, commands, err := p.c.Options(ctx)
	if err != nil {
		return 0, "", err
	}
	detail := fmt.Sprintf("versions %s; %d commands", strings.Join(versions, ","), len(commands))
	for _, v := range probeVersions {
		if slices.Contains(versions, v) {
			p.c.Version = v
			return probeOK, detail + "; speaking " + v, nil
		}
	}
	return probeWarn, detail + "; none of " + strings.Join(probeVersions, ",") + " offered, trying 16.1", nil
}

func (p *prober) provision(ctx context.Context) (probeLevel, string, error) {
	info := &message.DeviceInformationSet{Model: "easd probe", FriendlyName: "easd probe", UserAgent: p.c.UserAgent}
	err := p.c.Provision(ctx, info)
	var we *client.WipeRequestedError
	var pe *client.ProvisionError
	switch {
	case errors.As(err, &we):
		// Never acknowledged: the probe is not the device to be wiped,
		// and acknowledging would mark the wipe as done.
		return probeFail, "a remote wipe is pending for this device (see easd device show)", nil
	case errors.As(err, &pe):
		if pe.Status >= 100 { // a global status (MS-ASCMD 2.2.2)
			return probeFail, statusText("Provision", pe.Status), nil
		}
		return probeFail, fmt.Sprintf("Provision status %d, policy status %d", pe.Status, pe.PolicyStatus), nil
	case err != nil:
		return 0, "", err
	}
	return probeOK, fmt.Sprintf("policy key %d", p.c.PolicyKey), nil
}

// folderSync fetches the hierarchy and finds the Inbox.
func (p *prober) folderSync(ctx context.Context, inbox *string) (probeLevel, string, error) {
	r, err := p.c.FolderSync(ctx, "0")
	if err != nil {
		return 0, "", err
	}
	if r.Status != 1 {
		return probeFail, statusText("FolderSync", r.Status), nil
	}
	if r.Changes == nil {
		return probeFail, "no folders", nil
	}
	for _, f := range r.Changes.Add {
		if f.Type == 2 { // Inbox (MS-ASCMD 2.2.3.186.3)
			*inbox = f.ServerID
		}
	}
	if *inbox == "" {
		return probeFail, fmt.Sprintf("%d folders but no Inbox", len(r.Changes.Add)), nil
	}
	return probeOK, fmt.Sprintf("%d folders, Inbox is %s", len(r.Changes.Add), *inbox), nil
}

// syncInbox starts a partnership on the Inbox (key 0) and fetches the
// first window of messages.
func (p *prober) syncInbox(ctx context.Context, inbox string) (probeLevel, string, error) {
	r, err := p.c.SyncFolder(ctx, inbox, "0", 0)
	if err != nil {
		return 0, "", err
	}
	col, msg := syncCollection(r)
	if col == nil {
		return probeFail, "initial Sync: " + msg, nil
	}
	r, err = p.c.SyncFolder(ctx, inbox, col.SyncKey, 25)
	if err != nil {
		return 0, "", err
	}
	if col, msg = syncCollection(r); col == nil {
		return probeFail, msg, nil
	}
	n := 0
	if col.Commands != nil {
		n = len(col.Commands.Add)
	}
	detail := fmt.Sprintf("%d message(s) in the first window", n)
	if col.MoreAvailable {
		detail += ", more available"
	}
	return probeOK, detail, nil
}

// syncCollection returns the one collection of a Sync answer when it
// succeeded, else why not.
func syncCollection(r *message.SyncResponse) (*message.SyncResponseCollection, string) {
	if r.Status > 1 {
		return nil, statusText("Sync", r.Status)
	}
	if r.Collections == nil || len(r.Collections.Collection) != 1 {
		return nil, "answer without the collection"
	}
	col := &r.Collections.Collection[0]
	if col.Status != 1 {
		return nil, statusText("Sync", col.Status)
	}
	if col.SyncKey == "" {
		return nil, "answer without a SyncKey"
	}
	return col, ""
}

func (p *prober) ping(ctx context.Context, inbox string) (probeLevel, string, error) {
	r, err := p.c.Ping(ctx, p.o.heartbeat, message.PingFolder{ID: inbox, Class: "Email"})
	if err != nil {
		return 0, "", err
	}
	switch r.Status {
	case 1:
		return probeOK, fmt.Sprintf("held %s, no change", p.o.heartbeat), nil
	case 2:
		return probeOK, "Inbox changed", nil
	case 5:
		return probeOK, fmt.Sprintf("answered; heartbeat %s is outside the server's bounds (it proposes %d s)", p.o.heartbeat, r.HeartbeatInterval), nil
	case 7:
		return probeWarn, "server asks for a new FolderSync first (Status 7)", nil
	default:
		return probeFail, statusText("Ping", r.Status), nil
	}
}

// statusText explains the global statuses an administrator is likely to
// meet; command-specific ones are reported by number.
func statusText(cmd string, status int) string {
	known := map[int]string{
		126: "user not allowed to sync", 129: "device blocked", 140: "remote wipe pending",
		142: "device must provision", 143: "policy changed, provision again", 144: "policy key not valid",
		110: "server error", 111: "server error, retry later", 114: "mail server unavailable",
		177: "too many devices for this user",
	}
	s := fmt.Sprintf("%s status %d", cmd, status)
	if t, ok := known[status]; ok {
		s += ": " + t
	}
	return s
}
