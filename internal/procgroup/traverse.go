package procgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// CheckTraversable verifies that an account other than root can reach dir:
// every ancestor must be searchable by o through its owner, group or
// "others" bits. A private
// temporary directory (mode 0700) in the path is the usual cause of a server
// that starts as another user and then fails with "permission denied".
func (o Owner) CheckTraversable(dir string) error {
	if o.UID == 0 || o.IsCurrent() {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("path %s: %w", dir, err)
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("path %s: %w", p, err)
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		perm := fi.Mode().Perm()
		ok := perm&0o001 != 0 ||
			(st != nil && int(st.Uid) == o.UID && perm&0o100 != 0) ||
			(st != nil && int(st.Gid) == o.GID && perm&0o010 != 0)
		if !ok {
			return fmt.Errorf("%s (mode %v) is not searchable by user %s: make it so (chmod o+x) or choose another directory",
				p, fi.Mode().Perm(), o.Name)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// TempDir makes a temporary directory that servers running as another
// account (postgres, Dovecot's nobody) can reach: os.MkdirTemp creates it
// private, and t.TempDir's parent is private too.
func TempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
