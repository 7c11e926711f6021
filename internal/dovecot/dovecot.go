// Package dovecot runs a private Dovecot IMAP server: its own configuration,
// sockets, state and maildirs under one directory, IMAP without TLS on a
// loopback port, users from a passwd-file. It serves the test harness and
// `easd dev`; production deployments use their own mail server.
package dovecot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// Config describes a server.
type Config struct {
	// Dir holds dovecot.conf, the passwd files, run/ (sockets), state/,
	// mail/USER (maildirs), home/USER and, unless LogWriter is set,
	// dovecot.log.
	Dir string
	// Addr is the IMAP address; "127.0.0.1:0" picks a free port.
	Addr string
	// Users maps user names to passwords.
	Users map[string]string
	// MasterUser and MasterPassword, when set, allow logins as
	// "user*MasterUser" with MasterPassword for any existing user.
	MasterUser, MasterPassword string
	// LogWriter receives Dovecot's log; nil writes Dir/dovecot.log.
	LogWriter io.Writer
	// Sieve, when set, adds LMTP delivery with Sieve and ManageSieve
	// (sieve.go).
	Sieve *SieveConfig
	// PushEvents, when set, has Dovecot post mailbox events to easd
	// (push.go); SetPushEvents changes it later.
	PushEvents *PushEvents
	// Hibernate is imap_hibernate_timeout: an IDLE connection quiet this
	// long leaves its imap process. 0: DefaultHibernate; negative: never.
	Hibernate time.Duration
}

// Server is a running Dovecot instance.
type Server struct {
	cfg    Config
	binary string
	owner  mailOwner

	mu        sync.Mutex
	addr      string
	users     map[string]string
	proc      *procgroup.Process
	push      *PushEvents
	hibernate time.Duration
	log       *os.File // stderr capture when LogWriter is nil
	sieve     sieveAddrs
}

// Start writes the configuration and starts Dovecot, returning once the
// IMAP greeting is served. Mail from an earlier run on the same Dir is kept.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("dovecot: Config.Dir is empty")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("dovecot: %w", err)
	}
	cfg.Dir = dir
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s := &Server{cfg: cfg, users: maps.Clone(cfg.Users), push: cfg.PushEvents, hibernate: cfg.Hibernate}
	if s.users == nil {
		s.users = map[string]string{}
	}
	if s.binary, err = binpath.Find("dovecot", "dovecot-imapd", "/usr/sbin", "/usr/local/sbin"); err != nil {
		return nil, err
	}
	if _, err := binpath.Find("imap", "dovecot-imapd", "/usr/lib/dovecot", "/usr/libexec/dovecot"); err != nil {
		return nil, err
	}
	if s.owner, err = chooseOwner(); err != nil {
		return nil, err
	}
	s.addr = cfg.Addr
	if cfg.Sieve == nil {
		if s.addr, err = procgroup.ResolveAddr(s.addr); err != nil {
			return nil, fmt.Errorf("dovecot: %w", err)
		}
	} else if err := s.resolveSieve(); err != nil { // resolves s.addr with its own ports
		return nil, err
	}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.closeLog()
		return nil, err
	}
	return s, nil
}

// Addr returns the IMAP host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Dir returns the server's directory.
func (s *Server) Dir() string { return s.cfg.Dir }

// MasterLogin returns the login name that opens user's mailbox with the
// master user's password ("user*master"), or "" when no master user is set.
func (s *Server) MasterLogin(user string) string {
	if s.cfg.MasterUser == "" {
		return ""
	}
	return user + masterSeparator + s.cfg.MasterUser
}

// masterSeparator joins user and master user names in a master login.
const masterSeparator = "*"

// Pid returns the master process id (also its process group id), or 0 when
// the server is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid()
}
