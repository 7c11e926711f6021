package httpserver

import "net"

// quietListener turns TCP keep-alive off on the connections it accepts.
// Go's listeners probe every connection idle for 15 s, every 15 s. A phone
// waiting in a Ping sets its own keep-alive, the heartbeat, long enough
// to let its radio sleep: a server's probe every 15 s wakes it, and the
// phone's battery pays for push. At 100,000 waiting phones the probes were
// also 13,000 packets a second both ways, and a loaded machine that
// dropped a few lost about 1% of the connections (keep-alive timeouts).
// Nothing needs them: a waiting request ends at its heartbeat, a client
// that closes is noticed by the detached watcher (detach.go), and an idle
// kept connection closes after IdleTimeout.
type quietListener struct{ net.Listener }

func (l quietListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetKeepAlive(false) // a conn that refuses still serves
	}
	return c, nil
}
