package app

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/pgnotify"
)

// newPush builds what Ping waits on: the IMAP push watchers and the
// instance's LISTEN/NOTIFY hub. Both stop when ctx ends (shutdown): their
// subscriptions close, so waiting Pings answer at once. Should the hub not
// connect, easd still serves, with Pings that are not ended by a newer
// request on another instance and not woken by PIM changes; the error is
// logged. The waits and watchers are reported as metrics to reg, and the
// waits listed in waits (the admin live view) unless it is nil.
func newPush(ctx context.Context, cfg config.Config, log *slog.Logger, dialer *imapbridge.Dialer,
	reg prometheus.Registerer, waits *admin.Waits) eas.Push {
	ws := &imapbridge.Watchers{Dialer: dialer, PollInterval: cfg.PushPollInterval, Grace: cfg.PushGrace,
		MasterUser: cfg.IMAPMasterUser, MasterPassword: cfg.IMAPMasterPassword, Log: log}
	wm := newWaitMetrics(reg, ws)
	wm.list = waits
	push := eas.Push{Mail: mailWatchers{ws}, Waits: wm}
	hub, err := pgnotify.New(ctx, cfg.DatabaseURL, log)
	if err != nil {
		log.Error("push: LISTEN/NOTIFY unavailable; Pings are not ended across instances nor woken by PIM changes", "err", err)
	} else {
		push.Hub = notifier{hub}
	}
	context.AfterFunc(ctx, func() {
		ws.Close()
		if hub != nil {
			hub.Close()
		}
	})
	return push
}

// notifier adapts the hub to eas.Notifier.
type notifier struct{ h *pgnotify.Hub }

func (n notifier) Subscribe(topic string) eas.NotifySub { return n.h.Subscribe(topic) }

// mailWatchers adapts the IMAP watchers to eas.MailWatcher.
type mailWatchers struct{ ws *imapbridge.Watchers }

func (m mailWatchers) WatchMail(ctx context.Context, login, password string, mailboxes []string) (eas.MailWatch, error) {
	w := &mailWatch{c: make(chan []eas.MailboxChange, 1)}
	sub, err := m.ws.SubscribeFunc(ctx, login, password, mailboxes, w.deliver)
	if err != nil {
		return nil, err
	}
	w.sub = sub
	return w, nil
}

// mailWatch turns a watcher subscription's events into the protocol's
// type as the watcher hands them over, so that eas stays free of
// imapbridge types without a converting goroutine per waiting request.
type mailWatch struct {
	sub *imapbridge.Subscription
	c   chan []eas.MailboxChange
}

func (w *mailWatch) C() <-chan []eas.MailboxChange { return w.c }

func (w *mailWatch) Close() { w.sub.Close() }

// deliver is the subscription's function: it runs on the watcher's
// goroutine, one call at a time, and is the only sender on w.c, so it
// never blocks: an unread event is taken back and merged, none is lost.
func (w *mailWatch) deliver(ev imapbridge.Event, ok bool) {
	if !ok {
		close(w.c)
		return
	}
	changes := make([]eas.MailboxChange, 0, len(ev.Mailboxes))
	for _, mb := range ev.Mailboxes {
		changes = append(changes, eas.MailboxChange{Mailbox: mb.Mailbox, Missing: mb.Missing,
			Status: modelStatus(mb)})
	}
	select {
	case w.c <- changes:
		return
	default:
	}
	select {
	case old := <-w.c:
		changes = mergeChanges(old, changes)
	default: // read meanwhile: there is room now
	}
	select {
	case w.c <- changes:
	default: // cannot happen with a single sender; never block the watcher
	}
}

// mergeChanges keeps every mailbox of both events, the newer values last.
func mergeChanges(old, newer []eas.MailboxChange) []eas.MailboxChange {
	out := make([]eas.MailboxChange, 0, len(old)+len(newer))
	for _, o := range old {
		replaced := false
		for _, n := range newer {
			replaced = replaced || n.Mailbox == o.Mailbox
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return append(out, newer...)
}

func modelStatus(mb imapbridge.MailboxStatus) model.MailboxStatus {
	return model.MailboxStatus{UIDValidity: mb.UIDValidity, UIDNext: mb.UIDNext,
		Messages: mb.Messages, HighestModSeq: mb.HighestModSeq}
}
