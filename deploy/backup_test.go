package deploy_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/app"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/testenv"
)

// startOn runs easd with cfg for the rest of the test and returns its URL.
func startOn(t *testing.T, cfg config.Config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		cancel()
		t.Fatalf("easd on the restored database: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("easd: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// What docs/backup.md says, done: pg_dump of easd's database while easd
// runs, pg_restore into an empty database, easd started on it. The
// devices come back; a phone whose sync key is newer than the backup is
// told so (FolderSync Status 9) and syncs anew, and finds the mail folder
// it made after the backup, because mail lives on the IMAP server.
func TestBackupAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, Dovecot and easd twice")
	}
	pgDump, err1 := exec.LookPath("pg_dump")
	pgRestore, err2 := exec.LookPath("pg_restore")
	if err1 != nil || err2 != nil {
		t.Skip("pg_dump or pg_restore is not installed (Debian: postgresql-client)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	env := easdtest.Start(t, func(c *config.Config) { c.EnforcePolicy = false })
	phone := env.Client("alice", "backupphone")
	fs, err := phone.FolderSync(ctx, "0")
	if err != nil || fs.Status != 1 {
		t.Fatalf("FolderSync: %v %+v", err, fs)
	}

	dump := filepath.Join(t.TempDir(), "easd.dump")
	if out, err := exec.CommandContext(ctx, pgDump, "--format=custom", "--file="+dump, "--dbname="+env.DB.DSN).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}

	// After the backup the phone makes a folder: its hierarchy sync key
	// moves past the one in the backup.
	created, err := phone.FolderCreate(ctx, fs.SyncKey, "0", "After the backup", 12)
	if err != nil || created.Status != 1 {
		t.Fatalf("FolderCreate: %v %+v", err, created)
	}
	env.Stop(t)

	cluster := testenv.PGCluster(t)
	if err := cluster.CreateDatabase(ctx, "restored", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.DropDatabase(context.Background(), "restored") })
	restoredDSN := cluster.DSN("restored")
	if out, err := exec.CommandContext(ctx, pgRestore, "--no-owner", "--exit-on-error", "--dbname="+restoredDSN, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}

	cfg := env.Config
	cfg.DatabaseURL = restoredDSN
	cfg.SkipMigrations = false // as a restored production database starts: migrations run, none is missing
	phone.BaseURL = startOn(t, cfg)

	again, err := phone.FolderSync(ctx, created.SyncKey)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != 9 {
		t.Fatalf("FolderSync with a sync key newer than the backup: Status %d, want 9 (sync anew)", again.Status)
	}
	fresh, err := phone.FolderSync(ctx, "0")
	if err != nil || fresh.Status != 1 || fresh.Changes == nil {
		t.Fatalf("FolderSync anew: %v %+v", err, fresh)
	}
	var names []string
	for _, f := range fresh.Changes.Add {
		names = append(names, f.DisplayName)
	}
	if !slices.Contains(names, "After the backup") || !slices.Contains(names, "Inbox") {
		t.Errorf("folders after the restore: %v; want the Inbox and the mail folder made after the backup", names)
	}
	conn, err := pgx.Connect(ctx, restoredDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var devices int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM devices WHERE device_id = 'backupphone'`).Scan(&devices); err != nil || devices != 1 {
		t.Errorf("the phone in the restored database: %d rows (%v), want 1", devices, err)
	}
}
