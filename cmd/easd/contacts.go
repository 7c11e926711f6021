package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
)

func contactsUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd contacts import --user USER [--folder NAME] [--skip-bad] FILE.vcf")
	fmt.Fprintln(w, "       easd contacts export --user USER [--folder NAME]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  import  read vCards 2.1, 3.0 and 4.0 (FILE or - for stdin) into an address book;")
	fmt.Fprintln(w, "          a card whose UID the book holds is replaced. With a bad card nothing is")
	fmt.Fprintln(w, "          imported (each is reported) unless --skip-bad.")
	fmt.Fprintln(w, "  export  write the address book as vCard 4.0 to stdout")
	fmt.Fprintln(w, "\nThe address book is the user's Contacts folder, or the one named by --folder.")
	fmt.Fprintln(w, "The database is --database-url or EASD_DATABASE_URL. Phones see an import on their next sync.")
}

// runContacts imports and exports address books. Usage errors exit 2 with
// one line; an unknown user or folder, or a file with bad cards, 1.
func runContacts(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		contactsUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	action := args[0]
	if action != "import" && action != "export" {
		fmt.Fprintf(stderr, "easd contacts: unknown action %q (see easd contacts help)\n", action)
		return exitUsage
	}
	fs := flag.NewFlagSet("easd contacts "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line below
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	user := fs.String("user", "", "the user's login (required)")
	logins := config.Defaults()
	logins.RegisterLogin(fs)
	folder := fs.String("folder", "", "address book by display name (default: the Contacts folder)")
	var skipBad bool
	nargs := 0
	if action == "import" {
		fs.BoolVar(&skipBad, "skip-bad", false, "import the good cards of a file that has bad ones")
		nargs = 1
	}
	err := config.ApplyEnv(fs, os.LookupEnv)
	var pos []string
	if err == nil {
		pos, err = parseInterleaved(fs, args[1:])
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		contactsUsage(stderr)
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
		fmt.Fprintln(stderr, oneLine("easd contacts: "+err.Error()))
		return exitUsage
	}

	// An import of a large file with pictures may take a while; the
	// timeout only guards against a database that does not answer.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd contacts: database: "+err.Error()))
		return exitUsage
	}
	defer pool.Close()
	c := &contactsCmd{pool: pool, store: contacts.NewStore(pool, eas.NotifyFolderChanged), stdout: stdout, stderr: stderr}
	login, err := canonicalLogin(ctx, pool, logins, *user)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd contacts: "+err.Error()))
		return 1
	}
	*user = login
	if action == "import" {
		return c.importFile(ctx, *user, *folder, pos[0], skipBad)
	}
	return c.export(ctx, *user, *folder)
}

type contactsCmd struct {
	pool   *pgxpool.Pool
	store  *contacts.Store
	stdout io.Writer
	stderr io.Writer
}

func (c *contactsCmd) fail(err error) int {
	fmt.Fprintln(c.stderr, "easd contacts:", err)
	return 1
}

func (c *contactsCmd) importFile(ctx context.Context, login, folderName, file string, skipBad bool) int {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return c.fail(err)
		}
		defer f.Close()
		r = f
	}
	// A user whose phone never connected still gets the address book, as
	// the first FolderSync would make it.
	userID, err := ensureUser(ctx, c.pool, login)
	if err != nil {
		return c.fail(err)
	}
	book, err := c.book(ctx, userID, login, folderName)
	if err != nil {
		return c.fail(err)
	}
	res, err := c.store.Import(ctx, userID, book.ServerID, r, contacts.ImportOptions{SkipBad: skipBad})
	for _, b := range res.Bad {
		fmt.Fprintf(c.stderr, "easd contacts: %s: %s\n", file, b)
	}
	if errors.Is(err, contacts.ErrBadCards) {
		return c.fail(fmt.Errorf("%s: %d bad cards, nothing imported (--skip-bad imports the others)", file, len(res.Bad)))
	}
	if err != nil {
		return c.fail(fmt.Errorf("%s: %w", file, err))
	}
	fmt.Fprintf(c.stdout, "%s -> %s of %s: %d created, %d updated, %d unchanged, %d bad skipped\n",
		file, book.DisplayName, login, res.Created, res.Updated, res.Unchanged, len(res.Bad))
	return 0
}

func (c *contactsCmd) export(ctx context.Context, login, folderName string) int {
	// Reading creates nothing: an unknown login is most likely a typo.
	var userID int64
	err := c.pool.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, login).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c.fail(fmt.Errorf("no user %q", login))
	}
	if err != nil {
		return c.fail(err)
	}
	book, err := c.book(ctx, userID, login, folderName)
	if err != nil {
		return c.fail(err)
	}
	if err := c.store.Export(ctx, userID, book.ServerID, c.stdout); err != nil {
		return c.fail(err)
	}
	return 0
}

// book finds the address book: the user's Contacts folder (type 9), or
// the one whose display name is name (a folder of type 14, or the default
// one by its name).
func (c *contactsCmd) book(ctx context.Context, userID int64, login, name string) (folders.Folder, error) {
	list, err := folders.NewStore(c.pool).EnsurePIM(ctx, userID)
	if err != nil {
		return folders.Folder{}, err
	}
	var names []string
	for _, f := range list {
		if f.Source != folders.SourcePIM || (f.Type != model.FolderContacts && f.Type != model.FolderUserContacts) {
			continue
		}
		if (name == "" && f.Type == model.FolderContacts) || (name != "" && f.DisplayName == name) {
			return f, nil
		}
		names = append(names, fmt.Sprintf("%q", f.DisplayName))
	}
	return folders.Folder{}, fmt.Errorf("user %q has no address book %q (there are: %s)", login, name, strings.Join(names, ", "))
}

// ensureUser returns the id of login, adding the user as its first
// request would (package device does the same on first contact).
func ensureUser(ctx context.Context, pool *pgxpool.Pool, login string) (int64, error) {
	var id int64
	var err error
	// A second try sees the row of a first request that raced with us
	// (neither the insert nor the statement's snapshot saw it).
	for range 2 {
		err = pool.QueryRow(ctx, `WITH ins AS (
				INSERT INTO users (login) VALUES ($1) ON CONFLICT (login) DO NOTHING RETURNING id)
			SELECT id FROM ins UNION ALL SELECT id FROM users WHERE login = $1`, login).Scan(&id)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("user %q: %w", login, err)
	}
	return id, nil
}

// canonicalLogin is the login a phone signing in as user is known by:
// the settings' case and form rules, as the server applies them, and of
// the forms those allow the one already stored, else the first. An
// import under another spelling would make a second user, whose cards
// the server's next start merges into the first (device.MergeLogins).
func canonicalLogin(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, user string) (string, error) {
	tries := eas.NewAuthenticator(nil, eas.AuthOptions{Form: cfg.LoginForm, Case: cfg.LoginCase, Domain: cfg.MailDomain}).Logins(user)
	var stored []string
	err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(login), '{}') FROM users WHERE login = ANY($1)`, tries).Scan(&stored)
	if err != nil {
		return "", fmt.Errorf("database: %w", err)
	}
	for _, t := range tries {
		if slices.Contains(stored, t) {
			return t, nil
		}
	}
	return tries[0], nil
}
