package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/config"
)

// deviceAction is one `easd device` subcommand.
type deviceAction struct {
	name  string
	args  string // positional arguments, for usage lines
	help  string
	nargs int
	run   func(d *deviceCmd, ctx context.Context, args []string) error
}

// deviceCmd is one run of `easd device`: the registry and where to report.
type deviceCmd struct {
	store  *device.Store
	out    io.Writer
	user   string        // list --user
	traceD time.Duration // trace --for
	off    bool          // trace --off
}

var deviceActions = []deviceAction{
	{"list", "", "list devices (of one user with --user)", 0, (*deviceCmd).list},
	{"show", "USER DEVICE", "show everything known about a device", 2, (*deviceCmd).show},
	{"wipe", "USER DEVICE", "make the device erase itself on its next request", 2, (*deviceCmd).wipe},
	{"account-wipe", "USER DEVICE", "make the device remove only this account's data (EAS 16.1 clients)", 2, (*deviceCmd).wipe},
	{"block", "USER DEVICE", "refuse the device's requests", 2, (*deviceCmd).access},
	{"allow", "USER DEVICE", "let a blocked or quarantined device sync again", 2, (*deviceCmd).access},
	{"remove", "USER DEVICE", "delete the partnership and its sync state; the device starts over", 2, (*deviceCmd).remove},
	{"trace", "USER DEVICE", "log the device's requests and responses as XML (--for 1h, --off)", 2, (*deviceCmd).trace},
}

func deviceUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd device <action> [args] [--database-url URL]")
	fmt.Fprintln(w)
	for _, a := range deviceActions {
		fmt.Fprintf(w, "  %-13s %-12s %s\n", a.name, a.args, a.help)
	}
	fmt.Fprintln(w, "\nThe database is --database-url or EASD_DATABASE_URL. Changes take effect on the device's next request.")
}

// runDevice administers the device registry. Usage errors exit 2 with one
// line, an unknown device 1.
func runDevice(args []string, stdout, stderr io.Writer) int {
	if code, done := subcommandHelp(args, deviceUsage, stderr); done {
		return code
	}
	var action *deviceAction
	for i := range deviceActions {
		if deviceActions[i].name == args[0] {
			action = &deviceActions[i]
		}
	}
	if action == nil {
		return unknownAction("device", args[0], stderr)
	}

	d := &deviceCmd{out: stdout}
	fs := flag.NewFlagSet("easd device "+action.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line below
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	switch action.name {
	case "list":
		fs.StringVar(&d.user, "user", "", "only this user's devices")
	case "trace":
		fs.DurationVar(&d.traceD, "for", time.Hour, "how long to trace")
		fs.BoolVar(&d.off, "off", false, "switch the trace off")
	}
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: easd device %s %s\n  %s\n", action.name, action.args, action.help)
	}
	pos, code, done := parseFlags("device", fs, args[1:], usage, func(pos []string) error {
		switch {
		case len(pos) != action.nargs:
			return fmt.Errorf("%s takes %d arguments (%s), got %d", action.name, action.nargs, action.args, len(pos))
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

func (d *deviceCmd) list(ctx context.Context, _ []string) error {
	list, err := d.store.List(ctx, d.user)
	if err != nil {
		return err
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
	row("Access", v.Access)
	row("Policy key", policyKey(v.PolicyKey))
	row("Pending key", policyKey(v.PendingPolicyKey))
	row("Wipe", v.Wipe)
	row("Wipe requested", stamp(v.WipeRequestedAt))
	row("Wipe confirmed", stamp(v.WipeAckedAt))
	row("Trace", traceState(v))
	row("First seen", stamp(&v.FirstSeen))
	row("Last seen", stamp(&v.LastSeen)+" ("+ago(v.LastSeen)+")")
	return tw.Flush()
}

func (d *deviceCmd) wipe(ctx context.Context, args []string) error {
	account := args[0] == "account-wipe"
	if err := d.store.RequestWipe(ctx, args[1], args[2], account); err != nil {
		return err
	}
	what := "erase itself"
	if account {
		what = "remove this account's data"
	}
	fmt.Fprintf(d.out, "%s/%s will %s on its next request\n", args[1], args[2], what)
	return nil
}

func (d *deviceCmd) access(ctx context.Context, args []string) error {
	state := device.Blocked
	if args[0] == "allow" {
		state = device.Allowed
	}
	if err := d.store.SetAccess(ctx, args[1], args[2], state); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "%s/%s is now %s\n", args[1], args[2], state)
	return nil
}

func (d *deviceCmd) remove(ctx context.Context, args []string) error {
	if err := d.store.Remove(ctx, args[1], args[2]); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "%s/%s removed; it will sync from scratch on its next request\n", args[1], args[2])
	return nil
}

func (d *deviceCmd) trace(ctx context.Context, args []string) error {
	var until time.Time
	if !d.off {
		until = time.Now().Add(d.traceD)
	}
	if err := d.store.SetTrace(ctx, args[1], args[2], until); err != nil {
		return err
	}
	if d.off {
		fmt.Fprintf(d.out, "trace of %s/%s off\n", args[1], args[2])
		return nil
	}
	fmt.Fprintf(d.out, "tracing %s/%s until %s (passwords are redacted)\n", args[1], args[2], until.Format(timeLayout))
	return nil
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
