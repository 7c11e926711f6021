package httpserver

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Defaults of the body deadline: a client gets BodyGrace, plus a second
// per BodyMinRate bytes it has sent, to send its body. A phone on a bad
// mobile link sends several KB/s; a client dripping a byte every few
// seconds to hold a connection is cut off after the grace.
const (
	DefaultBodyGrace   = 30 * time.Second
	DefaultBodyMinRate = 1024 // bytes per second
)

const bodyKey = "easd.body"

// deadlineBody is a request body whose read deadline grows with what the
// client has sent: start + grace + received/minRate. net/http has only a
// fixed ReadTimeout, which would either cut off a large upload on a slow
// link or let a dripping client hold the connection for as long.
type deadlineBody struct {
	rc      io.ReadCloser
	ctl     *http.ResponseController
	start   time.Time
	grace   time.Duration
	rate    int64
	n       int64
	set     time.Time // the deadline in force
	done    bool      // EOF or an error was read: the deadline is lifted
	dropped bool      // the answer went out without reading the body
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.dropped {
		return 0, errBodyDropped
	}
	if !b.done {
		d := b.start.Add(b.grace + time.Duration(b.n)*time.Second/time.Duration(b.rate))
		if b.set.IsZero() || d.Sub(b.set) >= time.Second {
			_ = b.ctl.SetReadDeadline(d)
			b.set = d
		}
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err != nil && !b.done {
		b.done = true
		// Once the body is read, net/http watches the connection for the
		// client going away (a waiting Ping relies on it): that read
		// must not time out. After any other error (the deadline) the
		// deadline stays, so net/http does not wait for the rest either.
		if errors.Is(err, io.EOF) {
			_ = b.ctl.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.rc.Close() }

var errBodyDropped = errors.New("request body dropped: the answer was sent without it")

// IsBodyTimeout reports whether err came from a request body that did not
// arrive in time.
func IsBodyTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// timeBody puts the growing deadline on c's request body.
func timeBody(c echo.Context, grace time.Duration, rate int64) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return
	}
	b := &deadlineBody{rc: req.Body, ctl: http.NewResponseController(c.Response()),
		start: time.Now(), grace: grace, rate: rate}
	req.Body = b
	c.Set(bodyKey, b)
}

// afterHandler ends the wait for a body the handler did not read to the
// end: net/http would otherwise read (up to 256 KB of) it before
// reusing the connection, with no deadline, for as long as the client
// cares to drip it. Bytes already on their way get a second.
func afterHandler(c echo.Context) {
	b, ok := c.Get(bodyKey).(*deadlineBody)
	if !ok || b.done || b.dropped {
		return
	}
	_ = b.ctl.SetReadDeadline(time.Now().Add(time.Second))
}

// DropBody is for answers given without reading the request body (401,
// 400, 413, 503 before any work): the answer goes out at once and the
// connection closes after it. Without it net/http reads the body before
// it sends the answer, so a client that announces a body and sends none
// holds the connection, unauthenticated, indefinitely. The client gets a
// second to finish sending what it has under way, so that it reads the
// answer rather than a reset connection.
func DropBody(c echo.Context) {
	req := c.Request()
	if req.ContentLength == 0 {
		return
	}
	c.Response().Header().Set("Connection", "close")
	if b, ok := c.Get(bodyKey).(*deadlineBody); ok {
		if b.done {
			return
		}
		b.dropped = true
	}
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(time.Second))
}

// limitListener caps the connections open at once from one address:
// past the cap a new connection is closed at once. Trusted proxies, which
// carry many clients, are exempt.
type limitListener struct {
	net.Listener
	max    int
	exempt []*net.IPNet
	log    *slog.Logger

	mu       sync.Mutex
	open     map[string]int
	refused  int
	lastNote time.Time
}

func newLimitListener(ln net.Listener, max int, exempt []*net.IPNet, log *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: max, exempt: exempt, log: log, open: map[string]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := hostOf(c.RemoteAddr())
		if l.isExempt(host) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[host] >= l.max {
			l.refused++
			note := time.Since(l.lastNote) > time.Minute
			if note {
				l.lastNote = time.Now()
			}
			refused := l.refused
			l.mu.Unlock()
			c.Close()
			if note { // once a minute at most: a flood must not flood the log
				l.log.Warn("connections refused: too many open from one address",
					"remote", host, "max", l.max, "refused_total", refused)
			}
			continue
		}
		l.open[host]++
		l.mu.Unlock()
		return &countedConn{Conn: c, l: l, host: host}, nil
	}
}

func (l *limitListener) isExempt(host string) bool {
	ip := net.ParseIP(host)
	for _, n := range l.exempt {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func (l *limitListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
	}
}

type countedConn struct {
	net.Conn
	l    *limitListener
	host string
	once sync.Once
}

// NetConn is the counted connection, for what needs the socket itself
// (a detached request watching it).
func (c *countedConn) NetConn() net.Conn { return c.Conn }

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.release(c.host) })
	return c.Conn.Close()
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
