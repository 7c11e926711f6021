package easdtest

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/easd/easd/internal/app"
)

// StartSecond runs another easd on env's database, mail server and SMTP
// sink, as a second instance behind a load balancer would. It stops with
// the test, or earlier with Stop.
func StartSecond(t testing.TB, env *Env) *Env {
	t.Helper()
	cfg := env.Config
	cfg.Listen = "127.0.0.1:0"
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, "test")
	if err != nil {
		cancel()
		t.Fatalf("easdtest: second instance: %v", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		cancel()
		t.Fatalf("easdtest: second instance: %v", err)
	}
	e := &Env{URL: "http://" + ln.Addr().String(), Config: cfg, DB: env.DB, IMAP: env.IMAP, SMTP: env.SMTP,
		App: a, logs: logs, stopped: make(chan error, 1), cancel: cancel}
	go func() { e.stopped <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		e.Stop(t)
		if t.Failed() {
			t.Logf("second easd log:\n%s", logs.String())
		}
	})
	return e
}
