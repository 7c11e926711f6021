package dovecot

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func (s *Server) passwdPath() string       { return filepath.Join(s.cfg.Dir, "passwd") }
func (s *Server) masterPasswdPath() string { return filepath.Join(s.cfg.Dir, "master-users") }

// SetUser adds user or changes its password. Dovecot rereads the passwd
// file when its modification time changes, but checks at most once per
// second of its clock: SetUser returns only after the second in which it
// wrote has passed, so the next login sees the change. That costs up to a
// second.
func (s *Server) SetUser(name, password string) error {
	if err := checkCredential(name, password); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[name] = password
	if err := s.writePasswdFile(s.passwdPath(), s.users); err != nil {
		return err
	}
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 10*time.Millisecond).Sub(now))
	return nil
}

// checkCredential rejects what the passwd-file format cannot hold, and the
// master login separator in user names.
func checkCredential(name, password string) error {
	if name == "" || strings.ContainsAny(name, ":\n\r\t "+masterSeparator) {
		return fmt.Errorf("dovecot: invalid user name %q", name)
	}
	if strings.ContainsAny(password, ":\n\r") {
		return fmt.Errorf("dovecot: the password of %q contains ':' or a line break", name)
	}
	return nil
}

// writePasswdFile replaces path atomically with one line per user.
func (s *Server) writePasswdFile(path string, users map[string]string) error {
	names := make([]string, 0, len(users))
	for n, p := range users {
		if err := checkCredential(n, p); err != nil {
			return err
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s:{PLAIN}%s::::::\n", n, users[n])
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	// Dovecot's auth service runs as its internal user and reads the
	// file itself; nobody else may.
	if err := os.Chown(tmp, os.Getuid(), s.owner.internal.GID); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	if err := bumpMtime(tmp, path); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	return nil
}

// bumpMtime gives tmp a modification time later than old's. Dovecot notices
// a changed passwd-file by mtime (whole seconds) and size, so two writes of
// the same size within one second would otherwise go unseen.
func bumpMtime(tmp, old string) error {
	fi, err := os.Stat(old)
	if err != nil {
		return nil // first write: nothing to differ from
	}
	mtime := time.Now()
	if next := fi.ModTime().Truncate(time.Second).Add(time.Second); !mtime.After(next) {
		mtime = next
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	return nil
}
