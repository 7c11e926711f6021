package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func entry(name, email string) Entry {
	return Entry{DirectoryEntry: model.DirectoryEntry{DisplayName: name, Emails: []string{email}}}
}

func names(p model.DirectoryPage) []string {
	var out []string
	for _, e := range p.Entries {
		out = append(out, e.DisplayName)
	}
	return out
}

func newStore(t *testing.T, opts Options) (*Store, *testenv.PGDB) {
	t.Helper()
	db := testenv.PG(t)
	return NewStore(db.Pool, opts), db
}

func TestSearchRankingPagingAccents(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{MinQuery: 2, MaxResults: 5})
	for _, e := range []Entry{
		entry("Élodie Martin", "elodie@example.test"),
		entry("Eloise Smith", "eloise.smith@example.test"),
		entry("Elo Quinn", "quinn@example.test"),
		entry("Hans Müller", "hans.mueller@example.test"),
		entry("Jean-Luc Picard", "jlp@example.test"),
		{DirectoryEntry: model.DirectoryEntry{DisplayName: "Elo Hidden", Emails: []string{"hidden@example.test"}}, Hidden: true},
	} {
		if _, err := s.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	search := func(q string, first, count int) model.DirectoryPage {
		t.Helper()
		p, err := s.Search(ctx, q, first, count)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		return p
	}
	// "elo" is a whole word of Elo Quinn: exact first, then the prefixes
	// by name, accents and case ignored; the hidden entry never.
	if got := names(search("ELO", 0, 10)); !slices.Equal(got, []string{"Elo Quinn", "Élodie Martin", "Eloise Smith"}) {
		t.Fatalf("elo: %v", got)
	}
	if p := search("elo", 1, 1); p.Total != 3 || !slices.Equal(names(p), []string{"Élodie Martin"}) {
		t.Fatalf("page: %+v", p)
	}
	if p := search("elo", 7, 3); p.Total != 3 || len(p.Entries) != 0 {
		t.Fatalf("past the end: %+v", p)
	}
	for q, want := range map[string]string{
		"müll": "Hans Müller", "MULLER": "Hans Müller", "hans.mu": "Hans Müller", "mueller": "Hans Müller",
		"luc": "Jean-Luc Picard", "jean-l": "Jean-Luc Picard", "jlp@example.test": "Jean-Luc Picard",
		"smith eloise": "Eloise Smith", "martin, é": "Élodie Martin",
	} {
		if got := names(search(q, 0, 10)); !slices.Equal(got, []string{want}) {
			t.Errorf("%q: %v, want %s", q, got, want)
		}
	}
	// Injection attempts are words like any other.
	for _, q := range []string{"%", "e_o", `\`, "'; DROP TABLE directory_entries; --", "*)(mail=*"} {
		if p, err := s.Search(ctx, q, 0, 10); err != nil && !errors.Is(err, model.ErrQueryTooShort) || len(p.Entries) != 0 {
			t.Errorf("%q: %+v %v", q, p, err)
		}
	}
	if _, err := s.Search(ctx, "e", 0, 10); !errors.Is(err, model.ErrQueryTooShort) {
		t.Fatalf("short: %v", err)
	}
	// The cap bounds Total.
	for i := range 8 {
		if _, err := s.Add(ctx, entry(fmt.Sprintf("Zed %d", i), fmt.Sprintf("zed%d@example.test", i))); err != nil {
			t.Fatal(err)
		}
	}
	if p := search("zed", 3, 10); p.Total != 5 || len(p.Entries) != 2 {
		t.Fatalf("cap: %d %v", p.Total, names(p))
	}
}

func TestEditRemoveAndUsers(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t, Options{Domain: "example.test", MaxResults: 100})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO users (login) VALUES ('carol'), ('dave@other.test')`); err != nil {
		t.Fatal(err)
	}
	// An entry an administrator made with a user's address becomes the
	// user's.
	if _, err := s.Add(ctx, Entry{DirectoryEntry: model.DirectoryEntry{DisplayName: "Carol Jones", Emails: []string{"Carol@Example.test"}, Title: "CFO"}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Search(ctx, "carol", 0, 10)
	if err != nil || len(p.Entries) != 1 || p.Entries[0].UserID == 0 || p.Entries[0].Title != "CFO" {
		t.Fatalf("carol: %+v %v", p, err)
	}
	p, err = s.Search(ctx, "dave", 0, 10)
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Email() != "dave@other.test" || p.Entries[0].DisplayName != "dave" {
		t.Fatalf("dave: %+v %v", p, err)
	}
	if _, err := s.Add(ctx, entry("Other Carol", "carol@example.test")); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	e, err := s.Get(ctx, "dave@other.test")
	if err != nil {
		t.Fatal(err)
	}
	e.DisplayName, e.Hidden = "Dave Brown", true
	if err := s.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Search(ctx, "brown", 0, 10); len(p.Entries) != 0 {
		t.Fatalf("hidden: %+v", p)
	}
	e.Hidden = false
	if err := s.Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Search(ctx, "brown", 0, 10); len(p.Entries) != 1 {
		t.Fatalf("renamed: %+v", p)
	}
	if _, err := s.Remove(ctx, "carol@example.test"); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Login != "dave@other.test" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := s.Remove(ctx, "nobody@example.test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove unknown: %v", err)
	}
	// A bad entry in an import leaves the directory as it was.
	_, err = s.Import(ctx, []Entry{entry("New One", "new@example.test"), entry("Bad", "not-an-address")})
	if err == nil {
		t.Fatal("import of a bad entry succeeded")
	}
	if _, err := s.Get(ctx, "new@example.test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half imported: %v", err)
	}
	res, err := s.Import(ctx, []Entry{entry("New One", "new@example.test"), entry("Dave B.", "dave@other.test")})
	if err != nil || res.Created != 1 || res.Updated != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
}
