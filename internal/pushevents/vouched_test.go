package pushevents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// Vouched first checks: with events, a Ping whose device's state the
// previous Ping verified, with no notice on the user's folder topic since,
// opens no IMAP session (eas/ping_verified.go).

// mailSessions counts the IMAP sessions easd opened for mail commands: a
// Ping's first check is one (a LOGIN on Dovecot, its idle connections
// being closed while the phone waits).
func mailSessions(t *testing.T, env *easdtest.Env) float64 {
	t.Helper()
	return metric(t, env, `easd_backend_requests_total{backend="imap",op="session",result="ok"}`)
}

// pingExpires runs a Ping of heartbeat that must end at its heartbeat
// (Status 1) and returns how many mail sessions it opened.
func (p *phone) pingExpires(t *testing.T, env *easdtest.Env, heartbeat time.Duration, folder string) float64 {
	t.Helper()
	before := mailSessions(t, env)
	res := <-p.pingAsync(heartbeat, folder)
	if res.err != nil || res.r.Status != 1 {
		t.Fatalf("Ping: %+v %v, want Status 1 at the heartbeat", res.r, res.err)
	}
	return mailSessions(t, env) - before
}

// TestVouchedPingSkipsIMAP: after a Ping that ended at its heartbeat with
// nothing changed, the next Ping opens no IMAP session and is still woken
// by new mail.
func TestVouchedPingSkipsIMAP(t *testing.T) {
	env := startEvents(t)
	p := newPhone(t, env, "phone-vouched")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)

	if n := p.pingExpires(t, env, time.Second, inbox); n != 1 {
		t.Fatalf("the first Ping after a Sync opened %v mail sessions, want 1 (its check)", n)
	}
	if n := p.pingExpires(t, env, time.Second, inbox); n != 0 {
		t.Fatalf("a Ping with nothing changed since the last check opened %v mail sessions, want 0", n)
	}
	before := mailSessions(t, env)
	ping := p.pingAsync(time.Minute, inbox)
	waitingFor(t, env, ping)
	env.Append(t, "alice", "INBOX", testMail(1))
	wantWoken(t, ping, wakeWithin, inbox)
	if n := mailSessions(t, env) - before; n != 0 {
		t.Errorf("a vouched Ping woken by an event opened %v mail sessions, want 0", n)
	}
}

// TestVouchedPingNewMailBetweenPings: mail delivered while no Ping waits
// is announced; the next Ping checks and answers 2 at once.
func TestVouchedPingNewMailBetweenPings(t *testing.T) {
	env := startEvents(t)
	p := newPhone(t, env, "phone-between")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)
	p.pingExpires(t, env, time.Second, inbox)

	woken := metric(t, env, `easd_push_events_total{outcome="woken"}`)
	env.Append(t, "alice", "INBOX", testMail(1))
	deadline := time.Now().Add(wakeWithin)
	for metric(t, env, `easd_push_events_total{outcome="woken"}`) == woken {
		if time.Now().After(deadline) {
			t.Fatal("Dovecot's event never came")
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := mailSessions(t, env)
	took := wantWoken(t, p.pingAsync(time.Minute, inbox), wakeWithin, inbox)
	if n := mailSessions(t, env) - before; n != 1 {
		t.Errorf("the Ping after an event opened %v mail sessions, want 1 (its check)", n)
	}
	t.Logf("the Ping after the event answered in %v", took.Round(time.Millisecond))
}

// TestVouchedPingLostEventSweep: mail whose event was lost (Dovecot posts
// with a wrong secret) while no Ping waited is not seen by the next Ping,
// which skips its check; the sweep answers it within its interval.
func TestVouchedPingLostEventSweep(t *testing.T) {
	const interval = 2 * time.Second
	env := easdtest.Start(t, eventsConfig, func(c *config.Config) { c.PushSweepInterval = interval })
	pointDovecot(t, env, env.URL, "a-wrong-secret-of-32-characters.")
	p := newPhone(t, env, "phone-lost")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)
	p.pingExpires(t, env, time.Second, inbox)

	env.Append(t, "alice", "INBOX", testMail(1))
	before, sweeps := mailSessions(t, env), metric(t, env, "easd_push_sweeps_total")
	took := wantWoken(t, p.pingAsync(time.Minute, inbox), 2*interval+time.Second, inbox)
	if n := mailSessions(t, env) - before; n != 0 {
		t.Errorf("the vouched Ping opened %v mail sessions, want 0: the sweep should have answered", n)
	}
	if metric(t, env, "easd_push_sweeps_total") == sweeps {
		t.Error("answered, but no sweep counted")
	}
	t.Logf("the sweep found the lost event %v after the Ping started (interval %v)", took.Round(time.Millisecond), interval)
}

// TestVouchedPingAfterHubReconnect: after the LISTEN connection was cut,
// notices may have been lost: the next Ping checks over IMAP again, and
// the one after it, verified since the reconnect, does not.
func TestVouchedPingAfterHubReconnect(t *testing.T) {
	env := startEvents(t)
	p := newPhone(t, env, "phone-reconnect")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)
	p.pingExpires(t, env, time.Second, inbox)

	if _, err := env.DB.Pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(env.Logs(), "LISTEN connection restored") {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not reconnect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := p.pingExpires(t, env, time.Second, inbox); n != 1 {
		t.Errorf("the Ping after a reconnect opened %v mail sessions, want 1 (its check)", n)
	}
	if n := p.pingExpires(t, env, time.Second, inbox); n != 0 {
		t.Errorf("the Ping after a verified one opened %v mail sessions, want 0", n)
	}
}

// TestNoVouchWithIdleWatchers: without events (an IMAP IDLE watcher per
// user) every Ping checks.
func TestNoVouchWithIdleWatchers(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) {
		c.EnforcePolicy = false
		c.HeartbeatMin = time.Second
	})
	p := newPhone(t, env, "phone-idle")
	inbox := p.ids["Inbox"]
	p.catchUp(t, inbox)
	for i := range 3 {
		if n := p.pingExpires(t, env, time.Second, inbox); n != 1 {
			t.Errorf("Ping %d opened %v mail sessions, want 1 (its check)", i+1, n)
		}
	}
}
