// Package procgroup runs a server program (postgres, dovecot) in its own
// process group so that the whole tree it forks can be signalled at once and
// nothing survives a stop.
package procgroup

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// Process is a started server whose process id is also its process group id.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid once done is closed
}

// Start starts cmd as the leader of a new process group. The child gets
// SIGKILL when this process dies, so a crashed test binary or `easd dev` does
// not leave servers behind. cmd.SysProcAttr may already hold credentials.
func Start(cmd *exec.Cmd) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id of the group leader.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the leader has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the leader has exited, and its exit error if so.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Signal sends sig to the group leader only.
func (p *Process) Signal(sig syscall.Signal) error {
	if exited, _ := p.Exited(); exited {
		return nil
	}
	if err := syscall.Kill(p.Pid(), sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %d to pid %d: %w", sig, p.Pid(), err)
	}
	return nil
}

// Kill sends SIGKILL to the leader, its process group and every descendant
// (also those that left the group), and waits until the leader has been
// reaped, so its pid is free again when Kill returns.
func (p *Process) Kill() {
	pid := p.Pid()
	if exited, _ := p.Exited(); !exited {
		// A stopped leader cannot fork while its descendants are listed.
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		for _, d := range descendants(pid) {
			_ = syscall.Kill(d, syscall.SIGKILL)
		}
	}
	killGroup(pid)
	<-p.done
	killGroup(pid)
}

// Stop sends sig to the leader, waits up to timeout for it to exit, and then
// kills whatever is left of the group (see Kill). It reports whether the leader exited
// on its own before the timeout.
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) (graceful bool) {
	if err := p.Signal(sig); err != nil {
		p.Kill()
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		killGroup(p.Pid())
		return true
	case <-t.C:
		p.Kill()
		return false
	}
}

func killGroup(pgid int) {
	// ESRCH means the group is already empty, which is what we want.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}
