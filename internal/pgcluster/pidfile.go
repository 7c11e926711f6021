package pgcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// removeStalePidFiles deletes lock files left by a postmaster that was
// killed. PostgreSQL ignores a lock file whose pid is dead, but refuses to
// start when that pid has since been reused by an unrelated process — likely
// on a busy test machine. A lock file whose postmaster still runs on this
// data directory is an error: two servers must never share it.
func (c *Cluster) removeStalePidFiles() error {
	locks := []string{filepath.Join(c.dataDir, "postmaster.pid")}
	sockLocks, _ := filepath.Glob(filepath.Join(c.cfg.Dir, ".s.PGSQL.*.lock"))
	locks = append(locks, sockLocks...)
	for _, f := range locks {
		pid, err := readLockPid(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil && c.isOurPostmaster(pid) {
			return fmt.Errorf("pgcluster: postgres (pid %d) is already running on %s; stop it first", pid, c.dataDir)
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pgcluster: remove stale %s: %w", f, err)
		}
	}
	return nil
}

// readLockPid reads the pid on the first line of a PostgreSQL lock file.
func readLockPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("lock file %s: bad pid %q", path, line)
	}
	return pid, nil
}

// isOurPostmaster reports whether pid is a live postgres process serving
// this data directory.
func (c *Cluster) isOurPostmaster(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		// Without /proc, a live pid must be assumed to be ours.
		return !errors.Is(err, os.ErrNotExist)
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && isZombie(stat) {
		return false
	}
	return bytes.Contains(cmdline, []byte("postgres")) && bytes.Contains(cmdline, []byte(c.dataDir))
}

// isZombie parses the state field of /proc/PID/stat ("pid (comm) S ...").
func isZombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
