package imapbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/internal/backoff"
)

// errGraceOver marks a watcher stopped after its grace period.
var errGraceOver = errors.New("imap: watcher idle")

// run is the watcher goroutine: connect, watch until the connection
// fails, retry with back-off, until the watcher is stopped or its login
// is refused.
func (w *watcher) run() {
	defer close(w.done)
	defer w.ws.forget(w)
	log := w.ws.log().With("user", w.login)
	delay := backoffMin
	for {
		c, err := w.connect()
		switch {
		case w.ctx.Err() != nil:
			if c != nil {
				c.Close()
			}
			return
		case errors.Is(err, ErrAuthFailed):
			log.Warn("imap watcher: login refused, stopping", "err", err)
			w.end(err)
			return
		case err != nil:
			w.setState(false)
			log.Warn("imap watcher: connect failed", "err", err, "retry_in", delay)
		default:
			start := time.Now()
			err = w.serve(c)
			w.setState(false)
			if w.ctx.Err() != nil {
				return
			}
			log.Warn("imap watcher: connection lost", "err", err)
			// A session that lasted is not part of a failure series:
			// the next attempt is quick again.
			if time.Since(start) > backoffMax {
				delay = backoffMin
			}
		}
		if !backoff.Sleep(w.ctx, backoff.Jitter(delay)) {
			return
		}
		delay = min(delay*2, backoffMax)
	}
}

// connect logs in with the master user, or with the user's latest
// password and then the previous one.
func (w *watcher) connect() (*imapclient.Client, error) {
	d := *w.ws.Dialer
	d.Options.UnilateralDataHandler = w.unilateral()
	if w.ws.MasterUser != "" {
		c, err := d.Login(w.ctx, w.login+"*"+w.ws.MasterUser, w.ws.MasterPassword)
		if err == nil {
			w.ws.logins.Add(1)
		}
		return c, err
	}
	w.mu.Lock()
	pass, prev := w.pass, w.prevPass
	w.mu.Unlock()
	c, err := d.Login(w.ctx, w.login, pass)
	if errors.Is(err, ErrAuthFailed) && prev != "" {
		if c, err = d.Login(w.ctx, w.login, prev); err == nil {
			pass = prev
		}
	}
	if err != nil {
		return nil, err
	}
	w.ws.logins.Add(1)
	w.mu.Lock()
	if w.pass == pass || w.prevPass == pass {
		w.pass, w.prevPass = pass, "" // this one works: forget the other
	}
	w.mu.Unlock()
	return c, nil
}

// unilateral turns IDLE notifications into a wake-up of the watcher
// goroutine. It runs on the IMAP reader goroutine: it only sets flags.
func (w *watcher) unilateral() *imapclient.UnilateralDataHandler {
	notify := func(flagsOnly bool) {
		if !flagsOnly {
			w.flagsOnly.Store(false)
		} else if !w.inboxDirty.Load() {
			w.flagsOnly.Store(true)
		}
		w.inboxDirty.Store(true)
		w.kick()
	}
	return &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) { notify(false) },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil { // EXISTS; FLAGS lists are not changes
				notify(false)
			}
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			// Called on its own goroutine; the data must be read.
			_, _ = msg.Collect()
			notify(true)
		},
	}
}

// session is what serve knows about the connection.
type session struct {
	c         *imapclient.Client
	idle      bool // the server has IDLE
	condstore bool
}

// serve watches on c until it fails or the watcher stops; c is closed on
// return.
func (w *watcher) serve(c *imapclient.Client) error {
	defer c.Close()
	// On shutdown a server that does not answer must not hold Close up:
	// the connection is cut if the polite ending takes too long.
	stop := context.AfterFunc(w.ctx, func() {
		time.AfterFunc(2*logoutWait, func() { c.Close() })
	})
	defer stop()
	caps := c.Caps()
	s := session{c: c, idle: caps.Has(imap.CapIdle), condstore: caps.Has(imap.CapCondStore)}
	// EXAMINE: read-only, so that watching never changes \Recent or
	// anything else another client would see.
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return fmt.Errorf("examine INBOX: %w", err)
	}
	w.inboxDirty.Store(false)
	// Every mailbox, compared with the values from before a reconnect:
	// a change made while the watcher was down is reported now.
	if err := w.poll(s, w.watched(false), ""); err != nil {
		return err
	}
	w.setState(true)

	interval := min(w.ws.pollInterval(), idleRenew)
	pollAt := time.Now().Add(interval)
	for {
		var idle *imapclient.IdleCommand
		if s.idle {
			var err error
			if idle, err = c.Idle(); err != nil {
				return fmt.Errorf("idle: %w", err)
			}
		}
		what, err := w.waitIdle(c, time.Until(pollAt))
		if idle != nil {
			if err := idle.Close(); err != nil {
				return fmt.Errorf("idle done: %w", err)
			}
			if err := idle.Wait(); err != nil {
				return fmt.Errorf("idle: %w", err)
			}
		}
		if err != nil {
			if w.ctx.Err() != nil {
				logout(c)
				return nil
			}
			return err
		}
		switch what {
		case wokePoll:
			// Without IDLE, INBOX is polled like the others.
			boxes := w.watched(false)
			if s.idle {
				boxes = without(boxes, "INBOX")
			}
			if err := w.poll(s, boxes, ""); err != nil {
				return err
			}
			pollAt = time.Now().Add(interval)
		case wokeChange:
			boxes := w.watched(true)
			force := ""
			dirty, flagsOnly := w.inboxDirty.Swap(false), w.flagsOnly.Swap(false)
			if dirty && w.isWatched("INBOX") {
				boxes = append(without(boxes, "INBOX"), "INBOX")
				if flagsOnly && !s.condstore {
					force = "INBOX"
				}
			}
			if err := w.poll(s, boxes, force); err != nil {
				return err
			}
		}
	}
}

// Reasons waitIdle returns.
const (
	wokePoll = iota
	wokeChange
)

// waitIdle waits for the poll time, a change notice (debounced) or the
// end of the connection or of the watcher.
func (w *watcher) waitIdle(c *imapclient.Client, untilPoll time.Duration) (int, error) {
	t := time.NewTimer(max(untilPoll, 0))
	defer t.Stop()
	select {
	case <-t.C:
		return wokePoll, nil
	case <-w.wake:
		if w.inboxDirty.Load() {
			backoff.Sleep(w.ctx, debounce)
		}
		return wokeChange, w.ctx.Err()
	case <-c.Closed():
		return 0, errors.New("connection closed by the server")
	case <-w.ctx.Done():
		return 0, w.ctx.Err()
	}
}

// poll sends STATUS for every mailbox at once (pipelined) and records the
// results. A mailbox the server refuses is recorded as Missing; any other
// failure ends the session.
func (w *watcher) poll(s session, boxes []string, force string) error {
	if len(boxes) == 0 {
		return nil
	}
	results, err := statusAll(s, boxes)
	if err != nil {
		return err
	}
	w.update(results, force)
	return nil
}

// statusAll sends STATUS for every mailbox at once (pipelined). A mailbox
// the server refuses is reported as Missing; any other failure is returned.
func statusAll(s session, boxes []string) ([]MailboxStatus, error) {
	opts := &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true,
		NumUnseen: true, HighestModSeq: s.condstore}
	cmds := make([]*imapclient.StatusCommand, len(boxes))
	for i, m := range boxes {
		cmds[i] = s.c.Status(m, opts)
	}
	results := make([]MailboxStatus, 0, len(boxes))
	var failed error
	for i, cmd := range cmds {
		d, err := cmd.Wait()
		var ie *imap.Error
		switch {
		case errors.As(err, &ie):
			results = append(results, MailboxStatus{Mailbox: boxes[i], Missing: true})
		case err != nil:
			failed = fmt.Errorf("status %s: %w", boxes[i], err)
		default:
			results = append(results, statusOf(boxes[i], d))
		}
	}
	return results, failed
}

func statusOf(name string, d *imap.StatusData) MailboxStatus {
	st := MailboxStatus{Mailbox: name, UIDValidity: d.UIDValidity,
		UIDNext: uint32(d.UIDNext), HighestModSeq: d.HighestModSeq}
	if d.NumMessages != nil {
		st.Messages = *d.NumMessages
	}
	if d.NumUnseen != nil {
		st.Unseen = *d.NumUnseen
	}
	return st
}

// logout ends the session politely, or not at all when the server does
// not answer within logoutWait.
func logout(c *imapclient.Client) {
	t := time.AfterFunc(logoutWait, func() { c.Close() })
	defer t.Stop()
	_ = c.Logout().Wait()
}

func without(list []string, drop string) []string {
	out := list[:0:0]
	for _, m := range list {
		if m != drop {
			out = append(out, m)
		}
	}
	return out
}
