// Package pgcluster runs a private PostgreSQL cluster: initdb into a
// directory on first use, then postgres on a loopback port with its socket in
// the same directory. It serves the test harness (one throwaway cluster per
// test binary) and `easd dev` (a cluster whose data survives restarts).
//
// The cluster trades durability for speed (fsync, synchronous_commit and
// full_page_writes are off): it is for tests and development only.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// Config describes a cluster.
type Config struct {
	// Dir holds everything: data/ (the cluster), the Unix socket and,
	// unless LogWriter is set, postgres.log.
	Dir string
	// Addr is the TCP address to listen on; "127.0.0.1:0" picks a free port.
	Addr string
	// Superuser is the role initdb creates; default "easd".
	Superuser string
	// LogWriter receives the server's output; nil appends to Dir/postgres.log.
	LogWriter io.Writer
	// Settings are extra or overriding server settings (postgres -c k=v),
	// for example "max_connections".
	Settings map[string]string
	// StopTimeout bounds a fast shutdown before the process group is
	// killed; default 10 s.
	StopTimeout time.Duration
}

// Cluster is a running PostgreSQL server.
type Cluster struct {
	cfg      Config
	dataDir  string
	postgres string // path of the postgres binary
	owner    procgroup.Owner

	mu    sync.Mutex
	addr  string // resolved host:port, kept across restarts
	proc  *procgroup.Process
	admin *pgxpool.Pool // lazily opened pool on database "postgres"
	log   *os.File      // Dir/postgres.log when LogWriter is nil
}

const defaultSuperuser = "easd"

// Start initialises the cluster in cfg.Dir/data if it does not exist yet,
// starts postgres and waits until it accepts connections.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pgcluster: Config.Dir is empty")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	cfg.Dir = dir
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Superuser == "" {
		cfg.Superuser = defaultSuperuser
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	c := &Cluster{cfg: cfg, dataDir: filepath.Join(dir, "data")}
	if c.postgres, err = findBinary("postgres"); err != nil {
		return nil, err
	}
	if c.owner, err = serverOwner(); err != nil {
		return nil, err
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if err := c.initdbIfNeeded(ctx); err != nil {
		return nil, err
	}
	if c.addr, err = procgroup.ResolveAddr(cfg.Addr); err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.start(ctx); err != nil {
		c.closeLog()
		return nil, err
	}
	return c, nil
}

// findBinary looks for a PostgreSQL server program, also in Debian's
// versioned directory that is not in PATH.
func findBinary(name string) (string, error) {
	return binpath.Find(name, "postgresql", "/usr/lib/postgresql/*/bin")
}

// Addr returns the host:port the server listens on.
func (c *Cluster) Addr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// Dir returns the cluster's directory.
func (c *Cluster) Dir() string { return c.cfg.Dir }

// Superuser returns the name of the superuser role.
func (c *Cluster) Superuser() string { return c.cfg.Superuser }

// DSN returns a pgx URL for database on this cluster, as the superuser.
func (c *Cluster) DSN(database string) string {
	return c.dsn(c.Addr(), database)
}

func (c *Cluster) dsn(addr, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(c.cfg.Superuser),
		Host:     addr,
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port.
func (c *Cluster) Port() string {
	_, port, _ := net.SplitHostPort(c.Addr())
	return port
}
