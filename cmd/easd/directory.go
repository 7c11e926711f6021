package main

import (
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/directory"
	"github.com/easd/easd/internal/config"
)

func directoryUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: easd directory add --email ADDR [fields]")
	fmt.Fprintln(w, "       easd directory edit ENTRY [fields]")
	fmt.Fprintln(w, "       easd directory remove ENTRY")
	fmt.Fprintln(w, "       easd directory list")
	fmt.Fprintln(w, "       easd directory import FILE.vcf|FILE.csv")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  add     add a person (or, with --resource, a room or device) to the directory (GAL)")
	fmt.Fprintln(w, "  edit    change the given fields of an entry; ENTRY is its id, an address or a user's login")
	fmt.Fprintln(w, "  remove  delete an entry (a user's comes back on their next lookup: hide it instead)")
	fmt.Fprintln(w, "  list    list every entry, hidden ones included")
	fmt.Fprintln(w, "  import  add or update (by primary address) the entries of a vCard or CSV file (- for")
	fmt.Fprintln(w, "          stdin, with --format); a file with a bad line imports nothing, each is reported")
	fmt.Fprintln(w, "\nFields: --name --first --last --alias --email --other-emails --phone --mobile --home-phone")
	fmt.Fprintln(w, "--title --company --office --department --picture FILE --cert FILE (PEM or DER, repeatable)")
	fmt.Fprintln(w, "--no-picture --no-certs --hidden[=false] --resource[=false] --user LOGIN (link to a user).")
	fmt.Fprintln(w, "CSV columns: "+strings.Join(directory.CSVColumns, ", ")+".")
	fmt.Fprintln(w, "The database is --database-url or EASD_DATABASE_URL. Phones see changes on their next lookup.")
}

// entryFlags are the field flags of add and edit; set records which were
// given, so that edit changes only those.
type entryFlags struct {
	s       map[string]*string
	pics    string
	certs   []string
	noPic   bool
	noCerts bool
	hidden  bool
	res     bool
	user    string
	set     map[string]bool
}

var entryFields = []struct{ flag, help string }{
	{"name", "display name"}, {"first", "first name"}, {"last", "last name"}, {"alias", "alias (short name)"},
	{"email", "primary e-mail address"}, {"other-emails", "further addresses, comma-separated"},
	{"phone", "office phone"}, {"mobile", "mobile phone"}, {"home-phone", "home phone"}, {"title", "job title"},
	{"company", "company"}, {"office", "office location"}, {"department", "department"},
}

func (f *entryFlags) register(fs *flag.FlagSet) {
	f.s = map[string]*string{}
	for _, e := range entryFields {
		f.s[e.flag] = fs.String(e.flag, "", e.help)
	}
	fs.StringVar(&f.pics, "picture", "", "photo file (JPEG), at most 100 KB")
	fs.Func("cert", "S/MIME certificate file, PEM or DER (repeatable)", func(s string) error {
		f.certs = append(f.certs, s)
		return nil
	})
	fs.BoolVar(&f.noPic, "no-picture", false, "remove the photo")
	fs.BoolVar(&f.noCerts, "no-certs", false, "remove the certificates (before any --cert)")
	fs.BoolVar(&f.hidden, "hidden", false, "keep the entry out of every lookup")
	fs.BoolVar(&f.res, "resource", false, "the entry is a room or device, not a person")
	fs.StringVar(&f.user, "user", "", "link the entry to this user's login (add only)")
}

// apply writes the given flags into e.
func (f *entryFlags) apply(e *directory.Entry) error {
	str := map[string]*string{"name": &e.DisplayName, "first": &e.FirstName, "last": &e.LastName, "alias": &e.Alias,
		"phone": &e.Phone, "mobile": &e.MobilePhone, "home-phone": &e.HomePhone, "title": &e.Title,
		"company": &e.Company, "office": &e.Office, "department": &e.Department}
	for name, p := range str {
		if f.set[name] {
			*p = *f.s[name]
		}
	}
	if f.set["email"] || f.set["other-emails"] {
		primary, others := "", []string(nil)
		if len(e.Emails) > 0 {
			primary, others = e.Emails[0], e.Emails[1:]
		}
		if f.set["email"] {
			primary = *f.s["email"]
		}
		if f.set["other-emails"] {
			others = strings.Split(*f.s["other-emails"], ",")
		}
		e.Emails = append([]string{primary}, others...)
	}
	if f.noPic {
		e.Picture = nil
	}
	if f.pics != "" {
		b, err := os.ReadFile(f.pics)
		if err != nil {
			return err
		}
		e.Picture = b
	}
	if f.noCerts {
		e.Certificates = nil
	}
	for _, file := range f.certs {
		der, err := readCert(file)
		if err != nil {
			return err
		}
		e.Certificates = append(e.Certificates, der)
	}
	if f.set["hidden"] {
		e.Hidden = f.hidden
	}
	if f.set["resource"] {
		e.Kind = directory.Person
		if f.res {
			e.Kind = directory.Resource
		}
	}
	return nil
}

// readCert reads one certificate, PEM or DER.
func readCert(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: a PEM %s, not a CERTIFICATE", file, blk.Type)
		}
		return blk.Bytes, nil
	}
	return b, nil
}

// runDirectory administers the directory. Usage errors exit 2 with one
// line; an unknown entry or a bad file 1.
func runDirectory(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		directoryUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	action := args[0]
	nargs := map[string]int{"add": 0, "edit": 1, "remove": 1, "list": 0, "import": 1}
	want, ok := nargs[action]
	if !ok {
		fmt.Fprintf(stderr, "easd directory: unknown action %q (see easd directory help)\n", action)
		return exitUsage
	}
	fs := flag.NewFlagSet("easd directory "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("database-url", "", "PostgreSQL connection URL (required)")
	// Users' entries get their address from the mail domain, as the
	// server makes them.
	logins := config.Defaults()
	logins.RegisterLogin(fs)
	var ef entryFlags
	var format string
	if action == "add" || action == "edit" {
		ef.register(fs)
	}
	if action == "import" {
		fs.StringVar(&format, "format", "", "vcf or csv (default: from the file name)")
	}
	err := config.ApplyEnv(fs, os.LookupEnv)
	var pos []string
	if err == nil {
		pos, err = parseInterleaved(fs, args[1:])
	}
	ef.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { ef.set[f.Name] = true })
	if action == "import" && format == "" && len(pos) == 1 {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(pos[0])), ".")
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		directoryUsage(stderr)
		config.Usage(stderr, fs)
		return 0
	case err != nil:
	case len(pos) != want:
		err = fmt.Errorf("%s takes %d arguments, got %d", action, want, len(pos))
	case *dsn == "":
		err = &config.Error{Flag: "database-url", Msg: "required"}
	case action == "add" && *ef.s["email"] == "":
		err = errors.New("add needs --email")
	case action == "import" && format != "vcf" && format != "vcard" && format != "csv":
		err = errors.New("import needs a .vcf or .csv file, or --format vcf|csv")
	}
	if err != nil {
		fmt.Fprintln(stderr, "easd directory:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, "easd directory: database:", err)
		return exitUsage
	}
	defer pool.Close()
	store := directory.NewStore(pool, directory.Options{Domain: logins.MailDomain})
	d := &directoryCmd{store: store, out: stdout, errw: stderr}
	switch action {
	case "add":
		err = d.add(ctx, &ef)
	case "edit":
		err = d.edit(ctx, pos[0], &ef)
	case "remove":
		err = d.remove(ctx, pos[0])
	case "list":
		err = d.list(ctx)
	case "import":
		err = d.importFile(ctx, pos[0], format)
	}
	if err != nil {
		fmt.Fprintln(stderr, "easd directory:", err)
		return 1
	}
	return 0
}

type directoryCmd struct {
	store *directory.Store
	out   io.Writer
	errw  io.Writer
}

func (d *directoryCmd) add(ctx context.Context, ef *entryFlags) error {
	e := directory.Entry{Login: ef.user}
	if err := ef.apply(&e); err != nil {
		return err
	}
	e, err := d.store.Add(ctx, e)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "added %d %s <%s>\n", e.ID, e.DisplayName, e.Email())
	return nil
}

func (d *directoryCmd) edit(ctx context.Context, key string, ef *entryFlags) error {
	if ef.set["user"] {
		return errors.New("--user links a new entry; a user's own entry is linked already")
	}
	e, err := d.store.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := ef.apply(&e); err != nil {
		return err
	}
	if err := d.store.Update(ctx, e); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "updated %d %s <%s>\n", e.ID, e.DisplayName, e.Email())
	return nil
}

func (d *directoryCmd) remove(ctx context.Context, key string) error {
	e, err := d.store.Remove(ctx, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "removed %d %s <%s>\n", e.ID, e.DisplayName, e.Email())
	return nil
}

func (d *directoryCmd) list(ctx context.Context) error {
	list, err := d.store.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tKIND\tUSER\tHIDDEN\tPICTURE\tCERTS")
	for _, e := range list {
		hidden := ""
		if e.Hidden {
			hidden = "hidden"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", e.ID, e.DisplayName, strings.Join(e.Emails, ","), e.Kind,
			e.Login, hidden, len(e.Picture), len(e.Certificates))
	}
	return tw.Flush()
}

func (d *directoryCmd) importFile(ctx context.Context, file, format string) error {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	var entries []directory.FileEntry
	var bad []directory.LineError
	if format == "csv" {
		entries, bad = directory.ReadCSV(r)
	} else {
		entries, bad = directory.ReadVCards(r)
	}
	for _, b := range bad {
		fmt.Fprintf(d.errw, "easd directory: %s: %s\n", file, b)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: %d bad lines, nothing imported", file, len(bad))
	}
	list := make([]directory.Entry, len(entries))
	for i, fe := range entries {
		list[i] = fe.Entry
	}
	res, err := d.store.Import(ctx, list)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing imported", file, err)
	}
	fmt.Fprintf(d.out, "%s: %d added, %d updated\n", file, res.Created, res.Updated)
	return nil
}
