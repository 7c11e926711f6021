package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/tasks"
)

func tasksUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd tasks import --user USER [--folder NAME] [--skip-bad] FILE.ics")
	fmt.Fprintln(w, "       easd tasks export --user USER [--folder NAME]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  import  read the VTODOs of an iCalendar file (FILE or - for stdin) into a task")
	fmt.Fprintln(w, "          list; a task whose UID the list holds is replaced; other components are")
	fmt.Fprintln(w, "          skipped. With a bad task nothing is imported (each is reported with its")
	fmt.Fprintln(w, "          line) unless --skip-bad.")
	fmt.Fprintln(w, "  export  write the task list as iCalendar (VTODO) to stdout")
	fmt.Fprintln(w, "\nThe list is the user's Tasks folder, or the one named by --folder.")
	fmt.Fprintln(w, "The database is --database-url or EASD_DATABASE_URL. Phones see an import on their next sync.")
}

// runTasks imports and exports task lists. Usage errors exit 2 with one
// line; an unknown user or folder, or a file with bad tasks, 1.
func runTasks(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		tasksUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	action := args[0]
	if action != "import" && action != "export" {
		fmt.Fprintf(stderr, "easd tasks: unknown action %q (see easd tasks help)\n", action)
		return exitUsage
	}
	fs := flag.NewFlagSet("easd tasks "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	user := fs.String("user", "", "the user's login (required)")
	folder := fs.String("folder", "", "task list by display name (default: the Tasks folder)")
	var skipBad bool
	nargs := 0
	if action == "import" {
		fs.BoolVar(&skipBad, "skip-bad", false, "import the good tasks of a file that has bad ones")
		nargs = 1
	}
	err := config.ApplyEnv(fs, os.LookupEnv)
	var pos []string
	if err == nil {
		pos, err = parseInterleaved(fs, args[1:])
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		tasksUsage(stderr)
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
		fmt.Fprintln(stderr, "easd tasks:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, "easd tasks: database:", err)
		return exitUsage
	}
	defer pool.Close()
	fail := func(err error) int {
		fmt.Fprintln(stderr, "easd tasks:", err)
		return 1
	}
	store := tasks.NewStore(eas.NotifyFolderChanged)
	if action == "export" {
		var userID int64
		err := pool.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, *user).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fail(fmt.Errorf("no user %q", *user))
		}
		if err != nil {
			return fail(err)
		}
		f, err := pimFolder(ctx, pool, userID, *user, *folder, "task list", model.FolderTasks, model.FolderUserTasks)
		if err != nil {
			return fail(err)
		}
		if _, err := store.Export(ctx, pool, userID, f.ServerID, stdout); err != nil {
			if errors.Is(err, tasks.ErrNoTasks) {
				err = fmt.Errorf("%s of %s has no tasks: nothing to export", f.DisplayName, *user)
			}
			return fail(err)
		}
		return 0
	}
	file := pos[0]
	var r io.Reader = os.Stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return fail(err)
		}
		defer fh.Close()
		r = fh
	}
	// A user whose phone never connected still gets the list, as the
	// first FolderSync would make it.
	userID, err := ensureUser(ctx, pool, *user)
	if err != nil {
		return fail(err)
	}
	f, err := pimFolder(ctx, pool, userID, *user, *folder, "task list", model.FolderTasks, model.FolderUserTasks)
	if err != nil {
		return fail(err)
	}
	res, err := store.Import(ctx, pool, userID, f.ServerID, r, tasks.ImportOptions{SkipBad: skipBad})
	for _, b := range res.Bad {
		fmt.Fprintf(stderr, "easd tasks: %s: %s\n", file, b)
	}
	if errors.Is(err, tasks.ErrBadTasks) {
		return fail(fmt.Errorf("%s: %d bad tasks, nothing imported (--skip-bad imports the others)", file, len(res.Bad)))
	}
	if err != nil {
		return fail(fmt.Errorf("%s: %w", file, err))
	}
	fmt.Fprintf(stdout, "%s -> %s of %s: %d created, %d updated, %d unchanged, %d bad skipped, %d other components skipped\n",
		file, f.DisplayName, *user, res.Created, res.Updated, res.Unchanged, len(res.Bad), res.Skipped)
	return 0
}
