package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/audit"
	"github.com/easd/easd/internal/config"
)

func adminUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd admin token <action> [args] [--database-url URL]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  token create NAME [--expires 720h]  create an admin token and print it (shown only this once)")
	fmt.Fprintln(w, "  token list                          list tokens: name, created, last used, expiry")
	fmt.Fprintln(w, "  token revoke NAME                   revoke a token and end its web sessions")
	fmt.Fprintln(w, "\nAdmin tokens open the admin API and web page (easd serve --admin-listen).")
	fmt.Fprintln(w, "The database is --database-url or EASD_DATABASE_URL. Every change is in the audit log.")
}

// runAdmin manages admin tokens. Usage errors exit 2 with one line; an
// unknown token, or a name taken, 1.
func runAdmin(args []string, stdout, stderr io.Writer) int {
	if code, done := subcommandHelp(args, adminUsage, stderr); done {
		return code
	}
	if args[0] != "token" {
		return unknownAction("admin", args[0], stderr)
	}
	if len(args) < 2 {
		adminUsage(stderr)
		return exitUsage
	}
	action := args[1]
	nargs := map[string]int{"create": 1, "list": 0, "revoke": 1}
	n, ok := nargs[action]
	if !ok {
		return unknownAction("admin token", action, stderr)
	}
	fs := flag.NewFlagSet("easd admin token "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	var expires time.Duration
	if action == "create" {
		fs.DurationVar(&expires, "expires", 0, "how long the token is valid (0: until revoked)")
	}
	usage := func(w io.Writer) { adminUsage(w) }
	pos, code, done := parseFlags("admin token "+action, fs, args[2:], usage, func(pos []string) error {
		switch {
		case len(pos) != n:
			return fmt.Errorf("token %s takes %d argument(s), got %d", action, n, len(pos))
		case *dsn == "":
			return &config.Error{Flag: "database-url", Msg: "required"}
		case expires < 0:
			return errors.New("--expires cannot be negative")
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
		fmt.Fprintln(stderr, oneLine("easd admin: database: "+err.Error()))
		return exitUsage
	}
	defer pool.Close()
	tokens := admin.NewTokens(pool)
	switch action {
	case "create":
		var until time.Time
		if expires > 0 {
			until = time.Now().Add(expires)
		}
		var secret string
		secret, err = tokens.Create(ctx, audit.CLI(), pos[0], until)
		if err == nil {
			fmt.Fprintln(stdout, secret)
			fmt.Fprintf(stderr, "token %q created; it is shown only this once\n", pos[0])
		}
	case "list":
		err = listTokens(ctx, tokens, stdout)
	case "revoke":
		if err = tokens.Revoke(ctx, audit.CLI(), pos[0]); err == nil {
			fmt.Fprintf(stdout, "token %q revoked\n", pos[0])
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd admin token "+action+": "+err.Error()))
		if errors.Is(err, admin.ErrBadName) {
			return exitUsage
		}
		return 1
	}
	return 0
}

func listTokens(ctx context.Context, tokens *admin.Tokens, out io.Writer) error {
	list, err := tokens.List(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "no tokens")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tLAST USED\tEXPIRES")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, stamp(&t.Created), orDash(stamp(t.LastUsed)), orDash(stamp(t.ExpiresAt)))
	}
	return tw.Flush()
}
