package eas

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// throttleRule is the allowance of one kind of throttle key: free
// attempts, then a delay before each further one that starts at a second
// and doubles, up to maxDelay.
type throttleRule struct {
	prefix   string
	free     int
	maxDelay time.Duration
}

// The three keys an attempt counts against. One client guessing one
// user's password is held soonest; one address trying many users (or
// many users behind one NAT) a little later; a user tried from many
// addresses only far later and with a shorter cap, so that no stranger
// can keep a user from signing in, while a botnet still cannot guess
// freely. A phone whose password is cached never meets any of them.
var (
	pairRule = throttleRule{prefix: "p:", free: 5, maxDelay: 15 * time.Minute}
	addrRule = throttleRule{prefix: "a:", free: 20, maxDelay: 15 * time.Minute}
	userRule = throttleRule{prefix: "u:", free: 100, maxDelay: 5 * time.Minute}
)

// throttleMemory: a key quiet for this long starts afresh.
const throttleMemory = time.Hour

// delayAfter is the wait imposed after the n-th counted attempt.
func (r throttleRule) delayAfter(n int) time.Duration {
	if n < r.free {
		return 0
	}
	return min(time.Second<<min(n-r.free, 20), r.maxDelay)
}

// loginThrottle keeps the failed-login throttle in PostgreSQL (table
// login_throttle), so every instance sees every attempt.
type loginThrottle struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

type throttleKey struct {
	key  string
	rule throttleRule
}

func throttleKeys(login, remote string) []throttleKey {
	keys := []throttleKey{{userRule.prefix + login, userRule}}
	if remote != "" {
		keys = append(keys,
			throttleKey{pairRule.prefix + login + " " + remote, pairRule},
			throttleKey{addrRule.prefix + remote, addrRule})
	}
	return keys
}

// reserve counts an attempt of login from remote before the mail server
// is asked, or, when one of its keys must still wait, returns how long
// and counts nothing. Reserving first is what makes the limit hold
// against parallel guesses: the row locks serialise them, and each sees
// the attempts of those before it, finished or not.
func (t *loginThrottle) reserve(ctx context.Context, login, remote string) (time.Duration, error) {
	keys := throttleKeys(login, remote)
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	now := t.now()
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	defer tx.Rollback(ctx)
	if rand.IntN(64) == 0 { // keeps the table to the last hour's attempts
		if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE last_attempt < $1`, now.Add(-throttleMemory)); err != nil {
			return 0, fmt.Errorf("login throttle: %w", err)
		}
	}
	// Rows in key order, locked in that order: two attempts never wait
	// for each other's locks in a cycle.
	if _, err := tx.Exec(ctx, `INSERT INTO login_throttle (key, attempts, last_attempt, not_before)
		SELECT k, 0, $2, $2 FROM unnest($1::text[]) AS k ORDER BY k
		ON CONFLICT (key) DO NOTHING`, names, now); err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT key, attempts, last_attempt, not_before FROM login_throttle
		WHERE key = ANY($1) ORDER BY key FOR UPDATE`, names)
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	type row struct {
		key             string
		attempts        int
		last, notBefore time.Time
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.key, &x.attempts, &x.last, &x.notBefore)
	})
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	rules := map[string]throttleRule{}
	for _, k := range keys {
		rules[k.key] = k.rule
	}
	var wait time.Duration
	attempts := make([]int32, len(got))
	notBefore := make([]time.Time, len(got))
	keyNames := make([]string, len(got))
	for i, r := range got {
		if now.Sub(r.last) > throttleMemory {
			r.attempts, r.notBefore = 0, now
		}
		wait = max(wait, r.notBefore.Sub(now))
		keyNames[i] = r.key
		attempts[i] = int32(r.attempts + 1)
		notBefore[i] = now.Add(rules[r.key].delayAfter(r.attempts + 1))
	}
	if wait > 0 {
		return wait, nil // counts nothing: it never reaches the mail server
	}
	if _, err := tx.Exec(ctx, `UPDATE login_throttle t SET attempts = v.a, last_attempt = $4, not_before = v.nb
		FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS v(k, a, nb) WHERE t.key = v.k`,
		keyNames, attempts, notBefore, now); err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	return 0, nil
}

// release gives back an attempt that was not a wrong password (it was
// right, or the mail server could not be asked). Right from this address
// also clears the pair: the phone has the password now.
func (t *loginThrottle) release(ctx context.Context, login, remote string, right bool) error {
	var names []string
	for _, k := range throttleKeys(login, remote) {
		names = append(names, k.key)
	}
	pair := ""
	if right && remote != "" {
		pair = pairRule.prefix + login + " " + remote
	}
	// A right password also lifts the delay this attempt set on the user
	// and the address; their counts stay (less this attempt), so the next
	// failure is held again at once when they were past their allowance.
	var lift any
	if right {
		lift = t.now()
	}
	_, err := t.pool.Exec(ctx, `WITH gone AS (DELETE FROM login_throttle WHERE key = $2)
		UPDATE login_throttle SET attempts = greatest(attempts - 1, 0),
			not_before = CASE WHEN $3::timestamptz IS NULL THEN not_before ELSE least(not_before, $3) END
		WHERE key = ANY($1) AND key <> $2`, names, pair, lift)
	if err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}
