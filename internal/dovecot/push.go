package dovecot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	deploy "github.com/easd/easd/deploy/dovecot"
)

// PushEvents makes Dovecot post its mailbox events to easd with the
// easd-push.lua script of deploy/dovecot, as a deployment does.
type PushEvents struct {
	URL    string // easd's events endpoint, http://host:port/push-events/dovecot
	Secret string // easd's --push-secret
}

// DefaultHibernate is how long an IDLE connection stays in its own imap
// process before it is hibernated (Config.Hibernate).
const DefaultHibernate = 5 * time.Second

// pushConfig fills the push and hibernation part of the configuration and
// writes the Lua script next to it.
func (s *Server) pushConfig(d *confData) error {
	s.mu.Lock()
	push, h := s.push, s.hibernate
	s.mu.Unlock()
	switch {
	case h == 0:
		d.HibernateSecs = int(DefaultHibernate / time.Second)
	case h > 0:
		d.HibernateSecs = max(1, int(h/time.Second))
	}
	if push == nil {
		return nil
	}
	for _, v := range []string{push.URL, push.Secret} {
		if v == "" || strings.ContainsAny(v, "\n\r\"{}#") {
			return fmt.Errorf("dovecot: push events: %q cannot go in dovecot.conf", v)
		}
	}
	d.Push = push
	d.PushScript = filepath.Join(s.cfg.Dir, "easd-push.lua")
	if err := os.WriteFile(d.PushScript, deploy.PushLua, 0o644); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	return nil
}

// SetPushEvents turns push events on (p non-nil) or off and restarts the
// server to apply it: open connections are dropped, as on a restart. A
// test starts easd first and then tells Dovecot where it listens.
func (s *Server) SetPushEvents(ctx context.Context, p *PushEvents) error {
	s.mu.Lock()
	if p != nil {
		c := *p
		p = &c
	}
	s.push = p
	s.mu.Unlock()
	return s.Restart(ctx)
}

// SetHibernate changes imap_hibernate_timeout (as Config.Hibernate) and
// restarts the server to apply it.
func (s *Server) SetHibernate(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.hibernate = d
	s.mu.Unlock()
	return s.Restart(ctx)
}
