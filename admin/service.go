// Package admin is easd's fleet administration over HTTP: the operations
// an administrator has on the command line (devices, policies, the audit
// log) plus a live view, offered as a JSON API and as a server-rendered
// web page on their own listener (--admin-listen), never on the phones'
// port. Both front ends call the one Service, so each operation is one
// method here, one route in api.go (and a form in web.go where it has
// one), and one entry in openapi.yaml.
//
// Callers authenticate with admin tokens (`easd admin token create`),
// kept as SHA-256 hashes; the web page trades a token for a session
// cookie. Every change is recorded in the audit log as "token:NAME" (API)
// or "web:NAME" (web page), with the client's address.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/eas/syncstate"
)

// Errors the front ends map to HTTP statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid request")
	ErrConflict = errors.New("conflict")
)

// invalid is a bad-input error that says what is wrong.
func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Service holds the administrative operations.
type Service struct {
	devices  *device.Store
	policies *policy.Store
	folders  *folders.Store
	audit    *audit.Store
	pool     *pgxpool.Pool
	live     *Live
}

// NewService returns the operations on pool; live may be nil (no live
// view, as for the command line).
func NewService(pool *pgxpool.Pool, live *Live) *Service {
	return &Service{devices: device.NewStore(pool, 0), policies: policy.NewStore(pool),
		folders: folders.NewStore(pool), audit: audit.NewStore(pool), pool: pool, live: live}
}

// User is one login with partnerships.
type User struct {
	Login    string    `json:"login"`
	Devices  int       `json:"devices"`
	LastSeen time.Time `json:"last_seen"`
}

// Device is a partnership as the API shows it.
type Device struct {
	User             string     `json:"user"`
	DeviceID         string     `json:"device_id"`
	DeviceType       string     `json:"device_type"`
	UserAgent        string     `json:"user_agent"`
	ProtocolVersion  string     `json:"protocol_version"`
	Model            string     `json:"model,omitempty"`
	FriendlyName     string     `json:"friendly_name,omitempty"`
	OS               string     `json:"os,omitempty"`
	PhoneNumber      string     `json:"phone_number,omitempty"`
	MobileOperator   string     `json:"mobile_operator,omitempty"`
	IMEI             string     `json:"imei,omitempty"`
	Access           string     `json:"access"`
	AccessSource     string     `json:"access_source"` // default, rule or admin
	AccessRuleID     int64      `json:"access_rule_id,omitempty"`
	AccessChangedAt  *time.Time `json:"access_changed_at,omitempty"`
	Wipe             string     `json:"wipe"`
	WipeRequestedAt  *time.Time `json:"wipe_requested_at,omitempty"`
	WipeAckedAt      *time.Time `json:"wipe_acked_at,omitempty"`
	Provisioned      bool       `json:"provisioned"`
	PolicyUpToDate   bool       `json:"policy_up_to_date"`
	TraceUntil       *time.Time `json:"trace_until,omitempty"`
	FirstSeen        time.Time  `json:"first_seen"`
	LastSeen         time.Time  `json:"last_seen"`
	policyID         int64
	policyGeneration int64
	currentGen       int64
	rowID, userID    int64
}

func view(d *device.Device) Device {
	return Device{User: d.Login, DeviceID: d.DeviceID, DeviceType: d.DeviceType, UserAgent: d.UserAgent,
		ProtocolVersion: d.ProtocolVersion, Model: d.Model, FriendlyName: d.FriendlyName, OS: d.OS,
		PhoneNumber: d.PhoneNumber, MobileOperator: d.MobileOperator, IMEI: d.IMEI,
		Access: d.Access, AccessSource: d.AccessSource, AccessRuleID: d.AccessRuleID, AccessChangedAt: d.AccessChangedAt, Wipe: d.Wipe, WipeRequestedAt: d.WipeRequestedAt, WipeAckedAt: d.WipeAckedAt,
		Provisioned: d.PolicyKey != 0, PolicyUpToDate: d.PolicyKey != 0 && d.PolicyGeneration == d.CurrentPolicyGeneration,
		TraceUntil: d.TraceUntil, FirstSeen: d.FirstSeen, LastSeen: d.LastSeen,
		policyID: d.PolicyID, policyGeneration: d.PolicyGeneration, currentGen: d.CurrentPolicyGeneration,
		rowID: d.ID, userID: d.UserID}
}

// DeviceFilter narrows Devices; zero fields match everything.
type DeviceFilter struct {
	User     string    // login, exact
	Type     string    // DeviceType, case-insensitive
	State    string    // access state (allowed, blocked, quarantined) or wipe state (requested, wiped, ...)
	Before   time.Time // last request before
	After    time.Time // last request at or after
	Protocol string    // EAS protocol version, exact ("16.1")
}

// States a DeviceFilter may name.
var filterStates = []string{device.Allowed, device.Blocked, device.Quarantined,
	device.WipeRequested, device.WipeAccountRequested, device.Wiped, device.AccountWiped}

// Check refuses a filter naming an unknown state.
func (f DeviceFilter) Check() error {
	if f.State != "" && !slices.Contains(filterStates, f.State) {
		return invalid("state %q is none of %s", f.State, strings.Join(filterStates, ", "))
	}
	if !f.Before.IsZero() && !f.After.IsZero() && !f.After.Before(f.Before) {
		return invalid("synced_after must be before synced_before")
	}
	return nil
}

// Devices lists the partnerships matching f, by user and last request.
func (s *Service) Devices(ctx context.Context, f DeviceFilter) ([]Device, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	all, err := s.devices.Find(ctx, device.Filter{Login: f.User, DeviceType: f.Type, State: f.State,
		SeenBefore: f.Before, SeenAfter: f.After, Protocol: f.Protocol})
	if err != nil {
		return nil, err
	}
	out := make([]Device, 0, len(all))
	for _, d := range all {
		out = append(out, view(d))
	}
	return out, nil
}

// Users lists the logins that have partnerships, with how many and when
// the newest was last seen.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	sums, err := s.devices.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(sums))
	for _, u := range sums {
		out = append(out, User{Login: u.Login, Devices: u.Devices, LastSeen: u.LastSeen})
	}
	return out, nil
}

// Collection is one collection a device syncs and its state.
type Collection struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Type    string    `json:"type"`
	SyncKey string    `json:"sync_key"`
	Updated time.Time `json:"updated"`
}

// PolicyStatus tells which policy applies to a device and whether the
// device has provisioned with its current generation.
type PolicyStatus struct {
	Name string `json:"name"`
	// Assigned is true when the device has its own assignment.
	Assigned bool `json:"assigned"`
	// Source says which rule gives the device its policy: its own
	// assignment, its user's, its device type's, or none (the default).
	Source            string `json:"source"`
	IssuedGeneration  int64  `json:"issued_generation"`
	CurrentGeneration int64  `json:"current_generation"`
	UpToDate          bool   `json:"up_to_date"`
}

// DeviceDetail is everything known about one device.
type DeviceDetail struct {
	Device
	Collections []Collection `json:"collections"`
	Policy      PolicyStatus `json:"policy"`
	// RecentErrors are the device's last requests that ended in an error,
	// newest first (at most device.KeptErrors).
	RecentErrors []RecentError `json:"recent_errors"`
}

// RecentError is a request of the device that ended in an error.
type RecentError struct {
	At         time.Time `json:"at"`
	Command    string    `json:"command"`
	HTTPStatus int       `json:"http_status"`
	EASStatus  int       `json:"eas_status,omitempty"` // absent: none in the answer
	Reason     string    `json:"reason"`
}

// Device returns one device with its collections and policy status.
func (s *Service) Device(ctx context.Context, login, deviceID string) (*DeviceDetail, error) {
	d, err := s.devices.Get(ctx, login, deviceID)
	if errors.Is(err, device.ErrNotFound) {
		return nil, fmt.Errorf("%w: no device %q of user %q", ErrNotFound, deviceID, login)
	}
	if err != nil {
		return nil, err
	}
	det := &DeviceDetail{Device: view(d), Collections: []Collection{}, RecentErrors: []RecentError{}}
	errs, err := s.devices.Errors(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range errs {
		det.RecentErrors = append(det.RecentErrors, RecentError(e))
	}
	cs, err := syncstate.Collections(ctx, s.pool, d.ID)
	if err != nil {
		return nil, err
	}
	fs, err := s.folders.List(ctx, d.UserID)
	if err != nil {
		return nil, err
	}
	names := map[string]folders.Folder{}
	for _, f := range fs {
		names[f.ServerID] = f
	}
	for _, c := range cs {
		col := Collection{ID: c.ID, SyncKey: c.Key, Updated: c.Updated}
		if f, ok := names[c.ID]; ok {
			col.Name, col.Type = f.DisplayName, folderType(f)
		} else if c.ID == syncstate.HierarchyID {
			col.Name, col.Type = "(folder hierarchy)", "hierarchy"
		}
		det.Collections = append(det.Collections, col)
	}
	p, err := s.policies.ForDevice(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	src, err := s.policySource(ctx, d, p.Name)
	if err != nil {
		return nil, err
	}
	det.Policy = PolicyStatus{Name: p.Name, Assigned: d.PolicyID != 0, Source: src, IssuedGeneration: d.PolicyGeneration,
		CurrentGeneration: p.Generation, UpToDate: d.PolicyKey != 0 && d.PolicyGeneration == p.Generation}
	return det, nil
}

// Where a device's policy comes from (PolicyStatus.Source), in the order
// the rules are tried (schema function device_policy_id).
const (
	SourceDevice     = "device"
	SourceUser       = "user"
	SourceDeviceType = "device_type"
	SourceDefault    = "default"
)

// policySource finds the rule that gives d the policy called name, in
// that policy's assignments.
func (s *Service) policySource(ctx context.Context, d *device.Device, name string) (string, error) {
	if d.PolicyID != 0 {
		return SourceDevice, nil
	}
	as, err := s.policies.Assignments(ctx, name)
	if err != nil {
		return "", err
	}
	src := SourceDefault
	for _, a := range as {
		switch {
		case a.Target.DeviceType == "" && a.Target.DeviceID == "" && a.Target.Login == d.Login:
			return SourceUser, nil
		case a.Target.DeviceType != "" && strings.EqualFold(a.Target.DeviceType, d.DeviceType):
			src = SourceDeviceType
		}
	}
	return src, nil
}

// folderTypes names the folder types (MS-ASCMD 2.2.3.186.3) for people.
var folderTypes = map[model.FolderType]string{
	model.FolderGeneric: "mail", model.FolderInbox: "inbox", model.FolderDrafts: "drafts",
	model.FolderDeletedItems: "deleted items", model.FolderSentItems: "sent items", model.FolderOutbox: "outbox",
	model.FolderTasks: "tasks", model.FolderCalendar: "calendar", model.FolderContacts: "contacts",
	model.FolderNotes: "notes", model.FolderUserMail: "mail", model.FolderUserCalendar: "calendar",
	model.FolderUserContacts: "contacts", model.FolderUserTasks: "tasks", model.FolderUserNotes: "notes",
}

func folderType(f folders.Folder) string {
	if n, ok := folderTypes[f.Type]; ok {
		return n
	}
	return fmt.Sprintf("type %d", f.Type)
}

// deviceErr turns the registry's errors into the front ends'.
func deviceErr(err error, login, deviceID string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, device.ErrNotFound):
		return fmt.Errorf("%w: no device %q of user %q", ErrNotFound, deviceID, login)
	case errors.Is(err, device.ErrNoFolder):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.Is(err, device.ErrAmbiguousFolder):
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	case errors.Is(err, device.ErrNoWipe), errors.Is(err, device.ErrWipeDone), errors.Is(err, device.ErrAccountWipeProto):
		// The request is well formed; the device's state refuses it.
		return fmt.Errorf("%w: %s/%s: %v", ErrConflict, login, deviceID, err)
	}
	return err
}

// The device operations below change the device and write its audit
// entry in one transaction (eas/device's administrative methods).

// Wipe asks the device to erase itself (accountOnly: only this account's
// data, which needs EAS 16.1: ErrConflict for an older device) on its
// next request. Asking again is harmless.
func (s *Service) Wipe(ctx context.Context, who audit.Who, login, deviceID string, accountOnly bool) error {
	_, err := s.devices.Wipe(ctx, who, login, deviceID, accountOnly)
	return deviceErr(err, login, deviceID)
}

// CancelWipe withdraws a wipe the device has not confirmed yet; with none
// pending, or one confirmed, it is ErrConflict.
func (s *Service) CancelWipe(ctx context.Context, who audit.Who, login, deviceID string) error {
	_, err := s.devices.CancelWipe(ctx, who, login, deviceID)
	return deviceErr(err, login, deviceID)
}

// SetAccess allows, blocks or quarantines a device, as an administrator's
// decision that access rules never override.
func (s *Service) SetAccess(ctx context.Context, who audit.Who, login, deviceID, state string) error {
	if state != device.Blocked && state != device.Allowed && state != device.Quarantined {
		return invalid("access %q is none of %s, %s, %s", state, device.Allowed, device.Blocked, device.Quarantined)
	}
	_, err := s.devices.Decide(ctx, who, login, deviceID, state)
	return deviceErr(err, login, deviceID)
}

// Approve lets a quarantined (or blocked) device sync; a Ping it has
// waiting ends at once.
func (s *Service) Approve(ctx context.Context, who audit.Who, login, deviceID string) error {
	_, err := s.devices.Approve(ctx, who, login, deviceID)
	return deviceErr(err, login, deviceID)
}

// Resync makes the device download everything again, keeping the
// partnership; with collection (a folder id or display name) only that
// collection. It returns the collection id reset ("" for all).
func (s *Service) Resync(ctx context.Context, who audit.Who, login, deviceID, collection string) (string, error) {
	id, err := s.devices.Resync(ctx, who, login, deviceID, collection)
	return id, deviceErr(err, login, deviceID)
}

// Remove deletes the partnership and its sync state.
func (s *Service) Remove(ctx context.Context, who audit.Who, login, deviceID string) error {
	return deviceErr(s.devices.Delete(ctx, who, login, deviceID), login, deviceID)
}

// maxTrace bounds a protocol trace: it logs every request and response.
const maxTrace = 7 * 24 * time.Hour

// Trace logs the device's requests and responses for d (at most a week),
// or stops with d = 0.
func (s *Service) Trace(ctx context.Context, who audit.Who, login, deviceID string, d time.Duration) error {
	if d < 0 || d > maxTrace {
		return invalid("a trace lasts from 1s to %s", maxTrace)
	}
	var until time.Time
	if d > 0 {
		until = time.Now().Add(d)
	}
	_, err := s.devices.Trace(ctx, who, login, deviceID, until)
	return deviceErr(err, login, deviceID)
}

// Rules lists the device access rules, oldest first.
func (s *Service) Rules(ctx context.Context) ([]device.Rule, error) {
	rs, err := s.devices.Rules(ctx)
	if rs == nil {
		rs = []device.Rule{}
	}
	return rs, err
}

// AddedRule is a new access rule and how many registered devices it
// changed (with ApplyExisting).
type AddedRule struct {
	Rule           device.Rule `json:"rule"`
	DevicesChanged int         `json:"devices_changed"`
	// Existed is true when the same rule was there already (a retry):
	// nothing was written.
	Existed bool `json:"existed"`
}

// AddRule stores an access rule for devices that register from now on;
// with applyExisting it also decides again the devices whose access no
// administrator set. A rule with the same patterns and action is not
// added twice, so that a retried request leaves one rule.
func (s *Service) AddRule(ctx context.Context, who audit.Who, r device.Rule, applyExisting bool) (*AddedRule, error) {
	if err := device.CheckRule(r); err != nil {
		return nil, invalid("%v", err)
	}
	rules, err := s.devices.Rules(ctx)
	if err != nil {
		return nil, err
	}
	for _, x := range rules {
		if strings.EqualFold(x.DeviceType, r.DeviceType) && strings.EqualFold(x.UserAgent, r.UserAgent) && x.Action == r.Action {
			return &AddedRule{Rule: x, Existed: true}, nil
		}
	}
	r, n, err := s.devices.AddRule(ctx, who, r, applyExisting)
	if err != nil {
		return nil, err
	}
	return &AddedRule{Rule: r, DevicesChanged: n}, nil
}

// RemoveRule deletes an access rule; the devices it decided keep their
// state.
func (s *Service) RemoveRule(ctx context.Context, who audit.Who, id int64) error {
	err := s.devices.RemoveRule(ctx, who, id)
	if errors.Is(err, device.ErrNoRule) {
		return fmt.Errorf("%w: no access rule %d", ErrNotFound, id)
	}
	return err
}

// AssignPolicy gives target (a device, a user or a device type) the
// named policy, or takes its assignment away with "" (the next rule
// applies then). changed is false when target had that assignment
// already: a retry changes nothing and records nothing.
func (s *Service) AssignPolicy(ctx context.Context, who audit.Who, target policy.Target, name string) (changed bool, err error) {
	changed, err = s.policies.AssignBy(ctx, who, target, name)
	return changed, policyErr(err, name)
}

// policyErr turns the policy store's errors into the front ends'.
func policyErr(err error, name string) error {
	var ve *policy.ValueError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, policy.ErrDeviceNotFound):
		// Before ErrNotFound, which it matches too.
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.Is(err, policy.ErrNotFound):
		return fmt.Errorf("%w: no policy %q", ErrNotFound, name)
	case errors.Is(err, policy.ErrExists):
		return fmt.Errorf("%w: policy %q exists", ErrConflict, name)
	case errors.Is(err, policy.ErrDefault):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case errors.Is(err, policy.ErrInvalid), errors.As(err, &ve):
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return err
}

// Policy is a policy as the API shows it. Usage is in lists and the
// single view; Assignments only in the single view.
type Policy struct {
	Name                  string              `json:"name"`
	Default               bool                `json:"default"`
	Generation            int64               `json:"generation"`
	AllowNonProvisionable bool                `json:"allow_non_provisionable"`
	Settings              policy.Settings     `json:"settings"`
	UpdatedAt             time.Time           `json:"updated_at"`
	Usage                 *policy.Usage       `json:"usage,omitempty"`
	Assignments           []policy.Assignment `json:"assignments,omitempty"`
}

func policyView(p *policy.Policy) Policy {
	return Policy{Name: p.Name, Default: p.Default, Generation: p.Generation,
		AllowNonProvisionable: p.AllowNonProvisionable, Settings: p.Settings, UpdatedAt: p.UpdatedAt}
}

// Policies lists the policies, the default first, with their usage.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	ps, err := s.policies.List(ctx)
	if err != nil {
		return nil, err
	}
	usage, err := s.policies.Usages(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Policy, 0, len(ps))
	for _, p := range ps {
		v, u := policyView(p), usage[p.ID]
		v.Usage = &u
		out = append(out, v)
	}
	return out, nil
}

// Policy returns one policy with its usage and its assignments (device
// types, users, devices).
func (s *Service) Policy(ctx context.Context, name string) (*Policy, error) {
	p, err := s.policies.Get(ctx, name)
	if err != nil {
		return nil, policyErr(err, name)
	}
	v := policyView(p)
	usage, err := s.policies.Usages(ctx)
	if err != nil {
		return nil, err
	}
	u := usage[p.ID]
	v.Usage = &u
	if v.Assignments, err = s.policies.Assignments(ctx, name); err != nil {
		return nil, err
	}
	if v.Assignments == nil {
		v.Assignments = []policy.Assignment{}
	}
	return &v, nil
}

// PolicyChange is a new policy or an edit. Settings is JSON over the
// defaults (create) or the current settings (edit): fields left out keep
// their value; an unknown field is refused.
type PolicyChange struct {
	Name                  string          `json:"name,omitempty"` // create only
	AllowNonProvisionable *bool           `json:"allow_non_provisionable,omitempty"`
	Settings              json.RawMessage `json:"settings,omitempty"`
}

// apply lays c over allow and set. The values are checked against
// MS-ASPROV by the policy store, in the change.
func (c PolicyChange) apply(allow bool, set policy.Settings) (bool, policy.Settings, error) {
	if c.AllowNonProvisionable != nil {
		allow = *c.AllowNonProvisionable
	}
	if len(c.Settings) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(c.Settings)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&set); err != nil {
			return allow, set, invalid("settings: %v", err)
		}
	}
	return allow, set, nil
}

// CreatePolicy adds a named policy; the audit entry is written with it.
func (s *Service) CreatePolicy(ctx context.Context, who audit.Who, c PolicyChange) (*Policy, error) {
	allow, set, err := c.apply(true, policy.Defaults())
	if err != nil {
		return nil, err
	}
	p, err := s.policies.CreateBy(ctx, who, c.Name, allow, set)
	if err != nil {
		return nil, policyErr(err, c.Name)
	}
	v := policyView(p)
	v.Usage, v.Assignments = &policy.Usage{}, []policy.Assignment{}
	return &v, nil
}

// PolicyEdit is a policy after an edit, with what the edit changed
// (none: nothing was written, the generation stays).
type PolicyEdit struct {
	Policy
	Changes []policy.Change `json:"changes"`
}

// UpdatePolicy edits a policy. When anything changed, it gets a new
// generation and its devices provision again; the audit entry is written
// with the change.
func (s *Service) UpdatePolicy(ctx context.Context, who audit.Who, name string, c PolicyChange) (*PolicyEdit, error) {
	if c.Name != "" && c.Name != name {
		return nil, invalid("a policy cannot be renamed")
	}
	cur, err := s.policies.Get(ctx, name)
	if err != nil {
		return nil, policyErr(err, name)
	}
	allow, set, err := c.apply(cur.AllowNonProvisionable, cur.Settings)
	if err != nil {
		return nil, err
	}
	_, changes, err := s.policies.UpdateBy(ctx, who, name, allow, set)
	if err != nil {
		return nil, policyErr(err, name)
	}
	v, err := s.Policy(ctx, name)
	if err != nil {
		return nil, err
	}
	if changes == nil {
		changes = []policy.Change{}
	}
	return &PolicyEdit{Policy: *v, Changes: changes}, nil
}

// RemovePolicy deletes a policy; what used it falls back to the next
// rule. The default policy cannot be removed (ErrConflict).
func (s *Service) RemovePolicy(ctx context.Context, who audit.Who, name string) error {
	return policyErr(s.policies.RemoveBy(ctx, who, name), name)
}

// Audit returns audit log entries, newest first.
func (s *Service) Audit(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	es, err := s.audit.List(ctx, f)
	if es == nil {
		es = []audit.Entry{}
	}
	return es, err
}

// Live returns the live view of this instance.
func (s *Service) Live() LiveView {
	if s.live == nil {
		return LiveView{}
	}
	return s.live.View()
}
