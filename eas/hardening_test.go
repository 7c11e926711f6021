package eas_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// scrape returns the server's /metrics text.
func scrape(t *testing.T, env *easdtest.Env) string {
	t.Helper()
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var cmdLabel = regexp.MustCompile(`easd_http_requests_total\{cmd="([^"]*)"`)

// Made-up command names, signed in or not, never become metric labels:
// each would be a series kept for the life of the process (20,000 names
// once cost 80 MB of RSS and a 400 MB scrape).
func TestMetricLabelsOnlyKnownCommands(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	for i := 0; i < 300; i++ {
		user := ""
		if i%10 == 0 {
			user = "alice"
		}
		env.Raw(t, "POST", fmt.Sprintf("/Microsoft-Server-ActiveSync?Cmd=Made%dUp&User=x&DeviceId=d1&DeviceType=T", i),
			user, map[string]string{"MS-ASProtocolVersion": "14.1"}, "")
	}
	labels := map[string]bool{}
	for _, m := range cmdLabel.FindAllStringSubmatch(scrape(t, env), -1) {
		labels[m[1]] = true
	}
	for l := range labels {
		if regexp.MustCompile(`^Made\d+Up$`).MatchString(l) {
			t.Fatalf("a made-up command became a metric label: %q (%d labels)", l, len(labels))
		}
	}
	if !labels["unknown"] {
		t.Fatalf("unknown commands not counted under one label: %v", labels)
	}
}

// NUL bytes (and other control characters) in the Basic user name, the
// password or DeviceType are refused with 400 before they reach the mail
// server or PostgreSQL (which cannot store a NUL and answered 500).
func TestControlCharactersRefusedAtTheEdge(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	const q = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=dev1&DeviceType="
	for _, tc := range []struct {
		name, user, pass, deviceType string
	}{
		{"NUL in user name", "ali\x00ce", "alice", "TestPhone"},
		{"NUL after user name", "alice\x00", "alice", "TestPhone"},
		{"newline in user name", "alice\nx", "alice", "TestPhone"},
		{"NUL in password", "alice", "alice\x00", "TestPhone"},
		{"NUL in DeviceType", "alice", "alice", "Test%00Phone"},
		{"escape in DeviceType", "alice", "alice", "Test%1bPhone"},
	} {
		code, _, _ := env.Raw(t, "POST", q+tc.deviceType, "", map[string]string{
			"Authorization": basic(tc.user, tc.pass), "MS-ASProtocolVersion": "14.1",
			"Content-Type": "application/vnd.ms-sync.wbxml",
		}, "")
		if code != 400 {
			t.Errorf("%s: HTTP %d, want 400", tc.name, code)
		}
	}
	if code, _, _ := env.Raw(t, "POST", q+"TestPhone", "alice", map[string]string{"MS-ASProtocolVersion": "14.1"}, ""); code != 200 {
		t.Fatalf("a plain request afterwards: HTTP %d", code)
	}
}

// rawConn opens a TCP connection to easd and writes head.
func rawConn(t *testing.T, env *easdtest.Env, head string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if head != "" {
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// closedWithin reports whether the server closed conn within d, and what
// it had sent before.
func closedWithin(conn net.Conn, d time.Duration) (bool, string) {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout()), string(b)
}

// A client cannot hold connections by announcing a body it never sends:
// a request without valid credentials is answered 401 at once, without
// waiting for its body, and the connection closed; a body must arrive
// within a grace plus a second per KB; one address may hold only so many
// connections at once.
func TestSlowClientsNotHeld(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) {
		c.BodyReadGrace = 2 * time.Second
		c.MaxConnsPerAddress = 20
	})
	const head = "POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=dev1&DeviceType=T HTTP/1.1\r\n" +
		"Host: easd\r\nMS-ASProtocolVersion: 14.1\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n"

	// No credentials, a body announced and never sent.
	start := time.Now()
	conn := rawConn(t, env, head+"Content-Length: 1000\r\n\r\n")
	closed, got := closedWithin(conn, 5*time.Second)
	if !closed || !strings.HasPrefix(got, "HTTP/1.1 401") {
		t.Fatalf("unauthenticated request with a missing body: closed %v after %v, got %.40q", closed, time.Since(start), got)
	}

	// Signed in, but the body drips a byte a second.
	start = time.Now()
	conn = rawConn(t, env, head+"Authorization: "+basic("alice", "alice")+"\r\nContent-Length: 1000\r\n\r\n\x03\x01")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 30; i++ {
			time.Sleep(time.Second)
			if _, err := conn.Write([]byte{0x6a}); err != nil {
				return
			}
		}
	}()
	closed, _ = closedWithin(conn, 10*time.Second)
	t.Logf("a dripping body was cut off after %v", time.Since(start).Round(100*time.Millisecond))
	if !closed || time.Since(start) > 8*time.Second {
		t.Fatalf("a dripping body held the connection for %v", time.Since(start))
	}
	conn.Close()
	<-done

	// Many idle connections from one address: only the cap is kept.
	var conns []net.Conn
	for i := 0; i < 60; i++ {
		conns = append(conns, rawConn(t, env, "POST /Microsoft-Server-ActiveSync HTTP/1.1\r\n"))
	}
	held := 0
	for _, c := range conns {
		if closed, _ := closedWithin(c, 50*time.Millisecond); !closed {
			held++
		}
	}
	t.Logf("idle connections held: %d of 60 (cap 20)", held)
	if held > 20 {
		t.Fatalf("%d of 60 idle connections from one address held, cap 20", held)
	}
	for _, c := range conns {
		c.Close()
	}
	// The cap counts open connections: closing them frees the address.
	time.Sleep(100 * time.Millisecond)
	if r, err := env.Client("alice", "dev1").FolderSync(context.Background(), "0"); err != nil || r.Status != 1 {
		t.Fatalf("after the idle connections closed: %+v %v", r, err)
	}
}
