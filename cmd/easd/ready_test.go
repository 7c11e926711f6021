package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Without --url, `easd ready` asks the port EASD_LISTEN names, so a
// container healthcheck follows a changed port.
func TestReadyFollowsListen(t *testing.T) {
	clearEASDEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ready\n"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	t.Setenv("EASD_LISTEN", ":"+port)
	var out, errb bytes.Buffer
	if code := run([]string{"ready"}, &out, &errb); code != 0 || out.String() != "ready\n" {
		t.Fatalf("easd ready with EASD_LISTEN=:%s: exit %d, %q %q", port, code, out.String(), errb.String())
	}

	tls := httptest.NewTLSServer(srv.Config.Handler)
	defer tls.Close()
	_, port, _ = net.SplitHostPort(tls.Listener.Addr().String())
	t.Setenv("EASD_LISTEN", "0.0.0.0:"+port)
	t.Setenv("EASD_TLS_CERT", "/etc/easd/cert.pem")
	out.Reset()
	if code := run([]string{"ready"}, &out, &errb); code != 0 {
		t.Fatalf("easd ready over TLS: exit %d, %q", code, errb.String())
	}
}

func TestReadyURL(t *testing.T) {
	for listen, want := range map[string]string{
		"":               "http://127.0.0.1:8080/readyz",
		":9000":          "http://127.0.0.1:9000/readyz",
		"10.0.0.5:8443":  "http://10.0.0.5:8443/readyz",
		"[::]:8080":      "http://[::1]:8080/readyz",
		"localhost:7000": "http://localhost:7000/readyz",
	} {
		got, _ := readyURL(func(k string) (string, bool) { return listen, k == "EASD_LISTEN" })
		if got != want {
			t.Errorf("EASD_LISTEN=%q: %s, want %s", listen, got, want)
		}
	}
}
