// Command easd is an Exchange ActiveSync server: phones sync mail from an
// IMAP server and contacts, calendars, tasks and notes kept in PostgreSQL.
//
//	easd serve     run the server (production)
//	easd dev       run everything on localhost with throwaway servers
//	easd migrate   apply database migrations and report the schema version
//	easd ready     ask a running easd whether it is ready (healthchecks)
//	easd wbxml     convert WBXML to XML and back (support, logs)
//	easd device    list, block, allow, wipe, trace or remove devices
//	easd policy    list, show, create, edit, assign and remove device policies
//	easd audit     list the log of administrative actions
//	easd admin     create, list and revoke admin API tokens
//	easd contacts  import and export address books as vCard files
//	easd calendar  import and export calendars as iCalendar files
//	easd tasks     import and export task lists as iCalendar (VTODO) files
//	easd notes     export notes as iCalendar (VJOURNAL) or text files
//	easd directory add, edit, remove, list and import the directory (GAL)
//	easd probe     check a deployment as a phone would
//	easd version   print the version (also: easd --version)
//
// Every subcommand accepts -h.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitUsage is the exit code for bad invocations and bad configuration.
const exitUsage = 2

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the EAS server", runServe},
		{"dev", "run the server with a private PostgreSQL and Dovecot on localhost", runDev},
		{"migrate", "apply database migrations and report the schema version", runMigrate},
		{"wbxml", "convert WBXML to XML (decode) or back (encode) on stdin/stdout", runWBXML},
		{"ready", "ask a running easd whether it is ready (for healthchecks)", runReady},
		{"device", "list and administer devices: wipe, block, allow, quarantine, resync, rules, remove, trace", runDevice},
		{"policy", "list, show, create, edit, assign and remove device policies", runPolicy},
		{"audit", "list the log of administrative actions", runAudit},
		{"admin", "create, list and revoke tokens of the admin API and web page", runAdmin},
		{"contacts", "import and export address books as vCard files", runContacts},
		{"calendar", "import and export calendars as iCalendar files", runCalendar},
		{"notes", "export notes as iCalendar (VJOURNAL) or text files", runNotes},
		{"tasks", "import and export task lists as iCalendar (VTODO) files", runTasks},
		{"directory", "add, edit, remove, list and import the directory (GAL)", runDirectory},
		{"probe", "check a deployment as a phone would, step by step with timings", runProbe},
		{"version", "print the version", func(_ []string, stdout, _ io.Writer) int {
			fmt.Fprintln(stdout, "easd", version)
			return 0
		}},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		args = []string{"version"}
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "easd: unknown command %q (see easd help)\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
}
