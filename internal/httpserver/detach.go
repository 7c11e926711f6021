package httpserver

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// Detached is a request that waits for its answer off net/http: a Ping
// (or any long poll) takes its connection from the server with Detach
// and answers on it later with Respond. While a request waits in a
// handler, net/http keeps its connection's goroutine, whose stack stays
// at 16 KiB under the handler chain, and 10 KiB of read and write
// buffers; a detached request keeps the connection, a goroutine that
// notices the client leaving, and the few strings of its access-log line
// (docs/decisions.md, "Waiting requests leave net/http").
//
// After the answer the connection stays open as net/http would keep it:
// the client's next request on it goes back to net/http (Server.Serve
// serves the returned connections), and an idle one closes after
// idleTimeout.
type Detached struct {
	conn   net.Conn
	gone   chan struct{}
	header []byte // the answer's header lines set before Detach
	line   accessLine
	start  time.Time
	front  *frontState
	keep   bool // the client keeps the connection after the answer

	mu       sync.Mutex
	answered bool // Respond or Close ran
}

// frontState is what the middleware shares with detached requests: the
// access log, the metrics, the count of detached requests that Shutdown
// waits for, and the listener their connections go back to net/http by.
type frontState struct {
	log     *slog.Logger
	m       *metrics
	waiting sync.WaitGroup
	back    *returnListener
}

// ErrNotDetached says why Detach left a request with net/http.
var ErrNotDetached = errors.New("httpserver: request cannot be detached")

// Detach takes the request's connection from net/http. It refuses (the
// handler then waits as usual) a request that is not HTTP/1.x or whose
// body is not read to its end. After a successful Detach the handler returns at once,
// writes nothing through c, and the request ends with Respond or Close.
func Detach(c echo.Context) (*Detached, error) {
	ri := Info(c)
	req := c.Request()
	if ri.front == nil || req.ProtoMajor != 1 {
		return nil, ErrNotDetached
	}
	if req.Body != nil && req.Body != http.NoBody {
		if n, _ := io.CopyN(io.Discard, req.Body, 1); n != 0 {
			return nil, ErrNotDetached
		}
	}
	var hb bytes.Buffer
	_ = c.Response().Header().Write(&hb) // a bytes.Buffer does not fail
	conn, rw, err := http.NewResponseController(c.Response()).Hijack()
	if err != nil {
		return nil, ErrNotDetached
	}
	d := &Detached{conn: conn, gone: make(chan struct{}), header: hb.Bytes(), front: ri.front,
		start: ri.start, line: newAccessLine(c), keep: req.ProtoMinor >= 1 && !req.Close}
	ri.detached = true
	d.front.waiting.Add(1)
	if rw.Reader.Buffered() > 0 {
		// The client sent more (pipelining) where it should wait for the
		// answer: it is treated as gone, as the watcher would.
		ri.Note = "client sent more while waiting"
		d.keep = false
		close(d.gone)
	} else {
		go d.watch()
	}
	return d, nil
}

// watch waits, without reading, until the connection has something to
// read or is closed. Before the answer that is the client leaving (or
// talking out of turn): gone closes. After it, data is the client's next
// request and the connection goes back to net/http; anything else closes
// it.
func (d *Detached) watch() {
	data, err := waitReadable(d.conn)
	if errors.Is(err, errNoDescriptor) {
		// Not a socket (no listener easd serves on): read a byte, and
		// close after the answer since that byte is gone.
		d.mu.Lock()
		d.keep = false
		d.mu.Unlock()
		var b [1]byte
		_, err = d.conn.Read(b[:])
		data = false
	}
	d.mu.Lock()
	answered, keep := d.answered, d.keep
	if !answered {
		close(d.gone)
	}
	d.mu.Unlock()
	if !answered {
		return
	}
	if err == nil && data && keep {
		_ = d.conn.SetReadDeadline(time.Time{})
		d.front.back.give(d.conn)
		return
	}
	d.conn.Close()
}

// waitReadable blocks until conn has bytes to read (data true) or the
// peer closed it, leaving the bytes in place for whoever reads next. It
// fails on the read deadline and when conn is closed.
func waitReadable(conn net.Conn) (data bool, err error) {
	raw := conn
	for {
		switch c := raw.(type) {
		case *tls.Conn:
			raw = c.NetConn()
			continue
		case interface{ NetConn() net.Conn }:
			raw = c.NetConn()
			continue
		}
		break
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return false, errNoDescriptor
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, err
	}
	var n int
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, perr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return perr != syscall.EAGAIN && perr != syscall.EINTR
	})
	if err != nil {
		return false, err
	}
	if perr != nil {
		return false, perr
	}
	return n > 0, nil
}

var errNoDescriptor = errors.New("httpserver: connection without a descriptor")

// Gone is closed when the client has left: there is nobody to answer.
func (d *Detached) Gone() <-chan struct{} { return d.gone }

// detachedWriteTimeout bounds writing an answer to a client that does not
// read it; idleTimeout is how long a connection waits for the client's
// next request after the answer (as Server.Serve sets for net/http).
const (
	detachedWriteTimeout = 30 * time.Second
	idleTimeout          = 5 * time.Minute
)

// Respond sends a 200 answer with body. The access log reports the
// request's RequestInfo as the handler left it: note the outcome
// (EASStatus, Routine) there before. As for a request answered through
// net/http, the line is written before the answer goes out: a client that
// has its answer finds it in the log.
func (d *Detached) Respond(contentType string, body []byte) error {
	d.mu.Lock()
	if d.answered {
		d.mu.Unlock()
		return net.ErrClosed
	}
	d.answered = true
	select {
	case <-d.gone: // the client talked out of turn: close after the answer
		d.keep = false
	default:
	}
	keep := d.keep
	d.mu.Unlock()

	var b bytes.Buffer
	b.Grow(len(d.header) + len(body) + 160)
	b.WriteString("HTTP/1.1 200 OK\r\n")
	b.Write(d.header)
	b.WriteString("Content-Type: " + contentType + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	if !keep {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	d.front.logAccess(d.line, http.StatusOK, time.Since(d.start))
	_ = d.conn.SetWriteDeadline(time.Now().Add(detachedWriteTimeout))
	_, err := d.conn.Write(b.Bytes())
	_ = d.conn.SetWriteDeadline(time.Time{})
	if err != nil || !keep {
		d.conn.Close()
	} else {
		// The watcher hands the connection back at the next request.
		_ = d.conn.SetReadDeadline(time.Now().Add(idleTimeout))
	}
	d.front.waiting.Done()
	return err
}

// Close ends a request that gets no answer (the client left). It is
// logged with status 200, as net/http reports a handler that wrote
// nothing.
func (d *Detached) Close() {
	d.mu.Lock()
	if d.answered {
		d.mu.Unlock()
		return
	}
	d.answered = true
	d.mu.Unlock()
	d.front.logAccess(d.line, http.StatusOK, time.Since(d.start))
	d.conn.Close()
	d.front.waiting.Done()
}

// returnListener hands connections that detached requests are done with
// back to net/http, which serves them as new ones.
type returnListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	addr  net.Addr
}

func newReturnListener() *returnListener {
	return &returnListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *returnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *returnListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *returnListener) Addr() net.Addr {
	if l.addr != nil {
		return l.addr
	}
	return &net.TCPAddr{}
}

// give hands c to net/http, or closes it once the server is shutting
// down.
func (l *returnListener) give(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}
