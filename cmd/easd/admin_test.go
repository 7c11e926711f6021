package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/audit"
	"github.com/easd/easd/internal/testenv"
)

func TestAdminTokenCommand(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	cmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runAdmin(append(args, "--database-url", db.DSN), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := cmd("token", "create", "ops", "--expires", "24h")
	secret := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(secret, "easd_") || !strings.Contains(errs, "only this once") {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	tokens := admin.NewTokens(db.Pool)
	if name, err := tokens.Authenticate(ctx, secret); err != nil || name != "ops" {
		t.Fatalf("the printed token: %q, %v", name, err)
	}
	if code, _, errs := cmd("token", "create", "ops"); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("duplicate: %d %q", code, errs)
	}
	if code, _, _ := cmd("token", "create", "bad name"); code != exitUsage {
		t.Errorf("bad name: %d", code)
	}
	if code, out, _ := cmd("token", "list"); code != 0 || !strings.Contains(out, "ops") || strings.Contains(out, secret) {
		t.Errorf("list: %d %q", code, out)
	}
	if code, _, _ := cmd("token", "revoke", "ops"); code != 0 {
		t.Errorf("revoke: %d", code)
	}
	if _, err := tokens.Authenticate(ctx, secret); err == nil {
		t.Error("revoked token still works")
	}
	if code, _, errs := cmd("token", "revoke", "ops"); code != 1 || !strings.Contains(errs, "no such token") {
		t.Errorf("revoke again: %d %q", code, errs)
	}
	for _, args := range [][]string{{"token"}, {"token", "create"}, {"token", "frobnicate"}, {"keys"}} {
		if code, _, _ := cmd(args...); code != exitUsage {
			t.Errorf("%v: %d, want %d", args, code, exitUsage)
		}
	}
	es, err := audit.NewStore(db.Pool).List(ctx, audit.Filter{Target: "token:ops"})
	if err != nil || len(es) != 2 || es[0].Action != "token.revoke" || es[1].Action != "token.create" ||
		!strings.HasPrefix(es[0].Actor, "cli:") {
		t.Errorf("audit: %+v, %v", es, err)
	}
}

// With /readyz moved to the admin listener, easd ready asks there.
func TestReadyURLOnAdmin(t *testing.T) {
	env := map[string]string{"EASD_LISTEN": ":8080", "EASD_ADMIN_LISTEN": "127.0.0.1:9090", "EASD_METRICS_ON_ADMIN": "true"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if got, _ := readyURL(lookup); got != "http://127.0.0.1:9090/readyz" {
		t.Errorf("metrics on admin: %s", got)
	}
	env["EASD_METRICS_ON_ADMIN"] = "false"
	if got, _ := readyURL(lookup); got != "http://127.0.0.1:8080/readyz" {
		t.Errorf("metrics on the phones' port: %s", got)
	}
}
