package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// Slapd is a private OpenLDAP server (Debian package slapd) with an mdb
// database under BaseDN, the inetOrgPerson schema, and an administrator
// who may read and write everything.
type Slapd struct {
	URL           string // ldap://127.0.0.1:port
	BaseDN        string
	AdminDN       string
	AdminPassword string
	dir, conf     string
	slapd         string
	proc          *procgroup.Process
}

// SlapdServer starts a slapd for this test, loaded with ldif (entries
// under dc=example,dc=test; the base entry is made here). It is killed,
// and its database removed, when the test ends; Stop and Start let a test
// take it down and bring it back on the same port.
func SlapdServer(t testing.TB, ldif string) *Slapd {
	t.Helper()
	slapd, err := binpath.Find("slapd", "slapd", "/usr/sbin/slapd")
	if err != nil {
		failSetup(t, err)
	}
	slapadd, err := binpath.Find("slapadd", "slapd", "/usr/sbin/slapadd")
	if err != nil {
		failSetup(t, err)
	}
	dir, err := tempDir("easd-test-slapd-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	addr, err := procgroup.ResolveAddr("127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	s := &Slapd{URL: "ldap://" + addr, BaseDN: "dc=example,dc=test", AdminDN: "cn=admin,dc=example,dc=test",
		AdminPassword: "secret", dir: dir, conf: filepath.Join(dir, "slapd.conf"), slapd: slapd}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	schema := "/etc/ldap/schema"
	conf := fmt.Sprintf(`include %[1]s/core.schema
include %[1]s/cosine.schema
include %[1]s/inetorgperson.schema
pidfile %[2]s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "%[3]s"
rootdn "%[4]s"
rootpw %[5]s
directory %[2]s/db
maxsize 104857600
index mail,cn,sn,givenName eq,sub
`, schema, dir, s.BaseDN, s.AdminDN, s.AdminPassword)
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	base := "dn: " + s.BaseDN + "\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
	ldifPath := filepath.Join(dir, "data.ldif")
	if err := os.WriteFile(ldifPath, []byte(base+strings.TrimSpace(ldif)+"\n"), 0o600); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if out, err := exec.Command(slapadd, "-f", s.conf, "-l", ldifPath).CombinedOutput(); err != nil {
		t.Fatalf("testenv: slapadd: %v\n%s", err, out)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start runs slapd in the foreground of its own process group and waits
// until it accepts connections.
func (s *Slapd) Start() error {
	host := strings.TrimPrefix(s.URL, "ldap://")
	cmd := exec.Command(s.slapd, "-d", "0", "-h", s.URL+"/", "-f", s.conf)
	log, err := os.OpenFile(filepath.Join(s.dir, "slapd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("testenv: slapd: %w", err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	proc, err := procgroup.Start(cmd)
	if err != nil {
		return fmt.Errorf("testenv: slapd: %w", err)
	}
	s.proc = proc
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-proc.Done():
			b, _ := os.ReadFile(filepath.Join(s.dir, "slapd.log"))
			return fmt.Errorf("testenv: slapd exited: %s", b)
		case <-ctx.Done():
			proc.Kill()
			return fmt.Errorf("testenv: slapd did not listen on %s", host)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends slapd (idempotent).
func (s *Slapd) Stop() {
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM, 5*time.Second)
		s.proc = nil
	}
}
