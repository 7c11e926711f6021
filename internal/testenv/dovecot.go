package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/easd/easd/internal/dovecot"
)

// Dovecot starts a throwaway Dovecot for this test with the given users,
// each with its own name as password. It is killed, and its mail removed,
// when the test ends. Starting one takes about 0.1–0.2 s, so every test
// gets its own server: tests may restart or stop it freely.
func Dovecot(t testing.TB, users ...string) *dovecot.Server {
	t.Helper()
	m := make(map[string]string, len(users))
	for _, u := range users {
		m[u] = u
	}
	return DovecotWith(t, dovecot.Config{Users: m})
}

// DovecotWith is Dovecot with a full configuration (passwords, master
// user). Dir and Addr are filled in when empty.
func DovecotWith(t testing.TB, cfg dovecot.Config) *dovecot.Server {
	t.Helper()
	if cfg.Dir == "" {
		dir, err := tempDir("easd-test-dovecot-")
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		cfg.Dir = dir
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := dovecot.Start(ctx, cfg)
	if err != nil {
		failSetup(t, err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() && cfg.LogWriter == nil {
			logTail(t, filepath.Join(cfg.Dir, "dovecot.log"))
		}
	})
	return s
}

// logTail shows the end of a server log in the output of a failed test.
func logTail(t testing.TB, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	t.Logf("end of %s:\n%s", filepath.Base(path), b)
}
