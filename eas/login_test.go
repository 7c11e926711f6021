package eas_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
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

// basic is an Authorization header value.
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

const syncPath = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=dev1&DeviceType=TestPhone"

// X-Forwarded-For is believed only from configured proxies: a client that
// names a new address in every request is still one address to the
// throttle, and its guesses stop reaching the mail server after the
// allowance (5 for one user from one address) but for one after each
// doubling delay (1 s, 2 s, 4 s: the test lasts some seconds).
func TestForwardedForFromUntrustedPeer(t *testing.T) {
	// One login form: each guess is one IMAP LOGIN (Dovecot answers a
	// failure after up to half a second).
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.LoginForm = config.LoginAsGiven })
	reached := 0
	for i := 0; i < 60; i++ {
		code, _, _ := env.Raw(t, "POST", syncPath, "", map[string]string{
			"Authorization": basic("alice", fmt.Sprint("guess", i)), "MS-ASProtocolVersion": "14.1",
			"X-Forwarded-For": fmt.Sprintf("198.51.%d.%d", i/250, i%250+1),
		}, "")
		switch code {
		case 401:
			reached++ // the mail server was asked
		case 503:
		default:
			t.Fatalf("guess %d: HTTP %d", i, code)
		}
	}
	if reached > 8 {
		t.Fatalf("%d of 60 guesses with made-up X-Forwarded-For reached the mail server", reached)
	}
	// Nor can it try many users as many addresses: past the address's
	// allowance (20) its tries stop reaching the mail server.
	reached = 0
	for i := 0; i < 40; i++ {
		code, _, _ := env.Raw(t, "POST", syncPath, "", map[string]string{
			"Authorization": basic(fmt.Sprint("user", i), "guess"), "MS-ASProtocolVersion": "14.1",
			"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1),
		}, "")
		if code == 401 {
			reached++
		}
	}
	if reached > 23 {
		t.Fatalf("%d of 40 users tried with made-up X-Forwarded-For reached the mail server", reached)
	}
	if strings.Contains(env.Logs(), `"remote":"198.51.`) {
		t.Fatal("an untrusted X-Forwarded-For was logged as the client address")
	}

	// Behind a configured proxy the header names the client.
	proxied := easdtest.Start(t, noPolicy, func(c *config.Config) { c.TrustedProxies = "127.0.0.0/8" })
	code, _, _ := proxied.Raw(t, "POST", syncPath, "", map[string]string{
		"Authorization": basic("alice", "wrong"), "MS-ASProtocolVersion": "14.1", "X-Forwarded-For": "198.51.100.9",
	}, "")
	if code != 401 || !strings.Contains(proxied.Logs(), `"remote":"198.51.100.9"`) {
		t.Fatalf("through a trusted proxy: HTTP %d, log:\n%s", code, proxied.Logs())
	}
}
