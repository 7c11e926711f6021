package httpserver

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
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
// The answer closes the connection ("Connection: close"): net/http cannot
// take a connection back, so the phone's next request opens a new one.
type Detached struct {
	conn   net.Conn
	gone   chan struct{}
	header []byte // the answer's header lines set before Detach
	line   accessLine
	start  time.Time
	front  *frontState
	once   sync.Once
}

// frontState is what the middleware shares with detached requests: the
// access log, the metrics, and the count of detached requests that
// Shutdown waits for.
type frontState struct {
	log     *slog.Logger
	m       *metrics
	waiting sync.WaitGroup
}

// ErrNotDetached says why Detach left a request with net/http.
var ErrNotDetached = errors.New("httpserver: request cannot be detached")

// Detach takes the request's connection from net/http. It refuses (the
// handler then waits as usual) a request that is not HTTP/1.x or whose
// body is not read to its end. After a successful Detach the handler
// returns at once, writes nothing through c, and the request ends with
// Respond or Close.
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
		start: ri.start, line: newAccessLine(c)}
	ri.detached = true
	d.front.waiting.Add(1)
	if rw.Reader.Buffered() > 0 {
		// The client sent more (pipelining) where it should wait for the
		// answer: it is treated as gone, as the watcher would.
		ri.Note = "client sent more while waiting"
		close(d.gone)
	} else {
		go d.watch()
	}
	return d, nil
}

// watch closes gone when the client closes the connection (or sends
// anything: a client does not talk while it waits for an answer).
func (d *Detached) watch() {
	var b [1]byte
	_, _ = d.conn.Read(b[:])
	close(d.gone)
}

// Gone is closed when the client has left: there is nobody to answer.
func (d *Detached) Gone() <-chan struct{} { return d.gone }

// detachedWriteTimeout bounds writing an answer to a client that does not
// read it.
const detachedWriteTimeout = 30 * time.Second

// Respond sends a 200 answer with body and closes the connection. The
// access log reports the request's RequestInfo as the handler left it:
// note the outcome (EASStatus, Routine) there before. As for a request
// answered through net/http, the line is written before the answer goes
// out: a client that has its answer finds it in the log.
func (d *Detached) Respond(contentType string, body []byte) error {
	var b bytes.Buffer
	b.Grow(len(d.header) + len(body) + 160)
	b.WriteString("HTTP/1.1 200 OK\r\n")
	b.Write(d.header)
	b.WriteString("Content-Type: " + contentType + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	err := net.ErrClosed
	d.end(http.StatusOK, func() {
		_ = d.conn.SetWriteDeadline(time.Now().Add(detachedWriteTimeout))
		_, err = d.conn.Write(b.Bytes())
	})
	return err
}

// Close ends a request that gets no answer (the client left). It is
// logged with status 200, as net/http reports a handler that wrote
// nothing.
func (d *Detached) Close() { d.end(http.StatusOK, nil) }

// end logs the request, runs write, and closes the connection, once.
func (d *Detached) end(status int, write func()) {
	d.once.Do(func() {
		d.front.logAccess(d.line, status, time.Since(d.start))
		if write != nil {
			write()
		}
		d.conn.Close()
		<-d.gone // the watcher has ended: the read fails on a closed connection
		d.front.waiting.Done()
	})
}
