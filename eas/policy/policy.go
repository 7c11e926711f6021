// Package policy keeps the device policies that Provision hands to phones
// (MS-ASPROV): one default policy, created by the schema migration, and
// any number of named ones that can be assigned to single devices, to all
// devices of a user or to all devices of a type. A device gets its own
// assignment, else its user's, else its type's, else the default (the
// schema function device_policy_id). The EAS handlers read them; the
// `easd policy` command line and the admin API edit them through the *By
// methods, which check the settings against MS-ASPROV and record each
// change in the audit log in the change's transaction.
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

	"github.com/easd/easd/audit"
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
// deviceRowID (device.Device.ID): its own assignment, else its user's, else
// its device type's, else the default (schema function device_policy_id).
func (s *Store) ForDevice(ctx context.Context, deviceRowID int64) (*Policy, error) {
	return scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM devices d
		CROSS JOIN device_policy_id(d.policy_id, d.user_id, d.device_type) e
		JOIN policies p ON p.id = e.policy_id
		WHERE d.id = $1`, deviceRowID))
}

// Create adds a named, non-default policy, without an audit entry; see
// CreateBy.
func (s *Store) Create(ctx context.Context, name string, allowNonProvisionable bool, set Settings) (*Policy, error) {
	return s.CreateBy(ctx, audit.Who{}, name, allowNonProvisionable, set)
}

// Update replaces the settings of the policy called name, without an
// audit entry; see UpdateBy.
func (s *Store) Update(ctx context.Context, name string, allowNonProvisionable bool, set Settings) (*Policy, error) {
	p, _, err := s.UpdateBy(ctx, audit.Who{}, name, allowNonProvisionable, set)
	return p, err
}

// UpdateDefault replaces the settings of the default policy.
func (s *Store) UpdateDefault(ctx context.Context, allowNonProvisionable bool, set Settings) (*Policy, error) {
	def, err := s.Default(ctx)
	if err != nil {
		return nil, err
	}
	return s.Update(ctx, def.Name, allowNonProvisionable, set)
}

// Assign gives the device deviceID of login the policy called name, or
// takes its own assignment away when name is "", without an audit entry;
// see AssignBy.
func (s *Store) Assign(ctx context.Context, login, deviceID, name string) error {
	_, err := s.AssignBy(ctx, audit.Who{}, Target{Login: login, DeviceID: deviceID}, name)
	return err
}
