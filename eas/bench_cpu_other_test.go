//go:build !linux

package eas_test

import (
	"testing"
	"time"

	"github.com/easd/easd/internal/easdtest"
)

// benchCPU is known on Linux only.
func benchCPU(*testing.B, *easdtest.Env) (proc, pg time.Duration) { return 0, 0 }

// benchIMAPCPU is known on Linux only.
func benchIMAPCPU(*easdtest.Env) func() time.Duration { return func() time.Duration { return 0 } }
