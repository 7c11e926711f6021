package dovecot

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHibernateIdle: an IDLE connection quiet for imap_hibernate_timeout
// leaves its imap process for the shared imap-hibernate process.
func TestHibernateIdle(t *testing.T) {
	s := startServer(t, Config{Users: map[string]string{"bob": "bobpw"}, Hibernate: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, closeC, err := dialLogin(ctx, s.Addr(), "bob", "bobpw")
	if err != nil {
		t.Fatal(err)
	}
	defer closeC()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		procs := processNames(s.Pid())
		if procs["imap-hibernate"] > 0 && procs["imap"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not hibernated: processes %v%s", procs, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Mail is still delivered while the connection is hibernated.
	if _, err := Append(ctx, s.Addr(), "bob", "bobpw", "INBOX", []byte(sampleMessage)); err != nil {
		t.Fatal(err)
	}
}

// processNames counts the processes of group pgid by name.
func processNames(pgid int) map[string]int {
	out := map[string]int{}
	entries, _ := os.ReadDir("/proc")
	want := strconv.Itoa(pgid)
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		i := strings.LastIndexByte(st, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(st[i+1:])
		if len(f) < 3 || f[2] != want {
			continue
		}
		out[st[strings.IndexByte(st, '(')+1:i]]++
	}
	return out
}
