package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas/folders"
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		notesUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	if args[0] != "export" {
		fmt.Fprintf(stderr, "easd notes: unknown action %q (see easd notes help)\n", args[0])
		return exitUsage
	}
	fs := flag.NewFlagSet("easd notes export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	user := fs.String("user", "", "the user's login (required)")
	folder := fs.String("folder", "", "notes folder by display name (default: the Notes folder)")
	format := fs.String("format", "ics", "ics (VJOURNAL) or text (one file per note)")
	dir := fs.String("dir", "", "directory to write to (required for --format text)")
	err := config.ApplyEnv(fs, os.LookupEnv)
	var pos []string
	if err == nil {
		pos, err = parseInterleaved(fs, args[1:])
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		notesUsage(stderr)
		config.Usage(stderr, fs)
		return 0
	case err != nil:
	case len(pos) != 0:
		err = fmt.Errorf("export takes no arguments, got %d", len(pos))
	case *user == "":
		err = &config.Error{Flag: "user", Msg: "required"}
	case *dsn == "":
		err = &config.Error{Flag: "database-url", Msg: "required"}
	case *format != "ics" && *format != "text":
		err = &config.Error{Flag: "format", Msg: fmt.Sprintf("%q is neither ics nor text", *format)}
	case *format == "text" && *dir == "":
		err = &config.Error{Flag: "dir", Msg: "required for --format text"}
	}
	if err != nil {
		fmt.Fprintln(stderr, "easd notes:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, "easd notes: database:", err)
		return exitUsage
	}
	defer pool.Close()
	fail := func(err error) int {
		fmt.Fprintln(stderr, "easd notes:", err)
		return 1
	}
	var userID int64
	err = pool.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, *user).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fail(fmt.Errorf("no user %q", *user))
	}
	if err != nil {
		return fail(err)
	}
	f, err := pimFolder(ctx, pool, userID, *user, *folder, "notes folder", model.FolderNotes, model.FolderUserNotes)
	if err != nil {
		return fail(err)
	}
	list, err := notes.NewStore(nil).List(ctx, pool, userID, f.ServerID)
	if err != nil {
		return fail(err)
	}
	if *format == "text" {
		names, err := notes.WriteTextFiles(*dir, list)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s of %s -> %s: %d notes\n", f.DisplayName, *user, *dir, len(names))
		return 0
	}
	if len(list) == 0 {
		return fail(fmt.Errorf("%s of %s has no notes: nothing to export", f.DisplayName, *user))
	}
	w := stdout
	var path string
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return fail(err)
		}
		path = filepath.Join(*dir, fileSafe(f.DisplayName)+".ics")
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fail(err)
		}
		defer out.Close()
		w = out
	}
	if err := notes.WriteJournal(w, list); err != nil {
		return fail(err)
	}
	if path != "" {
		fmt.Fprintf(stdout, "%s of %s -> %s: %d notes\n", f.DisplayName, *user, path, len(list))
	}
	return 0
}

// pimFolder finds a PIM folder of the user: the default one (type def)
// when name is empty, else the one of type def or user with that display
// name.
func pimFolder(ctx context.Context, pool *pgxpool.Pool, userID int64, login, name, what string, def, user model.FolderType) (folders.Folder, error) {
	list, err := folders.NewStore(pool).EnsurePIM(ctx, userID)
	if err != nil {
		return folders.Folder{}, err
	}
	var names []string
	for _, f := range list {
		if f.Source != folders.SourcePIM || (f.Type != def && f.Type != user) {
			continue
		}
		if (name == "" && f.Type == def) || (name != "" && f.DisplayName == name) {
			return f, nil
		}
		names = append(names, fmt.Sprintf("%q", f.DisplayName))
	}
	return folders.Folder{}, fmt.Errorf("user %q has no %s %q (there are: %s)", login, what, name, strings.Join(names, ", "))
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
