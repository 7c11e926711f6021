package procgroup

import (
	"fmt"
	"net"
)

// ResolveAddr turns a "host:0" address into "host:port" with a port that was
// free a moment ago, so the server can be told a fixed port (and reuse it on
// restart). Addresses with a port are returned unchanged.
func ResolveAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if port != "0" && port != "" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
