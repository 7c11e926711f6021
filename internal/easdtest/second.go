package easdtest

import "testing"

// StartSecond runs another easd on env's database, mail server and SMTP
// sink, as a second instance behind a load balancer would. It stops with
// the test, or earlier with Stop.
func StartSecond(t testing.TB, env *Env) *Env {
	t.Helper()
	cfg := env.Config
	cfg.Listen = "127.0.0.1:0"
	return run(t, cfg, env.DB, env.IMAP, env.SMTP, "second easd")
}
