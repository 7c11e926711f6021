package notes

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/itemstore/itemstoretest"
	"github.com/easd/easd/internal/pgnotify"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// folderTopic mirrors eas.FolderChangedTopic; the test does not import the
// protocol package.
func folderTopic(userID int64) string { return "folders:" + strconv.FormatInt(userID, 10) }

func testNotify(ctx context.Context, db pgnotify.Execer, userID int64, folderID string) error {
	return pgnotify.Publish(ctx, db, folderTopic(userID), folderID)
}

// fixture is a user with the default Notes folder "10" and a folder "11"
// of type 17 (what FolderSync and FolderCreate make).
type fixture struct {
	db     *testenv.PGDB
	pool   *pgxpool.Pool
	store  *Store
	userID int64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := testenv.PG(t)
	f := &fixture{db: db, pool: db.Pool, store: NewStore(testNotify)}
	f.userID = f.newUser(t)
	return f
}

func (f *fixture) newUser(t testing.TB) int64 {
	t.Helper()
	return itemstoretest.NewUser(t, f.pool, "user",
		itemstoretest.Folder{ID: "10", Name: "Notes", Type: 10},
		itemstoretest.Folder{ID: "11", Name: "Ideas", Type: 17})
}

func (f *fixture) ctag(t *testing.T, folder string) int64 {
	t.Helper()
	c, err := f.store.CTag(context.Background(), f.pool, f.userID, folder)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNotesStoreMethods(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, u := f.store, f.userID
	if f.ctag(t, "10") != 0 {
		t.Fatal("unwritten folder has a ctag")
	}
	lm := time.Date(2026, 3, 1, 9, 30, 0, 123e6, time.UTC)
	want := Note{Subject: "Shopping", Body: "<p>milk</p>", BodyType: BodyHTML,
		Categories: []string{"Blue Category", "Home"}, MessageClass: "IPM.StickyNote.Custom", LastModified: lm}
	a, err := s.Create(ctx, f.pool, u, "10", want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ServerID, "10:") || a.Version != 1 || f.ctag(t, "10") != 1 || a.UID == "" {
		t.Fatalf("created %+v, ctag %d", a, f.ctag(t, "10"))
	}
	b, err := s.Create(ctx, f.pool, u, "10", Note{Subject: "Plain"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, f.pool, u, "10", []string{b.ServerID, "10:999999", a.ServerID, "11:1", "garbage"})
	if err != nil || len(got) != 2 || got[0].ServerID != b.ServerID || got[1].ServerID != a.ServerID {
		t.Fatalf("Get: %+v %v", got, err)
	}
	g := got[1]
	if g.Subject != want.Subject || g.Body != want.Body || g.BodyType != BodyHTML || !reflect.DeepEqual(g.Categories, want.Categories) ||
		g.MessageClass != want.MessageClass || !g.LastModified.Equal(lm) {
		t.Fatalf("stored %+v, want %+v", g, want)
	}
	if got[0].MessageClass != DefaultMessageClass || got[0].BodyType != BodyPlain || got[0].LastModified.IsZero() {
		t.Fatalf("defaults: %+v", got[0])
	}
	v, err := s.Versions(ctx, f.pool, u, "10")
	if err != nil || len(v) != 2 || v[a.ServerID] != 1 || v[b.ServerID] != 2 {
		t.Fatalf("Versions: %v %v", v, err)
	}

	up, err := s.Update(ctx, f.pool, u, "10", a.ServerID, Note{Subject: "Shopping 2", Categories: []string{"Red Category"}})
	if err != nil || up.Version != 3 || up.UID != a.UID || up.Subject != "Shopping 2" || up.Body != "" {
		t.Fatalf("Update: %+v %v", up, err)
	}
	if _, err := s.Update(ctx, f.pool, u, "11", a.ServerID, Note{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update through another folder: %v", err)
	}

	m, err := s.Move(ctx, f.pool, u, "10", "11", a.ServerID)
	if err != nil || !strings.HasPrefix(m.ServerID, "11:") || m.UID != a.UID || m.Subject != "Shopping 2" {
		t.Fatalf("Move: %+v %v", m, err)
	}
	if f.ctag(t, "10") != 4 || f.ctag(t, "11") != 1 || m.Version != 1 {
		t.Fatalf("ctags after move: %d %d, version %d", f.ctag(t, "10"), f.ctag(t, "11"), m.Version)
	}
	if _, err := s.Move(ctx, f.pool, u, "10", "11", a.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("move of a moved note: %v", err)
	}
	if _, err := s.Move(ctx, f.pool, u, "11", "11", m.ServerID); !errors.Is(err, ErrSameFolder) {
		t.Fatalf("move to its own folder: %v", err)
	}
	if err := s.Delete(ctx, f.pool, u, "10", b.ServerID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, f.pool, u, "10", b.ServerID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if f.ctag(t, "10") != 5 {
		t.Fatalf("ctag after delete %d", f.ctag(t, "10"))
	}
	list, err := s.List(ctx, f.pool, u, "11")
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %+v %v", list, err)
	}

	// Deleting the folder row takes its notes with it.
	if _, err := f.pool.Exec(ctx, `DELETE FROM folders WHERE user_id = $1 AND server_id = '11'`, u); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM notes WHERE user_id = $1`, u).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d notes left after their folder (%v)", n, err)
	}
}

func TestNotesBadValues(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for name, n := range map[string]Note{
		"body type":      {BodyType: 3, Body: "{\\rtf1}"},
		"long subject":   {Subject: strings.Repeat("s", MaxSubject+1)},
		"long body":      {Body: strings.Repeat("b", MaxBody+1)},
		"class":          {MessageClass: "IPM.Note"},
		"class prefix":   {MessageClass: "IPM.StickyNoteX"},
		"empty category": {Categories: []string{""}},
		"many":           {Categories: strings.Split(strings.Repeat("c,", MaxCategories+1), ",")[:MaxCategories+1]},
		"NUL":            {Subject: "a\x00b"},
	} {
		if _, err := f.store.Create(ctx, f.pool, f.userID, "10", n); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: %v, want ErrBadValue", name, err)
		}
	}
	if f.ctag(t, "10") != 0 {
		t.Fatal("refused writes bumped the ctag")
	}
}

// Notifications go out at commit, one per folder written, none for a
// rollback or a refused write.
func TestNotesNotifyInTransaction(t *testing.T) {
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
				t.Fatalf("%s: got %q, want %q", what, got, want)
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
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, tx, u, "10", Note{Subject: "ghost"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	expect("rolled back")
	if f.ctag(t, "10") != 0 {
		t.Fatal("rolled back create bumped the ctag")
	}
	var n Note
	if err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) (err error) {
		n, err = s.Create(ctx, tx, u, "10", Note{Subject: "real"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	expect("create", "10")
	if _, err := s.Update(ctx, f.pool, u, "10", n.ServerID, Note{Subject: "real 2"}); err != nil {
		t.Fatal(err)
	}
	expect("update", "10")
	m, err := s.Move(ctx, f.pool, u, "10", "11", n.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	expect("move", "10", "11")
	_ = s.Delete(ctx, f.pool, u, "10", n.ServerID)
	_, _ = s.Create(ctx, f.pool, u, "11", Note{MessageClass: "IPM.Note"})
	expect("refused writes")
	if err := s.Delete(ctx, f.pool, u, "11", m.ServerID); err != nil {
		t.Fatal(err)
	}
	expect("delete", "11")
	if err := s.DeleteFolder(ctx, f.pool, u, "11"); err != nil {
		t.Fatal(err)
	}
	expect("delete folder", "11")
}

// Writers of one folder in parallel: each write gets its own version and
// the ctag counts them all.
func TestNotesConcurrentWriters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := f.store.Create(ctx, f.pool, f.userID, "10", Note{Subject: fmt.Sprint(w, i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := f.store.Versions(ctx, f.pool, f.userID, "10")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, ver := range v {
		if seen[ver] {
			t.Fatalf("version %d given twice", ver)
		}
		seen[ver] = true
	}
	if len(v) != writers*each || f.ctag(t, "10") != writers*each {
		t.Fatalf("%d notes, ctag %d", len(v), f.ctag(t, "10"))
	}
}
