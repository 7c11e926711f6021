package eas

import (
	"context"

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
// server refused STATUS (deleted or renamed mailbox).
type MailboxChange struct {
	Mailbox string
	Status  model.MailboxStatus
	Missing bool
}

// Notifier is the instance's PostgreSQL LISTEN/NOTIFY hub: notifications
// published on any easd instance sharing the database reach the
// subscribers of their topic on every instance (see package pgnotify for
// the delivery contract: hints, with a Resync after a reconnect).
type Notifier interface {
	Subscribe(topic string) NotifySub
}

// NotifySub is one topic subscription; C is closed by Close and when the
// hub shuts down.
type NotifySub interface {
	C() <-chan pgnotify.Payload
	Close()
}
