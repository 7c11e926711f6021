package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/model"
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
	if code, done := subcommandHelp(args, contactsUsage, stderr); done {
		return code
	}
	if args[0] != "import" && args[0] != "export" {
		return unknownAction("contacts", args[0], stderr)
	}
	c := newPIMCommand("contacts", args[0], "address book by display name (default: the Contacts folder)", contactsUsage, stderr)
	var skipBad bool
	if c.action == "import" {
		c.fs.BoolVar(&skipBad, "skip-bad", false, "import the good cards of a file that has bad ones")
	}
	pos, code, done := c.parse(args[1:], nil)
	if done {
		return code
	}
	// An import of a large file with pictures may take a while; the
	// timeout only guards against a database that does not answer.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, code, done := c.connect(ctx)
	if done {
		return code
	}
	defer pool.Close()
	store := contacts.NewStore(pool, eas.NotifyFolderChanged)
	if c.action == "export" {
		userID, book, err := c.target(ctx, pool, "address book", model.FolderContacts, model.FolderUserContacts)
		if err != nil {
			return c.fail(err)
		}
		if err := store.Export(ctx, userID, book.ServerID, stdout); err != nil {
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
	userID, book, err := c.target(ctx, pool, "address book", model.FolderContacts, model.FolderUserContacts)
	if err != nil {
		return c.fail(err)
	}
	res, err := store.Import(ctx, userID, book.ServerID, r, contacts.ImportOptions{SkipBad: skipBad})
	for _, b := range res.Bad {
		fmt.Fprintf(stderr, "easd contacts: %s: %s\n", file, b)
	}
	if errors.Is(err, contacts.ErrBadCards) {
		return c.fail(fmt.Errorf("%s: %d bad cards, nothing imported (--skip-bad imports the others)", file, len(res.Bad)))
	}
	if err != nil {
		return c.fail(fmt.Errorf("%s: %w", file, err))
	}
	fmt.Fprintf(stdout, "%s -> %s of %s: %d created, %d updated, %d unchanged, %d bad skipped\n",
		file, book.DisplayName, *c.user, res.Created, res.Updated, res.Unchanged, len(res.Bad))
	return 0
}
