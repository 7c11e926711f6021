//go:build unix

package httpserver

import (
	"net"
	"syscall"
	"testing"
)

// Accepted connections send no TCP keep-alive probes.
func TestQuietListenerTurnsKeepAliveOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	keepAlive := func(c net.Conn) int {
		t.Helper()
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var serr error
		if err := raw.Control(func(fd uintptr) {
			v, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		}); err != nil || serr != nil {
			t.Fatal(err, serr)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		ln   net.Listener
		want int
	}{{"plain listener", ln, 1}, {"quiet listener", quietListener{ln}, 0}} {
		d, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c, err := tc.ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if got := keepAlive(c); got != tc.want {
			t.Errorf("%s: SO_KEEPALIVE %d, want %d", tc.name, got, tc.want)
		}
		c.Close()
		d.Close()
	}
}
