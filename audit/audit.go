// Package audit keeps the log of administrative actions: every change an
// administrator makes through the command line, the admin API or the web
// page is recorded with who made it, from where, and what it was, in the
// same transaction as the change where the change is one.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Entry is one recorded action.
type Entry struct {
	ID     int64          `json:"id"`
	At     time.Time      `json:"at"`
	Actor  string         `json:"actor"`  // "cli:root", "token:ops", "web:alice"
	Source string         `json:"source"` // "local:host" or the client's address
	Action string         `json:"action"` // "device.wipe", "policy.edit", ...
	Target string         `json:"target"` // "alice/ApplDNABC123", "policy:sales"
	Detail map[string]any `json:"detail,omitempty"`
}

// Who is the actor and source of the actions of one caller; handlers and
// commands pass it down to the stores that record.
type Who struct {
	Actor  string
	Source string
}

// CLI is the caller of a command run on this machine: the operating
// system's user and the host name.
func CLI() Who {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return Who{Actor: "cli:" + name, Source: "local:" + host}
}

// Execer is what Record writes through: the pool, or the transaction of
// the change being recorded.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Record adds one entry for an action of who. Pass the transaction that
// makes the change, so that the change and its record commit together.
func Record(ctx context.Context, db Execer, who Who, action, target string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO audit_log (actor, source, action, target, detail)
		VALUES ($1, $2, $3, $4, $5)`, who.Actor, who.Source, action, target, raw); err != nil {
		return fmt.Errorf("audit: record %s: %w", action, err)
	}
	return nil
}

// Filter narrows List. Zero fields match everything.
type Filter struct {
	Actor  string    // exact
	Action string    // exact, or a prefix ending in "." ("device.")
	Target string    // exact, or a prefix ending in "/" ("alice/")
	Since  time.Time // at or after
	Before int64     // entries with a smaller id (paging backwards)
	Limit  int       // default 100, at most 1000
}

// Store reads the log.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Record adds one entry outside any other transaction.
func (s *Store) Record(ctx context.Context, who Who, action, target string, detail map[string]any) error {
	return Record(ctx, s.pool, who, action, target, detail)
}

// List returns the entries matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	where = append(where, prefixMatch("action", f.Action, ".", arg)...)
	where = append(where, prefixMatch("target", f.Target, "/", arg)...)
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(f.Since))
	}
	if f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	q := `SELECT id, at, actor, source, action, target, detail FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(f.Limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
		var e Entry
		var raw []byte
		if err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Source, &e.Action, &e.Target, &raw); err != nil {
			return e, fmt.Errorf("audit: list: %w", err)
		}
		if err := json.Unmarshal(raw, &e.Detail); err != nil {
			return e, fmt.Errorf("audit: entry %d: %w", e.ID, err)
		}
		return e, nil
	})
}

// prefixMatch is the condition on column for value: a prefix match when
// value ends in sep, else equality.
func prefixMatch(column, value, sep string, arg func(any) string) []string {
	switch {
	case value == "":
		return nil
	case strings.HasSuffix(value, sep):
		return []string{"starts_with(" + column + ", " + arg(value) + ")"}
	default:
		return []string{column + " = " + arg(value)}
	}
}
