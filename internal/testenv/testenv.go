// Package testenv gives tests real servers: a PostgreSQL cluster shared by
// the test binary (each test gets its own database, copied from a migrated
// template), throwaway Dovecot IMAP servers, an in-process SMTP sink, a
// private slapd and a headless Chromium.
//
// Every package that uses it declares
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// so that the shared servers are stopped and their directories removed when
// the tests end. Without it the servers still die with the test binary (they
// get SIGKILL when their parent exits) but their temporary directories stay.
//
// A missing server program fails the test with the command that installs
// it; outside CI (the CI environment variable is not "true") the test is
// skipped instead, so `go test ./...` works on a machine without them.
package testenv

import (
	"os"
	"testing"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// Main runs the tests and then stops the servers shared by this binary.
func Main(m *testing.M) {
	code := m.Run()
	shutdownPG()
	os.Exit(code)
}

// failSetup ends the test because a server could not be set up: skipped
// when a program is missing outside CI, failed otherwise.
func failSetup(t testing.TB, err error) {
	t.Helper()
	if binpath.IsMissing(err) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	t.Fatal(err)
}

// tempDir creates a directory that server processes running as other
// system users (postgres, nobody) can reach: t.TempDir and os.MkdirTemp make
// private (0700) directories.
func tempDir(prefix string) (string, error) { return procgroup.TempDir(prefix) }
