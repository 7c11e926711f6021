package deploy_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
)

// serveFlags returns easd serve's settings by environment variable: what
// `easd serve -h` lists.
func serveFlags() map[string]*flag.Flag {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Register(fs)
	flags := map[string]*flag.Flag{}
	fs.VisitAll(func(f *flag.Flag) { flags[config.EnvName(f.Name)] = f })
	return flags
}

var envLine = regexp.MustCompile(`^(#?)([A-Z][A-Z0-9_]*)=(.*)$`)

// The example environment file names only easd's own settings, each once,
// sets the required ones to values easd accepts, shows the true default
// where it shows one, and lists every setting, so that it is the one
// place an operator reads.
func TestSystemdEnvExample(t *testing.T) {
	flags := serveFlags()
	set := map[string]string{}
	seen := map[string]bool{}
	for i, line := range strings.Split(readFile(t, "systemd/easd.env.example"), "\n") {
		m := envLine.FindStringSubmatch(line)
		if m == nil {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				t.Errorf("line %d: %q is not VARIABLE=value (systemd's EnvironmentFile has no export, no spaces around =)", i+1, line)
			}
			continue
		}
		commented, name, value := m[1] == "#", m[2], m[3]
		f, ok := flags[name]
		if !ok {
			t.Errorf("line %d: %s is not a setting of easd serve", i+1, name)
			continue
		}
		if seen[name] {
			t.Errorf("line %d: %s a second time", i+1, name)
		}
		seen[name] = true
		if !commented {
			set[name] = value
		} else if f.DefValue != "" && value != f.DefValue {
			t.Errorf("line %d: %s shown as %q, but its default is %q", i+1, name, value, f.DefValue)
		}
	}
	for name := range flags {
		if !seen[name] {
			t.Errorf("easd.env.example does not list %s", name)
		}
	}
	for _, req := range []string{"EASD_DATABASE_URL", "EASD_IMAP_ADDR", "EASD_SMTP_ADDR", "EASD_MAIL_DOMAIN"} {
		if set[req] == "" {
			t.Errorf("easd.env.example does not set %s", req)
		}
	}
	cfg := config.Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Register(fs)
	if err := cfg.Parse(fs, nil, func(k string) (string, bool) { v, ok := set[k]; return v, ok }); err != nil {
		t.Errorf("easd refuses the example's settings: %v", err)
	}
}

// systemdUnit returns the unit's directives, each with its values in order.
func systemdUnit(t *testing.T) map[string][]string {
	t.Helper()
	d := map[string][]string{}
	section := ""
	for _, line := range strings.Split(readFile(t, "systemd/easd.service"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("easd.service: %q is no directive", line)
				continue
			}
			d[section+"."+k] = append(d[section+"."+k], v)
		}
	}
	return d
}

// The unit runs easd serve hardened, with its settings from the
// environment file, a file limit for many waiting phones, and time to
// shut down gracefully; systemd-analyze, where there, accepts every
// directive.
func TestSystemdUnit(t *testing.T) {
	d := systemdUnit(t)
	one := func(k string) string {
		if v := d[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	for k, want := range map[string]string{
		"Service.EnvironmentFile": "/etc/easd/easd.env",
		"Service.ExecStart":       "/usr/local/bin/easd serve",
		"Service.Restart":         "on-failure",
		"Service.NoNewPrivileges": "yes",
		"Service.ProtectSystem":   "strict",
		"Service.DynamicUser":     "yes",
		"Service.StateDirectory":  "easd",
		"Service.KillSignal":      "SIGTERM",
		"Install.WantedBy":        "multi-user.target",
	} {
		if got := one(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if n, err := strconv.Atoi(one("Service.LimitNOFILE")); err != nil || n < 65536 {
		t.Errorf("LimitNOFILE=%q: want at least 65536 for many waiting phones", one("Service.LimitNOFILE"))
	}
	// A bad setting exits 2 (config.Error); restarting would only loop.
	if one("Service.RestartPreventExitStatus") != "2" {
		t.Error("the unit restarts easd after a settings error (exit 2)")
	}
	stop, err := time.ParseDuration(one("Service.TimeoutStopSec"))
	if shutdown := config.Defaults().ShutdownTimeout; err != nil || stop <= shutdown {
		t.Errorf("TimeoutStopSec=%q: want longer than --shutdown-timeout's %v", one("Service.TimeoutStopSec"), shutdown)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit was checked by parsing only")
		return
	}
	// The binary need not be installed for the check: any program does.
	unit := strings.ReplaceAll(readFile(t, "systemd/easd.service"), "ExecStart=/usr/local/bin/easd", "ExecStart=/bin/true")
	path := filepath.Join(t.TempDir(), "easd.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	cmd.Dir = filepath.Dir(path)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
