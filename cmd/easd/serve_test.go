package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// Bad or missing configuration: one line naming the setting, exit code 2,
// nothing started.
func TestServeBadConfig(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "EASD_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "--database-url (EASD_DATABASE_URL): required"},
		{[]string{"--database-url=postgres://x/y"}, nil, "--imap-addr (EASD_IMAP_ADDR): required"},
		{[]string{"--database-url=postgres://x/y", "--imap-addr=imap:143"}, map[string]string{"EASD_SMTP_ADDR": "smtp:587", "EASD_IMAP_TLS": "sometimes"}, "--imap-tls (EASD_IMAP_TLS)"},
		{[]string{"--database-url=postgres://x/y", "--imap-addr=imap:143", "--smtp-addr=smtp:587", "--listen=nonsense"}, nil, "--listen (EASD_LISTEN)"},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		var out, errb bytes.Buffer
		code := run(append([]string{"serve"}, tc.args...), &out, &errb)
		msg := errb.String()
		if code != exitUsage || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("args %v env %v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, tc.env, code, msg, tc.want)
		}
		for k := range tc.env {
			os.Unsetenv(k)
		}
	}
	// Unknown subcommand and no subcommand are usage errors too.
	var errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &errb, &errb); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if code := run(nil, &errb, &errb); code != exitUsage {
		t.Errorf("no command: exit %d", code)
	}
}
