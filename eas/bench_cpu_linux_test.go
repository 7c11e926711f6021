package eas_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/easd/easd/internal/easdtest"
)

// benchCPU is the CPU time used so far by this process (easd and the
// clients) and by the PostgreSQL cluster of env (the postmaster and its
// children). On a shared machine throughput varies with the other load;
// the CPU time a request costs does not.
func benchCPU(b *testing.B, env *easdtest.Env) (proc, pg time.Duration) {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		proc = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var backend int
	if err := env.DB.Pool.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		b.Fatal(err)
	}
	postmaster, _, _ := procStat(strconv.Itoa(backend))
	if postmaster == 0 {
		return proc, 0
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid := filepath.Base(d)
		ppid, ticks, ok := procStat(pid)
		if ok && (ppid == postmaster || pid == strconv.Itoa(postmaster)) {
			pg += ticks
		}
	}
	return proc, pg
}

// benchIMAPCPU returns a function that tells the CPU time env's Dovecot
// (its master and every process of its process group: the imap and login
// processes) used since the call. The time of a process that ended
// meanwhile counts once the master has reaped it (its children's time).
func benchIMAPCPU(env *easdtest.Env) func() time.Duration {
	snapshot := func() map[int]time.Duration {
		out := map[int]time.Duration{}
		pgid := env.IMAP.Pid()
		if pgid == 0 {
			return out
		}
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			pid, err := strconv.Atoi(filepath.Base(d))
			if err != nil {
				continue
			}
			if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
				if _, ticks, ok := procStat(filepath.Base(d)); ok {
					out[pid] = ticks
				}
			}
		}
		if reaped, ok := childrenCPU(strconv.Itoa(pgid)); ok {
			out[-1] = reaped
		}
		return out
	}
	before := snapshot()
	return func() (used time.Duration) {
		after := snapshot()
		for pid, t := range after {
			used += t - before[pid]
		}
		for pid, t := range before {
			if _, ok := after[pid]; !ok {
				used -= t // its whole time is in the reaped children's now
			}
		}
		return used
	}
}

// childrenCPU reads the user+system time of the children a process has
// reaped (/proc/<pid>/stat cutime and cstime).
func childrenCPU(pid string) (time.Duration, bool) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return 0, false
	}
	cut, _ := strconv.ParseInt(f[13], 10, 64)
	cst, _ := strconv.ParseInt(f[14], 10, 64)
	return time.Duration(cut+cst) * 10 * time.Millisecond, true
}

// procStat reads a process's parent and its user+system time from
// /proc/<pid>/stat (in clock ticks of 10 ms, the Linux USER_HZ).
func procStat(pid string) (ppid int, cpu time.Duration, ok bool) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(raw)
	// The command name may hold spaces: fields count from its ')'.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, time.Duration(ut+st) * 10 * time.Millisecond, true
}
