package admin

import (
	"crypto/tls"
	"net"
	"net/http/httptest"
	"testing"
)

// Cookies are Secure over TLS, or behind a trusted proxy that says the
// client used https; anyone else's X-Forwarded-Proto is ignored.
func TestIsHTTPS(t *testing.T) {
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	s := &Server{opts: Options{TrustedProxies: []*net.IPNet{proxies}}}
	for _, tc := range []struct {
		remote, proto string
		tls, want     bool
	}{
		{"192.0.2.1:5000", "", false, false},
		{"192.0.2.1:5000", "", true, true},
		{"192.0.2.1:5000", "https", false, false},
		{"10.1.2.3:5000", "https", false, true},
		{"10.1.2.3:5000", "http", false, false},
	} {
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = tc.remote
		if tc.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := s.isHTTPS(r); got != tc.want {
			t.Errorf("%+v: %v", tc, got)
		}
	}
}
