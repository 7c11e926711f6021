// Package device is the registry of EAS partnerships: one row per user and
// DeviceId, with what the phone told about itself, its policy key, whether
// it may sync, and any pending remote wipe. The EAS handlers and the
// `easd device` command both work through it.
package device

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Access states.
const (
	Allowed     = "allowed"
	Blocked     = "blocked"
	Quarantined = "quarantined"
)

// Wipe states.
const (
	WipeNone             = "none"
	WipeRequested        = "requested"         // full device wipe (RemoteWipe)
	WipeAccountRequested = "account_requested" // 16.1 AccountOnlyRemoteWipe
	Wiped                = "wiped"             // the device acknowledged
	AccountWiped         = "account_wiped"
)

// Device is one partnership.
type Device struct {
	ID              int64
	UserID          int64
	Login           string
	DeviceID        string
	DeviceType      string
	UserAgent       string
	ProtocolVersion string
	Info
	PolicyKey        uint32
	PendingPolicyKey uint32
	// PolicyID is the policy assigned to the device (0: the default one).
	PolicyID int64
	// PolicyGeneration is the generation of the policy PolicyKey was
	// issued for, PendingPolicyGeneration that of PendingPolicyKey, and
	// CurrentPolicyGeneration that of the device's policy now: when it
	// differs from PolicyGeneration the policy changed since the device
	// provisioned.
	PolicyGeneration        int64
	PendingPolicyGeneration int64
	CurrentPolicyGeneration int64
	Access                  string
	// AccessSource says where Access came from: SourceDefault (the
	// --new-devices setting), SourceRule (AccessRuleID, 0 once the rule
	// is removed) or SourceAdmin (a decision on this device).
	AccessSource    string
	AccessRuleID    int64
	AccessChangedAt *time.Time
	Wipe            string
	WipeRequestedAt *time.Time
	WipeAckedAt     *time.Time
	TraceUntil      *time.Time
	FirstSeen       time.Time
	LastSeen        time.Time
}

// Info is what Settings DeviceInformation reports (MS-ASCMD 2.2.3.45).
type Info struct {
	Model          string
	IMEI           string
	FriendlyName   string
	OS             string
	OSLanguage     string
	PhoneNumber    string
	MobileOperator string
	UserAgent      string // as the device describes itself, not the HTTP header
}

// Errors.
var (
	ErrNotFound       = errors.New("device not found")
	ErrTooManyDevices = errors.New("too many devices for this user")
)

// Store keeps devices in PostgreSQL.
type Store struct {
	pool       *pgxpool.Pool
	maxPerUser int // 0: unlimited
	// newAccess is what a new device gets when no access rule matches:
	// Allowed, or Quarantined until an administrator approves it.
	newAccess string
}

// NewStore returns a Store; maxPerUser limits partnerships per user (0: none).
func NewStore(pool *pgxpool.Pool, maxPerUser int) *Store {
	return &Store{pool: pool, maxPerUser: maxPerUser, newAccess: Allowed}
}

// HoldNewDevices makes devices that register from now on quarantined until
// an administrator approves them, unless an access rule decides otherwise
// (`easd serve --new-devices=approve`).
func (s *Store) HoldNewDevices(hold bool) {
	s.newAccess = Allowed
	if hold {
		s.newAccess = Quarantined
	}
}

// Seen is what a request says about the device sending it.
type Seen struct {
	Login           string
	DeviceID        string
	DeviceType      string
	UserAgent       string
	ProtocolVersion string
}

const columns = `d.id, d.user_id, u.login, d.device_id, d.device_type, d.user_agent, d.protocol_version,
	d.model, d.imei, d.friendly_name, d.os, d.os_language, d.phone_number, d.mobile_operator, d.reported_user_agent,
	d.policy_key, d.pending_policy_key, COALESCE(d.policy_id, 0), d.policy_generation, d.pending_policy_generation,
	` + currentGeneration + `, d.access_state, d.access_source, COALESCE(d.access_rule_id, 0), d.access_changed_at,
	d.wipe_state, d.wipe_requested_at, d.wipe_acked_at,
	d.trace_until, d.first_seen, d.last_seen`

// currentGeneration is the generation of the device's policy, as the
// schema's device_policy_id resolves it (own assignment, user, device type,
// default; tables of package policy). Reading it with the device costs no
// extra round trip on every request.
const currentGeneration = `COALESCE((SELECT p.generation FROM device_policy_id(d.policy_id, d.user_id, d.device_type) e
	JOIN policies p ON p.id = e.policy_id), 0)`

func scan(row pgx.Row) (*Device, error) {
	var d Device
	var pk, ppk int64
	err := row.Scan(&d.ID, &d.UserID, &d.Login, &d.DeviceID, &d.DeviceType, &d.UserAgent, &d.ProtocolVersion,
		&d.Model, &d.IMEI, &d.FriendlyName, &d.OS, &d.OSLanguage, &d.PhoneNumber, &d.MobileOperator, &d.Info.UserAgent,
		&pk, &ppk, &d.PolicyID, &d.PolicyGeneration, &d.PendingPolicyGeneration, &d.CurrentPolicyGeneration, &d.Access, &d.AccessSource, &d.AccessRuleID, &d.AccessChangedAt, &d.Wipe, &d.WipeRequestedAt, &d.WipeAckedAt, &d.TraceUntil, &d.FirstSeen, &d.LastSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	d.PolicyKey, d.PendingPolicyKey = uint32(pk), uint32(ppk)
	return &d, nil
}

// byUserDevice reads one device by user id and device id.
const byUserDevice = `SELECT ` + columns + ` FROM devices d JOIN users u ON u.id = d.user_id
	WHERE d.user_id = $1 AND d.device_id = $2`

// touchKnown is Get's read, and in the same statement the move of the
// device's last-seen when it is a minute old; the read sees the row as
// before the move, so the new last-seen is taken from the move.
var touchKnown = `WITH moved AS (UPDATE devices d SET last_seen = now() FROM users u
		WHERE u.id = d.user_id AND u.login = $1 AND d.device_id = $2 AND d.last_seen < now() - interval '1 minute'
		RETURNING d.id, d.last_seen)
	SELECT ` + strings.TrimSuffix(columns, "d.last_seen") + `COALESCE(moved.last_seen, d.last_seen)
	FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN moved ON moved.id = d.id
	WHERE u.login = $1 AND d.device_id = $2`

// Touch loads the device a request comes from, registering user and device
// on first contact and refreshing type, agent, version and last-seen (at
// most once a minute, so busy phones do not write on every request).
func (s *Store) Touch(ctx context.Context, seen Seen) (*Device, error) {
	// The common case, a known device that reports itself as before, is
	// one statement without a transaction: a read that also moves the
	// last-seen when it is a minute old (a phone pinging again after a
	// long heartbeat).
	if d, err := scan(s.pool.QueryRow(ctx, touchKnown, seen.Login, seen.DeviceID)); err == nil && d.unchanged(seen) {
		return d, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	defer tx.Rollback(ctx)

	userID, err := userID(ctx, tx, seen.Login)
	if err != nil {
		return nil, err
	}
	d, err := scan(tx.QueryRow(ctx, byUserDevice, userID, seen.DeviceID))
	switch {
	case errors.Is(err, ErrNotFound):
		if s.maxPerUser > 0 {
			// Serialise registrations of one user so the limit holds.
			if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
				return nil, fmt.Errorf("device: %w", err)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM devices WHERE user_id = $1`, userID).Scan(&n); err != nil {
				return nil, fmt.Errorf("device: %w", err)
			}
			if n >= s.maxPerUser {
				return nil, ErrTooManyDevices
			}
		}
		// The access rules and the default decide once, at registration:
		// a later rule applies to existing devices only when asked to
		// (AddRule), and an administrator's decision always stands.
		rules, err := listRules(ctx, tx)
		if err != nil {
			return nil, err
		}
		access, source, ruleID := decide(rules, seen.DeviceType, seen.UserAgent, s.newAccess)
		_, err = tx.Exec(ctx, `INSERT INTO devices (user_id, device_id, device_type, user_agent, protocol_version,
			access_state, access_source, access_rule_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, 0)) ON CONFLICT (user_id, device_id) DO NOTHING`,
			userID, seen.DeviceID, seen.DeviceType, seen.UserAgent, seen.ProtocolVersion, access, source, ruleID)
		if err != nil {
			return nil, fmt.Errorf("device: register: %w", err)
		}
	case err != nil:
		return nil, err
	case d.unchanged(seen):
		return d, tx.Commit(ctx)
	default:
		_, err = tx.Exec(ctx, `UPDATE devices SET device_type = $2, user_agent = $3,
			protocol_version = CASE WHEN $4 = '' THEN protocol_version ELSE $4 END, last_seen = now()
			WHERE id = $1`, d.ID, seen.DeviceType, seen.UserAgent, seen.ProtocolVersion)
		if err != nil {
			return nil, fmt.Errorf("device: touch: %w", err)
		}
		if d.DeviceType != seen.DeviceType || d.UserAgent != seen.UserAgent {
			if err := s.reconsider(ctx, tx, d, seen); err != nil {
				return nil, err
			}
		}
	}
	d, err = scan(tx.QueryRow(ctx, byUserDevice, userID, seen.DeviceID))
	if err != nil {
		return nil, err
	}
	return d, tx.Commit(ctx)
}

// reconsider applies the access rules again to a device whose type or
// user agent changed (a phone updated its OS), as Exchange does: a
// matching rule decides; when none matches any more, a device a rule had
// decided gets the --new-devices default. A device on the default keeps
// its state, and an administrator's decision always stands (also one
// made while this request ran: the statement checks the row it updates).
func (s *Store) reconsider(ctx context.Context, tx pgx.Tx, d *Device, seen Seen) error {
	if d.AccessSource == SourceAdmin {
		return nil
	}
	rules, err := listRules(ctx, tx)
	if err != nil {
		return err
	}
	access, source, ruleID := decide(rules, seen.DeviceType, seen.UserAgent, s.newAccess)
	if source == SourceDefault && d.AccessSource == SourceDefault ||
		access == d.Access && source == d.AccessSource && ruleID == d.AccessRuleID {
		return nil
	}
	_, err = tx.Exec(ctx, `UPDATE devices SET access_state = $2, access_source = $3,
		access_rule_id = NULLIF($4, 0), access_changed_at = now() WHERE id = $1 AND access_source <> 'admin'`,
		d.ID, access, source, ruleID)
	if err != nil {
		return fmt.Errorf("device: access rules: %w", err)
	}
	return nil
}

// Get returns one device of login.
func (s *Store) Get(ctx context.Context, login, deviceID string) (*Device, error) {
	return scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM devices d JOIN users u ON u.id = d.user_id
		WHERE u.login = $1 AND d.device_id = $2`, login, deviceID))
}

// List returns the devices of login, or of everyone when login is empty.
func (s *Store) List(ctx context.Context, login string) ([]*Device, error) {
	return s.Find(ctx, Filter{Login: login})
}

// Filter narrows Find; zero fields match every device.
type Filter struct {
	Login      string    // exact
	DeviceType string    // case-insensitive
	State      string    // access state or wipe state
	SeenBefore time.Time // last request before
	SeenAfter  time.Time // last request at or after
	Protocol   string    // EAS protocol version, exact
}

// Find lists the devices matching f, by login and newest request first.
func (s *Store) Find(ctx context.Context, f Filter) ([]*Device, error) {
	ts := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM devices d JOIN users u ON u.id = d.user_id
		WHERE ($1 = '' OR u.login = $1) AND ($2 = '' OR lower(d.device_type) = lower($2))
		AND ($3 = '' OR d.access_state = $3 OR d.wipe_state = $3)
		AND ($4::timestamptz IS NULL OR d.last_seen < $4) AND ($5::timestamptz IS NULL OR d.last_seen >= $5)
		AND ($6 = '' OR d.protocol_version = $6)
		ORDER BY u.login, d.last_seen DESC`,
		f.Login, f.DeviceType, f.State, ts(f.SeenBefore), ts(f.SeenAfter), f.Protocol)
	if err != nil {
		return nil, fmt.Errorf("device: list: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Device, error) { return scan(row) })
}

// UserSummary is one login with partnerships.
type UserSummary struct {
	Login    string
	Devices  int
	LastSeen time.Time // the newest request of any of its devices
}

// Users lists the logins that have partnerships, by login.
func (s *Store) Users(ctx context.Context) ([]UserSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT u.login, count(*), max(d.last_seen)
		FROM devices d JOIN users u ON u.id = d.user_id GROUP BY u.login ORDER BY u.login`)
	if err != nil {
		return nil, fmt.Errorf("device: users: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (UserSummary, error) {
		var u UserSummary
		err := row.Scan(&u.Login, &u.Devices, &u.LastSeen)
		return u, err
	})
}

// update runs one UPDATE on the device (login, deviceID) and reports
// ErrNotFound when there is no such device.
func (s *Store) update(ctx context.Context, login, deviceID, set string, args ...any) error {
	args = append([]any{login, deviceID}, args...)
	tag, err := s.pool.Exec(ctx, `UPDATE devices d SET `+set+` FROM users u
		WHERE u.id = d.user_id AND u.login = $1 AND d.device_id = $2`, args...)
	if err != nil {
		return fmt.Errorf("device: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetAccess allows, blocks or quarantines a device, as an administrator's
// decision, without an audit entry; administrative tools use Decide.
func (s *Store) SetAccess(ctx context.Context, login, deviceID, state string) error {
	if err := checkAccess(state); err != nil {
		return err
	}
	return s.update(ctx, login, deviceID, `access_state = $3, access_source = 'admin', access_rule_id = NULL,
		access_changed_at = now()`, state)
}

// RequestWipe asks the device to wipe itself on its next request: the whole
// device, or with account true only the easd account's data (EAS 16.1).
func (s *Store) RequestWipe(ctx context.Context, login, deviceID string, account bool) error {
	state := WipeRequested
	if account {
		state = WipeAccountRequested
	}
	return s.update(ctx, login, deviceID, `wipe_state = $3, wipe_requested_at = now(), wipe_acked_at = NULL`, state)
}

// AckWipe records that the device confirmed the wipe.
func (s *Store) AckWipe(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE devices SET wipe_acked_at = now(),
		wipe_state = CASE wipe_state WHEN 'account_requested' THEN 'account_wiped' ELSE 'wiped' END
		WHERE id = $1 AND wipe_state IN ('requested', 'account_requested')`, id)
	if err != nil {
		return fmt.Errorf("device: ack wipe: %w", err)
	}
	return nil
}

// Remove deletes the partnership and, through the schema's cascades, all
// its sync state. The phone starts from scratch on its next request.
func (s *Store) Remove(ctx context.Context, login, deviceID string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM devices d USING users u
		WHERE u.id = d.user_id AND u.login = $1 AND d.device_id = $2`, login, deviceID)
	if err != nil {
		return fmt.Errorf("device: remove: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetInfo stores Settings DeviceInformation.
func (s *Store) SetInfo(ctx context.Context, id int64, in Info) error {
	_, err := s.pool.Exec(ctx, `UPDATE devices SET model = $2, imei = $3, friendly_name = $4, os = $5,
		os_language = $6, phone_number = $7, mobile_operator = $8, reported_user_agent = $9 WHERE id = $1`,
		id, in.Model, in.IMEI, in.FriendlyName, in.OS, in.OSLanguage, in.PhoneNumber, in.MobileOperator, in.UserAgent)
	if err != nil {
		return fmt.Errorf("device: info: %w", err)
	}
	return nil
}

// SetPendingPolicyKey records the key handed out in Provision phase 1.
func (s *Store) SetPendingPolicyKey(ctx context.Context, id int64, key uint32) error {
	_, err := s.pool.Exec(ctx, `UPDATE devices SET pending_policy_key = $2 WHERE id = $1`, id, int64(key))
	if err != nil {
		return fmt.Errorf("device: policy key: %w", err)
	}
	return nil
}

// SetPendingPolicy records the key handed out in Provision phase 1 and
// the generation of the policy sent with it. The device's current key stays
// valid until the new one is confirmed.
func (s *Store) SetPendingPolicy(ctx context.Context, id int64, key uint32, generation int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE devices SET pending_policy_key = $2, pending_policy_generation = $3
		WHERE id = $1`, id, int64(key), generation)
	if err != nil {
		return fmt.Errorf("device: policy key: %w", err)
	}
	return nil
}

// ConfirmPolicyKey makes the pending key (and its policy generation) the
// device's policy key when the device acknowledges it (Provision phase 2).
// It reports whether key was the pending one.
func (s *Store) ConfirmPolicyKey(ctx context.Context, id int64, key uint32) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE devices SET policy_key = pending_policy_key,
		policy_generation = pending_policy_generation, pending_policy_key = 0, pending_policy_generation = 0
		WHERE id = $1 AND pending_policy_key = $2 AND pending_policy_key <> 0`, id, int64(key))
	if err != nil {
		return false, fmt.Errorf("device: policy key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordRecoveryPassword notes that the device sent a recovery password
// (Settings DevicePassword). Only the time is kept: the password itself is
// a secret easd has no use for.
func (s *Store) RecordRecoveryPassword(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE devices SET recovery_password_at = now() WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("device: recovery password: %w", err)
	}
	return nil
}

// SetTrace switches the protocol trace of a device on until the given time,
// or off with a zero time. It takes effect on the device's next request, on
// every instance.
func (s *Store) SetTrace(ctx context.Context, login, deviceID string, until time.Time) error {
	var v any
	if !until.IsZero() {
		v = until
	}
	return s.update(ctx, login, deviceID, `trace_until = $3`, v)
}

// Tracing reports whether the device's protocol trace is on.
func (d *Device) Tracing() bool {
	return d.TraceUntil != nil && time.Now().Before(*d.TraceUntil)
}

// unchanged reports whether a request from the device tells nothing new
// and last-seen is fresh enough not to be rewritten.
func (d *Device) unchanged(seen Seen) bool {
	return d.DeviceType == seen.DeviceType && d.UserAgent == seen.UserAgent &&
		(seen.ProtocolVersion == "" || d.ProtocolVersion == seen.ProtocolVersion) &&
		time.Since(d.LastSeen) < time.Minute
}

// userID returns the id of login, creating the user on first contact.
// Read first: most requests come from known users, and an upsert would
// lock and rewrite their row every time. Each statement sees rows other
// transactions committed before it, so the final read finds a user that a
// concurrent request inserted.
func userID(ctx context.Context, tx pgx.Tx, login string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, login).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("device: user: %w", err)
	}
	err = tx.QueryRow(ctx, `INSERT INTO users (login) VALUES ($1) ON CONFLICT (login) DO NOTHING RETURNING id`, login).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = tx.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, login).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("device: user: %w", err)
	}
	return id, nil
}
