package testenv

import (
	"testing"

	"github.com/easd/easd/internal/smtpsink"
)

// SMTP starts an in-process SMTP sink on a free loopback port for this
// test; it is closed when the test ends.
func SMTP(t testing.TB, opts ...smtpsink.Option) *smtpsink.Sink {
	t.Helper()
	s, err := smtpsink.Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
