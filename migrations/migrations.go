// Package migrations holds easd's PostgreSQL schema as numbered, forward-only
// SQL files and applies them with goose.
//
// Files are named NNNNN_what.sql. Each package that owns tables adds its own
// file; never edit a file that has been released, add a new one instead.
// Applying is safe to run concurrently (a PostgreSQL advisory lock serialises
// migrators), so several easd instances may start at once.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// Result says what Up did.
type Result struct {
	Applied []int64 // versions applied by this call, in order
	Version int64   // schema version after the call
}

// Up applies every pending migration to the database at dsn.
func Up(ctx context.Context, dsn string) (Result, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return Result{}, fmt.Errorf("migrations: open: %w", err)
	}
	defer db.Close()
	return UpDB(ctx, db)
}

// UpDB applies every pending migration through an open database handle.
func UpDB(ctx context.Context, db *sql.DB) (Result, error) {
	p, err := newProvider(db)
	if err != nil {
		return Result{}, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("migrations: up: %w", err)
	}
	var res Result
	for _, r := range results {
		res.Applied = append(res.Applied, r.Source.Version)
	}
	if res.Version, err = p.GetDBVersion(ctx); err != nil {
		return res, fmt.Errorf("migrations: version: %w", err)
	}
	return res, nil
}

// Current reports the schema version of the database at dsn without
// changing it: 0 when easd's schema was never applied there.
func Current(ctx context.Context, dsn string) (int64, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return 0, fmt.Errorf("migrations: open: %w", err)
	}
	defer db.Close()
	// goose would create its table to answer; a read-only check must not.
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("migrations: version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	p, err := newProvider(db)
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: version: %w", err)
	}
	return v, nil
}

// Latest is the highest version embedded in this binary.
func Latest() int64 {
	entries, _ := files.ReadDir(".")
	var latest int64
	for _, e := range entries {
		if v, err := goose.NumericComponent(e.Name()); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

func newProvider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migrations: locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files,
		goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}
