package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/notes"
)

func notesUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd notes export --user USER [--folder NAME] [--format ics|text] [--dir DIR]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  export  write the user's notes as iCalendar VJOURNAL (--format ics, the default:")
	fmt.Fprintln(w, "          to stdout, or to DIR/FOLDER.ics with --dir) or as one text file per")
	fmt.Fprintln(w, "          note in DIR (--format text, --dir required; existing files are never")
	fmt.Fprintln(w, "          overwritten).")
	fmt.Fprintln(w, "\nThe folder is the user's Notes folder, or the one named by --folder.")
	fmt.Fprintln(w, "The database is --database-url or EASD_DATABASE_URL.")
}

// runNotes exports notes. Usage errors exit 2 with one line; an unknown
// user or folder, or a write that fails, 1.
func runNotes(args []string, stdout, stderr io.Writer) int {
	if code, done := subcommandHelp(args, notesUsage, stderr); done {
		return code
	}
	if args[0] != "export" {
		return unknownAction("notes", args[0], stderr)
	}
	c := newPIMCommand("notes", "export", "notes folder by display name (default: the Notes folder)", notesUsage, stderr)
	format := c.fs.String("format", "ics", "ics (VJOURNAL) or text (one file per note)")
	dir := c.fs.String("dir", "", "directory to write to (required for --format text)")
	_, code, done := c.parse(args[1:], func() error {
		switch {
		case *format != "ics" && *format != "text":
			return &config.Error{Flag: "format", Msg: fmt.Sprintf("%q is neither ics nor text", *format)}
		case *format == "text" && *dir == "":
			return &config.Error{Flag: "dir", Msg: "required for --format text"}
		}
		return nil
	})
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
	userID, f, err := c.target(ctx, pool, "notes folder", model.FolderNotes, model.FolderUserNotes)
	if err != nil {
		return c.fail(err)
	}
	list, err := notes.NewStore(nil).List(ctx, pool, userID, f.ServerID)
	if err != nil {
		return c.fail(err)
	}
	if *format == "text" {
		names, err := notes.WriteTextFiles(*dir, list)
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stdout, "%s of %s -> %s: %d notes\n", f.DisplayName, *c.user, *dir, len(names))
		return 0
	}
	if len(list) == 0 {
		return c.fail(fmt.Errorf("%s of %s has no notes: nothing to export", f.DisplayName, *c.user))
	}
	w := stdout
	var path string
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return c.fail(err)
		}
		path = filepath.Join(*dir, fileSafe(f.DisplayName)+".ics")
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return c.fail(err)
		}
		defer out.Close()
		w = out
	}
	if err := notes.WriteJournal(w, list); err != nil {
		return c.fail(err)
	}
	if path != "" {
		fmt.Fprintf(stdout, "%s of %s -> %s: %d notes\n", f.DisplayName, *c.user, path, len(list))
	}
	return 0
}

// fileSafe replaces what a file name may not hold.
func fileSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, s)
	if strings.Trim(s, ". ") == "" {
		return "notes"
	}
	return s
}
