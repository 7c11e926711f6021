package imapbridge

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// CommandTimeout is how long easd waits for the mail server to send
// anything while a command of a request is pending. go-imap's client
// waits for the start of a response without limit, so a server that
// hangs (overloaded, paused, a half-open connection) would keep a request,
// and whatever it holds (a database connection, a device's sync lock),
// until the phone gave up. Past the timeout the connection is closed: the
// command fails, the request answers a retryable status, and the
// connection never returns to the pool. Progress resets the clock, so a
// large message streaming slowly is not cut.
var CommandTimeout = 20 * time.Second

// watchedConn notes since when a read has been waiting for the server.
type watchedConn struct {
	net.Conn
	waiting atomic.Int64 // UnixNano when the pending Read began; 0: none
}

func (w *watchedConn) Read(p []byte) (int, error) {
	w.waiting.Store(time.Now().UnixNano())
	n, err := w.Conn.Read(p)
	w.waiting.Store(0)
	return n, err
}

// watched maps the clients Dial made to their connections.
var watched sync.Map // *imapclient.Client -> *watchedConn

func watch(c *imapclient.Client, w *watchedConn) {
	watched.Store(c, w)
	go func() {
		<-c.Closed()
		watched.Delete(c)
	}()
}

// guard closes c when, before the returned stop is called, a read has
// waited CommandTimeout for the server; commands between the two are
// bounded so. A read already waiting when guard is called (the reader of
// an idle connection) counts from the call.
func guard(c *imapclient.Client) (stop func()) {
	v, _ := watched.Load(c)
	w, _ := v.(*watchedConn)
	start := time.Now().UnixNano()
	var t *time.Timer
	var mu sync.Mutex
	stopped := false
	check := func() {
		since := start
		if w != nil {
			if since = w.waiting.Load(); since == 0 {
				since = time.Now().UnixNano() // not waiting now: check again later
			}
			since = max(since, start)
		}
		waited := time.Duration(time.Now().UnixNano() - since)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case stopped: // the commands ended meanwhile
		case waited >= CommandTimeout:
			c.Close()
		default:
			t.Reset(CommandTimeout - waited)
		}
	}
	mu.Lock()
	t = time.AfterFunc(CommandTimeout, check)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}
