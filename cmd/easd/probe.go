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
	quick     bool
	json      bool
}

func probeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, `usage: easd probe URL --user USER [flags]

Checks a deployment as a phone would, step by step with timings: the
connection and its TLS certificate, Autodiscover on the server and from
the e-mail address's domain (the ways a phone looks for its server),
OPTIONS, Provision, FolderSync, a Sync of the Inbox, and a Ping held for
120 s to catch proxies that cut long requests (--quick: 10 s). The
password is taken from EASD_PROBE_PASSWORD, else asked for. Exit code 0
when every step passed (warnings allowed), 1 when one failed, 2 on bad
usage. --json prints one JSON document for monitoring instead.

The probe registers as its own device (--device-id, default easdprobe);
remove it afterwards with: easd device remove USER easdprobe`)
	fmt.Fprintln(w)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func runProbe(args []string, stdout, stderr io.Writer) int {
	return runProbeNet(args, stdout, stderr, probeNet{})
}

// runProbeNet is runProbe on the network n (tests: loopback servers).
func runProbeNet(args []string, stdout, stderr io.Writer, n probeNet) int {
	o := probeOptions{}
	fs := flag.NewFlagSet("easd probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.user, "user", "", "user name to sign in with (required)")
	fs.StringVar(&o.email, "email", "", "e-mail address for Autodiscover (default: --user if it is an address, else user@host)")
	fs.StringVar(&o.deviceID, "device-id", "easdprobe", "DeviceId to register as")
	fs.BoolVar(&o.insecure, "insecure", false, "go on past a certificate a phone would refuse (still reported as a warning)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit of each step (the Ping: on top of its heartbeat)")
	fs.DurationVar(&o.heartbeat, "ping-heartbeat", probeHeartbeat,
		"how long the Ping is held; a value outside the server's bounds is replaced by the bound")
	fs.BoolVar(&o.quick, "quick", false, "a short Ping (10 s unless --ping-heartbeat), without retrying at the server's minimum")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON document (schema in the README)")
	pos, err := parseInterleaved(fs, args)
	heartbeatSet := false
	fs.Visit(func(f *flag.Flag) { heartbeatSet = heartbeatSet || f.Name == "ping-heartbeat" })
	if o.quick && !heartbeatSet {
		o.heartbeat = probeQuickHeartbeat
	}
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
	return probe(context.Background(), o, n, stdout)
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

// String is the outcome as the JSON schema spells it.
func (l probeLevel) String() string {
	return [...]string{"ok", "warn", "fail", "skip"}[l]
}

// prober runs the steps in order and prints each as it finishes (in
// text form: a held Ping takes minutes, and the steps before it should
// not wait for it to be seen).
type prober struct {
	o      probeOptions
	net    probeNet
	c      *client.Client
	out    io.Writer
	report probeReport
	certs  certBook
	total  time.Duration
	stop   string // set after a failure that makes further steps pointless
}

// step runs fn with the step's time limit (none when 0) and reports its
// outcome.
func (p *prober) step(ctx context.Context, id, name string, timeout time.Duration, fn func(context.Context, *probeStep) (probeLevel, string, error)) probeLevel {
	s := probeStep{ID: id, Name: name}
	level := p.run(ctx, &s, timeout, fn)
	s.Result = level.String()
	switch level {
	case probeWarn:
		p.report.Warnings++
	case probeFail:
		p.report.Failed = append(p.report.Failed, id)
	}
	p.report.Steps = append(p.report.Steps, s)
	if !p.o.json {
		printStep(p.out, &s)
	}
	return level
}

func (p *prober) run(ctx context.Context, s *probeStep, timeout time.Duration, fn func(context.Context, *probeStep) (probeLevel, string, error)) probeLevel {
	if p.stop != "" {
		s.Detail = p.stop
		return probeSkip
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	start := time.Now()
	level, detail, err := fn(ctx, s)
	took := time.Since(start)
	p.total += took
	s.MS = took.Milliseconds()
	if err != nil {
		level, detail = probeError(err)
		var he *client.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusUnauthorized {
			// Every further login would fail too and count towards the
			// server's lockout of this user.
			p.stop = "not tried: credentials refused"
		}
	}
	s.Detail = detail
	return level
}

// probeError turns a failed request into a verdict an administrator can
// act on. Commands the server lacks (HTTP 501) are warnings: easd grows
// its command set over releases and answers 501 for the missing ones.
func probeError(err error) (probeLevel, string) {
	var he *client.HTTPError
	var ae *client.AutodiscoverError
	var ce *certError
	var rh tls.RecordHeaderError
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
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			return probeFail, fmt.Sprintf("HTTP %d to %s: phones do not follow redirects of EAS requests; probe (and publish) the final URL", he.Code, orDash(he.Header.Get("Location")))
		default:
			return probeFail, fmt.Sprintf("HTTP %d", he.Code)
		}
	case errors.As(err, &ae):
		return probeFail, ae.Error()
	case errors.As(err, &ce):
		return probeFail, ce.Error()
	case errors.As(err, &rh):
		return probeFail, "the server answered in plain HTTP, not TLS"
	case errors.Is(err, context.DeadlineExceeded):
		return probeFail, "no answer within the time limit"
	case isNetError(err):
		return probeFail, "network: " + netText(err)
	default:
		return probeFail, err.Error()
	}
}

// probe runs every step against o and returns the exit code.
func probe(ctx context.Context, o probeOptions, n probeNet, out io.Writer) int {
	p := &prober{o: o, net: n, out: out}
	p.c = &client.Client{
		BaseURL: o.baseURL, User: o.user, Password: o.password, DeviceID: o.deviceID,
		DeviceType: "easdprobe", UserAgent: "easd-probe/" + version, Version: "16.1", HTTP: p.httpClient(),
	}
	p.report = probeReport{Schema: probeSchema, Target: o.baseURL, EASURL: o.baseURL + client.Path,
		User: o.user, Email: o.email, DeviceID: o.deviceID, Started: n.clock().UTC(), Failed: []string{}, Steps: []probeStep{}}
	if !o.json {
		fmt.Fprintf(out, "easd probe of %s as %s (device %s, Ping held %s)\n", o.baseURL, o.user, o.deviceID, o.heartbeat)
	}

	p.step(ctx, "connect", "Connect", o.timeout, p.connect)
	p.step(ctx, "autodiscover", "Autodiscover", o.timeout, p.autodiscover)
	// Each attempt has the step time limit; the step as a whole none.
	p.step(ctx, "discover", "Discover", 0, p.discover)
	if p.step(ctx, "options", "OPTIONS", o.timeout, p.options) == probeFail && p.stop == "" {
		p.stop = "not tried: OPTIONS did not pass"
	}
	p.step(ctx, "provision", "Provision", o.timeout, p.provision)
	var inbox string
	if p.step(ctx, "foldersync", "FolderSync", o.timeout, func(ctx context.Context, _ *probeStep) (probeLevel, string, error) {
		return p.folderSync(ctx, &inbox)
	}) != probeOK && p.stop == "" {
		p.stop = "not tried: FolderSync did not pass"
	}
	p.step(ctx, "sync", "Sync Inbox", o.timeout, func(ctx context.Context, _ *probeStep) (probeLevel, string, error) {
		return p.syncInbox(ctx, inbox)
	})
	// The Ping sets its own limit per request: heartbeat plus --timeout.
	p.step(ctx, "ping", "Ping", 0, func(ctx context.Context, s *probeStep) (probeLevel, string, error) {
		return p.ping(ctx, s, inbox)
	})

	r := &p.report
	r.TotalMS = p.total.Milliseconds()
	names := make([]string, 0, len(r.Failed))
	for _, s := range r.Steps {
		if s.Result == "fail" {
			names = append(names, s.Name)
		}
	}
	switch {
	case len(r.Failed) > 0:
		r.Result = "fail"
	case r.Warnings > 0:
		r.Result = "warn"
	default:
		r.Result = "ok"
	}
	if o.json {
		writeJSON(out, r)
	} else {
		switch r.Result {
		case "fail":
			fmt.Fprintf(out, "FAILED: %s (%d ms in all)\n", strings.Join(names, ", "), r.TotalMS)
		case "warn":
			fmt.Fprintf(out, "OK with %d warning(s) (%d ms in all)\n", r.Warnings, r.TotalMS)
		default:
			fmt.Fprintf(out, "OK (%d ms in all)\n", r.TotalMS)
		}
	}
	if r.Result == "fail" {
		return 1
	}
	return 0
}

// probeVersions are the protocol versions the probe speaks, best first.
var probeVersions = []string{"16.1", "16.0", "14.1", "14.0"}

func (p *prober) options(ctx context.Context, _ *probeStep) (probeLevel, string, error) {
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

func (p *prober) provision(ctx context.Context, _ *probeStep) (probeLevel, string, error) {
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
