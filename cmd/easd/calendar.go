package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
)

func calendarUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd calendar import --user USER [--folder NAME] FILE.ics")
	fmt.Fprintln(w, "       easd calendar export --user USER [--folder NAME]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  import  read an iCalendar file (FILE or - for stdin) into a calendar; an event")
	fmt.Fprintln(w, "          whose UID the calendar holds is replaced. With a bad event nothing is")
	fmt.Fprintln(w, "          imported, and each bad event is reported.")
	fmt.Fprintln(w, "  export  write the calendar as one iCalendar file to stdout")
	fmt.Fprintln(w, "\nThe calendar is the user's Calendar folder, or the one named by --folder.")
	fmt.Fprintln(w, "The database is --database-url or EASD_DATABASE_URL. Phones see an import on their next sync.")
}

func runCalendar(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		calendarUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	action := args[0]
	if action != "import" && action != "export" {
		fmt.Fprintf(stderr, "easd calendar: unknown action %q (see easd calendar help)\n", action)
		return exitUsage
	}
	fs := flag.NewFlagSet("easd calendar "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	user := fs.String("user", "", "the user's login (required)")
	folder := fs.String("folder", "", "calendar by display name (default: the Calendar folder)")
	nargs := 0
	if action == "import" {
		nargs = 1
	}
	err := config.ApplyEnv(fs, os.LookupEnv)
	var pos []string
	if err == nil {
		pos, err = parseInterleaved(fs, args[1:])
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		calendarUsage(stderr)
		config.Usage(stderr, fs)
		return 0
	case err != nil:
	case len(pos) != nargs && nargs == 1:
		err = fmt.Errorf("import takes one file (or - for stdin), got %d arguments", len(pos))
	case len(pos) != nargs:
		err = fmt.Errorf("export takes no arguments, got %d", len(pos))
	case *user == "":
		err = &config.Error{Flag: "user", Msg: "required"}
	case *dsn == "":
		err = &config.Error{Flag: "database-url", Msg: "required"}
	}
	if err != nil {
		fmt.Fprintln(stderr, "easd calendar:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, "easd calendar: database:", err)
		return exitUsage
	}
	defer pool.Close()
	c := &calendarCmd{pool: pool, store: calendar.NewStore(pool, eas.NotifyFolderChanged), stdout: stdout, stderr: stderr}
	if action == "import" {
		return c.importFile(ctx, *user, *folder, pos[0])
	}
	return c.export(ctx, *user, *folder)
}

type calendarCmd struct {
	pool   *pgxpool.Pool
	store  *calendar.Store
	stdout io.Writer
	stderr io.Writer
}

func (c *calendarCmd) fail(err error) int {
	fmt.Fprintln(c.stderr, "easd calendar:", err)
	return 1
}

func (c *calendarCmd) importFile(ctx context.Context, login, folderName, file string) int {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return c.fail(err)
		}
		defer f.Close()
		r = f
	}
	userID, err := ensureUser(ctx, c.pool, login)
	if err != nil {
		return c.fail(err)
	}
	cal, err := c.calendar(ctx, userID, login, folderName)
	if err != nil {
		return c.fail(err)
	}
	res, err := c.store.Import(ctx, userID, cal.ServerID, r)
	for _, b := range res.Bad {
		fmt.Fprintf(c.stderr, "easd calendar: %s: %s\n", file, b)
	}
	if errors.Is(err, calendar.ErrBadEvents) {
		return c.fail(fmt.Errorf("%s: %d bad events, nothing imported", file, len(res.Bad)))
	}
	if err != nil {
		return c.fail(fmt.Errorf("%s: %w", file, err))
	}
	fmt.Fprintf(c.stdout, "%s -> %s of %s: %d created, %d updated\n", file, cal.DisplayName, login, res.Created, res.Updated)
	return 0
}

func (c *calendarCmd) export(ctx context.Context, login, folderName string) int {
	// Reading creates nothing: an unknown login is most likely a typo.
	var userID int64
	err := c.pool.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, login).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c.fail(fmt.Errorf("no user %q", login))
	}
	if err != nil {
		return c.fail(err)
	}
	cal, err := c.calendar(ctx, userID, login, folderName)
	if err != nil {
		return c.fail(err)
	}
	if err := c.store.Export(ctx, userID, cal.ServerID, c.stdout); err != nil {
		return c.fail(err)
	}
	return 0
}

// calendar finds the user's Calendar folder (type 8), or the calendar
// whose display name is name.
func (c *calendarCmd) calendar(ctx context.Context, userID int64, login, name string) (folders.Folder, error) {
	list, err := folders.NewStore(c.pool).EnsurePIM(ctx, userID)
	if err != nil {
		return folders.Folder{}, err
	}
	var names []string
	for _, f := range list {
		if f.Source != folders.SourcePIM || (f.Type != model.FolderCalendar && f.Type != model.FolderUserCalendar) {
			continue
		}
		if (name == "" && f.Type == model.FolderCalendar) || (name != "" && f.DisplayName == name) {
			return f, nil
		}
		names = append(names, fmt.Sprintf("%q", f.DisplayName))
	}
	return folders.Folder{}, fmt.Errorf("user %q has no calendar %q (there are: %s)", login, name, strings.Join(names, ", "))
}
