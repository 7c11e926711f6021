package app_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// value returns the sample of metric name whose labels include want, and
// whether there is one.
func value(t *testing.T, env *easdtest.Env, name string, want map[string]string) (float64, bool) {
	t.Helper()
	families, err := env.App.HTTP.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// The mail servers' calls are counted by outcome and timed, wrong
// passwords apart from failures; the throttle's refusals, the pool and
// the dependencies are reported.
func TestOpsMetrics(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) {
		c.EnforcePolicy = false
		c.LoginForm = config.LoginAsGiven // one IMAP login per attempt
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	imapLogin := func(result string) float64 {
		v, ok := value(t, env, "easd_backend_requests_total", map[string]string{"backend": "imap", "op": "login", "result": result})
		if !ok {
			t.Fatalf("no series for imap login %s", result)
		}
		return v
	}
	for _, r := range []string{"ok", "refused", "error", "canceled"} {
		if v := imapLogin(r); v != 0 {
			t.Errorf("imap login %s starts at %v", r, v)
		}
	}

	phone := env.Client("alice", "opsphone")
	fs, err := phone.FolderSync(ctx, "0")
	if err != nil || fs.Status != 1 || fs.Changes == nil {
		t.Fatalf("FolderSync: %v %+v", err, fs)
	}
	inbox := ""
	for _, f := range fs.Changes.Add {
		if f.Type == 2 { // the Inbox
			inbox = f.ServerID
		}
	}
	// Two Syncs: the first gives the key, the second opens an IMAP
	// session for the mail.
	first, err := phone.SyncFolder(ctx, inbox, "0", 10)
	if err != nil || first.Collections == nil || len(first.Collections.Collection) == 0 {
		t.Fatalf("Sync: %v %+v", err, first)
	}
	if _, err := phone.SyncFolder(ctx, inbox, first.Collections.Collection[0].SyncKey, 10); err != nil {
		t.Fatal(err)
	}
	if imapLogin("ok") != 1 {
		t.Errorf("imap login ok = %v after one sign-in", imapLogin("ok"))
	}
	if n, _ := value(t, env, "easd_backend_request_duration_seconds", map[string]string{"backend": "imap", "op": "login"}); n != 1 {
		t.Errorf("imap login timed %v times, want 1", n)
	}
	if status, err := phone.SendMail(ctx, "ops-1", []byte("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nhello\r\n"), false); err != nil || status != 1 {
		t.Fatalf("SendMail: %v status %d", err, status)
	}
	if v, _ := value(t, env, "easd_backend_requests_total", map[string]string{"backend": "smtp", "op": "submit", "result": "ok"}); v != 1 {
		t.Errorf("smtp submit ok = %v after one message", v)
	}
	if v, _ := value(t, env, "easd_backend_requests_total", map[string]string{"backend": "imap", "op": "session", "result": "ok"}); v < 1 {
		t.Errorf("imap session ok = %v after a mail Sync", v)
	}

	// Wrong passwords are the user's, not the server's failures; past
	// the throttle's free attempts the mail server is not asked.
	const eas = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=bob&DeviceId=opsphone2&DeviceType=T"
	hdr := map[string]string{"Authorization": basicAuth("bob", "wrong"), "MS-ASProtocolVersion": "14.1"}
	throttledAt := 0
	for i := 1; i <= 10 && throttledAt == 0; i++ {
		if code, _, _ := env.Raw(t, "POST", eas, "", hdr, ""); code == 503 {
			throttledAt = i
		}
	}
	if throttledAt == 0 {
		t.Fatal("10 wrong passwords and no throttle")
	}
	if v := imapLogin("refused"); v != float64(throttledAt-1) {
		t.Errorf("imap login refused = %v, want %d (every wrong password before the throttle)", v, throttledAt-1)
	}
	if v := imapLogin("error"); v != 0 {
		t.Errorf("imap login error = %v: wrong passwords counted as failures", v)
	}
	if v, _ := value(t, env, "easd_login_throttled_total", nil); v != 1 {
		t.Errorf("easd_login_throttled_total = %v, want 1", v)
	}

	for _, dep := range []string{"postgres", "imap"} {
		if v, ok := value(t, env, "easd_dependency_up", map[string]string{"dependency": dep}); !ok || v != 1 {
			t.Errorf("easd_dependency_up{dependency=%q} = %v, %v; want 1", dep, v, ok)
		}
	}
	if v, _ := value(t, env, "easd_db_pool_max_conns", nil); v != float64(env.Config.DBMaxConns) {
		t.Errorf("easd_db_pool_max_conns = %v, want %d", v, env.Config.DBMaxConns)
	}
	if v, _ := value(t, env, "easd_db_pool_acquires_total", nil); v < 1 {
		t.Errorf("easd_db_pool_acquires_total = %v after requests", v)
	}
}

// An IMAP server that cannot be reached shows as a dependency down and
// as IMAP errors, not as wrong passwords.
func TestOpsMetricsIMAPDown(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) { c.IMAPAddr = "127.0.0.1:1" })
	if v, ok := value(t, env, "easd_dependency_up", map[string]string{"dependency": "imap"}); !ok || v != 0 {
		t.Errorf("easd_dependency_up{imap} = %v, %v with no IMAP server; want 0", v, ok)
	}
	if v, _ := value(t, env, "easd_dependency_up", map[string]string{"dependency": "postgres"}); v != 1 {
		t.Errorf("easd_dependency_up{postgres} = %v; want 1", v)
	}
	code, _, _ := env.Raw(t, "POST", "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=d&DeviceType=T", "alice",
		map[string]string{"MS-ASProtocolVersion": "14.1"}, "")
	if code != 503 {
		t.Errorf("sign-in with the IMAP server down: HTTP %d, want 503", code)
	}
	errs, _ := value(t, env, "easd_backend_requests_total", map[string]string{"backend": "imap", "op": "login", "result": "error"})
	refused, _ := value(t, env, "easd_backend_requests_total", map[string]string{"backend": "imap", "op": "login", "result": "refused"})
	if errs < 1 || refused != 0 {
		t.Errorf("imap login error = %v, refused = %v; want the failure counted as an error", errs, refused)
	}
	if t.Failed() {
		t.Log(strings.TrimSpace(env.Logs()))
	}
}
