package main

import (
	"bufio"
	"errors"
	"fmt"

	"os"
	"path/filepath"
	"strings"

	"github.com/easd/easd/internal/procgroup"
)

// devPorts are the ports of easd dev's servers that the user does not
// choose (PostgreSQL, the SMTP sink), picked free on the first run and kept
// in DATA/ports, so a database client or a mail tool set up once keeps
// working across runs.
type devPorts struct {
	path  string
	addrs map[string]string
}

func loadDevPorts(data string) (*devPorts, error) {
	p := &devPorts{path: filepath.Join(data, "ports"), addrs: map[string]string{}}
	f, err := os.Open(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		name, addr, ok := strings.Cut(strings.TrimSpace(lines.Text()), " ")
		if ok && !strings.HasPrefix(name, "#") {
			p.addrs[name] = strings.TrimSpace(addr)
		}
	}
	return p, lines.Err()
}

// pick returns the address for server name: given (a flag) if set, else
// the kept one, else a free loopback port. The result is kept.
func (p *devPorts) pick(name, given string) (string, error) {
	addr := given
	if addr == "" {
		addr = p.addrs[name]
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	addr, err := procgroup.ResolveAddr(addr)
	if err != nil {
		return "", err
	}
	p.addrs[name] = addr
	return addr, nil
}

func (p *devPorts) save() error {
	var b strings.Builder
	b.WriteString("# Ports easd dev picked for its servers; kept so they stay the same across runs.\n")
	for _, name := range []string{"postgres", "smtp", "managesieve", "lmtp"} {
		if a := p.addrs[name]; a != "" {
			fmt.Fprintf(&b, "%s %s\n", name, a)
		}
	}
	return os.WriteFile(p.path, []byte(b.String()), 0o644)
}

// devServerBase is where a server's directory goes when, as root, the data
// directory lies under a path that the servers' own accounts (postgres,
// nobody) cannot enter, such as a checkout under /root.
var devServerBase = "/var/lib/easd-dev"

// reachableDir returns the directory for server name (postgres, dovecot):
// DATA/name when the servers' accounts can reach it. Otherwise, as root,
// it is created under devServerBase and DATA/name becomes a symbolic link
// to it: deleting DATA still starts over (a new directory is made next
// time), and no one is asked to open up their home directory.
func reachableDir(data, name string) (string, error) {
	own := filepath.Join(data, name)
	if os.Geteuid() != 0 {
		return own, nil
	}
	if target, err := os.Readlink(own); err == nil {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return "", fmt.Errorf("%s directory: %w", name, err)
		}
		return target, nil
	}
	// "nobody" stands for every unprivileged account: the check is for
	// the "others" search bit on each ancestor.
	nobody, err := procgroup.Lookup("nobody", "nogroup")
	if err != nil || nobody.CheckTraversable(own) == nil {
		return own, nil
	}
	if err := os.MkdirAll(devServerBase, 0o755); err != nil {
		return "", fmt.Errorf("%s directory: %w", name, err)
	}
	target, err := os.MkdirTemp(devServerBase, name+"-")
	if err != nil {
		return "", fmt.Errorf("%s directory: %w", name, err)
	}
	if err := os.Chmod(target, 0o755); err != nil {
		return "", fmt.Errorf("%s directory: %w", name, err)
	}
	if err := nobody.CheckTraversable(target); err != nil {
		return "", fmt.Errorf("%s directory: %w", name, err)
	}
	if fi, err := os.Lstat(own); err == nil && fi.IsDir() {
		// A directory from a run when the path was reachable: keep it
		// aside rather than delete someone's data.
		if err := os.Rename(own, own+".unreachable"); err != nil {
			return "", fmt.Errorf("%s directory: %w", name, err)
		}
	}
	if err := os.Symlink(target, own); err != nil {
		return "", fmt.Errorf("%s directory: %w", name, err)
	}
	return target, nil
}
