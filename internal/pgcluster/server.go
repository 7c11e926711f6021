package pgcluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/easd/easd/internal/procgroup"
)

// defaultSettings favour speed over durability: a crash of the machine may
// lose the cluster, which is fine for tests and `easd dev`. A killed server
// loses nothing committed: synchronous_commit stays on because with fsync
// off a commit costs only a write(2), while turning it off would drop the
// last commits still in shared memory when the process group is killed.
var defaultSettings = map[string]string{
	"fsync":             "off",
	"full_page_writes":  "off",
	"max_connections":   "200",
	"logging_collector": "off",
}

// maxSocketPath is the longest Unix socket path the kernel accepts (108
// bytes including the terminating NUL).
const maxSocketPath = 107

// start launches postgres on c.addr and waits until it accepts connections.
// The caller holds no lock; start takes c.mu itself.
func (c *Cluster) start(ctx context.Context) error {
	if err := c.removeStalePidFiles(); err != nil {
		return err
	}
	out, err := c.logWriter()
	if err != nil {
		return err
	}
	cmd := exec.Command(c.postgres, c.serverArgs()...)
	cmd.Dir = c.cfg.Dir
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = c.owner.SysProcAttr()
	proc, err := procgroup.Start(cmd)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	c.mu.Lock()
	c.proc = proc
	c.mu.Unlock()
	if err := c.waitReady(ctx, proc); err != nil {
		proc.Kill()
		return fmt.Errorf("pgcluster: postgres on %s did not come up: %w%s", c.addr, err, c.logTail())
	}
	return nil
}

func (c *Cluster) serverArgs() []string {
	host, port := splitAddr(c.addr)
	settings := map[string]string{"listen_addresses": host}
	for k, v := range defaultSettings {
		settings[k] = v
	}
	for k, v := range c.cfg.Settings {
		settings[k] = v
	}
	args := []string{"-D", c.dataDir, "-p", port}
	// The socket lives in Dir so that concurrent clusters never collide
	// in /var/run/postgresql; a path too long for a socket disables it.
	if len(filepath.Join(c.cfg.Dir, ".s.PGSQL."+port)) <= maxSocketPath {
		args = append(args, "-k", c.cfg.Dir)
	} else {
		args = append(args, "-k", "")
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	return args
}

func (c *Cluster) logWriter() (io.Writer, error) {
	if c.cfg.LogWriter != nil {
		return c.cfg.LogWriter, nil
	}
	if c.log != nil {
		return c.log, nil
	}
	f, err := os.OpenFile(filepath.Join(c.cfg.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: log file: %w", err)
	}
	c.log = f
	return f, nil
}

// logTail returns the end of postgres.log to explain a failed start.
func (c *Cluster) logTail() string {
	if c.log == nil {
		return ""
	}
	b, err := os.ReadFile(c.log.Name())
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\npostgres.log:\n" + string(b)
}

func (c *Cluster) closeLog() {
	if c.log != nil {
		c.log.Close()
		c.log = nil
	}
}

// Stop shuts the server down (fast shutdown: SIGINT rolls back open
// transactions and disconnects clients) and kills the process group when it
// takes longer than Config.StopTimeout. No process of the cluster survives.
func (c *Cluster) Stop() error {
	c.stop(func(p *procgroup.Process) { p.Stop(syscall.SIGINT, c.cfg.StopTimeout) })
	c.closeLog()
	return nil
}

// Kill kills the whole process group at once, like a crash; the next Start
// or Restart on the same Dir recovers the data.
func (c *Cluster) Kill() {
	c.stop(func(p *procgroup.Process) { p.Kill() })
}

func (c *Cluster) stop(how func(*procgroup.Process)) {
	c.mu.Lock()
	proc, admin := c.proc, c.admin
	c.proc, c.admin = nil, nil
	c.mu.Unlock()
	if admin != nil {
		admin.Close()
	}
	if proc != nil {
		how(proc)
	}
}

// Restart stops the server (if running) and starts it again on the same
// directory and port.
func (c *Cluster) Restart(ctx context.Context) error {
	c.stop(func(p *procgroup.Process) { p.Stop(syscall.SIGINT, c.cfg.StopTimeout) })
	return c.start(ctx)
}

// Pid returns the postmaster's process id (also its process group id), or 0
// when the server is not running.
func (c *Cluster) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return 0
	}
	return c.proc.Pid()
}

// readyPoll is how often waitReady retries a connection.
const readyPoll = 10 * time.Millisecond
