package dovecot

import (
	"fmt"
	"os"
	"path/filepath"
)

// prepareDir creates the directory layout and the passwd files. As root the
// maildirs belong to the mail account and Dir must be world-searchable,
// since imap processes run as that account.
func (s *Server) prepareDir() error {
	if err := os.MkdirAll(s.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	if s.owner.root {
		if err := os.Chmod(s.cfg.Dir, 0o755); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
		if err := s.owner.mail.CheckTraversable(s.cfg.Dir); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
	}
	for _, sub := range []string{"run", "state"} {
		if err := os.MkdirAll(filepath.Join(s.cfg.Dir, sub), 0o755); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
	}
	for _, sub := range []string{"mail", "home"} {
		p := filepath.Join(s.cfg.Dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
		if err := s.owner.mail.Chown(p); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
	}
	if err := s.writePasswdFile(s.passwdPath(), s.users); err != nil {
		return err
	}
	if s.cfg.MasterUser != "" {
		master := map[string]string{s.cfg.MasterUser: s.cfg.MasterPassword}
		if err := s.writePasswdFile(s.masterPasswdPath(), master); err != nil {
			return err
		}
	}
	return nil
}
