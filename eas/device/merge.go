package device

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// mergeLock is the advisory lock key that serialises MergeLogins of
// instances starting at once ("easdlogn" in ASCII).
const mergeLock = 0x656173646c6f676e

// MergeLogins makes every stored login canonical. An easd before the
// canonical-login rule keyed state by the name as the phone typed it, so
// "DEMO" and "demo" (one mailbox on a mail server that ignores case) could
// be two users: a device blocked or wiped under one spelling synced again
// under another, and --max-devices counted each spelling apart.
//
// canonical maps a stored login to its canonical form; stored tells it
// which logins exist. Logins with one canonical form become one user: the
// row already spelled canonically, else the oldest, renamed. The others'
// devices move to it; where both have a device with the same DeviceId the
// survivor's row stays and takes the stricter access and any pending wipe
// of the other, so a merge never unblocks a device. Devices that move
// lose their sync state (folder ids are per user, and the other user's
// ids may name other mailboxes): they start over with FolderSync 0, which
// downloads their mail once more but can never show the wrong folder. The
// other users' per-user mail rows (folders, flag details, out-of-office)
// go with them: the survivor's are the ones its devices know. What only
// easd keeps (contacts, calendars) is never deleted: keep, run for every
// merged user before it goes, moves it to the survivor
// (folders.MovePIM).
//
// It runs in one transaction, is idempotent and cheap when nothing needs
// merging (one read of the user names), and returns how many user rows it
// removed or renamed.
func MergeLogins(ctx context.Context, pool *pgxpool.Pool, canonical func(login string, stored func(string) bool) string,
	keep func(ctx context.Context, tx pgx.Tx, into, from int64) error) (int, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("device: merge logins: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(mergeLock)); err != nil {
		return 0, fmt.Errorf("device: merge logins: %w", err)
	}
	type user struct {
		id    int64
		login string
	}
	rows, err := tx.Query(ctx, `SELECT id, login FROM users ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("device: merge logins: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (user, error) {
		var u user
		return u, r.Scan(&u.id, &u.login)
	})
	if err != nil {
		return 0, fmt.Errorf("device: merge logins: %w", err)
	}
	exists := make(map[string]bool, len(users))
	for _, u := range users {
		exists[u.login] = true
	}
	stored := func(l string) bool { return exists[l] }
	groups := map[string][]user{}
	var order []string
	for _, u := range users {
		c := canonical(u.login, stored)
		if _, ok := groups[c]; !ok {
			order = append(order, c)
		}
		groups[c] = append(groups[c], u)
	}
	changed := 0
	for _, c := range order {
		g := groups[c]
		if len(g) == 1 && g[0].login == c {
			continue
		}
		survivor := g[0] // the oldest
		for _, u := range g {
			if u.login == c {
				survivor = u
			}
		}
		for _, u := range g {
			if u.id == survivor.id {
				continue
			}
			if keep != nil {
				if err := keep(ctx, tx, survivor.id, u.id); err != nil {
					return 0, fmt.Errorf("device: keep the data of %q: %w", u.login, err)
				}
			}
			if err := mergeUser(ctx, tx, survivor.id, u.id); err != nil {
				return 0, fmt.Errorf("device: merge %q into %q: %w", u.login, c, err)
			}
			changed++
		}
		if survivor.login != c {
			if _, err := tx.Exec(ctx, `UPDATE users SET login = $2 WHERE id = $1`, survivor.id, c); err != nil {
				return 0, fmt.Errorf("device: rename %q to %q: %w", survivor.login, c, err)
			}
			changed++
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("device: merge logins: %w", err)
	}
	return changed, nil
}

// mergeUser moves what user from owns to user into, then deletes from.
func mergeUser(ctx context.Context, tx pgx.Tx, into, from int64) error {
	steps := []string{
		// A device known under both spellings: the survivor's row stays,
		// no less restricted than the other.
		`UPDATE devices k SET
			access_state = CASE WHEN k.access_state = 'allowed' THEN o.access_state
				WHEN k.access_state = 'quarantined' AND o.access_state = 'blocked' THEN 'blocked'
				ELSE k.access_state END,
			wipe_state = CASE WHEN o.wipe_state IN ('requested', 'account_requested')
				AND k.wipe_state NOT IN ('requested', 'account_requested') THEN o.wipe_state ELSE k.wipe_state END,
			wipe_requested_at = CASE WHEN o.wipe_state IN ('requested', 'account_requested')
				AND k.wipe_state NOT IN ('requested', 'account_requested') THEN o.wipe_requested_at ELSE k.wipe_requested_at END
		FROM devices o
		WHERE k.user_id = $1 AND o.user_id = $2 AND o.device_id = k.device_id`,
		`DELETE FROM devices o USING devices k
		WHERE o.user_id = $2 AND k.user_id = $1 AND k.device_id = o.device_id`,
		// The others move and start over: their sync state names folder
		// ids of the user they leave.
		`DELETE FROM sync_collections WHERE device_id IN (SELECT id FROM devices WHERE user_id = $2)`,
		`DELETE FROM ping_params WHERE device_id IN (SELECT id FROM devices WHERE user_id = $2)`,
		`DELETE FROM mail_moves WHERE device_id IN (SELECT id FROM devices WHERE user_id = $2)`,
		`DELETE FROM sync_requests WHERE device_id IN (SELECT id FROM devices WHERE user_id = $2)`,
		`UPDATE devices SET user_id = $1 WHERE user_id = $2`,
		`UPDATE users k SET email = o.email FROM users o WHERE k.id = $1 AND o.id = $2 AND k.email = ''`,
		`DELETE FROM users WHERE id = $2`,
	}
	for _, q := range steps {
		args := []any{into, from}
		if !strings.Contains(q, "$1") {
			q = strings.ReplaceAll(q, "$2", "$1")
			args = args[1:]
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
