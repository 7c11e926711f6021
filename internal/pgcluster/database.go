package pgcluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// adminPool returns a small pool on the "postgres" database, used for
// CREATE/DROP DATABASE (which cannot run inside the affected database).
func (c *Cluster) adminPool(ctx context.Context) (*pgxpool.Pool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil, errors.New("pgcluster: cluster is not running")
	}
	if c.admin != nil {
		return c.admin, nil
	}
	cfg, err := pgxpool.ParseConfig(c.dsn(c.addr, "postgres"))
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: admin pool: %w", err)
	}
	c.admin = pool
	return pool, nil
}

// CreateDatabase creates database name, as a copy of template when template
// is not empty. The template must have no open connections.
func (c *Cluster) CreateDatabase(ctx context.Context, name, template string) error {
	pool, err := c.adminPool(ctx)
	if err != nil {
		return err
	}
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		// FILE_COPY copies the template's files instead of WAL-logging
		// every block; with fsync off its checkpoint is cheap, and it is
		// faster for small templates.
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize() + " STRATEGY FILE_COPY"
	}
	if _, err := pool.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgcluster: create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name, disconnecting its sessions.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	pool, err := c.adminPool(ctx)
	if err != nil {
		return err
	}
	sql := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
	if _, err := pool.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgcluster: drop database %s: %w", name, err)
	}
	return nil
}
