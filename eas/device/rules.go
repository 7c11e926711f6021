package device

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/audit"
)

// Where a device's access state came from (devices.access_source).
const (
	SourceDefault = "default" // the --new-devices setting at registration
	SourceRule    = "rule"    // an access rule
	SourceAdmin   = "admin"   // an administrator's decision on this device
)

// Rule actions.
const (
	RuleAllow      = "allow"
	RuleBlock      = "block"
	RuleQuarantine = "quarantine"
)

// Rule is a device access rule: devices whose DeviceType and HTTP
// User-Agent match get Action when they register. A pattern matches the
// whole value, case-insensitively; * stands for any run of characters, ?
// for one; an empty pattern matches anything, but a rule needs at least
// one.
type Rule struct {
	ID         int64     `json:"id"`
	DeviceType string    `json:"device_type,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	Action     string    `json:"action"`
	Note       string    `json:"note,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by,omitempty"`
}

// ErrNoRule is returned for a rule id that does not exist.
var ErrNoRule = errors.New("no such access rule")

// Matches reports whether the rule applies to a device of that type and
// user agent.
func (r Rule) Matches(deviceType, userAgent string) bool {
	return globMatch(r.DeviceType, deviceType) && globMatch(r.UserAgent, userAgent)
}

// specificity is how many fields the rule constrains.
func (r Rule) specificity() int {
	n := 0
	if r.DeviceType != "" {
		n++
	}
	if r.UserAgent != "" {
		n++
	}
	return n
}

// strictness orders actions: the stricter wins between equally specific
// rules, so that an overlap never lets in a device one rule keeps out.
func strictness(action string) int {
	switch action {
	case RuleBlock:
		return 2
	case RuleQuarantine:
		return 1
	}
	return 0
}

// accessOf is the access state a rule action gives.
func accessOf(action string) string {
	switch action {
	case RuleBlock:
		return Blocked
	case RuleQuarantine:
		return Quarantined
	}
	return Allowed
}

// decide applies the rules to a registering device: the most specific
// matching rule, the stricter on a tie; without one, def (the
// --new-devices setting).
func decide(rules []Rule, deviceType, userAgent, def string) (access, source string, ruleID int64) {
	var best *Rule
	for i := range rules {
		r := &rules[i]
		if !r.Matches(deviceType, userAgent) {
			continue
		}
		if best == nil || r.specificity() > best.specificity() ||
			r.specificity() == best.specificity() && strictness(r.Action) > strictness(best.Action) {
			best = r
		}
	}
	if best == nil {
		return def, SourceDefault, 0
	}
	return accessOf(best.Action), SourceRule, best.ID
}

// globMatch matches value against pattern (* and ?, case-insensitive,
// whole value); an empty pattern matches anything. User agents contain
// slashes, which path.Match would treat specially.
func globMatch(pattern, value string) bool {
	if pattern == "" {
		return true
	}
	var b strings.Builder
	b.WriteString(`(?is)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String()).MatchString(value)
}

// CheckRule validates a rule before it is stored.
func CheckRule(r Rule) error {
	switch r.Action {
	case RuleAllow, RuleBlock, RuleQuarantine:
	default:
		return fmt.Errorf("action %q is not allow, block or quarantine", r.Action)
	}
	if r.DeviceType == "" && r.UserAgent == "" {
		return errors.New("a rule needs a device type or a user agent pattern")
	}
	for _, p := range []string{r.DeviceType, r.UserAgent} {
		if len(p) > 256 || strings.ContainsAny(p, "\x00\r\n") {
			return fmt.Errorf("pattern %q is too long or holds control characters", p)
		}
	}
	return nil
}

func listRules(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) ([]Rule, error) {
	rows, err := q.Query(ctx, `SELECT id, device_type, user_agent, action, note, created_at, created_by
		FROM device_access_rules ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("device: rules: %w", err)
	}
	rules, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rule, error) {
		var x Rule
		err := r.Scan(&x.ID, &x.DeviceType, &x.UserAgent, &x.Action, &x.Note, &x.CreatedAt, &x.CreatedBy)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("device: rules: %w", err)
	}
	return rules, nil
}

// Rules lists the access rules, oldest first.
func (s *Store) Rules(ctx context.Context) ([]Rule, error) {
	return listRules(ctx, s.pool)
}

// AddRule stores an access rule for devices that register from now on.
// With applyExisting, devices already registered whose access no
// administrator decided are evaluated again against all rules, and those a
// rule now decides differently change; it returns how many did. Devices no
// rule matches keep their state.
func (s *Store) AddRule(ctx context.Context, who audit.Who, r Rule, applyExisting bool) (Rule, int, error) {
	if err := CheckRule(r); err != nil {
		return r, 0, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return r, 0, fmt.Errorf("device: add rule: %w", err)
	}
	defer tx.Rollback(ctx)
	// One rule change at a time, so that two re-evaluations do not
	// interleave.
	if _, err := tx.Exec(ctx, `LOCK TABLE device_access_rules IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return r, 0, fmt.Errorf("device: add rule: %w", err)
	}
	err = tx.QueryRow(ctx, `INSERT INTO device_access_rules (device_type, user_agent, action, note, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`, r.DeviceType, r.UserAgent, r.Action, r.Note, who.Actor).
		Scan(&r.ID, &r.CreatedAt)
	if err != nil {
		return r, 0, fmt.Errorf("device: add rule: %w", err)
	}
	r.CreatedBy = who.Actor
	changed := 0
	if applyExisting {
		if changed, err = reapplyRules(ctx, tx); err != nil {
			return r, 0, err
		}
	}
	detail := map[string]any{"device_type": r.DeviceType, "user_agent": r.UserAgent, "action": r.Action,
		"apply_existing": applyExisting, "devices_changed": changed}
	if r.Note != "" {
		detail["note"] = r.Note
	}
	if err := audit.Record(ctx, tx, who, "device.rule_add", ruleTarget(r.ID), detail); err != nil {
		return r, 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return r, 0, fmt.Errorf("device: add rule: %w", err)
	}
	return r, changed, nil
}

// reapplyRules evaluates the rules again for every device whose access
// no administrator decided, and changes those a rule decides differently.
func reapplyRules(ctx context.Context, tx pgx.Tx) (int, error) {
	rules, err := listRules(ctx, tx)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT id, device_type, user_agent, access_state, access_source,
		COALESCE(access_rule_id, 0) FROM devices WHERE access_source <> 'admin' FOR UPDATE`)
	if err != nil {
		return 0, fmt.Errorf("device: apply rules: %w", err)
	}
	type dev struct {
		id                      int64
		typ, ua, access, source string
		rule                    int64
	}
	devs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dev, error) {
		var d dev
		err := r.Scan(&d.id, &d.typ, &d.ua, &d.access, &d.source, &d.rule)
		return d, err
	})
	if err != nil {
		return 0, fmt.Errorf("device: apply rules: %w", err)
	}
	n := 0
	for _, d := range devs {
		access, source, rule := decide(rules, d.typ, d.ua, d.access)
		if source != SourceRule || access == d.access && d.source == SourceRule && rule == d.rule {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET access_state = $2, access_source = 'rule',
			access_rule_id = $3, access_changed_at = now() WHERE id = $1`, d.id, access, rule); err != nil {
			return 0, fmt.Errorf("device: apply rules: %w", err)
		}
		if access != d.access {
			n++
		}
	}
	return n, nil
}

// RemoveRule deletes an access rule. Devices it decided keep their state
// (an administrator allows or blocks them one by one, or adds a rule with
// applyExisting); only devices registering later are no longer matched.
func (s *Store) RemoveRule(ctx context.Context, who audit.Who, id int64) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("device: remove rule: %w", err)
	}
	defer tx.Rollback(ctx)
	var r Rule
	err = tx.QueryRow(ctx, `DELETE FROM device_access_rules WHERE id = $1
		RETURNING device_type, user_agent, action`, id).Scan(&r.DeviceType, &r.UserAgent, &r.Action)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoRule
	}
	if err != nil {
		return fmt.Errorf("device: remove rule: %w", err)
	}
	if err := audit.Record(ctx, tx, who, "device.rule_remove", ruleTarget(id),
		map[string]any{"device_type": r.DeviceType, "user_agent": r.UserAgent, "action": r.Action}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("device: remove rule: %w", err)
	}
	return nil
}

func ruleTarget(id int64) string { return "device-rule:" + strconv.FormatInt(id, 10) }
