// Package backoff holds the two helpers every reconnecting loop in easd
// uses: jittered delays, so a fleet of watchers or instances does not
// reconnect in lockstep, and a sleep that ends with its context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter spreads d by up to +25%.
func Jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// Sleep waits d or until ctx ends, reporting whether it waited the full d.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
