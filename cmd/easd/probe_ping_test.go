package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// idleProxy forwards TCP connections to target and closes a connection
// when the server has sent nothing for idle, as load balancers with an
// idle timeout do (60 s by default on many).
func idleProxy(t *testing.T, target string, idle time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				buf := make([]byte, 32<<10)
				for {
					_ = up.SetReadDeadline(time.Now().Add(idle))
					n, err := up.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return // the idle timeout, or the server closed
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// gatewayTimeout is an HTTP reverse proxy that answers 502 when easd has
// not answered within wait, as nginx does after proxy_read_timeout.
func gatewayTimeout(t *testing.T, target string, wait time.Duration) string {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = wait
	rp.Transport = tr
	rp.ErrorLog = log.New(io.Discard, "", 0) // the timeouts are the point
	s := httptest.NewServer(rp)
	t.Cleanup(s.Close)
	return s.URL
}

// A Ping held for its heartbeat passes; one cut short by something in
// between is reported as such, whether the connection is closed or a
// gateway answers; a heartbeat beyond the server's bounds is replaced by
// the bound, as a phone does.
func TestProbePing(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) {
		c.HeartbeatMin = time.Second
		c.HeartbeatMax = 3 * time.Second
	})
	run := func(base string, args ...string) (int, *probeReport, *probeStep) {
		t.Helper()
		code, r, out := probeJSON(t, probeNet{}, append([]string{base, "--user", "alice"}, args...)...)
		s := stepOf(t, r, "ping")
		if t.Failed() {
			t.Logf("report:\n%s", out)
		}
		return code, r, s
	}

	code, _, s := run(env.URL, "--ping-heartbeat", "2s")
	if code != 0 || s.Result != "ok" || !strings.HasPrefix(s.Detail, "held 2") || s.Ping == nil || s.Ping.Cut || s.Ping.HeartbeatS != 2 || s.Ping.HeldMS < 2000 {
		t.Errorf("held: exit %d %+v %+v", code, s, s.Ping)
	}

	// Above the server's 3 s: asked again with 3 s.
	code, _, s = run(env.URL, "--ping-heartbeat", "10s")
	if code != 0 || s.Result != "ok" || !strings.HasPrefix(s.Detail, "held 3") || s.Ping.HeartbeatS != 3 {
		t.Errorf("bounded: exit %d %+v %+v", code, s, s.Ping)
	}
	// --quick does not wait for the bound.
	code, _, s = run(env.URL, "--quick", "--ping-heartbeat", "10s")
	if code != 0 || s.Result != "ok" || !strings.Contains(s.Detail, "outside the server's heartbeat bounds (it proposes 3 s)") || s.Ping.HeldMS > 1000 {
		t.Errorf("quick: exit %d %+v %+v", code, s, s.Ping)
	}

	cut := regexp.MustCompile(`^cut after 2(?:\.\d)?s of a 3s Ping \((.*)\): a proxy or load balancer between here and easd ends long requests`)
	code, r, s := run("http://"+idleProxy(t, strings.TrimPrefix(env.URL, "http://"), 2*time.Second), "--ping-heartbeat", "3s")
	if m := cut.FindStringSubmatch(s.Detail); code != 1 || s.Result != "fail" || m == nil || m[1] != "connection closed" || !s.Ping.Cut || r.Result != "fail" {
		t.Errorf("idle proxy: exit %d %+v %+v", code, s, s.Ping)
	}
	if sy := stepOf(t, r, "sync"); sy.Result != "ok" {
		t.Errorf("idle proxy let short requests through? %+v", sy)
	}
	code, _, s = run(gatewayTimeout(t, env.URL, 2*time.Second), "--ping-heartbeat", "3s")
	if m := cut.FindStringSubmatch(s.Detail); code != 1 || s.Result != "fail" || m == nil || m[1] != "HTTP 502 from in between" || !s.Ping.Cut {
		t.Errorf("gateway timeout: exit %d %+v %+v", code, s, s.Ping)
	}
	t.Logf("cut: %s", s.Detail)
}
