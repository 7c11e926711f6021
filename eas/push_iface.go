package eas

import (
	"context"
	"time"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/pgnotify"
)

// Push is what waiting requests (Ping) need to wait without polling. Both
// parts are optional: without Mail a Ping sees mail changes only when it
// starts; without Hub a newer request of the device does not end an older
// waiting one, and PIM folders never wake a Ping.
type Push struct {
	Mail MailWatcher
	Hub  Notifier
	// EventsVouch lets a Ping skip its first check over IMAP when the
	// instance verified the same state since the last notice on the
	// user's folder topic (ping_verified.go). Set it only when the mail
	// server's events announce every mail change on that topic and the
	// Mail watcher sweeps for lost ones; Hub must then implement
	// QuietNotifier, else it has no effect.
	EventsVouch bool
	// Waits, when set, is told when a request starts and stops waiting
	// (for metrics). Only requests that block are reported: a Ping that
	// finds a change at once never waits.
	Waits WaitObserver
}

// WaitObserver follows waiting requests. Its methods are called from the
// waiting requests' goroutines, concurrently, and must be quick. w is the
// same value from start to end, comparable (a map key), and its Info may
// be read, by any goroutine, between the two calls only.
type WaitObserver interface {
	WaitStarted(kind WaitKind, w Waiting)
	WaitEnded(kind WaitKind, w Waiting, end WaitEnd)
}

// Waiting is a waiting request as an observer sees it: the wait itself,
// described on demand, so that following it costs no copy.
type Waiting interface {
	Info() WaitInfo
}

// WaitInfo describes a waiting request (the live view of the admin page).
type WaitInfo struct {
	Kind       WaitKind
	Login      string
	DeviceID   string
	DeviceType string
	Heartbeat  time.Duration
	Folders    int // folders watched
}

// WaitKind is what waits: a Ping or a hanging Sync.
type WaitKind uint8

const (
	WaitPing WaitKind = iota
	WaitSync
)

func (k WaitKind) String() string {
	if k == WaitSync {
		return "sync"
	}
	return "ping"
}

// WaitEnd is how a wait ended.
type WaitEnd uint8

const (
	WaitChanged      WaitEnd = iota // a watched folder (or the hierarchy) changed
	WaitExpired                     // the heartbeat or Sync wait passed
	WaitSuperseded                  // a newer request of the device arrived
	WaitShutdown                    // easd is shutting down
	WaitClientGone                  // the client closed the connection
	WaitWatcherEnded                // the mail watcher ended (login refused)
)

// WaitEnds lists every WaitEnd, for metrics that show each from the start.
var WaitEnds = []WaitEnd{WaitChanged, WaitExpired, WaitSuperseded, WaitShutdown, WaitClientGone, WaitWatcherEnded}

func (e WaitEnd) String() string {
	switch e {
	case WaitChanged:
		return "changed"
	case WaitExpired:
		return "heartbeat"
	case WaitSuperseded:
		return "superseded"
	case WaitShutdown:
		return "shutdown"
	case WaitClientGone:
		return "client_gone"
	case WaitWatcherEnded:
		return "watcher_ended"
	}
	return "unknown"
}

// MailWatcher reports changes of a user's mailboxes as they happen (the
// IMAP push watchers). Events are hints: a waiting request subscribes
// first, then compares the stored sync state with the mail server, then
// waits.
type MailWatcher interface {
	// WatchMail subscribes to changes of mailboxes (IMAP names) of login.
	// password has been verified by the request's authentication.
	WatchMail(ctx context.Context, login, password string, mailboxes []string) (MailWatch, error)
}

// MailWatch is one subscription. C delivers the mailboxes that changed
// since the last receive (unread changes are merged, none is lost) and is
// closed when the watcher ends (shutdown, refused login).
type MailWatch interface {
	C() <-chan []MailboxChange
	Close()
}

// MailboxChange is a changed mailbox with its new STATUS. Missing: the
// server refused STATUS (deleted or renamed mailbox). CheckedAt, when set
// (by a periodic STATUS sweep), is when the STATUS command was sent: a
// status equal to the device's state then verifies it as a first check
// does.
type MailboxChange struct {
	Mailbox   string
	Status    model.MailboxStatus
	Missing   bool
	CheckedAt time.Time
}

// Notifier is the instance's PostgreSQL LISTEN/NOTIFY hub: notifications
// published on any easd instance sharing the database reach the
// subscribers of their topic on every instance (see package pgnotify for
// the delivery contract: hints, with a Resync after a reconnect).
type Notifier interface {
	Subscribe(topic string) NotifySub
}

// QuietNotifier is a Notifier that can vouch for silence: it has listened
// without a break since t and received no notification of topic at or
// after t (pgnotify.Hub.QuietSince, with the folders: prefix remembered
// for at least VerifiedTTL).
type QuietNotifier interface {
	Notifier
	QuietSince(topic string, t time.Time) bool
}

// NotifySub is one topic subscription; C is closed by Close and when the
// hub shuts down.
type NotifySub interface {
	C() <-chan pgnotify.Payload
	Close()
}
