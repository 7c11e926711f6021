package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Memory and CPU of the server and of the mail server, read from /proc
// (Linux). Run easd-load as the user that runs them, or as root, for PSS.

// procMem is the memory of one process or a sum over several.
type procMem struct {
	rss, pss float64 // bytes; pss 0 when smaps_rollup is not readable
	procs    int
	// cpu is user + system seconds of the processes and of the children
	// they have reaped: a mail server's or database's short-lived
	// processes (a login, a connection) are counted after they end.
	cpu float64
}

// clockTicks is the unit of utime and stime in /proc/PID/stat (USER_HZ:
// 100 on every Linux architecture Go supports).
const clockTicks = 100

// procStat is what /proc/PID/stat says of a process.
type procStat struct {
	pid, ppid int
	comm      string
	cpu       float64 // user + system seconds
	childCPU  float64 // user + system seconds of the reaped children
	rss       float64 // bytes
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// parseStat reads a /proc/PID/stat line: the command name is in
// parentheses and may hold spaces, so the fields count from its end.
func parseStat(line string) (procStat, error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("stat: %q", line)
	}
	f := strings.Fields(line[end+1:])
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("stat: %q", line)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(line[:open]))
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	cutime, _ := strconv.ParseFloat(f[13], 64)
	cstime, _ := strconv.ParseFloat(f[14], 64)
	rssPages, _ := strconv.ParseFloat(f[21], 64)
	return procStat{pid: pid, ppid: ppid, comm: line[open+1 : end], cpu: (utime + stime) / clockTicks,
		childCPU: (cutime + cstime) / clockTicks, rss: rssPages * float64(os.Getpagesize())}, nil
}

// pss reads a process's proportional set size (0 when not readable).
func pss(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// treeMem sums RSS, PSS and CPU over root and its descendants: Dovecot is
// a master process with one process per login, per IMAP session and per
// service; PostgreSQL one per connection.
func treeMem(root int) procMem {
	children := childProcesses()
	var m procMem
	for todo := []int{root}; len(todo) > 0; {
		pid := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[pid]...)
		st, err := readStat(pid)
		if err != nil {
			continue
		}
		m.rss += st.rss
		m.pss += pss(pid)
		m.cpu += st.cpu + st.childCPU
		m.procs++
	}
	return m
}

// childProcesses maps each process id to its children's.
func childProcesses() map[int][]int {
	children := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			children[st.ppid] = append(children[st.ppid], pid)
		}
	}
	return children
}

// childNamed is the first child of parent whose command is comm, or 0.
func childNamed(parent int, comm string) int {
	for _, pid := range childProcesses()[parent] {
		if st, err := readStat(pid); err == nil && st.comm == comm {
			return pid
		}
	}
	return 0
}

// listeners finds the processes holding a listening TCP socket on port,
// from /proc/net/tcp{,6} and the processes' descriptors.
func listeners(port int) ([]int, error) {
	inodes := map[string]bool{}
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for _, ino := range listenInodes(string(b), port) {
			inodes["socket:["+ino+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return nil, fmt.Errorf("no process listens on port %d", port)
	}
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, err := os.ReadDir(d + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(d + "/fd/" + fd.Name()); err == nil && inodes[l] {
				pids = append(pids, pid)
				break
			}
		}
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("port %d: listening socket of no readable process (run as its user or root)", port)
	}
	return pids, nil
}

// listenInodes picks the inodes of the sockets listening on port from the
// text of /proc/net/tcp.
func listenInodes(table string, port int) []string {
	var out []string
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(table, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "0A" || !strings.HasSuffix(f[1], suffix) {
			continue
		}
		out = append(out, f[9])
	}
	return out
}

// raiseFileLimit lifts the soft limit on open files to the hard limit and
// reports what is available; each waiting phone is a descriptor.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return l.Cur, nil
}
