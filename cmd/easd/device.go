package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/config"
)

// deviceAction is one `easd device` subcommand.
type deviceAction = adminAction[deviceCmd]

// deviceCmd is one run of `easd device`: the registry and where to report.
type deviceCmd struct {
	store  *device.Store
	who    audit.Who
	out    io.Writer
	json   bool          // --json
	user   string        // list --user
	traceD time.Duration // trace --for
	off    bool          // trace --off
	cancel bool          // wipe --cancel
	folder string        // resync --folder
	rule   device.Rule   // rule add --type --agent --action --note
	apply  bool          // rule add --existing
}

var deviceActions = []deviceAction{
	{"list", "", "list devices (of one user with --user)", 0, (*deviceCmd).list},
	{"show", "USER DEVICE", "show everything known about a device", 2, (*deviceCmd).show},
	{"wipe", "USER DEVICE", "make the device erase itself on its next request (--cancel: withdraw a wipe not yet confirmed)", 2, (*deviceCmd).wipe},
	{"account-wipe", "USER DEVICE", "make the device remove only this account's data (EAS 16.1 clients)", 2, (*deviceCmd).wipe},
	{"cancel-wipe", "USER DEVICE", "withdraw a wipe the device has not confirmed yet", 2, (*deviceCmd).wipe},
	{"block", "USER DEVICE", "refuse the device's requests", 2, (*deviceCmd).access},
	{"allow", "USER DEVICE", "let a blocked or quarantined device sync (approve it)", 2, (*deviceCmd).access},
	{"approve", "USER DEVICE", "same as allow", 2, (*deviceCmd).access},
	{"quarantine", "USER DEVICE", "hold the device until it is allowed; it sees a notice in its Inbox", 2, (*deviceCmd).access},
	{"resync", "USER DEVICE", "make the device download everything again, or one folder with --folder NAME-or-id, keeping the partnership", 2, (*deviceCmd).resync},
	{"remove", "USER DEVICE", "delete the partnership and its sync state; the device starts over", 2, (*deviceCmd).remove},
	{"trace", "USER DEVICE", "log the device's requests and responses as XML (--for 1h, --off)", 2, (*deviceCmd).trace},
	{"rule", "add|list|remove [ID]", "access rules for new devices by --type and --agent pattern (* and ?): --action allow|block|quarantine", -1, (*deviceCmd).rules},
}

func deviceUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd device <action> [args] [--json] [--database-url URL]")
	fmt.Fprintln(w)
	for _, a := range deviceActions {
		fmt.Fprintf(w, "  %-13s %-21s %s\n", a.name, a.args, a.help)
	}
	fmt.Fprintln(w, "\nUSER DEVICE may also be written USER/DEVICE. The database is --database-url or EASD_DATABASE_URL.")
	fmt.Fprintln(w, "Changes take effect on the device's next request and are recorded in the audit log (easd audit).")
}

// runDevice administers the device registry. Usage errors exit 2 with one
// line, an unknown device or a refused change 1.
func runDevice(args []string, stdout, stderr io.Writer) int {
	if code, done := subcommandHelp(args, deviceUsage, stderr); done {
		return code
	}
	action := findAction(deviceActions, args[0])
	if action == nil {
		return unknownAction("device", args[0], stderr)
	}

	d := &deviceCmd{out: stdout, who: audit.CLI()}
	fs := flag.NewFlagSet("easd device "+action.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line below
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	fs.BoolVar(&d.json, "json", false, "print the result as JSON")
	switch action.name {
	case "list":
		fs.StringVar(&d.user, "user", "", "only this user's devices")
	case "trace":
		fs.DurationVar(&d.traceD, "for", time.Hour, "how long to trace")
		fs.BoolVar(&d.off, "off", false, "switch the trace off")
	case "wipe":
		fs.BoolVar(&d.cancel, "cancel", false, "withdraw a pending wipe instead")
	case "resync":
		fs.StringVar(&d.folder, "folder", "", "only this folder (id or name)")
	case "rule":
		fs.StringVar(&d.rule.DeviceType, "type", "", "DeviceType pattern, e.g. iPhone or SAMSUNG*")
		fs.StringVar(&d.rule.UserAgent, "agent", "", "User-Agent pattern, e.g. Apple-iPhone*")
		fs.StringVar(&d.rule.Action, "action", "", "allow, block or quarantine")
		fs.StringVar(&d.rule.Note, "note", "", "why the rule exists")
		fs.BoolVar(&d.apply, "existing", false, "also apply the rules again to registered devices no administrator decided")
	}
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: easd device %s %s\n  %s\n", action.name, action.args, action.help)
	}
	pos, code, done := parseFlags("device", fs, args[1:], usage, func(pos []string) error {
		pos = splitUserDevice(pos, action.nargs)
		switch {
		case action.nargs >= 0 && len(pos) != action.nargs:
			return fmt.Errorf("%s takes %d arguments (%s), got %d", action.name, action.nargs, action.args, len(pos))
		case action.name == "rule" && !validRuleArgs(pos):
			return errors.New("rule takes add, list, or remove ID")
		case *dsn == "":
			return &config.Error{Flag: "database-url", Msg: "required"}
		case action.name == "trace" && !d.off && d.traceD <= 0:
			return errors.New("--for must be positive")
		}
		return nil
	}, stderr)
	if done {
		return code
	}
	pos = splitUserDevice(pos, action.nargs)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd device: database: "+err.Error()))
		return exitUsage
	}
	defer pool.Close()
	d.store = device.NewStore(pool, 0)
	if err := action.run(d, ctx, append([]string{action.name}, pos...)); err != nil {
		if errors.Is(err, device.ErrNotFound) && len(pos) == 2 {
			err = fmt.Errorf("no device %q of user %q", pos[1], pos[0])
		}
		fmt.Fprintln(stderr, oneLine("easd device: "+err.Error()))
		return 1
	}
	return 0
}

// splitUserDevice turns one USER/DEVICE argument into two where the action
// takes USER DEVICE.
func splitUserDevice(pos []string, nargs int) []string {
	if nargs == 2 && len(pos) == 1 {
		if u, dev, ok := strings.Cut(pos[0], "/"); ok && u != "" && dev != "" {
			return []string{u, dev}
		}
	}
	return pos
}

func validRuleArgs(pos []string) bool {
	switch {
	case len(pos) == 1 && (pos[0] == "add" || pos[0] == "list"):
		return true
	case len(pos) == 2 && pos[0] == "remove":
		_, err := strconv.ParseInt(pos[1], 10, 64)
		return err == nil
	}
	return false
}

// report prints v as one JSON document with --json, else the text line.
func (d *deviceCmd) report(v any, format string, args ...any) error {
	if d.json {
		enc := json.NewEncoder(d.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintf(d.out, format+"\n", args...)
	return err
}

// deviceJSON is a device as --json prints it.
type deviceJSON struct {
	User             string     `json:"user"`
	Device           string     `json:"device"`
	Type             string     `json:"type"`
	UserAgent        string     `json:"user_agent"`
	Protocol         string     `json:"protocol"`
	Model            string     `json:"model,omitempty"`
	FriendlyName     string     `json:"friendly_name,omitempty"`
	OS               string     `json:"os,omitempty"`
	OSLanguage       string     `json:"os_language,omitempty"`
	IMEI             string     `json:"imei,omitempty"`
	PhoneNumber      string     `json:"phone_number,omitempty"`
	Operator         string     `json:"operator,omitempty"`
	Access           string     `json:"access"`
	AccessSource     string     `json:"access_source"`
	AccessRule       int64      `json:"access_rule,omitempty"`
	AccessChanged    *time.Time `json:"access_changed,omitempty"`
	PolicyKey        uint32     `json:"policy_key"`
	PendingPolicyKey uint32     `json:"pending_policy_key"`
	Wipe             string     `json:"wipe"`
	WipeRequested    *time.Time `json:"wipe_requested,omitempty"`
	WipeConfirmed    *time.Time `json:"wipe_confirmed,omitempty"`
	TraceUntil       *time.Time `json:"trace_until,omitempty"`
	FirstSeen        time.Time  `json:"first_seen"`
	LastSeen         time.Time  `json:"last_seen"`
	// RecentErrors is shown by `show` only (nil elsewhere).
	RecentErrors []errorJSON `json:"recent_errors,omitempty"`
}

// errorJSON is a request of the device that ended in an error.
type errorJSON struct {
	At         time.Time `json:"at"`
	Command    string    `json:"command"`
	HTTPStatus int       `json:"http_status"`
	EASStatus  int       `json:"eas_status,omitempty"`
	Reason     string    `json:"reason"`
}

func deviceToJSON(v *device.Device) deviceJSON {
	j := deviceJSON{User: v.Login, Device: v.DeviceID, Type: v.DeviceType, UserAgent: v.UserAgent,
		Protocol: v.ProtocolVersion, Model: v.Model, FriendlyName: v.FriendlyName, OS: v.OS, OSLanguage: v.OSLanguage,
		IMEI: v.IMEI, PhoneNumber: v.PhoneNumber, Operator: v.MobileOperator,
		Access: v.Access, AccessSource: v.AccessSource, AccessRule: v.AccessRuleID, AccessChanged: v.AccessChangedAt,
		PolicyKey: v.PolicyKey, PendingPolicyKey: v.PendingPolicyKey,
		Wipe: v.Wipe, WipeRequested: v.WipeRequestedAt, WipeConfirmed: v.WipeAckedAt,
		FirstSeen: v.FirstSeen, LastSeen: v.LastSeen}
	if v.Tracing() {
		j.TraceUntil = v.TraceUntil
	}
	return j
}

// actionJSON is what --json prints for a change to one device.
type actionJSON struct {
	Action string      `json:"action"`
	Target string      `json:"target"`
	Folder string      `json:"folder,omitempty"`
	Device *deviceJSON `json:"device,omitempty"`
}

func (d *deviceCmd) done(action, login, id string, v *device.Device, format string, args ...any) error {
	r := actionJSON{Action: action, Target: device.Target(login, id)}
	if v != nil {
		j := deviceToJSON(v)
		r.Device = &j
	}
	return d.report(r, format, args...)
}

func (d *deviceCmd) list(ctx context.Context, _ []string) error {
	list, err := d.store.List(ctx, d.user)
	if err != nil {
		return err
	}
	if d.json {
		out := make([]deviceJSON, 0, len(list))
		for _, v := range list {
			out = append(out, deviceToJSON(v))
		}
		return d.report(out, "")
	}
	if len(list) == 0 {
		fmt.Fprintln(d.out, "no devices")
		return nil
	}
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tDEVICE\tTYPE\tVERSION\tACCESS\tWIPE\tTRACE\tLAST SEEN")
	for _, v := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Login, v.DeviceID, orDash(v.DeviceType),
			orDash(v.ProtocolVersion), v.Access, v.Wipe, traceState(v), ago(v.LastSeen))
	}
	return tw.Flush()
}

func (d *deviceCmd) show(ctx context.Context, args []string) error {
	v, err := d.store.Get(ctx, args[1], args[2])
	if err != nil {
		return err
	}
	errs, err := d.store.Errors(ctx, v.ID)
	if err != nil {
		return err
	}
	if d.json {
		j := deviceToJSON(v)
		j.RecentErrors = make([]errorJSON, 0, len(errs))
		for _, e := range errs {
			j.RecentErrors = append(j.RecentErrors, errorJSON(e))
		}
		return d.report(j, "")
	}
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, orDash(v)) }
	row("User", v.Login)
	row("Device", v.DeviceID)
	row("Type", v.DeviceType)
	row("User-Agent", v.UserAgent)
	row("Protocol", v.ProtocolVersion)
	row("Model", v.Model)
	row("Friendly name", v.FriendlyName)
	row("OS", v.OS)
	row("OS language", v.OSLanguage)
	row("IMEI", v.IMEI)
	row("Phone number", v.PhoneNumber)
	row("Operator", v.MobileOperator)
	row("Access", v.Access+" ("+accessSource(v)+")")
	row("Policy key", policyKey(v.PolicyKey))
	row("Pending key", policyKey(v.PendingPolicyKey))
	row("Wipe", v.Wipe)
	row("Wipe requested", stamp(v.WipeRequestedAt))
	row("Wipe confirmed", stamp(v.WipeAckedAt))
	row("Trace", traceState(v))
	row("First seen", stamp(&v.FirstSeen))
	row("Last seen", stamp(&v.LastSeen)+" ("+ago(v.LastSeen)+")")
	if len(errs) == 0 {
		row("Recent errors", "none")
		return tw.Flush()
	}
	row("Recent errors", fmt.Sprintf("%d, newest first", len(errs)))
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  WHEN\tCOMMAND\tHTTP\tEAS\tREASON")
	for _, e := range errs {
		eas := "-"
		if e.EASStatus != 0 {
			eas = strconv.Itoa(e.EASStatus)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", stamp(&e.At), e.Command, e.HTTPStatus, eas, orDash(e.Reason))
	}
	return tw.Flush()
}

func accessSource(v *device.Device) string {
	switch v.AccessSource {
	case device.SourceRule:
		if v.AccessRuleID == 0 {
			return "by a rule since removed"
		}
		return fmt.Sprintf("by rule %d", v.AccessRuleID)
	case device.SourceAdmin:
		return "by an administrator"
	}
	return "by default"
}

func (d *deviceCmd) wipe(ctx context.Context, args []string) error {
	login, id := args[1], args[2]
	if args[0] == "cancel-wipe" || d.cancel {
		v, err := d.store.CancelWipe(ctx, d.who, login, id)
		if err != nil {
			return err
		}
		return d.done("wipe-cancel", login, id, v, "%s/%s: wipe withdrawn", login, id)
	}
	account := args[0] == "account-wipe"
	v, err := d.store.Wipe(ctx, d.who, login, id, account)
	if err != nil {
		return err
	}
	what := "erase itself"
	if account {
		what = "remove this account's data"
	}
	return d.done(args[0], login, id, v, "%s/%s will %s on its next request", login, id, what)
}

func (d *deviceCmd) access(ctx context.Context, args []string) error {
	state := map[string]string{"block": device.Blocked, "allow": device.Allowed, "approve": device.Allowed,
		"quarantine": device.Quarantined}[args[0]]
	v, err := d.store.Decide(ctx, d.who, args[1], args[2], state)
	if err != nil {
		return err
	}
	return d.done(args[0], args[1], args[2], v, "%s/%s is now %s", args[1], args[2], state)
}

func (d *deviceCmd) resync(ctx context.Context, args []string) error {
	login, id := args[1], args[2]
	folder, err := d.store.Resync(ctx, d.who, login, id, d.folder)
	if err != nil {
		return err
	}
	r := actionJSON{Action: "resync", Target: device.Target(login, id), Folder: folder}
	if folder == "" {
		return d.report(r, "%s/%s will download its folders and items again on its next request", login, id)
	}
	return d.report(r, "%s/%s will download folder %s again on its next sync of it", login, id, folder)
}

func (d *deviceCmd) remove(ctx context.Context, args []string) error {
	if err := d.store.Delete(ctx, d.who, args[1], args[2]); err != nil {
		return err
	}
	return d.done("remove", args[1], args[2], nil, "%s/%s removed; it will sync from scratch on its next request", args[1], args[2])
}

func (d *deviceCmd) trace(ctx context.Context, args []string) error {
	var until time.Time
	if !d.off {
		until = time.Now().Add(d.traceD)
	}
	v, err := d.store.Trace(ctx, d.who, args[1], args[2], until)
	if err != nil {
		return err
	}
	if d.off {
		return d.done("trace", args[1], args[2], v, "trace of %s/%s off", args[1], args[2])
	}
	return d.done("trace", args[1], args[2], v, "tracing %s/%s until %s (passwords are redacted)", args[1], args[2], until.Format(timeLayout))
}

func (d *deviceCmd) rules(ctx context.Context, args []string) error {
	switch args[1] {
	case "add":
		r, n, err := d.store.AddRule(ctx, d.who, d.rule, d.apply)
		if err != nil {
			return err
		}
		type added struct {
			Rule           device.Rule `json:"rule"`
			DevicesChanged int         `json:"devices_changed"`
		}
		return d.report(added{r, n}, "rule %d added: %s; %d registered devices changed", r.ID, ruleText(r), n)
	case "remove":
		id, _ := strconv.ParseInt(args[2], 10, 64)
		if err := d.store.RemoveRule(ctx, d.who, id); err != nil {
			if errors.Is(err, device.ErrNoRule) {
				return fmt.Errorf("no access rule %d", id)
			}
			return err
		}
		return d.report(map[string]any{"removed": id}, "rule %d removed; the devices it decided keep their access", id)
	}
	list, err := d.store.Rules(ctx)
	if err != nil {
		return err
	}
	if d.json {
		if list == nil {
			list = []device.Rule{}
		}
		return d.report(list, "")
	}
	if len(list) == 0 {
		fmt.Fprintln(d.out, "no access rules: new devices get the --new-devices setting")
		return nil
	}
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tUSER AGENT\tACTION\tCREATED\tBY\tNOTE")
	for _, r := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(r.DeviceType), orDash(r.UserAgent), r.Action,
			r.CreatedAt.Local().Format("2006-01-02 15:04"), orDash(r.CreatedBy), orDash(r.Note))
	}
	return tw.Flush()
}

func ruleText(r device.Rule) string {
	var on []string
	if r.DeviceType != "" {
		on = append(on, "type "+strconv.Quote(r.DeviceType))
	}
	if r.UserAgent != "" {
		on = append(on, "user agent "+strconv.Quote(r.UserAgent))
	}
	return r.Action + " devices with " + strings.Join(on, " and ")
}

const timeLayout = "2006-01-02 15:04:05 MST"

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Local().Format(timeLayout)
}

func traceState(v *device.Device) string {
	if !v.Tracing() {
		return "off"
	}
	return "until " + v.TraceUntil.Local().Format("2006-01-02 15:04")
}

func policyKey(k uint32) string {
	if k == 0 {
		return "none"
	}
	return fmt.Sprint(k)
}

// ago says how long ago t was, coarsely, for scanning a list by eye.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
