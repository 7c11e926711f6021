package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/internal/config"
)

// policyAction is one `easd policy` subcommand.
type policyAction = adminAction[policyCmd]

// policyCmd is one run of `easd policy`.
type policyCmd struct {
	store  *policy.Store
	who    audit.Who
	out    io.Writer
	json   bool
	sets   multiFlag // --set Element=value
	from   string    // --from file.json
	target policy.Target
}

var policyActions = []policyAction{
	{"list", "", "list the policies with what uses them", 0, (*policyCmd).list},
	{"show", "NAME", "show a policy's settings and assignments", 1, (*policyCmd).show},
	{"create", "NAME [--set E=V]... [--from FILE]", "add a policy; unset elements take the built-in defaults", 1, (*policyCmd).create},
	{"edit", "NAME [--set E=V]... [--from FILE]", "change settings; devices using the policy provision again", 1, (*policyCmd).edit},
	{"assign", "NAME --user U | --device-type T | --device U/DEVICEID", "make a user, device type or device use the policy", 1, (*policyCmd).assign},
	{"unassign", "--user U | --device-type T | --device U/DEVICEID", "take an assignment away (the next rule applies)", 0, (*policyCmd).assign},
	{"remove", "NAME", "delete a policy; what used it falls back to the next rule", 1, (*policyCmd).remove},
	{"elements", "", "list the settings (MS-ASPROV elements) and their values", 0, (*policyCmd).elements},
}

func policyUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd policy <action> [args] [--json] [--database-url URL]")
	fmt.Fprintln(w)
	for _, a := range policyActions {
		fmt.Fprintf(w, "  %-9s %s\n  %-9s   %s\n", a.name, a.args, "", a.help)
	}
	fmt.Fprintln(w, `
A device gets its own assignment, else its user's, else its device type's
(any case), else the default policy. Settings are MS-ASPROV element names:
--set MaxAttachmentSize=1048576 --set ApprovedApplicationList=HASH1,HASH2;
--from takes a JSON object of elements (or the output of show --json).
Every change is recorded in the audit log (easd audit). The database is
--database-url or EASD_DATABASE_URL.`)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// deviceTarget parses --device U/DEVICEID into t.
type deviceTarget struct{ t *policy.Target }

func (d deviceTarget) String() string { return "" }
func (d deviceTarget) Set(v string) error {
	login, id, ok := strings.Cut(v, "/")
	if !ok || login == "" || id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("want USER/DEVICEID, got %q", v)
	}
	d.t.Login, d.t.DeviceID = login, id
	return nil
}

// runPolicy administers device policies. Usage errors and invalid
// settings exit 2 with one line, an unknown policy or device 1.
func runPolicy(args []string, stdout, stderr io.Writer) int {
	if code, done := subcommandHelp(args, policyUsage, stderr); done {
		return code
	}
	action := findAction(policyActions, args[0])
	if action == nil {
		return unknownAction("policy", args[0], stderr)
	}

	c := &policyCmd{out: stdout, who: audit.CLI()}
	fs := flag.NewFlagSet("easd policy "+action.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line below
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of tables")
	var user string
	switch action.name {
	case "create", "edit":
		fs.Var(&c.sets, "set", "Element=value (repeatable; lists comma-separated)")
		fs.StringVar(&c.from, "from", "", "JSON file of settings")
	case "assign", "unassign":
		fs.StringVar(&user, "user", "", "every device of this user")
		fs.StringVar(&c.target.DeviceType, "device-type", "", "every device of this DeviceType (any case)")
		fs.Var(deviceTarget{&c.target}, "device", "one device, as USER/DEVICEID")
	}
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: easd policy %s %s\n  %s\n", action.name, action.args, action.help)
	}
	pos, code, done := parseFlags("policy", fs, args[1:], usage, func(pos []string) error {
		if len(pos) != action.nargs {
			return fmt.Errorf("%s takes %d arguments (%s), got %d", action.name, action.nargs, action.args, len(pos))
		}
		if action.name == "assign" || action.name == "unassign" {
			n := 0
			for _, set := range []bool{user != "", c.target.DeviceType != "", c.target.DeviceID != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				return errors.New("give exactly one of --user, --device-type and --device")
			}
			if user != "" {
				c.target.Login = user
			}
		}
		if *dsn == "" && action.name != "elements" {
			return &config.Error{Flag: "database-url", Msg: "required"}
		}
		return nil
	}, stderr)
	if done {
		return code
	}
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, oneLine("easd policy: "+strings.ReplaceAll(err.Error(), "\n", "; ")))
		return code
	}
	args = append([]string{action.name}, pos...)
	if action.name == "elements" {
		if err := c.elements(context.Background(), args); err != nil {
			return fail(1, err)
		}
		return 0
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		return fail(exitUsage, fmt.Errorf("database: %w", err))
	}
	defer pool.Close()
	c.store = policy.NewStore(pool)
	if err := action.run(c, ctx, args); err != nil {
		var ve *policy.ValueError
		switch {
		case errors.Is(err, policy.ErrInvalid) || errors.As(err, &ve):
			return fail(exitUsage, err)
		case errors.Is(err, policy.ErrDeviceNotFound):
			return fail(1, fmt.Errorf("no device %q of user %q", c.target.DeviceID, c.target.Login))
		case errors.Is(err, policy.ErrNotFound) && len(pos) == 1:
			return fail(1, fmt.Errorf("no policy %q", pos[0]))
		}
		return fail(1, err)
	}
	return 0
}

// policyJSON is a policy as --json prints it; --from reads it back.
type policyJSON struct {
	Name                  string              `json:"name"`
	Default               bool                `json:"default"`
	Generation            int64               `json:"generation"`
	UpdatedAt             time.Time           `json:"updated_at"`
	AllowNonProvisionable bool                `json:"allow_non_provisionable"`
	Settings              policy.Settings     `json:"settings"`
	Usage                 *policy.Usage       `json:"usage,omitempty"`
	Assignments           []policy.Assignment `json:"assignments,omitempty"`
}

func policyToJSON(p *policy.Policy) policyJSON {
	return policyJSON{Name: p.Name, Default: p.Default, Generation: p.Generation, UpdatedAt: p.UpdatedAt,
		AllowNonProvisionable: p.AllowNonProvisionable, Settings: p.Settings}
}

func (c *policyCmd) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *policyCmd) list(ctx context.Context, _ []string) error {
	list, err := c.store.List(ctx)
	if err != nil {
		return err
	}
	usage, err := c.store.Usages(ctx)
	if err != nil {
		return err
	}
	if c.json {
		out := make([]policyJSON, 0, len(list))
		for _, p := range list {
			j, u := policyToJSON(p), usage[p.ID]
			j.Usage = &u
			out = append(out, j)
		}
		return c.printJSON(out)
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	// USERS, DEVICE TYPES, DEVICES: assigned; EFFECTIVE: devices it applies to.
	fmt.Fprintln(tw, "NAME\tDEFAULT\tGENERATION\tUSERS\tDEVICE TYPES\tDEVICES\tEFFECTIVE\tUPDATED")
	for _, p := range list {
		u := usage[p.ID]
		def := ""
		if p.Default {
			def = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", p.Name, orDash(def), p.Generation,
			u.Users, u.DeviceTypes, u.Devices, u.InEffect, ago(p.UpdatedAt))
	}
	return tw.Flush()
}

func (c *policyCmd) show(ctx context.Context, args []string) error {
	p, err := c.store.Get(ctx, args[1])
	if err != nil {
		return err
	}
	assigned, err := c.store.Assignments(ctx, p.Name)
	if err != nil {
		return err
	}
	usage, err := c.store.Usages(ctx)
	if err != nil {
		return err
	}
	u := usage[p.ID]
	if c.json {
		j := policyToJSON(p)
		j.Usage, j.Assignments = &u, assigned
		if j.Assignments == nil {
			j.Assignments = []policy.Assignment{}
		}
		return c.printJSON(j)
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", p.Name)
	fmt.Fprintf(tw, "Default:\t%t\n", p.Default)
	fmt.Fprintf(tw, "Generation:\t%d\n", p.Generation)
	fmt.Fprintf(tw, "Updated:\t%s (%s)\n", stamp(&p.UpdatedAt), ago(p.UpdatedAt))
	fmt.Fprintf(tw, "In effect on:\t%s\n", plural(u.InEffect, "device"))
	fmt.Fprintf(tw, "%s:\t%t\n", policy.AllowNonProvisionableElement, p.AllowNonProvisionable)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ELEMENT\tVALUE\tMEANING")
	for _, e := range policy.Elements() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, orDash(e.Format(p.Settings)), e.Meaning)
	}
	fmt.Fprintln(tw)
	if len(assigned) == 0 {
		fmt.Fprintln(tw, "Assigned to:\tnothing")
	}
	for _, a := range assigned {
		fmt.Fprintf(tw, "Assigned to:\t%s\n", a.Target)
	}
	return tw.Flush()
}

// settings applies --from and then each --set, in order, to set.
func (c *policyCmd) settings(set policy.Settings, allowNonProvisionable bool) (policy.Settings, bool, error) {
	if c.from != "" {
		raw, err := os.ReadFile(c.from)
		if err != nil {
			return set, false, err
		}
		if set, allowNonProvisionable, err = settingsFromJSON(raw, set, allowNonProvisionable); err != nil {
			return set, false, fmt.Errorf("%w: %s: %w", policy.ErrInvalid, c.from, err)
		}
	}
	for _, kv := range c.sets {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return set, false, fmt.Errorf("%w: --set %q: want Element=value", policy.ErrInvalid, kv)
		}
		if strings.EqualFold(name, policy.AllowNonProvisionableElement) {
			e := policy.Element{Name: policy.AllowNonProvisionableElement, Kind: policy.Bool}
			v, err := parseBool(value)
			if err != nil {
				return set, false, &policy.ValueError{Element: e.Name, Value: value, Allowed: "want " + e.Allowed()}
			}
			allowNonProvisionable = v
			continue
		}
		e, ok := policy.LookupElement(name)
		if !ok {
			return set, false, fmt.Errorf("%w: --set %q: unknown element %q (see easd policy elements)", policy.ErrInvalid, kv, name)
		}
		if err := e.Set(&set, value); err != nil {
			return set, false, err
		}
	}
	return set, allowNonProvisionable, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// settingsFromJSON applies a JSON object of elements, or the output of
// show --json, to set. Unknown names are errors, so a typo is not lost.
func settingsFromJSON(raw []byte, set policy.Settings, allowNonProvisionable bool) (policy.Settings, bool, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return set, false, err
	}
	if inner, ok := probe["settings"]; ok { // show --json
		var shown struct {
			AllowNonProvisionable *bool `json:"allow_non_provisionable"`
		}
		if err := json.Unmarshal(raw, &shown); err != nil {
			return set, false, err
		}
		if shown.AllowNonProvisionable != nil {
			allowNonProvisionable = *shown.AllowNonProvisionable
		}
		raw = inner
	}
	var in struct {
		policy.Settings
		AllowNonProvisionableDevices *bool
	}
	in.Settings = set
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return set, false, err
	}
	if in.AllowNonProvisionableDevices != nil {
		allowNonProvisionable = *in.AllowNonProvisionableDevices
	}
	return in.Settings, allowNonProvisionable, nil
}

func (c *policyCmd) create(ctx context.Context, args []string) error {
	set, anp, err := c.settings(policy.Defaults(), true)
	if err != nil {
		return err
	}
	p, err := c.store.CreateBy(ctx, c.who, args[1], anp, set)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(policyToJSON(p))
	}
	changed := policy.Diff(policy.Defaults(), p.Settings)
	fmt.Fprintf(c.out, "policy %s created with %s different from the built-in defaults\n", p.Name, plural(len(changed), "setting"))
	return c.printChanges(changed)
}

func (c *policyCmd) edit(ctx context.Context, args []string) error {
	if len(c.sets) == 0 && c.from == "" {
		return fmt.Errorf("%w: edit needs --set or --from", policy.ErrInvalid)
	}
	old, err := c.store.Get(ctx, args[1])
	if err != nil {
		return err
	}
	set, anp, err := c.settings(old.Settings, old.AllowNonProvisionable)
	if err != nil {
		return err
	}
	p, changes, err := c.store.UpdateBy(ctx, c.who, old.Name, anp, set)
	if err != nil {
		return err
	}
	if c.json {
		if changes == nil {
			changes = []policy.Change{}
		}
		return c.printJSON(struct {
			Policy  policyJSON      `json:"policy"`
			Changes []policy.Change `json:"changes"`
		}{policyToJSON(p), changes})
	}
	if len(changes) == 0 {
		fmt.Fprintf(c.out, "policy %s unchanged\n", p.Name)
		return nil
	}
	fmt.Fprintf(c.out, "policy %s: %s changed (generation %d); its devices provision again on their next request\n",
		p.Name, plural(len(changes), "setting"), p.Generation)
	return c.printChanges(changes)
}

func (c *policyCmd) printChanges(changes []policy.Change) error {
	if len(changes) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ELEMENT\tOLD\tNEW")
	for _, ch := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ch.Element, orDash(ch.Old), orDash(ch.New))
	}
	return tw.Flush()
}

func (c *policyCmd) assign(ctx context.Context, args []string) error {
	name := ""
	if args[0] == "assign" {
		name = args[1]
	}
	changed, err := c.store.AssignBy(ctx, c.who, c.target, name)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(struct {
			Target  policy.Target `json:"target"`
			Policy  string        `json:"policy"`
			Changed bool          `json:"changed"`
		}{c.target, name, changed})
	}
	switch {
	case !changed && name == "":
		fmt.Fprintf(c.out, "%s had no assignment\n", c.target)
	case !changed:
		fmt.Fprintf(c.out, "%s already uses policy %s\n", c.target, name)
	case name == "":
		fmt.Fprintf(c.out, "%s: assignment removed; the next rule applies from the next request\n", c.target)
	default:
		fmt.Fprintf(c.out, "%s now uses policy %s; affected devices provision again on their next request\n", c.target, name)
	}
	return nil
}

func (c *policyCmd) remove(ctx context.Context, args []string) error {
	if err := c.store.RemoveBy(ctx, c.who, args[1]); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(map[string]any{"removed": args[1]})
	}
	fmt.Fprintf(c.out, "policy %s removed; what used it falls back to the next rule\n", args[1])
	return nil
}

func (c *policyCmd) elements(_ context.Context, _ []string) error {
	def := policy.Defaults()
	if c.json {
		type el struct {
			Name    string `json:"name"`
			Since   string `json:"since"`
			Allowed string `json:"allowed"`
			Default any    `json:"default"`
			Meaning string `json:"meaning"`
		}
		var out []el
		for _, e := range policy.Elements() {
			out = append(out, el{e.Name, protoVersion(e.Since), e.Allowed(), e.Value(def), e.Meaning})
		}
		return c.printJSON(out)
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ELEMENT\tSINCE\tVALUES\tDEFAULT\tMEANING")
	for _, e := range policy.Elements() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, protoVersion(e.Since), e.Allowed(), orDash(e.Format(def)), e.Meaning)
	}
	fmt.Fprintf(tw, "%s\t-\ttrue or false\ttrue\tdevices that apply the policy only partly may sync (server side)\n", policy.AllowNonProvisionableElement)
	return tw.Flush()
}

// plural is "1 device", "2 devices".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func protoVersion(v int) string { return fmt.Sprintf("%d.%d", v/10, v%10) }
