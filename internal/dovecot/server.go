package dovecot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/internal/procgroup"
)

// start writes the configuration, launches `dovecot -F` and waits for the
// IMAP greeting.
func (s *Server) start(ctx context.Context) error {
	conf, err := s.writeConfig()
	if err != nil {
		return err
	}
	if err := s.removeStalePid(); err != nil {
		return err
	}
	stderr, err := s.stderr()
	if err != nil {
		return err
	}
	cmd := exec.Command(s.binary, "-F", "-c", conf)
	cmd.Dir = s.cfg.Dir
	cmd.Stdout, cmd.Stderr = stderr, stderr
	proc, err := procgroup.Start(cmd)
	if err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	s.mu.Lock()
	s.proc = proc
	s.mu.Unlock()
	if err := waitGreeting(ctx, s.addr, proc); err != nil {
		proc.Kill()
		return fmt.Errorf("dovecot: IMAP on %s did not come up: %w%s", s.addr, err, s.logTail())
	}
	return nil
}

// stderr returns where the master's own output goes (configuration errors
// are printed there before logging starts).
func (s *Server) stderr() (io.Writer, error) {
	if s.cfg.LogWriter != nil {
		return s.cfg.LogWriter, nil
	}
	if s.log != nil {
		return s.log, nil
	}
	f, err := os.OpenFile(filepath.Join(s.cfg.Dir, "dovecot.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dovecot: log file: %w", err)
	}
	s.log = f
	return f, nil
}

func (s *Server) closeLog() {
	if s.log != nil {
		s.log.Close()
		s.log = nil
	}
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, "dovecot.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\ndovecot.log:\n" + string(b)
}

// removeStalePid deletes run/master.pid when its process is gone (or is a
// zombie, or a reused pid): Dovecot refuses to start while it names a live
// process.
func (s *Server) removeStalePid() error {
	path := filepath.Join(s.cfg.Dir, "run", "master.pid")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && isLiveDovecot(pid) {
		return fmt.Errorf("dovecot: already running on %s (pid %d); stop it first", s.cfg.Dir, pid)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("dovecot: remove stale pid file: %w", err)
	}
	return nil
}

func isLiveDovecot(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return strings.Contains(string(stat), "(dovecot)")
}

// waitGreeting polls until the server sends its "* OK" greeting.
func waitGreeting(ctx context.Context, addr string, proc *procgroup.Process) error {
	var last error
	for {
		if exited, err := proc.Exited(); exited {
			return fmt.Errorf("dovecot exited: %v", err)
		}
		if last = readGreeting(ctx, addr); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-proc.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func readGreeting(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop kills the whole process tree at once. A graceful SIGTERM would leave
// logged-in imap processes running for about ten seconds; the maildirs are
// consistent after a kill.
func (s *Server) Stop() error {
	s.kill()
	s.closeLog()
	return nil
}

func (s *Server) kill() {
	s.mu.Lock()
	proc := s.proc
	s.proc = nil
	s.mu.Unlock()
	if proc != nil {
		proc.Kill()
	}
}

// Restart stops the server and starts it again on the same directory and
// port; clients see their connections dropped, as on a mail server restart.
func (s *Server) Restart(ctx context.Context) error {
	s.kill()
	return s.start(ctx)
}
