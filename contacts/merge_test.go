package contacts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/testenv"
)

// Two spellings of one login merged into one user (an earlier easd, or an
// import made under another spelling): the address book of the one that
// goes moves to the survivor with every card; nothing is deleted.
func TestMergedUserKeepsContacts(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	fs := folders.NewStore(db.Pool)
	store := contacts.NewStore(db.Pool, nil)
	users := map[string]int64{}
	for _, login := range []string{"demo", "DEMO"} {
		var id int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO users (login) VALUES ($1) RETURNING id`, login).Scan(&id); err != nil {
			t.Fatal(err)
		}
		users[login] = id
		list, err := fs.EnsurePIM(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range list {
			if f.DisplayName == "Contacts" {
				vcf := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + login + "-1\r\nFN:Card of " + login + "\r\nEND:VCARD\r\n"
				if _, err := store.Import(ctx, id, f.ServerID, strings.NewReader(vcf), contacts.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	a := eas.NewAuthenticator(nil, eas.AuthOptions{Form: config.LoginAsGiven, Case: config.CaseLower})
	if _, err := device.MergeLogins(ctx, db.Pool, a.CanonicalStored, func(ctx context.Context, tx pgx.Tx, into, from int64) error {
		return folders.MovePIM(ctx, tx, into, from, contacts.MoveBook)
	}); err != nil {
		t.Fatal(err)
	}
	list, err := fs.List(ctx, users["demo"])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	cards := 0
	for _, f := range list {
		var out strings.Builder
		if err := store.Export(ctx, users["demo"], f.ServerID, &out); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "BEGIN:VCARD"); n > 0 {
			names = append(names, f.DisplayName)
			cards += n
		}
	}
	if cards != 2 || len(names) != 2 {
		t.Fatalf("after the merge: %d cards in %v, want both cards in two books", cards, names)
	}
	t.Logf("books after the merge: %v", names)
}
