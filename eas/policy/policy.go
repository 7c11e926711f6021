// Package policy keeps the device policies that Provision hands to phones
// (MS-ASPROV): one default policy, created by the schema migration, and
// any number of named ones that can be assigned to single devices. The EAS
// handlers read them; the `easd` command line edits them through the same
// functions.
//
// Every change of a policy gives it a new generation (unique across all
// policies). Devices remember the generation their policy key was issued
// for, so a change reaches each device on its next request as Status 143
// (HTTP 449 before EAS 14.0), and the device provisions again.
package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Policy is one stored policy.
type Policy struct {
	ID         int64
	Name       string
	Default    bool
	Generation int64
	// AllowNonProvisionable lets devices sync that report they could apply
	// the policy only partly, or not at all (MS-ASPROV Policy Status 2-4
	// in the acknowledgement). When false they are refused (Status 139).
	AllowNonProvisionable bool
	Settings              Settings
	UpdatedAt             time.Time
}

// ErrNotFound is returned for an unknown policy or device.
var ErrNotFound = errors.New("policy not found")

// Store reads and writes policies in PostgreSQL.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const columns = `p.id, p.name, p.is_default, p.generation, p.allow_non_provisionable, p.settings, p.updated_at`

func scan(row pgx.Row) (*Policy, error) {
	var p Policy
	var raw []byte
	err := row.Scan(&p.ID, &p.Name, &p.Default, &p.Generation, &p.AllowNonProvisionable, &raw, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p.Settings = Defaults()
	if err := json.Unmarshal(raw, &p.Settings); err != nil {
		return nil, fmt.Errorf("policy %q: settings: %w", p.Name, err)
	}
	return &p, nil
}

// Default returns the default policy.
func (s *Store) Default(ctx context.Context) (*Policy, error) {
	return scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM policies p WHERE p.is_default`))
}

// Get returns the policy called name.
func (s *Store) Get(ctx context.Context, name string) (*Policy, error) {
	return scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM policies p WHERE p.name = $1`, name))
}

// List returns all policies, the default first.
func (s *Store) List(ctx context.Context) ([]*Policy, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM policies p ORDER BY p.is_default DESC, p.name`)
	if err != nil {
		return nil, fmt.Errorf("policy: list: %w", err)
	}
	defer rows.Close()
	var out []*Policy
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ForDevice returns the policy that applies to the device with row id
// deviceRowID (device.Device.ID): the assigned one, else the default.
func (s *Store) ForDevice(ctx context.Context, deviceRowID int64) (*Policy, error) {
	return scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM devices d
		JOIN policies p ON p.id = d.policy_id OR (d.policy_id IS NULL AND p.is_default)
		WHERE d.id = $1`, deviceRowID))
}

// Create adds a named, non-default policy.
func (s *Store) Create(ctx context.Context, name string, allowNonProvisionable bool, set Settings) (*Policy, error) {
	raw, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return scan(s.pool.QueryRow(ctx, `INSERT INTO policies AS p (name, allow_non_provisionable, settings)
		VALUES ($1, $2, $3) RETURNING `+columns, name, allowNonProvisionable, raw))
}

// Update replaces the settings of the policy called name and gives it a
// new generation, so that its devices provision again.
func (s *Store) Update(ctx context.Context, name string, allowNonProvisionable bool, set Settings) (*Policy, error) {
	return s.update(ctx, allowNonProvisionable, set, `p.name = $3`, name)
}

// UpdateDefault replaces the settings of the default policy.
func (s *Store) UpdateDefault(ctx context.Context, allowNonProvisionable bool, set Settings) (*Policy, error) {
	return s.update(ctx, allowNonProvisionable, set, `p.is_default`)
}

// update rewrites the policies matching where, whose parameters start at $3.
func (s *Store) update(ctx context.Context, allowNonProvisionable bool, set Settings, where string, args ...any) (*Policy, error) {
	raw, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return scan(s.pool.QueryRow(ctx, `UPDATE policies p SET settings = $1, allow_non_provisionable = $2,
		generation = nextval('policy_generation_seq'), updated_at = now()
		WHERE `+where+` RETURNING `+columns, append([]any{raw, allowNonProvisionable}, args...)...))
}

// Assign gives the device deviceID of login the policy called name, or the
// default policy when name is "". The device provisions again on its next
// request unless the policy is the one it already has.
func (s *Store) Assign(ctx context.Context, login, deviceID, name string) error {
	var policyID *int64
	if name != "" {
		p, err := s.Get(ctx, name)
		if err != nil {
			return err
		}
		policyID = &p.ID
	}
	tag, err := s.pool.Exec(ctx, `UPDATE devices d SET policy_id = $3 FROM users u
		WHERE u.id = d.user_id AND u.login = $1 AND d.device_id = $2`, login, deviceID, policyID)
	if err != nil {
		return fmt.Errorf("policy: assign: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("policy: assign: device %q of %q: %w", deviceID, login, ErrNotFound)
	}
	return nil
}
