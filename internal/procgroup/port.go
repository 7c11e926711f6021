package procgroup

import (
	"fmt"
	"net"
)

// ResolveAddr turns a "host:0" address into "host:port" with a port that was
// free a moment ago, so the server can be told a fixed port (and reuse it on
// restart). Addresses with a port are returned unchanged.
func ResolveAddr(addr string) (string, error) {
	err := ResolveAddrs(&addr)
	return addr, err
}

// ResolveAddrs resolves each address as ResolveAddr does, in place, and
// gives them distinct ports: every listener picking a port stays open
// until all are picked, so the kernel cannot hand one port out twice (it
// did, with many ports in TIME_WAIT, and a server then refused its own
// configuration for a duplicate listener).
func ResolveAddrs(addrs ...*string) error {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, addr := range addrs {
		host, port, err := net.SplitHostPort(*addr)
		if err != nil {
			return fmt.Errorf("address %q: %w", *addr, err)
		}
		if port != "0" && port != "" {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return fmt.Errorf("find a free port on %s: %w", host, err)
		}
		held = append(held, l)
		*addr = l.Addr().String()
	}
	return nil
}
