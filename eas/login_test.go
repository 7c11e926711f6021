package eas_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// Dovecot (like most mail servers) logs "ALICE", "Alice" and
// "alice@example.test" into one mailbox: to easd they are one user, so a
// blocked device stays blocked and --max-devices holds however the phone
// spells the name (issue: one user per mailbox).
func TestOneUserPerMailbox(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.MaxDevices = 2 })
	ctx := context.Background()
	spell := func(user, dev string) *client.Client {
		c := env.Client("alice", dev)
		c.User = user
		return c
	}
	for _, u := range []string{"alice", "ALICE", "Alice@Example.TEST", `CORP\Alice`} {
		if r, err := spell(u, "dev1").FolderSync(ctx, "0"); err != nil || r.Status != 1 {
			t.Fatalf("%s: %+v %v", u, r, err)
		}
	}
	var users int
	if err := env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil || users != 1 {
		t.Fatalf("%d user rows for one mailbox (%v)", users, err)
	}

	store := device.NewStore(env.App.Pool, 0)
	if err := store.SetAccess(ctx, "alice", "dev1", device.Blocked); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"ALICE", "Alice", "alice@example.test"} {
		r, err := spell(u, "dev1").FolderSync(ctx, "0")
		if err != nil || r.Status != 129 {
			t.Fatalf("blocked device signing in as %s: %+v %v", u, r, err)
		}
	}

	if r, err := spell("ALICE", "dev2").FolderSync(ctx, "0"); err != nil || r.Status != 1 {
		t.Fatalf("second device: %+v %v", r, err)
	}
	for _, u := range []string{"Alice", "alice@EXAMPLE.test"} {
		if r, err := spell(u, "dev3").FolderSync(ctx, "0"); err != nil || r.Status != 177 {
			t.Fatalf("third device as %s: %+v %v", u, r, err)
		}
	}
}

// A phone given the email address as the user name signs in (the mail
// server knows the bare name), and a refusal's log line names the forms
// that were tried, so an operator sees whether the password or the name
// was wrong.
func TestLoginAsAddress(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	c := env.Client("alice", "dev1")
	c.User = "alice@example.test"
	if r, err := c.FolderSync(ctx, "0"); err != nil || r.Status != 1 {
		t.Fatalf("address as user name: %+v %v", r, err)
	}
	if _, err := store(env).Get(ctx, "alice", "dev1"); err != nil {
		t.Fatalf("device not under the canonical login: %v", err)
	}
	c.Password = "wrong"
	_, err := c.FolderSync(ctx, "0")
	var he *client.HTTPError
	if !errors.As(err, &he) || he.Code != 401 {
		t.Fatalf("wrong password: %v", err)
	}
	if !strings.Contains(env.Logs(), `login form auto, tried \"alice\", \"alice@example.test\"`) {
		t.Fatalf("the 401 does not say which logins were tried:\n%s", env.Logs())
	}
}

func store(env *easdtest.Env) *device.Store { return device.NewStore(env.App.Pool, 0) }
