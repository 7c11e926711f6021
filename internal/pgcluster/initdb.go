package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// initdbIfNeeded creates the cluster unless Dir/data already holds one.
func (c *Cluster) initdbIfNeeded(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pgcluster: %w", err)
	}
	// A half-written data directory (initdb killed midway) would make
	// initdb fail with "directory exists but is not empty".
	if err := os.RemoveAll(c.dataDir); err != nil {
		return fmt.Errorf("pgcluster: remove incomplete data directory: %w", err)
	}
	initdb, err := findBinary("initdb")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, initdb,
		"-D", c.dataDir,
		"-U", c.cfg.Superuser,
		"--auth=trust",
		"-E", "UTF8",
		"--locale=C.UTF-8",
		"--no-sync",
		"--no-instructions",
	)
	cmd.Dir = c.cfg.Dir
	cmd.Env = serverEnv()
	cmd.SysProcAttr = c.owner.SysProcAttr()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgcluster: initdb %s: %w: %s", c.dataDir, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// serverEnv is the environment of initdb and postgres: the caller's, minus
// PG* variables that would redirect them (PGDATA, PGPORT, ...), with a
// locale that exists everywhere.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C.UTF-8")
}
