package httpserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

type detachedReq struct {
	d  *Detached
	ri *RequestInfo
}

// detachServer serves POST /wait, which reads the body and detaches.
func detachServer(t *testing.T) (addr string, reqs <-chan detachedReq, logs func() string) {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, nil))})
	ch := make(chan detachedReq, 1)
	s.Echo.POST("/wait", func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return err
		}
		ri := Info(c)
		ri.Cmd = "Wait"
		c.Response().Header().Set("X-Kept", "yes")
		d, err := Detach(c)
		if err != nil {
			ri.Note = "not detached: " + err.Error()
			return c.String(http.StatusOK, "not detached\n")
		}
		ch <- detachedReq{d, ri}
		return nil
	})
	base := start(t, s)
	return strings.TrimPrefix(base, "http://"), ch, func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

func postWait(t *testing.T, addr string, extra string) net.Conn {
	t.Helper()
	return postWaitHeader(t, addr, "", extra)
}

func postWaitHeader(t *testing.T, addr, header, extra string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "POST /wait HTTP/1.1\r\nHost: test\r\n" + header + "Content-Length: 5\r\n\r\nhello" + extra
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	return conn
}

func receive(t *testing.T, reqs <-chan detachedReq) detachedReq {
	t.Helper()
	select {
	case r := <-reqs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("request not detached")
		return detachedReq{}
	}
}

// A detached request answers later on its connection: the headers set
// before Detach and the body. The access log has one line for it, written
// with the outcome noted after Detach. The connection stays open, and the
// client's next request on it is served by net/http again.
func TestDetachedAnswers(t *testing.T) {
	addr, reqs, logs := detachServer(t)
	conn := postWait(t, addr, "")
	br := bufio.NewReader(conn)
	for round := range 2 {
		r := receive(t, reqs)
		if n := strings.Count(logs(), `"cmd":"Wait"`); n != round {
			t.Fatalf("%d lines logged before the answer, want %d", n, round)
		}
		r.ri.EASStatus, r.ri.Routine = 2, true
		if err := r.d.Respond("text/plain", []byte("answer")); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "answer" || resp.Close ||
			resp.Header.Get("X-Kept") != "yes" || resp.Header.Get("X-Request-Id") == "" ||
			resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("answer: %d %q close=%v %v", resp.StatusCode, body, resp.Close, resp.Header)
		}
		// The connection goes back to net/http, which detaches it again.
		if _, err := conn.Write([]byte("POST /wait HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")); err != nil {
			t.Fatal(err)
		}
	}
	r := receive(t, reqs)
	r.d.Close()
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("connection after Close: %v", err)
	}
	if l := logs(); strings.Count(l, `"cmd":"Wait"`) != 3 || !strings.Contains(l, `"eas_status":2`) ||
		!strings.Contains(l, `"level":"INFO"`) {
		t.Fatalf("access log: %s", l)
	}
}

// A client that asks for "Connection: close" gets it after the answer.
func TestDetachedAnswerClosesWhenAsked(t *testing.T) {
	addr, reqs, _ := detachServer(t)
	conn := postWaitHeader(t, addr, "Connection: close\r\n", "")
	r := receive(t, reqs)
	if err := r.d.Respond("text/plain", []byte("answer")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "answer" || !resp.Close {
		t.Fatalf("answer: %q close=%v", body, resp.Close)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("connection after the answer: %v", err)
	}
}

// A client that leaves closes Gone; Close then logs the request.
func TestDetachedNoticesClientLeaving(t *testing.T) {
	addr, reqs, logs := detachServer(t)
	conn := postWait(t, addr, "")
	r := receive(t, reqs)
	select {
	case <-r.d.Gone():
		t.Fatal("gone while the client waits")
	case <-time.After(300 * time.Millisecond):
	}
	conn.Close()
	select {
	case <-r.d.Gone():
	case <-time.After(10 * time.Second):
		t.Fatal("client leaving not noticed")
	}
	r.d.Close()
	r.d.Close() // twice is harmless
	if n := strings.Count(logs(), `"cmd":"Wait"`); n != 1 {
		t.Fatalf("%d access log lines, want 1", n)
	}
}

// A client that sends more while it should wait (pipelining) counts as
// gone: nobody would read what it sent.
func TestDetachedPipelinedIsGone(t *testing.T) {
	addr, reqs, logs := detachServer(t)
	conn := postWait(t, addr, "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
	r := receive(t, reqs)
	select {
	case <-r.d.Gone():
	case <-time.After(10 * time.Second):
		t.Fatal("pipelined request not treated as gone")
	}
	r.d.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("connection not closed: %d %v", n, err)
	}
	if !strings.Contains(logs(), "client sent more while waiting") {
		t.Fatalf("access log: %s", logs())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
