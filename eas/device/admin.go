package device

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/internal/pgnotify"
)

// The administrative operations: each changes one device in one
// transaction together with its audit entry (package audit), so the
// command line, the admin API and the web page record the same way.

// Errors of the administrative operations.
var (
	ErrNoWipe           = errors.New("no wipe is pending")
	ErrWipeDone         = errors.New("the device already confirmed the wipe")
	ErrAccountWipeProto = errors.New("an account-only wipe needs EAS 16.1")
	ErrNoFolder         = errors.New("no such folder")
	ErrAmbiguousFolder  = errors.New("several folders have that name")
)

// Target is how audit entries name a device: "login/DeviceId".
func Target(login, deviceID string) string { return login + "/" + deviceID }

// AccessTopic is the pgnotify topic on which a change of the device's
// access is announced, so that a quarantined device's waiting Ping ends
// when an administrator approves it, on whichever instance it waits.
func AccessTopic(id int64) string { return "access:" + strconv.FormatInt(id, 10) }

// WaitTopic is the pgnotify topic the device's waiting requests (Ping,
// hanging Sync) listen on: package eas announces on it each newer request
// of the device, by its generation, which ends the older waiting ones.
func WaitTopic(id int64) string { return "device:" + strconv.FormatInt(id, 10) }

// WakeAdmin is the data of a WaitTopic notification that announces an
// administrative change (block, wipe, resync, remove): every waiting
// request of the device ends on whichever instance it waits, so the
// phone's next request meets the change at once instead of up to a
// heartbeat (an hour) later.
const WakeAdmin = "admin"

// wake ends the device's waiting requests when tx commits.
func wake(ctx context.Context, tx pgx.Tx, id int64) error {
	return pgnotify.Publish(ctx, tx, WaitTopic(id), WakeAdmin)
}

// admin runs change on the device (login, deviceID), locked, in one
// transaction, and records action with the detail change returns.
func (s *Store) admin(ctx context.Context, who audit.Who, login, deviceID, action string,
	change func(tx pgx.Tx, d *Device) (map[string]any, error)) (*Device, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	defer tx.Rollback(ctx)
	d, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM devices d JOIN users u ON u.id = d.user_id
		WHERE u.login = $1 AND d.device_id = $2 FOR UPDATE OF d`, login, deviceID))
	if err != nil {
		return nil, err
	}
	detail, err := change(tx, d)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, who, action, Target(login, deviceID), detail); err != nil {
		return nil, err
	}
	if action != "device.remove" {
		if d, err = scan(tx.QueryRow(ctx, byUserDevice, d.UserID, d.DeviceID)); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("device: %s: %w", action, err)
	}
	return d, nil
}

func checkAccess(state string) error {
	switch state {
	case Allowed, Blocked, Quarantined:
		return nil
	}
	return fmt.Errorf("device: unknown access state %q", state)
}

// Decide sets the device's access as an administrator's decision, which
// access rules never override: Allowed (also approves a quarantined
// device), Blocked or Quarantined. The device's next request sees it, and
// its waiting requests end at once: for an approval, those a quarantined
// device has held.
func (s *Store) Decide(ctx context.Context, who audit.Who, login, deviceID, state string) (*Device, error) {
	if err := checkAccess(state); err != nil {
		return nil, err
	}
	verb := map[string]string{Allowed: "device.allow", Blocked: "device.block", Quarantined: "device.quarantine"}[state]
	return s.admin(ctx, who, login, deviceID, verb, func(tx pgx.Tx, d *Device) (map[string]any, error) {
		if _, err := tx.Exec(ctx, `UPDATE devices SET access_state = $2, access_source = 'admin',
			access_rule_id = NULL, access_changed_at = now() WHERE id = $1`, d.ID, state); err != nil {
			return nil, fmt.Errorf("device: access: %w", err)
		}
		if err := pgnotify.Publish(ctx, tx, AccessTopic(d.ID), state); err != nil {
			return nil, fmt.Errorf("device: access: %w", err)
		}
		// Blocked or quarantined: a waiting request ends and the next one
		// is refused. An approval needs no wake: a held request of a
		// quarantined device listens on AccessTopic and answers it.
		if state != Allowed {
			if err := wake(ctx, tx, d.ID); err != nil {
				return nil, fmt.Errorf("device: access: %w", err)
			}
		}
		return map[string]any{"from": d.Access, "to": state}, nil
	})
}

// Approve lets a quarantined (or blocked) device sync: Decide(Allowed).
func (s *Store) Approve(ctx context.Context, who audit.Who, login, deviceID string) (*Device, error) {
	return s.Decide(ctx, who, login, deviceID, Allowed)
}

// Wipe asks the device to wipe itself on its next request, which a
// waiting request of the device ends to make at once: the whole
// device, or with account only this account's data. An account-only wipe
// exists from EAS 16.1 on; for a device that last spoke an older version
// it is refused with ErrAccountWipeProto (easd would refuse the device
// rather than wipe more than asked).
func (s *Store) Wipe(ctx context.Context, who audit.Who, login, deviceID string, account bool) (*Device, error) {
	action := "device.wipe"
	if account {
		action = "device.account_wipe"
	}
	return s.admin(ctx, who, login, deviceID, action, func(tx pgx.Tx, d *Device) (map[string]any, error) {
		state := WipeRequested
		if account {
			if VersionBelow(d.ProtocolVersion, 16, 1) {
				return nil, fmt.Errorf("%w; the device speaks %s", ErrAccountWipeProto, orUnknown(d.ProtocolVersion))
			}
			state = WipeAccountRequested
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET wipe_state = $2, wipe_requested_at = now(),
			wipe_acked_at = NULL WHERE id = $1`, d.ID, state); err != nil {
			return nil, fmt.Errorf("device: wipe: %w", err)
		}
		if err := wake(ctx, tx, d.ID); err != nil {
			return nil, fmt.Errorf("device: wipe: %w", err)
		}
		return map[string]any{"previous": d.Wipe}, nil
	})
}

// CancelWipe withdraws a wipe the device has not confirmed yet. A wipe the
// device confirmed cannot be undone (ErrWipeDone); remove the partnership
// to let the device start over. A device that fetched the directive but
// has not confirmed it may still have wiped itself.
func (s *Store) CancelWipe(ctx context.Context, who audit.Who, login, deviceID string) (*Device, error) {
	return s.admin(ctx, who, login, deviceID, "device.wipe_cancel", func(tx pgx.Tx, d *Device) (map[string]any, error) {
		switch d.Wipe {
		case WipeRequested, WipeAccountRequested:
		case Wiped, AccountWiped:
			at := ""
			if d.WipeAckedAt != nil {
				at = " at " + d.WipeAckedAt.UTC().Format(time.RFC3339)
			}
			return nil, fmt.Errorf("%w%s", ErrWipeDone, at)
		default:
			return nil, ErrNoWipe
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET wipe_state = 'none', wipe_requested_at = NULL
			WHERE id = $1`, d.ID); err != nil {
			return nil, fmt.Errorf("device: cancel wipe: %w", err)
		}
		return map[string]any{"cancelled": d.Wipe}, nil
	})
}

// Resync makes the device start over without a new partnership. With
// folder empty it forgets every sync state of the device: its next
// FolderSync answers Status 9 and its next Sync of any collection Status
// 3, and it downloads everything again (folder ids stay, they belong to
// the user). Else folder, a folder id or display name (case-insensitive),
// names the one collection whose next Sync answers Status 3. It returns
// the folder id reset ("" for the whole device). The device's waiting
// requests end, so that it learns at once.
func (s *Store) Resync(ctx context.Context, who audit.Who, login, deviceID, folder string) (string, error) {
	var id string
	_, err := s.admin(ctx, who, login, deviceID, "device.resync", func(tx pgx.Tx, d *Device) (map[string]any, error) {
		if err := wake(ctx, tx, d.ID); err != nil {
			return nil, fmt.Errorf("device: resync: %w", err)
		}
		if folder == "" {
			return map[string]any{"scope": "device"}, syncstate.Reset(ctx, tx, d.ID)
		}
		f, err := findFolder(ctx, s, d.UserID, folder)
		if err != nil {
			return nil, err
		}
		id = f.ServerID
		return map[string]any{"scope": "folder", "folder": f.ServerID, "name": f.DisplayName},
			syncstate.Reset(ctx, tx, d.ID, f.ServerID)
	})
	return id, err
}

// findFolder resolves a folder id or display name among the user's
// folders.
func findFolder(ctx context.Context, s *Store, userID int64, name string) (folders.Folder, error) {
	list, err := folders.NewStore(s.pool).List(ctx, userID)
	if err != nil {
		return folders.Folder{}, err
	}
	var found []folders.Folder
	for _, f := range list {
		if f.ServerID == name {
			return f, nil
		}
		if strings.EqualFold(f.DisplayName, name) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 0:
		return folders.Folder{}, fmt.Errorf("%w %q (the user has %d folders; FolderSync names them)", ErrNoFolder, name, len(list))
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.ServerID
	}
	return folders.Folder{}, fmt.Errorf("%w %q: use one of the ids %s", ErrAmbiguousFolder, name, strings.Join(ids, ", "))
}

// Delete removes the partnership and all its sync state, recorded. The
// device's waiting requests end; its next request starts over.
func (s *Store) Delete(ctx context.Context, who audit.Who, login, deviceID string) error {
	_, err := s.admin(ctx, who, login, deviceID, "device.remove", func(tx pgx.Tx, d *Device) (map[string]any, error) {
		if _, err := tx.Exec(ctx, `DELETE FROM devices WHERE id = $1`, d.ID); err != nil {
			return nil, fmt.Errorf("device: remove: %w", err)
		}
		if err := wake(ctx, tx, d.ID); err != nil {
			return nil, fmt.Errorf("device: remove: %w", err)
		}
		return map[string]any{"type": d.DeviceType, "protocol": d.ProtocolVersion}, nil
	})
	return err
}

// Trace switches the device's protocol trace on until the given time, or
// off with a zero time, recorded.
func (s *Store) Trace(ctx context.Context, who audit.Who, login, deviceID string, until time.Time) (*Device, error) {
	return s.admin(ctx, who, login, deviceID, "device.trace", func(tx pgx.Tx, d *Device) (map[string]any, error) {
		var v any
		detail := map[string]any{"on": false}
		if !until.IsZero() {
			v = until
			detail = map[string]any{"on": true, "until": until.UTC().Format(time.RFC3339)}
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET trace_until = $2 WHERE id = $1`, d.ID, v); err != nil {
			return nil, fmt.Errorf("device: trace: %w", err)
		}
		return detail, nil
	})
}

// VersionBelow reports whether the EAS protocol version v ("14.1") is
// older than major.minor. An unknown version counts as older.
func VersionBelow(v string, major, minor int) bool {
	a, b, ok := strings.Cut(v, ".")
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return true
	}
	return x < major || x == major && y < minor
}

func orUnknown(v string) string {
	if v == "" {
		return "an unknown protocol version"
	}
	return "EAS " + v
}
