package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/internal/config"
)

func auditUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: easd audit [--actor A] [--action device.] [--target alice/] [--since 24h] [--limit N] [--json] [--database-url URL]

Lists the log of administrative actions, newest first: who (cli:USER,
token:NAME, web:USER), from where, what and to what. --action and --target
match exactly, or as a prefix when they end in "." or "/".`)
}

// runAudit lists the audit log. Usage errors exit 2 with one line.
func runAudit(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		auditUsage(stderr)
		return 0
	}
	var f audit.Filter
	fs := flag.NewFlagSet("easd audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	fs.StringVar(&f.Actor, "actor", "", "only this actor (cli:root, token:ops, web:alice)")
	fs.StringVar(&f.Action, "action", "", `only this action, or actions starting with it when it ends in "." (policy.)`)
	fs.StringVar(&f.Target, "target", "", `only this target, or targets starting with it when it ends in "/" (alice/)`)
	since := fs.Duration("since", 0, "only entries of this last period (24h, 30m)")
	fs.IntVar(&f.Limit, "limit", 100, "at most this many entries (up to 1000)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	_, code, done := parseFlags("audit", fs, args, auditUsage, func(pos []string) error {
		switch {
		case len(pos) != 0:
			return fmt.Errorf("takes no arguments, got %q", pos[0])
		case *dsn == "":
			return &config.Error{Flag: "database-url", Msg: "required"}
		case *since < 0:
			return fmt.Errorf("--since must be positive")
		case f.Limit < 1 || f.Limit > 1000:
			return fmt.Errorf("--limit must be 1 to 1000")
		}
		return nil
	}, stderr)
	if done {
		return code
	}
	if *since > 0 {
		f.Since = time.Now().Add(-*since)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd audit: database: "+err.Error()))
		return exitUsage
	}
	defer pool.Close()
	entries, err := audit.NewStore(pool).List(ctx, f)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd audit: "+err.Error()))
		return 1
	}
	if *asJSON {
		if entries == nil {
			entries = []audit.Entry{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(entries); err != nil {
			fmt.Fprintln(stderr, "easd audit: "+err.Error())
			return 1
		}
		return 0
	}
	if len(entries) == 0 {
		fmt.Fprintln(stdout, "no entries")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tACTOR\tSOURCE\tACTION\tTARGET\tDETAIL")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp(&e.At), e.Actor, orDash(e.Source), e.Action, orDash(e.Target), detailText(e.Detail))
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

// detailText is an entry's detail on one line, cut short for the table
// (--json has all of it).
func detailText(d map[string]any) string {
	if len(d) == 0 {
		return "-"
	}
	raw, _ := json.Marshal(d) // decoded from JSON, so it encodes
	s := strings.ReplaceAll(string(raw), "\t", " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:117]) + "..."
	}
	return s
}
