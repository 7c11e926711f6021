package imapbridge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Logged-in IMAP connections are kept for a while after a request and
// reused by the next request of the same user. A phone sends a request
// every few seconds while active, and a fresh connection costs a TCP
// handshake, a LOGIN and, on Dovecot, a new imap process: with 100 devices
// syncing at once that dominated FolderSync latency.
//
// The pool is keyed by login only: every request has had its credentials
// verified (eas.Authenticator) before it reaches the store, so any request
// of that login may use a connection logged in as it.
const (
	poolIdleTimeout  = 60 * time.Second
	poolMaxIdlePerID = 4
)

type idleConn struct {
	c     *imapclient.Client
	since time.Time
}

type connPool struct {
	mu      sync.Mutex
	idle    map[string][]idleConn
	janitor sync.Once
}

// get returns an idle connection of login, or nil.
func (p *connPool) get(login string) *imapclient.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	for list := p.idle[login]; len(list) > 0; list = p.idle[login] {
		ic := list[len(list)-1]
		p.idle[login] = list[:len(list)-1]
		if time.Since(ic.since) < poolIdleTimeout && !isClosed(ic.c) {
			return ic.c
		}
		ic.c.Close()
	}
	return nil
}

// put keeps c for reuse, or closes it when the user has enough idle ones.
func (p *connPool) put(login string, c *imapclient.Client) {
	p.janitor.Do(func() { go p.sweep() })
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[string][]idleConn{}
	}
	if len(p.idle[login]) >= poolMaxIdlePerID || isClosed(c) {
		c.Close()
		return
	}
	p.idle[login] = append(p.idle[login], idleConn{c: c, since: time.Now()})
}

// closeIdle closes every idle connection of login.
func (p *connPool) closeIdle(login string) {
	p.mu.Lock()
	list := p.idle[login]
	delete(p.idle, login)
	p.mu.Unlock()
	for _, ic := range list {
		ic.c.Close()
	}
}

// sweep closes connections idle for too long, so an idle server does not
// hold IMAP sessions (and Dovecot processes) open.
func (p *connPool) sweep() {
	for range time.Tick(poolIdleTimeout / 2) {
		p.mu.Lock()
		for login, list := range p.idle {
			kept := list[:0]
			for _, ic := range list {
				if time.Since(ic.since) < poolIdleTimeout && !isClosed(ic.c) {
					kept = append(kept, ic)
				} else {
					ic.c.Close()
				}
			}
			if len(kept) == 0 {
				delete(p.idle, login)
			} else {
				p.idle[login] = kept
			}
		}
		p.mu.Unlock()
	}
}

func isClosed(c *imapclient.Client) bool {
	select {
	case <-c.Closed():
		return true
	default:
		return false
	}
}

// session runs fn on a logged-in connection of login: a pooled one when
// there is one, else a new one. A pooled connection that the server has
// dropped meanwhile (restart, idle time-out) is replaced once,
// transparently. After fn the connection goes back to the pool unless fn
// failed, in which case its state is unknown and it is closed.
func (s *Store) session(ctx context.Context, login, password string, fn func(*imapclient.Client) error) error {
	// Bounded by the command deadline, the UNSELECT that leaves the
	// connection clean included.
	fn = guarded(leaveUnselected(fn))
	if c := s.pool.get(login); c != nil {
		err := fn(c)
		if err == nil {
			s.pool.put(login, c)
			return nil
		}
		dead := isClosed(c)
		c.Close()
		if !dead || ctx.Err() != nil {
			return err
		}
		// The connection was dead: try once more on a fresh one.
	}
	c, err := s.Dialer.Login(ctx, login, password)
	if err != nil {
		return err
	}
	if err := fn(c); err != nil {
		c.Close()
		return err
	}
	s.pool.put(login, c)
	return nil
}

// guarded bounds fn's commands by CommandTimeout (deadline.go).
func guarded(fn func(*imapclient.Client) error) func(*imapclient.Client) error {
	return func(c *imapclient.Client) error {
		defer guard(c)()
		return fn(c)
	}
}

// leaveUnselected runs fn and then leaves the mailbox fn selected: a
// pooled connection has none selected, which a MailSession taking it
// relies on (Dovecot answers STATUS of the selected mailbox from the
// session's own view, so a mailbox left selected would look unchanged to
// the next Sync although mail arrived).
func leaveUnselected(fn func(*imapclient.Client) error) func(*imapclient.Client) error {
	return func(c *imapclient.Client) error {
		if err := fn(c); err != nil {
			return err
		}
		if c.Mailbox() != nil {
			if err := c.Unselect().Wait(); err != nil {
				return fmt.Errorf("imap: unselect: %w", err)
			}
		}
		return nil
	}
}
