package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/model"
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
	if code, done := subcommandHelp(args, tasksUsage, stderr); done {
		return code
	}
	if args[0] != "import" && args[0] != "export" {
		return unknownAction("tasks", args[0], stderr)
	}
	c := newPIMCommand("tasks", args[0], "task list by display name (default: the Tasks folder)", tasksUsage, stderr)
	var skipBad bool
	if c.action == "import" {
		c.fs.BoolVar(&skipBad, "skip-bad", false, "import the good tasks of a file that has bad ones")
	}
	pos, code, done := c.parse(args[1:], nil)
	if done {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, code, done := c.connect(ctx)
	if done {
		return code
	}
	defer pool.Close()
	store := tasks.NewStore(eas.NotifyFolderChanged)
	if c.action == "export" {
		userID, f, err := c.target(ctx, pool, "task list", model.FolderTasks, model.FolderUserTasks)
		if err != nil {
			return c.fail(err)
		}
		if _, err := store.Export(ctx, pool, userID, f.ServerID, stdout); err != nil {
			if errors.Is(err, tasks.ErrNoTasks) {
				err = fmt.Errorf("%s of %s has no tasks: nothing to export", f.DisplayName, *c.user)
			}
			return c.fail(err)
		}
		return 0
	}
	file := pos[0]
	r, err := openInput(file)
	if err != nil {
		return c.fail(err)
	}
	defer r.Close()
	userID, f, err := c.target(ctx, pool, "task list", model.FolderTasks, model.FolderUserTasks)
	if err != nil {
		return c.fail(err)
	}
	res, err := store.Import(ctx, pool, userID, f.ServerID, r, tasks.ImportOptions{SkipBad: skipBad})
	for _, b := range res.Bad {
		fmt.Fprintf(stderr, "easd tasks: %s: %s\n", file, b)
	}
	if errors.Is(err, tasks.ErrBadTasks) {
		return c.fail(fmt.Errorf("%s: %d bad tasks, nothing imported (--skip-bad imports the others)", file, len(res.Bad)))
	}
	if err != nil {
		return c.fail(fmt.Errorf("%s: %w", file, err))
	}
	fmt.Fprintf(stdout, "%s -> %s of %s: %d created, %d updated, %d unchanged, %d bad skipped, %d other components skipped\n",
		file, f.DisplayName, *c.user, res.Created, res.Updated, res.Unchanged, len(res.Bad), res.Skipped)
	return 0
}
