package dovecot

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// testDir returns a directory that imap processes running as nobody can
// reach when the test runs as root (t.TempDir's parent is private).
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := procgroup.TempDir("dovecot-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = testDir(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	s, err := Start(ctx, cfg)
	if binpath.IsMissing(err) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start to greeting took %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() { s.Stop() })
	return s
}

const sampleMessage = "From: Alice <alice@example.org>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Subject: Lunch\r\n" +
	"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
	"Message-ID: <lunch-1@example.org>\r\n" +
	"\r\n" +
	"Noon at the usual place?\r\n"

func TestAppendAndReadBack(t *testing.T) {
	s := startServer(t, Config{Users: map[string]string{"bob": "bobpw"}})
	ctx := context.Background()

	uid, err := Append(ctx, s.Addr(), "bob", "bobpw", "INBOX", []byte(sampleMessage), `\Seen`)
	if err != nil {
		t.Fatal(err)
	}
	if uid == 0 {
		t.Fatal("no UID from APPEND (UIDPLUS)")
	}

	c, closeConn, err := dialLogin(ctx, s.Addr(), "bob", "bobpw")
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn()
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []imap.Cap{imap.CapCondStore, imap.CapSpecialUse, imap.CapUIDPlus, imap.CapIdle, imap.CapMove} {
		if !caps.Has(want) {
			t.Errorf("capability %s missing", want)
		}
	}

	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	uses := map[imap.MailboxAttr]string{}
	for _, m := range list {
		for _, a := range m.Attrs {
			uses[a] = m.Mailbox
		}
	}
	for attr, name := range map[imap.MailboxAttr]string{
		imap.MailboxAttrDrafts: "Drafts", imap.MailboxAttrSent: "Sent",
		imap.MailboxAttrTrash: "Trash", imap.MailboxAttrJunk: "Junk",
	} {
		if uses[attr] != name {
			t.Errorf("special-use %s: mailbox %q, want %q", attr, uses[attr], name)
		}
	}

	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 1 || sel.HighestModSeq == 0 {
		t.Fatalf("SELECT: %d messages, HIGHESTMODSEQ %d", sel.NumMessages, sel.HighestModSeq)
	}
	// One message, fetched by its sequence number (a range past the end,
	// such as 1:2, draws a BAD from Dovecot).
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true, ModSeq: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("fetched %d messages", len(msgs))
	}
	m := msgs[0]
	if uint32(m.UID) != uid || m.Envelope.Subject != "Lunch" || !slices.Contains(m.Flags, imap.FlagSeen) || m.ModSeq == 0 {
		t.Fatalf("fetched UID %d subject %q flags %v modseq %d", m.UID, m.Envelope.Subject, m.Flags, m.ModSeq)
	}
	var body []byte
	for _, b := range m.BodySection {
		body = b.Bytes
	}
	if string(body) != sampleMessage {
		t.Fatalf("body differs:\n%q", body)
	}

	// Special-use folders take mail too.
	if _, err := Append(ctx, s.Addr(), "bob", "bobpw", "Sent", []byte(sampleMessage)); err != nil {
		t.Fatal(err)
	}
}

func TestWrongPasswordAndSetUser(t *testing.T) {
	s := startServer(t, Config{Users: map[string]string{"carol": "one"}})
	ctx := context.Background()
	if _, err := Append(ctx, s.Addr(), "carol", "wrong", "INBOX", []byte(sampleMessage)); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	// Same length as the old password, within the same second: the
	// passwd-file reload must still see it.
	if err := s.SetUser("carol", "two"); err != nil {
		t.Fatal(err)
	}
	if _, err := Append(ctx, s.Addr(), "carol", "two", "INBOX", []byte(sampleMessage)); err != nil {
		t.Fatalf("after SetUser: %v", err)
	}
	if _, err := Append(ctx, s.Addr(), "carol", "one", "INBOX", []byte(sampleMessage)); err == nil {
		t.Fatal("old password still accepted")
	}
	if err := s.SetUser("dave", "dpw"); err != nil {
		t.Fatal(err)
	}
	if _, err := Append(ctx, s.Addr(), "dave", "dpw", "INBOX", []byte(sampleMessage)); err != nil {
		t.Fatalf("new user: %v", err)
	}
}

func TestMasterUserLogin(t *testing.T) {
	s := startServer(t, Config{
		Users:      map[string]string{"erin": "erinpw"},
		MasterUser: "easd", MasterPassword: "masterpw",
	})
	ctx := context.Background()
	login := s.MasterLogin("erin")
	if login != "erin*easd" {
		t.Fatalf("MasterLogin = %q", login)
	}
	if _, err := Append(ctx, s.Addr(), login, "masterpw", "INBOX", []byte(sampleMessage)); err != nil {
		t.Fatalf("master login: %v", err)
	}
	if _, err := Append(ctx, s.Addr(), "nosuchuser*easd", "masterpw", "INBOX", []byte(sampleMessage)); err == nil {
		t.Fatal("master login as a user that does not exist succeeded")
	}
	if _, err := Append(ctx, s.Addr(), login, "erinpw", "INBOX", []byte(sampleMessage)); err == nil {
		t.Fatal("master login with the user's password succeeded")
	}
	// The message went to erin's own mailbox.
	c, closeConn, err := dialLogin(ctx, s.Addr(), "erin", "erinpw")
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn()
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if *st.NumMessages != 1 {
		t.Fatalf("erin has %d messages", *st.NumMessages)
	}
}

// liveTree lists the live processes of the group pgid (dovecot's children
// stay in the master's group).
func liveTree(pgid int) []string {
	out, _ := exec.Command("pgrep", "-g", strconv.Itoa(pgid)).Output()
	var alive []string
	for _, pid := range strings.Fields(string(out)) {
		if isLiveDovecotTree(pid) {
			alive = append(alive, pid)
		}
	}
	return alive
}

func isLiveDovecotTree(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return !(i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z')
}

func TestRestartKeepsMailAndStopKillsAll(t *testing.T) {
	s := startServer(t, Config{Users: map[string]string{"frank": "fpw"}})
	ctx := context.Background()
	if _, err := Append(ctx, s.Addr(), "frank", "fpw", "INBOX", []byte(sampleMessage)); err != nil {
		t.Fatal(err)
	}
	// A logged-in session keeps an imap process alive across the stop.
	c, closeConn, err := dialLogin(ctx, s.Addr(), "frank", "fpw")
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	addr, pgid := s.Addr(), s.Pid()
	begin := time.Now()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart took %v", time.Since(begin).Round(time.Millisecond))
	if s.Addr() != addr {
		t.Fatalf("address changed: %s -> %s", addr, s.Addr())
	}
	if alive := liveTree(pgid); len(alive) > 0 {
		t.Fatalf("processes of the old instance survive: %v", alive)
	}
	select {
	case <-c.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("the old session was not disconnected")
	}
	if _, err := Append(ctx, s.Addr(), "frank", "fpw", "INBOX", []byte(sampleMessage)); err != nil {
		t.Fatal(err)
	}
	c2, closeConn2, err := dialLogin(ctx, s.Addr(), "frank", "fpw")
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn2()
	st, err := c2.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if *st.NumMessages != 2 {
		t.Fatalf("after restart INBOX has %d messages, want 2", *st.NumMessages)
	}

	pgid = s.Pid()
	begin = time.Now()
	s.Stop()
	t.Logf("Stop took %v", time.Since(begin).Round(time.Millisecond))
	if alive := liveTree(pgid); len(alive) > 0 {
		t.Fatalf("processes survive Stop: %v", alive)
	}
}

// TestManySessionsPerUser checks the raised per-user connection limit
// (Dovecot's default of 10 per user and IP would refuse the 11th): every
// device of a user and its push watcher hold their own session.
func TestManySessionsPerUser(t *testing.T) {
	s := startServer(t, Config{Users: map[string]string{"gina": "gpw"}})
	ctx := context.Background()
	const n = 25
	begin := time.Now()
	for i := range n {
		c, closeConn, err := dialLogin(ctx, s.Addr(), "gina", "gpw")
		if err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
		defer closeConn()
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
	}
	t.Logf("%d concurrent sessions opened in %v", n, time.Since(begin).Round(time.Millisecond))
}
