package httpserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// start serves s on a loopback port and returns its base URL.
func start(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, "", "") }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	var imapDown atomic.Bool
	var logs bytes.Buffer
	s := New(Options{
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Ready: []Check{
			{Name: "postgres", Check: func(context.Context) error { return nil }},
			{Name: "imap", Check: func(context.Context) error {
				if imapDown.Load() {
					return errors.New("connection refused")
				}
				return nil
			}},
		},
	})
	base := start(t, s)

	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz %d %s", code, body)
	}
	imapDown.Store(true)
	code, body := get(t, base+"/readyz")
	if code != 503 || !strings.Contains(body, "imap") {
		t.Fatalf("readyz with imap down: %d %q", code, body)
	}
	code, body = get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, `easd_http_requests_total{cmd="/readyz",status="503"} 1`) {
		t.Fatalf("metrics %d:\n%s", code, body)
	}
	if !strings.Contains(logs.String(), `"note":"imap: connection refused"`) {
		t.Fatalf("failed readiness not logged: %s", logs.String())
	}
}

func TestPanicBecomes500AndIsLogged(t *testing.T) {
	var logs bytes.Buffer
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	s.Echo.GET("/boom", func(c echo.Context) error {
		ri := Info(c)
		ri.User, ri.Device, ri.Cmd = "alice", "dev1", "Sync"
		panic("simulated bug")
	})
	base := start(t, s)
	code, _ := get(t, base+"/boom")
	if code != 500 {
		t.Fatalf("status %d", code)
	}
	out := logs.String()
	for _, want := range []string{"bug: panic in handler", `"user":"alice"`, `"device":"dev1"`, `"cmd":"Sync"`, `"status":500`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	// The server is still alive.
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz after panic: %d", code)
	}
}

func TestBodyLimit(t *testing.T) {
	s := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 1024})
	s.Echo.POST("/eat", func(c echo.Context) error {
		_, err := io.ReadAll(c.Request().Body)
		if IsBodyTooLarge(err) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "too large")
		}
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	base := start(t, s)
	post := func(body io.Reader, length int64) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/eat", body)
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(strings.NewReader(strings.Repeat("a", 1000)), 1000); code != 200 {
		t.Fatalf("small body: %d", code)
	}
	if code := post(strings.NewReader(strings.Repeat("a", 2000)), 2000); code != 413 {
		t.Fatalf("declared large body: %d", code)
	}
	// Chunked: no Content-Length, the limit applies while reading.
	if code := post(io.MultiReader(strings.NewReader(strings.Repeat("a", 2000))), -1); code != 413 {
		t.Fatalf("chunked large body: %d", code)
	}
}

// A waiting handler ends promptly when shutdown starts, and in-flight
// requests finish.
func TestShutdownEndsWaits(t *testing.T) {
	s := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.Echo.GET("/wait", func(c echo.Context) error {
		select {
		case <-c.Request().Context().Done():
			return c.String(http.StatusOK, "drained")
		case <-time.After(time.Minute):
			return c.String(http.StatusOK, "timeout")
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln, "", "") }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/wait")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	time.Sleep(200 * time.Millisecond)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if body := <-got; body != "drained" {
		t.Fatalf("waiting request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}

// A client's X-Request-Id is echoed and logged only when it is short and
// plain; a huge or odd one is replaced by an id of ours.
func TestRequestIDCapped(t *testing.T) {
	var logs bytes.Buffer
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	base := start(t, s)
	for _, tc := range []struct {
		sent string
		kept bool
	}{
		{"proxy-7f3a9c1e-0b1d-4c55-9e2a-1f0c2b3d4e5f", true},
		{strings.Repeat("x", 900<<10), false},
		{strings.Repeat("y", 129), false},
		{"two words", false},
		{`quote"d`, false},
	} {
		req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		req.Header.Set("X-Request-Id", tc.sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		if tc.kept != (got == tc.sent) || len(got) == 0 || len(got) > 128 {
			t.Errorf("sent %.20q (%d bytes): answered %.40q", tc.sent, len(tc.sent), got)
		}
	}
	if logs.Len() > 16<<10 {
		t.Fatalf("%d bytes of log for five requests", logs.Len())
	}
}
