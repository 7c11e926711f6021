package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/migrations"
)

func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("easd migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: easd migrate [flags]\n\nApplies the embedded migrations; safe to run twice and next to running servers.")
		config.Usage(stderr, fs)
	}
	err := config.ApplyEnv(fs, os.LookupEnv)
	if err == nil {
		err = fs.Parse(args)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && *dsn == "" {
		err = &config.Error{Flag: "database-url", Msg: "required"}
	}
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd: "+err.Error()))
		return exitUsage
	}
	res, err := migrations.Up(context.Background(), *dsn)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd: "+err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "schema version %d (applied now: %d, latest known: %d)\n",
		res.Version, len(res.Applied), migrations.Latest())
	return 0
}
