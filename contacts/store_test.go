package contacts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/itemstore/itemstoretest"
	"github.com/easd/easd/internal/pgnotify"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// folderTopic mirrors eas.FolderChangedTopic, which internal/app passes in
// production; the test does not import the protocol package.
func folderTopic(userID int64) string { return "folders:" + strconv.FormatInt(userID, 10) }

func testNotify(ctx context.Context, db pgnotify.Execer, userID int64, folderID string) error {
	return pgnotify.Publish(ctx, db, folderTopic(userID), folderID)
}

// fixture is a user with a default Contacts folder "7" and a second
// address book "8" (what FolderSync and FolderCreate make).
type fixture struct {
	db     *testenv.PGDB
	pool   *pgxpool.Pool
	store  *Store
	userID int64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := testenv.PG(t)
	f := &fixture{db: db, pool: db.Pool, store: NewStore(db.Pool, testNotify)}
	f.userID = f.newUser(t)
	return f
}

func (f *fixture) newUser(t testing.TB) int64 {
	t.Helper()
	return itemstoretest.NewUser(t, f.pool, "user",
		itemstoretest.Folder{ID: "7", Name: "Contacts", Type: 9},
		itemstoretest.Folder{ID: "8", Name: "Friends", Type: 14})
}

func newCard(fn string) vcard.Card {
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, "4.0")
	c.SetValue(vcard.FieldFormattedName, fn)
	given, family, _ := strings.Cut(fn, " ")
	c.SetName(&vcard.Name{GivenName: given, FamilyName: family})
	c.AddValue(vcard.FieldEmail, strings.ToLower(given)+"@example.org")
	c.AddValue(vcard.FieldTelephone, "+1 555 0100")
	return c
}

func (f *fixture) ctag(t testing.TB, folder string) int64 {
	t.Helper()
	n, err := f.store.CTag(context.Background(), f.pool, f.userID, folder)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestContactsStoreMethods(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, q, u := f.store, f.pool, f.userID

	if f.ctag(t, "7") != 0 {
		t.Fatal("ctag of a book never written is not 0")
	}
	if v, err := s.Versions(ctx, q, u, "7"); err != nil || len(v) != 0 {
		t.Fatalf("versions of an empty book: %v %v", v, err)
	}

	alice := newCard("Alice Smith")
	a, err := s.Create(ctx, q, u, "7", alice)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ServerID, "7:") || a.UID == "" || a.Version != 1 || f.ctag(t, "7") != 1 {
		t.Fatalf("create: %+v ctag %d", a, f.ctag(t, "7"))
	}
	if alice.Value(vcard.FieldUID) != "" {
		t.Fatal("Create changed the caller's card")
	}
	bob := newCard("Bob Jones")
	bob.SetValue(vcard.FieldUID, "bob-uid")
	b, err := s.Create(ctx, q, u, "7", bob)
	if err != nil || b.UID != "bob-uid" || b.Version != 2 {
		t.Fatalf("create with UID: %+v %v", b, err)
	}

	// The indexed columns follow the card.
	var fileAs, given, family string
	var emails, phones []string
	if err := q.QueryRow(ctx, `SELECT file_as, given_name, family_name, emails, phones FROM contacts
		WHERE uid = 'bob-uid'`).Scan(&fileAs, &given, &family, &emails, &phones); err != nil {
		t.Fatal(err)
	}
	if fileAs != "Jones, Bob" || given != "Bob" || family != "Jones" || len(emails) != 1 || emails[0] != "bob@example.org" || len(phones) != 1 {
		t.Fatalf("columns: %q %q %q %v %v", fileAs, given, family, emails, phones)
	}

	// A UID already in the book changes nothing, and the caller's
	// transaction goes on.
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, tx, u, "7", bob); !errors.Is(err, ErrUIDExists) {
		t.Fatalf("duplicate UID: %v", err)
	}
	if _, err := s.Create(ctx, tx, u, "8", bob); err != nil { // another book may hold it
		t.Fatalf("same UID in another book: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if f.ctag(t, "7") != 2 || f.ctag(t, "8") != 1 {
		t.Fatalf("ctags after refused duplicate: %d %d", f.ctag(t, "7"), f.ctag(t, "8"))
	}

	vers, err := s.Versions(ctx, q, u, "7")
	if err != nil || len(vers) != 2 || vers[a.ServerID] != 1 || vers[b.ServerID] != 2 {
		t.Fatalf("versions: %v %v", vers, err)
	}
	if n, err := s.Count(ctx, q, u, "7"); err != nil || n != 2 {
		t.Fatalf("count: %d %v", n, err)
	}

	// Get keeps the order asked for and leaves out what is not there.
	got, err := s.Get(ctx, q, u, "7", []string{b.ServerID, "7:999999", "8:1", "junk", a.ServerID})
	if err != nil || len(got) != 2 || got[0].ServerID != b.ServerID || got[1].ServerID != a.ServerID {
		t.Fatalf("get: %+v %v", got, err)
	}
	if got[1].Card.Value(vcard.FieldFormattedName) != "Alice Smith" || got[1].Card.Value(vcard.FieldUID) != a.UID ||
		got[1].Card.Value(vcard.FieldVersion) != "4.0" || got[1].Version != 1 || got[1].Updated.IsZero() {
		t.Fatalf("get card: %+v", got[1])
	}
	if got, err := s.Get(ctx, q, u, "7", nil); err != nil || len(got) != 0 {
		t.Fatalf("get nothing: %v %v", got, err)
	}

	// Update keeps the UID whatever the new card says.
	changed := newCard("Alice Brown")
	changed.SetValue(vcard.FieldUID, "something-else")
	up, err := s.Update(ctx, q, u, "7", a.ServerID, changed)
	if err != nil || up.UID != a.UID || up.Version != 3 || up.ServerID != a.ServerID || f.ctag(t, "7") != 3 {
		t.Fatalf("update: %+v %v", up, err)
	}
	got, _ = s.Get(ctx, q, u, "7", []string{a.ServerID})
	if len(got) != 1 || got[0].Card.Value(vcard.FieldFormattedName) != "Alice Brown" || got[0].Card.Value(vcard.FieldUID) != a.UID {
		t.Fatalf("after update: %+v", got)
	}
	for _, sid := range []string{"7:999999", "8:" + strings.TrimPrefix(a.ServerID, "7:"), "7:x"} {
		if _, err := s.Update(ctx, q, u, "7", sid, changed); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update %q: %v", sid, err)
		}
		if err := s.Delete(ctx, q, u, "7", sid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete %q: %v", sid, err)
		}
	}
	if f.ctag(t, "7") != 3 {
		t.Fatalf("failed writes bumped the ctag to %d", f.ctag(t, "7"))
	}
	// Another user never reaches the card.
	other := f.newUser(t)
	if got, _ := s.Get(ctx, q, other, "7", []string{a.ServerID}); len(got) != 0 {
		t.Fatal("another user's Get found the card")
	}
	if err := s.Delete(ctx, q, other, "7", a.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user's delete: %v", err)
	}

	if err := s.Delete(ctx, q, u, "7", b.ServerID); err != nil || f.ctag(t, "7") != 4 {
		t.Fatalf("delete: %v ctag %d", err, f.ctag(t, "7"))
	}
	if err := s.Delete(ctx, q, u, "7", b.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A UID is free again once its card is gone.
	if _, err := s.Create(ctx, q, u, "7", bob); err != nil {
		t.Fatalf("re-create deleted UID: %v", err)
	}

	books, err := s.Books(ctx, q, u)
	if err != nil || len(books) != 2 || books[0] != (Book{FolderID: "7", CTag: 5}) || books[1] != (Book{FolderID: "8", CTag: 1}) {
		t.Fatalf("books: %+v %v", books, err)
	}

	if err := s.DeleteBook(ctx, q, u, "8"); err != nil {
		t.Fatal(err)
	}
	// The counter goes on (a restart from 1 would make old CardDAV sync
	// tokens look valid).
	if n, _ := s.Count(ctx, q, u, "8"); n != 0 || f.ctag(t, "8") != 2 {
		t.Fatalf("after DeleteBook: %d cards, ctag %d", n, f.ctag(t, "8"))
	}
	if err := s.DeleteBook(ctx, q, u, "8"); err != nil {
		t.Fatalf("DeleteBook of a book with no row: %v", err)
	}
	// Deleting the folder deletes its book and cards (FolderDelete).
	if _, err := q.Exec(ctx, `DELETE FROM folders WHERE user_id = $1 AND server_id = '7'`, u); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE user_id = $1`, u).Scan(&left); err != nil || left != 0 {
		t.Fatalf("cards left after folder delete: %d %v", left, err)
	}
}

func TestContactsMove(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, q, u := f.store, f.pool, f.userID

	a, err := s.Create(ctx, q, u, "7", newCard("Alice Smith"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Move(ctx, q, u, "7", "8", a.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.ServerID, "8:") || m.ServerID == a.ServerID || m.UID != a.UID ||
		m.Card.Value(vcard.FieldFormattedName) != "Alice Smith" || m.Version != f.ctag(t, "8") {
		t.Fatalf("moved: %+v", m)
	}
	if f.ctag(t, "7") != 2 || f.ctag(t, "8") != 1 {
		t.Fatalf("ctags after move: %d %d", f.ctag(t, "7"), f.ctag(t, "8"))
	}
	if got, _ := s.Get(ctx, q, u, "7", []string{a.ServerID}); len(got) != 0 {
		t.Fatal("card still in the source")
	}
	if _, err := s.Move(ctx, q, u, "7", "8", a.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("move of a moved card: %v", err)
	}
	if _, err := s.Move(ctx, q, u, "8", "8", m.ServerID); !errors.Is(err, ErrSameBook) {
		t.Fatalf("move to itself: %v", err)
	}

	// A card whose UID the destination has stays where it is.
	dup := newCard("Alice Twin")
	dup.SetValue(vcard.FieldUID, a.UID)
	d, err := s.Create(ctx, q, u, "7", dup)
	if err != nil {
		t.Fatal(err)
	}
	before7, before8 := f.ctag(t, "7"), f.ctag(t, "8")
	if _, err := s.Move(ctx, q, u, "7", "8", d.ServerID); !errors.Is(err, ErrUIDExists) {
		t.Fatalf("move onto a taken UID: %v", err)
	}
	if got, _ := s.Get(ctx, q, u, "7", []string{d.ServerID}); len(got) != 1 || f.ctag(t, "7") != before7 || f.ctag(t, "8") != before8 {
		t.Fatalf("refused move changed something: %v %d %d", got, f.ctag(t, "7"), f.ctag(t, "8"))
	}

	// Moves in both directions at once neither deadlock nor lose a card.
	var ids7, ids8 []string
	for i := 0; i < 10; i++ {
		c7, err := s.Create(ctx, q, u, "7", newCard(fmt.Sprintf("Seven %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		c8, err := s.Create(ctx, q, u, "8", newCard(fmt.Sprintf("Eight %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids7, ids8 = append(ids7, c7.ServerID), append(ids8, c8.ServerID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	move := func(src, dst string, ids []string) {
		defer wg.Done()
		for _, id := range ids {
			err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
				_, err := s.Move(ctx, tx, u, src, dst, id)
				return err
			})
			if err != nil {
				errs <- err
			}
		}
	}
	wg.Add(2)
	go move("7", "8", ids7)
	go move("8", "7", ids8)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n7, _ := s.Count(ctx, q, u, "7")
	n8, _ := s.Count(ctx, q, u, "8")
	if n7 != 11 || n8 != 11 {
		t.Fatalf("after crossed moves: %d and %d cards", n7, n8)
	}
}

func TestContactsTooLarge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := newCard("Big Picture")
	c.SetValue(vcard.FieldPhoto, "data:image/jpeg;base64,"+strings.Repeat("A", MaxCardSize))
	if _, err := f.store.Create(ctx, f.pool, f.userID, "7", c); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("create of a huge card: %v", err)
	}
	ok, err := f.store.Create(ctx, f.pool, f.userID, "7", newCard("Small Card"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Update(ctx, f.pool, f.userID, "7", ok.ServerID, c); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("update to a huge card: %v", err)
	}
	// A picture well within the limit is kept whole.
	c.SetValue(vcard.FieldPhoto, "data:image/jpeg;base64,"+strings.Repeat("A", 200<<10))
	big, err := f.store.Update(ctx, f.pool, f.userID, "7", ok.ServerID, c)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Get(ctx, f.pool, f.userID, "7", []string{big.ServerID})
	if len(got) != 1 || len(got[0].Card.Value(vcard.FieldPhoto)) != len("data:image/jpeg;base64,")+200<<10 || f.ctag(t, "7") != 2 {
		t.Fatalf("picture not kept: ctag %d", f.ctag(t, "7"))
	}
}

// Every write announces its book inside the writing transaction: at
// commit, and never when the transaction rolls back.
func TestContactsNotifyInTransaction(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hub, err := pgnotify.New(ctx, f.db.DSN, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	sub := hub.Subscribe(folderTopic(f.userID))
	defer sub.Close()
	expect := func(what string, want ...string) {
		t.Helper()
		var got []string
		deadline := time.After(2 * time.Second)
		for len(got) < len(want) {
			select {
			case p := <-sub.C():
				if !p.Resync {
					got = append(got, p.Data)
				}
			case <-deadline:
				t.Fatalf("%s: got notifications %q, want %q", what, got, want)
			}
		}
		select {
		case p := <-sub.C():
			t.Fatalf("%s: unexpected notification %+v after %q", what, p, got)
		case <-time.After(300 * time.Millisecond):
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: got %q, want %q", what, got, want)
		}
	}
	s, u := f.store, f.userID

	// Rolled back: no card, no bump, no notification.
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, tx, u, "7", newCard("Ghost Writer")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-sub.C():
		t.Fatalf("notified before commit: %+v", p)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	expect("rolled back create")
	if n, _ := s.Count(ctx, f.pool, u, "7"); n != 0 || f.ctag(t, "7") != 0 {
		t.Fatalf("rolled back create left %d cards, ctag %d", n, f.ctag(t, "7"))
	}

	var c Card
	if err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) (err error) {
		c, err = s.Create(ctx, tx, u, "7", newCard("Real Person"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	expect("create", "7")
	if _, err := s.Update(ctx, f.pool, u, "7", c.ServerID, newCard("Real Human")); err != nil {
		t.Fatal(err)
	}
	expect("update", "7")
	m, err := s.Move(ctx, f.pool, u, "7", "8", c.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	expect("move", "7", "8")
	if err := s.Delete(ctx, f.pool, u, "8", m.ServerID); err != nil {
		t.Fatal(err)
	}
	expect("delete", "8")
	// Refused writes announce nothing.
	_ = s.Delete(ctx, f.pool, u, "8", m.ServerID)
	_, _ = s.Update(ctx, f.pool, u, "8", m.ServerID, newCard("No One"))
	expect("refused writes")
	// Book 8 is empty now: deleting its cards changes nothing and
	// announces nothing.
	if err := s.DeleteBook(ctx, f.pool, u, "8"); err != nil {
		t.Fatal(err)
	}
	expect("delete empty book")
	if _, err := s.Create(ctx, f.pool, u, "8", newCard("Again")); err != nil {
		t.Fatal(err)
	}
	expect("create", "8")
	if err := s.DeleteBook(ctx, f.pool, u, "8"); err != nil {
		t.Fatal(err)
	}
	expect("delete book", "8")

	// An import announces its book once; one that changes nothing, or is
	// refused, announces nothing.
	one := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x1\r\nFN:Imported One\r\nEND:VCARD\r\n"
	two := one + strings.ReplaceAll(one, "x1", "x2")
	if _, err := s.Import(ctx, u, "8", strings.NewReader(two), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("import", "8")
	if _, err := s.Import(ctx, u, "8", strings.NewReader(two), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("unchanged import")
	if _, err := s.Import(ctx, u, "8", strings.NewReader(two+"BEGIN:VCARD\r\n"), ImportOptions{}); !errors.Is(err, ErrBadCards) {
		t.Fatal(err)
	}
	expect("refused import")
}

// Writers of one book in parallel transactions: every write gets its own
// version, the ctag ends at the number of writes, nothing is lost.
func TestContactsConcurrentWriters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, u := f.store, f.userID
	seed, err := s.Create(ctx, f.pool, u, "7", newCard("Shared Card"))
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 15
	var mu sync.Mutex
	versions := map[int64]string{seed.Version: "seed"}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var c Card
				err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) (err error) {
					if i%3 == 2 {
						c, err = s.Update(ctx, tx, u, "7", seed.ServerID, newCard(fmt.Sprintf("Shared %d-%d", w, i)))
					} else {
						c, err = s.Create(ctx, tx, u, "7", newCard(fmt.Sprintf("Writer%d Card%d", w, i)))
					}
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, dup := versions[c.Version]; dup {
					errs <- fmt.Errorf("version %d given to %s and %s", c.Version, prev, c.ServerID)
				}
				versions[c.Version] = c.ServerID
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := int64(1 + writers*each)
	if got := f.ctag(t, "7"); got != total {
		t.Fatalf("ctag %d after %d writes", got, total)
	}
	for v := int64(1); v <= total; v++ {
		if _, ok := versions[v]; !ok {
			t.Fatalf("no write got version %d", v)
		}
	}
	if n, _ := s.Count(ctx, f.pool, u, "7"); n != 1+writers*each*2/3 {
		t.Fatalf("%d cards", n)
	}
	// Each card's stored version is the one its last write returned, and
	// none exceeds the ctag.
	vers, err := s.Versions(ctx, f.pool, u, "7")
	if err != nil {
		t.Fatal(err)
	}
	for sid, v := range vers {
		if v > total || (versions[v] != sid && sid != seed.ServerID) {
			t.Fatalf("card %s has version %d (written for %s)", sid, v, versions[v])
		}
	}
}

// BenchmarkContactsVersions reads the diff base of a 5,000-card book and
// its ctag: what a Sync with changes and a no-change Sync cost.
func BenchmarkContactsVersions(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	const n = 5000
	start := time.Now()
	if err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		for i := 0; i < n; i++ {
			if _, err := f.store.Create(ctx, tx, f.userID, "7", newCard(fmt.Sprintf("Person%d Number%d", i, i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("created %d cards in %v (%.0f/s, one transaction)", n, time.Since(start), n/time.Since(start).Seconds())
	// Other users' cards, so the book is a small part of the table as in
	// production and the planner's choice is the one it would make there.
	other := f.newUser(b)
	if _, err := f.pool.Exec(ctx, `INSERT INTO address_books (user_id, folder_id) VALUES ($1, '7')`, other); err != nil {
		b.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO contacts (user_id, folder_id, uid, version, vcard)
		SELECT $1, '7', 'u' || i, i, 'BEGIN:VCARD' FROM generate_series(1, 45000) i`, other); err != nil {
		b.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `VACUUM ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}
	var plan string
	if err := f.pool.QueryRow(ctx, `EXPLAIN SELECT id, version FROM contacts WHERE user_id = $1 AND folder_id = '7'`,
		f.userID).Scan(&plan); err != nil {
		b.Fatal(err)
	}
	b.Logf("Versions plan: %s", plan) // an Index Only Scan: no vCard is read

	b.Run("Versions", func(b *testing.B) {
		for b.Loop() {
			v, err := f.store.Versions(ctx, f.pool, f.userID, "7")
			if err != nil || len(v) != n {
				b.Fatal(len(v), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/5000cards")
	})
	b.Run("CTag", func(b *testing.B) {
		for b.Loop() {
			if c, err := f.store.CTag(ctx, f.pool, f.userID, "7"); err != nil || c != n {
				b.Fatal(c, err)
			}
		}
	})
	b.Run("Get100", func(b *testing.B) {
		vers, _ := f.store.Versions(ctx, f.pool, f.userID, "7")
		var ids []string
		for sid := range vers {
			if ids = append(ids, sid); len(ids) == 100 {
				break
			}
		}
		for b.Loop() {
			if got, err := f.store.Get(ctx, f.pool, f.userID, "7", ids); err != nil || len(got) != 100 {
				b.Fatal(len(got), err)
			}
		}
	})
}
