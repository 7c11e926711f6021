package procgroup

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// Owner is the system account a server runs as.
type Owner struct {
	Name     string
	UID, GID int
}

// Current is the account of this process.
func Current() (Owner, error) {
	u, err := user.Current()
	if err != nil {
		return Owner{}, fmt.Errorf("current user: %w", err)
	}
	return Owner{Name: u.Username, UID: os.Getuid(), GID: os.Getgid()}, nil
}

// Lookup finds a system account by name, with group as its group (the
// account's primary group when group is empty).
func Lookup(name, group string) (Owner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return Owner{}, fmt.Errorf("system user %q: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return Owner{}, fmt.Errorf("system user %q: uid %q: %w", name, u.Uid, err)
	}
	gidStr := u.Gid
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return Owner{}, fmt.Errorf("system group %q: %w", group, err)
		}
		gidStr = g.Gid
	}
	gid, err := strconv.Atoi(gidStr)
	if err != nil {
		return Owner{}, fmt.Errorf("system user %q: gid %q: %w", name, gidStr, err)
	}
	return Owner{Name: name, UID: uid, GID: gid}, nil
}

// IsCurrent reports whether o is the account of this process, in which case
// no credential switch is needed.
func (o Owner) IsCurrent() bool { return o.UID == os.Getuid() && o.GID == os.Getgid() }

// SysProcAttr returns attributes that make a child run as o: a setuid in the
// forked child, without an extra runuser/su process in between.
func (o Owner) SysProcAttr() *syscall.SysProcAttr {
	if o.IsCurrent() {
		return &syscall.SysProcAttr{}
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{
		Uid: uint32(o.UID), Gid: uint32(o.GID), Groups: []uint32{},
	}}
}

// Chown gives path to o when it belongs to someone else.
func (o Owner) Chown(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == o.UID && int(st.Gid) == o.GID {
		return nil
	}
	if err := os.Lchown(path, o.UID, o.GID); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, o.Name, err)
	}
	return nil
}
