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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
)

// The frame the subcommands share: `easd X help`, an action, flags
// interleaved with arguments, one-line usage errors (exit 2), and for the
// PIM commands (contacts, calendar, notes, tasks) the user by canonical
// login and the folder by display name. Each command keeps its own usage
// text and what it does with the folder.

// subcommandHelp answers `easd name`, `easd name help` (and -h, --help)
// with the usage; done is false when args ask for something else.
func subcommandHelp(args []string, usage func(io.Writer), stderr io.Writer) (code int, done bool) {
	if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
		return 0, false
	}
	usage(stderr)
	if len(args) == 0 {
		return exitUsage, true
	}
	return 0, true
}

// unknownAction reports an action name does not know.
func unknownAction(name, action string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "easd %s: unknown action %q (see easd %s help)\n", name, action, name)
	return exitUsage
}

// parseFlags applies the environment to fs, parses args with flags
// anywhere among the arguments, and checks the result with check (which
// may be nil). On -h it writes usage and the flags; on an error one line.
// done is true when the command is to exit with code.
func parseFlags(name string, fs *flag.FlagSet, args []string, usage func(io.Writer), check func(pos []string) error, stderr io.Writer) (pos []string, code int, done bool) {
	err := config.ApplySettingsEnv(fs, os.LookupEnv)
	if err == nil {
		pos, err = parseInterleaved(fs, args)
	}
	if errors.Is(err, flag.ErrHelp) {
		usage(stderr)
		config.Usage(stderr, fs)
		return nil, 0, true
	}
	if err == nil && check != nil {
		err = check(pos)
	}
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd "+name+": "+err.Error()))
		return nil, exitUsage, true
	}
	return pos, 0, false
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments ("trace alice phone --off"), which package
// flag alone does not allow.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// pimCommand is one run of a PIM import or export command.
type pimCommand struct {
	name   string // "contacts": the command, in messages
	action string // "import" or "export"
	usage  func(io.Writer)
	stderr io.Writer

	fs     *flag.FlagSet
	dsn    *string
	user   *string
	folder *string
	logins config.Config
}

// newPIMCommand defines the flags every PIM command takes; the command
// adds its own to fs before parse. folderHelp says which folder --folder
// picks and what the default is.
func newPIMCommand(name, action, folderHelp string, usage func(io.Writer), stderr io.Writer) *pimCommand {
	c := &pimCommand{name: name, action: action, usage: usage, stderr: stderr, logins: config.Defaults()}
	c.fs = flag.NewFlagSet("easd "+name+" "+action, flag.ContinueOnError)
	c.fs.SetOutput(io.Discard) // errors are reported as one line
	c.dsn = c.fs.String("database-url", "", "PostgreSQL connection URL (required)")
	c.user = c.fs.String("user", "", "the user's login (required)")
	c.logins.RegisterLogin(c.fs)
	c.folder = c.fs.String("folder", "", folderHelp)
	return c
}

// parse parses args (after the action): import takes one file (or - for
// stdin), export none; --user and the database are required. check, when
// not nil, checks the command's own flags.
func (c *pimCommand) parse(args []string, check func() error) (pos []string, code int, done bool) {
	return parseFlags(c.name, c.fs, args, c.usage, func(pos []string) error {
		switch {
		case c.action == "import" && len(pos) != 1:
			return fmt.Errorf("import takes one file (or - for stdin), got %d arguments", len(pos))
		case c.action != "import" && len(pos) != 0:
			return fmt.Errorf("%s takes no arguments, got %d", c.action, len(pos))
		case *c.user == "":
			return &config.Error{Flag: "user", Msg: "required"}
		case *c.dsn == "":
			return &config.Error{Flag: "database-url", Msg: "required"}
		case check != nil:
			return check()
		}
		return nil
	}, c.stderr)
}

// connect opens the database and replaces --user by the login the server
// knows the user by (canonicalLogin). The caller closes the pool.
func (c *pimCommand) connect(ctx context.Context) (pool *pgxpool.Pool, code int, done bool) {
	pool, err := pgxpool.New(ctx, *c.dsn)
	if err != nil {
		fmt.Fprintln(c.stderr, oneLine("easd "+c.name+": database: "+err.Error()))
		return nil, exitUsage, true
	}
	login, err := canonicalLogin(ctx, pool, c.logins, *c.user)
	if err != nil {
		pool.Close()
		return nil, c.fail(err), true
	}
	*c.user = login
	return pool, 0, false
}

// fail reports err and gives the exit status of a failed run.
func (c *pimCommand) fail(err error) int {
	fmt.Fprintln(c.stderr, oneLine("easd "+c.name+": "+err.Error()))
	return 1
}

// target finds the user and the folder the command works on: the user's
// default folder of type def, or the one of type def or user named by
// --folder; what names such a folder in messages ("address book"). An
// import creates a user whose phone never connected, as the first
// request would, and with it the default folders; an export creates
// nothing, since an unknown login is most likely a typo.
func (c *pimCommand) target(ctx context.Context, pool *pgxpool.Pool, what string, def, user model.FolderType) (int64, folders.Folder, error) {
	var userID int64
	var err error
	if c.action == "import" {
		userID, err = ensureUser(ctx, pool, *c.user)
	} else {
		err = pool.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, *c.user).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			err = fmt.Errorf("no user %q", *c.user)
		}
	}
	if err != nil {
		return 0, folders.Folder{}, err
	}
	f, err := pimFolder(ctx, pool, userID, *c.user, *c.folder, what, def, user)
	return userID, f, err
}

// openInput opens the file an import reads, - for stdin.
func openInput(file string) (io.ReadCloser, error) {
	if file == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(file)
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
// import under another spelling would make a second user, whose items
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

// adminAction is one verb of an administration command (`easd device
// wipe`, `easd policy edit`), run on a C that holds the command's state.
type adminAction[C any] struct {
	name  string
	args  string // positional arguments and flags, for usage lines
	help  string
	nargs int // -1: checked by the action
	run   func(c *C, ctx context.Context, args []string) error
}

// findAction returns the action called name, or nil.
func findAction[C any](actions []adminAction[C], name string) *adminAction[C] {
	for i := range actions {
		if actions[i].name == name {
			return &actions[i]
		}
	}
	return nil
}
