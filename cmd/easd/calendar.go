package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/model"
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

// runCalendar imports and exports calendars. Usage errors exit 2 with
// one line; an unknown user or folder, or a file with bad events, 1.
func runCalendar(args []string, stdout, stderr io.Writer) int {
	if code, done := subcommandHelp(args, calendarUsage, stderr); done {
		return code
	}
	if args[0] != "import" && args[0] != "export" {
		return unknownAction("calendar", args[0], stderr)
	}
	c := newPIMCommand("calendar", args[0], "calendar by display name (default: the Calendar folder)", calendarUsage, stderr)
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
	store := calendar.NewStore(pool, eas.NotifyFolderChanged)
	if c.action == "export" {
		userID, cal, err := c.target(ctx, pool, "calendar", model.FolderCalendar, model.FolderUserCalendar)
		if err != nil {
			return c.fail(err)
		}
		if err := store.Export(ctx, userID, cal.ServerID, stdout); err != nil {
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
	userID, cal, err := c.target(ctx, pool, "calendar", model.FolderCalendar, model.FolderUserCalendar)
	if err != nil {
		return c.fail(err)
	}
	res, err := store.Import(ctx, userID, cal.ServerID, r)
	for _, b := range res.Bad {
		fmt.Fprintf(stderr, "easd calendar: %s: %s\n", file, b)
	}
	if errors.Is(err, calendar.ErrBadEvents) {
		return c.fail(fmt.Errorf("%s: %d bad events, nothing imported", file, len(res.Bad)))
	}
	if err != nil {
		return c.fail(fmt.Errorf("%s: %w", file, err))
	}
	fmt.Fprintf(stdout, "%s -> %s of %s: %d created, %d updated\n", file, cal.DisplayName, *c.user, res.Created, res.Updated)
	return 0
}
