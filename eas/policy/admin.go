package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/easd/easd/audit"
)

// Errors of the administrative changes.
var (
	// ErrDeviceNotFound is an assignment to an unknown device; it also
	// matches ErrNotFound, which Assign returned for it before.
	ErrDeviceNotFound error = deviceNotFound{}
	ErrExists               = errors.New("policy exists")
	ErrDefault              = errors.New("the default policy cannot be removed")
	ErrInvalid              = errors.New("invalid policy")
)

type deviceNotFound struct{}

func (deviceNotFound) Error() string        { return "device not found" }
func (deviceNotFound) Is(target error) bool { return target == ErrNotFound }

// AllowNonProvisionableElement is the name the command line and the change
// lists use for Policy.AllowNonProvisionable, Exchange's name for it. It
// is a server setting, not an EASProvisionDoc element.
const AllowNonProvisionableElement = "AllowNonProvisionableDevices"

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckName reports whether name can name a policy: up to 64 letters,
// digits, dots, dashes and underscores, starting with a letter or digit.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: name %q: want up to 64 letters, digits, '.', '-' or '_', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

func check(name string, set Settings) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := set.Validate(); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalid, name, err)
	}
	return nil
}

// record writes the audit entry of a change in its transaction. A zero who
// (the methods kept from before the audit log) records nothing.
func record(ctx context.Context, tx pgx.Tx, who audit.Who, action, target string, detail map[string]any) error {
	if who == (audit.Who{}) {
		return nil
	}
	return audit.Record(ctx, tx, who, action, target, detail)
}

// inTx runs fn in a transaction and commits when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("policy: commit: %w", err)
	}
	return nil
}

// CreateBy adds a named, non-default policy with settings set, after
// checking them against MS-ASPROV, and records it as done by who.
func (s *Store) CreateBy(ctx context.Context, who audit.Who, name string, allowNonProvisionable bool, set Settings) (*Policy, error) {
	if err := check(name, set); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var p *Policy
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		p, err = scan(tx.QueryRow(ctx, `INSERT INTO policies AS p (name, allow_non_provisionable, settings)
			VALUES ($1, $2, $3) RETURNING `+columns, name, allowNonProvisionable, raw))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("policy %q: %w", name, ErrExists)
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, who, "policy.create", "policy:"+name, map[string]any{
			"settings": set, "allow_non_provisionable": allowNonProvisionable})
	})
	return p, err
}

// UpdateBy replaces the settings of the policy called name, after checking
// them against MS-ASPROV, and returns it with what changed. When anything
// did, the policy gets a new generation, so that every device using it
// provisions again on its next request, and the change is recorded as done
// by who; an update that changes nothing (a retry) changes nothing.
func (s *Store) UpdateBy(ctx context.Context, who audit.Who, name string, allowNonProvisionable bool, set Settings) (*Policy, []Change, error) {
	if err := set.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w %q: %w", ErrInvalid, name, err)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return nil, nil, fmt.Errorf("policy: %w", err)
	}
	var p *Policy
	var changes []Change
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM policies p WHERE p.name = $1 FOR UPDATE`, name))
		if err != nil {
			return fmt.Errorf("policy %q: %w", name, err)
		}
		changes = Diff(old.Settings, set)
		if old.AllowNonProvisionable != allowNonProvisionable {
			changes = append(changes, Change{Element: AllowNonProvisionableElement,
				Old: fmt.Sprint(old.AllowNonProvisionable), New: fmt.Sprint(allowNonProvisionable)})
		}
		if len(changes) == 0 {
			p = old
			return nil
		}
		p, err = scan(tx.QueryRow(ctx, `UPDATE policies p SET settings = $1, allow_non_provisionable = $2,
			generation = nextval('policy_generation_seq'), updated_at = now()
			WHERE p.id = $3 RETURNING `+columns, raw, allowNonProvisionable, old.ID))
		if err != nil {
			return err
		}
		return record(ctx, tx, who, "policy.edit", "policy:"+name, map[string]any{
			"changes": changes, "generation": p.Generation})
	})
	if err != nil {
		return nil, nil, err
	}
	return p, changes, nil
}

// RemoveBy deletes the policy called name and records it as done by who.
// Its users, device types and devices fall back to the next rule
// (device_policy_id) and provision again. The default cannot be removed.
func (s *Store) RemoveBy(ctx context.Context, who audit.Who, name string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM policies p WHERE p.name = $1 FOR UPDATE`, name))
		if err != nil {
			return fmt.Errorf("policy %q: %w", name, err)
		}
		if old.Default {
			return fmt.Errorf("policy %q: %w", name, ErrDefault)
		}
		var users, types, devices int
		if err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM policy_user_assignments WHERE policy_id = $1),
			(SELECT count(*) FROM policy_device_type_assignments WHERE policy_id = $1),
			(SELECT count(*) FROM devices WHERE policy_id = $1)`, old.ID).Scan(&users, &types, &devices); err != nil {
			return fmt.Errorf("policy: remove: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM policies WHERE id = $1`, old.ID); err != nil {
			return fmt.Errorf("policy: remove: %w", err)
		}
		return record(ctx, tx, who, "policy.remove", "policy:"+name, map[string]any{
			"assigned_users": users, "assigned_device_types": types, "assigned_devices": devices})
	})
}

// Target is what an assignment applies to: one device (Login and
// DeviceID), every device of a user (Login alone) or every device of a
// type (DeviceType alone, any case). A device's own assignment wins over
// its user's, which wins over its type's; the default policy applies when
// none exists.
type Target struct {
	Login      string `json:"user,omitempty"`
	DeviceID   string `json:"device_id,omitempty"`
	DeviceType string `json:"device_type,omitempty"`
}

// String names the target in audit entries and messages: "alice/DEVICEID",
// "user:alice" or "device-type:iphone".
func (t Target) String() string {
	switch {
	case t.DeviceType != "":
		return "device-type:" + strings.ToLower(t.DeviceType)
	case t.DeviceID != "":
		return t.Login + "/" + t.DeviceID
	}
	return "user:" + t.Login
}

func (t Target) check() error {
	switch {
	case t.DeviceType != "" && (t.Login != "" || t.DeviceID != ""):
		return fmt.Errorf("%w: assign to a device type, a user or a device, not several", ErrInvalid)
	case t.DeviceType == "" && t.Login == "":
		return fmt.Errorf("%w: assignment without user, device or device type", ErrInvalid)
	case strings.TrimSpace(t.DeviceType) != t.DeviceType:
		return fmt.Errorf("%w: device type %q has surrounding blanks", ErrInvalid, t.DeviceType)
	}
	return nil
}

// AssignBy gives target the policy called name, or takes its assignment
// away when name is "", and records it as done by who. changed is false
// when target already had that assignment (nothing is written then).
// Devices whose policy this changes provision again on their next request;
// a user need not have synced yet.
func (s *Store) AssignBy(ctx context.Context, who audit.Who, target Target, name string) (changed bool, err error) {
	if err := target.check(); err != nil {
		return false, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var policyID *int64
		if name != "" {
			if err := tx.QueryRow(ctx, `SELECT id FROM policies WHERE name = $1 FOR SHARE`, name).Scan(&policyID); errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("policy %q: %w", name, ErrNotFound)
			} else if err != nil {
				return fmt.Errorf("policy: assign: %w", err)
			}
		}
		previous, err := s.assign(ctx, tx, target, policyID)
		if err != nil {
			return err
		}
		if previous == name {
			return nil
		}
		changed = true
		action := "policy.assign"
		if name == "" {
			action = "policy.unassign"
		}
		return record(ctx, tx, who, action, target.String(), map[string]any{"policy": name, "previous": previous})
	})
	return changed, err
}

// assign writes target's assignment (none when policyID is nil) and
// returns the name of the policy it had before ("" for none).
func (s *Store) assign(ctx context.Context, tx pgx.Tx, t Target, policyID *int64) (previous string, err error) {
	fail := func(err error) (string, error) { return "", fmt.Errorf("policy: assign %s: %w", t, err) }
	var prev *string
	switch {
	case t.DeviceID != "":
		var id int64
		err := tx.QueryRow(ctx, `SELECT d.id, p.name FROM devices d JOIN users u ON u.id = d.user_id
			LEFT JOIN policies p ON p.id = d.policy_id
			WHERE u.login = $1 AND d.device_id = $2 FOR UPDATE OF d`, t.Login, t.DeviceID).Scan(&id, &prev)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", fmt.Errorf("policy: assign: device %q of %q: %w", t.DeviceID, t.Login, ErrDeviceNotFound)
		} else if err != nil {
			return fail(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET policy_id = $2 WHERE id = $1`, id, policyID); err != nil {
			return fail(err)
		}
	case t.Login != "":
		err := tx.QueryRow(ctx, `SELECT p.name FROM policy_user_assignments a JOIN users u ON u.id = a.user_id
			JOIN policies p ON p.id = a.policy_id WHERE u.login = $1 FOR UPDATE OF a`, t.Login).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fail(err)
		}
		if policyID == nil {
			_, err = tx.Exec(ctx, `DELETE FROM policy_user_assignments a USING users u
				WHERE u.id = a.user_id AND u.login = $1`, t.Login)
		} else {
			// The users row may not exist yet: an administrator can set the
			// policy of someone before their first sync.
			_, err = tx.Exec(ctx, `WITH new AS (
					INSERT INTO users (login) VALUES ($1) ON CONFLICT (login) DO NOTHING RETURNING id),
				u AS (SELECT id FROM new UNION ALL SELECT id FROM users WHERE login = $1)
				INSERT INTO policy_user_assignments (user_id, policy_id) SELECT id, $2 FROM u LIMIT 1
				ON CONFLICT (user_id) DO UPDATE SET policy_id = EXCLUDED.policy_id`, t.Login, policyID)
		}
		if err != nil {
			return fail(err)
		}
	default:
		typ := strings.ToLower(t.DeviceType)
		err := tx.QueryRow(ctx, `SELECT p.name FROM policy_device_type_assignments a
			JOIN policies p ON p.id = a.policy_id WHERE a.device_type = $1 FOR UPDATE OF a`, typ).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fail(err)
		}
		if policyID == nil {
			_, err = tx.Exec(ctx, `DELETE FROM policy_device_type_assignments WHERE device_type = $1`, typ)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO policy_device_type_assignments (device_type, policy_id) VALUES ($1, $2)
				ON CONFLICT (device_type) DO UPDATE SET policy_id = EXCLUDED.policy_id`, typ, policyID)
		}
		if err != nil {
			return fail(err)
		}
	}
	if prev != nil {
		previous = *prev
	}
	return previous, nil
}

// Assignment is one assignment of a policy.
type Assignment struct {
	Target Target `json:"target"`
	Policy string `json:"policy"`
}

// Assignments lists the assignments of the policy called name, or all
// when name is "": device types, then users, then devices, each sorted.
func (s *Store) Assignments(ctx context.Context, name string) ([]Assignment, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT 1, '', '', a.device_type, p.name FROM policy_device_type_assignments a JOIN policies p ON p.id = a.policy_id
		WHERE $1 = '' OR p.name = $1
		UNION ALL
		SELECT 2, u.login, '', '', p.name FROM policy_user_assignments a JOIN users u ON u.id = a.user_id
		JOIN policies p ON p.id = a.policy_id WHERE $1 = '' OR p.name = $1
		UNION ALL
		SELECT 3, u.login, d.device_id, '', p.name FROM devices d JOIN users u ON u.id = d.user_id
		JOIN policies p ON p.id = d.policy_id WHERE $1 = '' OR p.name = $1
		ORDER BY 1, 2, 3, 4`, name)
	if err != nil {
		return nil, fmt.Errorf("policy: assignments: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Assignment, error) {
		var a Assignment
		var kind int
		err := row.Scan(&kind, &a.Target.Login, &a.Target.DeviceID, &a.Target.DeviceType, &a.Policy)
		return a, err
	})
}

// Usage counts what uses a policy.
type Usage struct {
	Users       int `json:"users"`        // assigned users
	DeviceTypes int `json:"device_types"` // assigned device types
	Devices     int `json:"devices"`      // devices assigned it directly
	InEffect    int `json:"in_effect"`    // devices it applies to, by any rule
}

// Usages returns the Usage of every policy, by policy id.
func (s *Store) Usages(ctx context.Context) (map[int64]Usage, error) {
	rows, err := s.pool.Query(ctx, `SELECT p.id,
		(SELECT count(*) FROM policy_user_assignments a WHERE a.policy_id = p.id),
		(SELECT count(*) FROM policy_device_type_assignments a WHERE a.policy_id = p.id),
		(SELECT count(*) FROM devices d WHERE d.policy_id = p.id),
		(SELECT count(*) FROM devices d CROSS JOIN device_policy_id(d.policy_id, d.user_id, d.device_type) e
			WHERE e.policy_id = p.id)
		FROM policies p`)
	if err != nil {
		return nil, fmt.Errorf("policy: usage: %w", err)
	}
	defer rows.Close()
	out := map[int64]Usage{}
	for rows.Next() {
		var id int64
		var u Usage
		if err := rows.Scan(&id, &u.Users, &u.DeviceTypes, &u.Devices, &u.InEffect); err != nil {
			return nil, fmt.Errorf("policy: usage: %w", err)
		}
		out[id] = u
	}
	return out, rows.Err()
}
