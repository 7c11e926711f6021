package config

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	c := Defaults()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Register(fs)
	err := c.Parse(fs, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return c, err
}

var required = map[string]string{
	"EASD_DATABASE_URL": "postgres://easd@db/easd",
	"EASD_IMAP_ADDR":    "imap.example.com:143",
	"EASD_SMTP_ADDR":    "smtp.example.com:587",
}

func with(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range required {
		m[k] = v
	}
	for k, v := range extra {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func TestEnvironmentAndFlags(t *testing.T) {
	c, err := parse(t, []string{"--imap-tls=implicit", "--heartbeat-max=30m"},
		with(map[string]string{"EASD_IMAP_TLS": "none", "EASD_LISTEN": "127.0.0.1:9000", "EASD_SKIP_MIGRATIONS": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAPTLS != TLSImplicit {
		t.Errorf("flag must win over environment: imap-tls = %q", c.IMAPTLS)
	}
	if c.Listen != "127.0.0.1:9000" || !c.SkipMigrations || c.HeartbeatMax != 30*time.Minute {
		t.Errorf("got %+v", c)
	}
	if c.SMTPTLS != TLSStartTLS || c.MaxWindowSize != 512 {
		t.Errorf("defaults lost: %+v", c)
	}
}

// Every bad setting is reported as one line naming the flag and variable.
func TestBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		flag string
	}{
		{"missing database", nil, with(map[string]string{"EASD_DATABASE_URL": ""}), "database-url"},
		{"database not postgres", nil, with(map[string]string{"EASD_DATABASE_URL": "mysql://x"}), "database-url"},
		{"missing imap", nil, with(map[string]string{"EASD_IMAP_ADDR": ""}), "imap-addr"},
		{"imap without port", []string{"--imap-addr=imap.example.com"}, required, "imap-addr"},
		{"missing smtp", nil, with(map[string]string{"EASD_SMTP_ADDR": ""}), "smtp-addr"},
		{"bad tls mode in env", nil, with(map[string]string{"EASD_SMTP_TLS": "maybe"}), "smtp-tls"},
		{"bad number in env", nil, with(map[string]string{"EASD_MAX_WINDOW_SIZE": "lots"}), "max-window-size"},
		{"window over spec", []string{"--max-window-size=1000"}, required, "max-window-size"},
		{"heartbeat order", []string{"--heartbeat-min=10m", "--heartbeat-max=5m"}, required, "heartbeat-max"},
		{"cert without key", []string{"--tls-cert=x.pem"}, required, "tls-cert"},
		{"address form without domain", []string{"--login-form=address"}, required, "mail-domain"},
		{"bad public url", []string{"--public-url=mail.example.com"}, required, "public-url"},
		{"bad log format", []string{"--log-format=xml"}, required, "log-format"},
		{"bad proxy network", []string{"--trusted-proxies=10.0.0.0/8,proxy.example.com"}, required, "trusted-proxies"},
		{"bad login case", []string{"--login-case=upper"}, required, "login-case"},
		{"imap without smtp", []string{"--public-imap=mail.example.com:993"}, required, "public-imap"},
		{"smtp without imap", []string{"--public-smtp=mail.example.com:587"}, required, "public-imap"},
		{"public imap on an odd port", []string{"--public-imap=mail.example.com:1143", "--public-smtp=mail.example.com:587"}, required, "public-imap"},
		{"public smtp bad security", []string{"--public-imap=mail.example.com:993", "--public-smtp=mail.example.com:587;ssl3"}, required, "public-smtp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.args, tc.env)
			if err == nil {
				t.Fatal("accepted")
			}
			var ce *Error
			if errors.As(err, &ce) {
				if ce.Flag != tc.flag {
					t.Fatalf("names %q, want %q: %v", ce.Flag, tc.flag, err)
				}
			} else if !strings.Contains(err.Error(), tc.flag) {
				// flag package's own parse errors name the flag too
				t.Fatalf("error does not name %q: %v", tc.flag, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("not one line: %q", msg)
			}
			if errors.As(err, &ce) && !strings.Contains(msg, EnvName(tc.flag)) {
				t.Fatalf("does not name the variable: %q", msg)
			}
		})
	}
}

func TestEveryFlagHasEnvAndUsage(t *testing.T) {
	c := Defaults()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.Register(fs)
	var b strings.Builder
	Usage(&b, fs)
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(b.String(), EnvName(f.Name)) {
			t.Errorf("usage lacks %s", EnvName(f.Name))
		}
		if f.Usage == "" {
			t.Errorf("--%s has no help text", f.Name)
		}
	})
}

func TestParseEndpoint(t *testing.T) {
	for in, want := range map[string]Endpoint{
		"mail.example.com:993":           {"mail.example.com", 993, TLSImplicit},
		"mail.example.com:143":           {"mail.example.com", 143, TLSStartTLS},
		"smtp.example.com:465":           {"smtp.example.com", 465, TLSImplicit},
		"smtp.example.com:587":           {"smtp.example.com", 587, TLSStartTLS},
		"mail.example.com:1143;tls":      {"mail.example.com", 1143, TLSImplicit},
		"mail.example.com:2525;STARTTLS": {"mail.example.com", 2525, TLSStartTLS},
		"mail.example.com:993;starttls":  {"mail.example.com", 993, TLSStartTLS},
		"10.0.0.5:25;none":               {"10.0.0.5", 25, TLSNone},
		"[2001:db8::1]:993":              {"2001:db8::1", 993, TLSImplicit},
	} {
		got, err := ParseEndpoint(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "mail.example.com", ":993", "mail.example.com:0", "mail.example.com:70000",
		"mail.example.com:25", "mail.example.com:993;", "mail.example.com:993;ssl"} {
		if e, err := ParseEndpoint(in); err == nil {
			t.Errorf("%q accepted: %+v", in, e)
		}
	}
}

func TestApplySettingsEnvOnlySettings(t *testing.T) {
	fs := flag.NewFlagSet("device", flag.ContinueOnError)
	dsn := fs.String("database-url", "", "")
	cancel := fs.Bool("cancel", false, "")
	env := map[string]string{"EASD_DATABASE_URL": "postgres://x/y", "EASD_CANCEL": "true"}
	if err := ApplySettingsEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if *dsn != "postgres://x/y" || *cancel {
		t.Fatalf("database-url %q, cancel %v: an action's flag was read from the environment", *dsn, *cancel)
	}
}
