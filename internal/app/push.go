package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/pgnotify"
	"github.com/easd/easd/internal/pushevents"
)

// newPush builds what Ping waits on: the mail watchers and the instance's
// LISTEN/NOTIFY hub. Both stop when ctx ends (shutdown): their
// subscriptions close, so waiting Pings answer at once. Should the hub not
// connect, easd still serves, with Pings that are not ended by a newer
// request on another instance and not woken by PIM changes (nor by the
// mail server's events); the error is logged. The waits and watchers are
// reported as metrics to reg, and the waits listed in waits (the admin
// live view) unless it is nil.
//
// The mail watchers are an IMAP IDLE connection per user, or, when the
// mail server posts its events (--push-events), only a periodic STATUS
// sweep for events that got lost: the events themselves arrive as
// folders:<user> notifications (registerPushEvents).
func newPush(ctx context.Context, cfg config.Config, log *slog.Logger, dialer *imapbridge.Dialer,
	reg prometheus.Registerer, waits *admin.Waits) eas.Push {
	var (
		mail        mailWatchers
		connections func() int
		stop        func()
	)
	if cfg.PushEvents != "" {
		sw := &imapbridge.Sweeper{Dialer: dialer, Interval: cfg.PushSweepInterval,
			MasterUser: cfg.IMAPMasterUser, MasterPassword: cfg.IMAPMasterPassword, Log: log}
		mail.subscribe = subscriber(sw.SubscribeFunc)
		connections, stop = func() int { return 0 }, sw.Close
		registerSweepMetrics(reg, sw)
	} else {
		ws := &imapbridge.Watchers{Dialer: dialer, PollInterval: cfg.PushPollInterval, Grace: cfg.PushGrace,
			MasterUser: cfg.IMAPMasterUser, MasterPassword: cfg.IMAPMasterPassword, Log: log}
		mail.subscribe = subscriber(ws.SubscribeFunc)
		connections, stop = func() int { return ws.Stats().Connected }, ws.Close
		registerSweepMetrics(reg, nil)
	}
	wm := newWaitMetrics(reg, connections)
	wm.list = waits
	push := eas.Push{Mail: mail, Waits: wm}
	hub, err := pgnotify.New(ctx, cfg.DatabaseURL, log)
	if err != nil {
		log.Error("push: LISTEN/NOTIFY unavailable; Pings are not ended across instances nor woken by PIM changes", "err", err)
	} else {
		push.Hub = notifier{hub}
		// Dovecot's events announce every mail change on the user's
		// folder topic, and the sweep finds lost ones: a Ping may skip
		// its IMAP first check when nothing was announced since the
		// last one. The IDLE watchers give no such guarantee.
		if cfg.PushEvents == "dovecot" {
			hub.Remember(eas.FolderChangedPrefix, eas.VerifiedTTL)
			push.EventsVouch = true
		}
	}
	context.AfterFunc(ctx, func() {
		stop()
		if hub != nil {
			hub.Close()
		}
	})
	return push
}

// registerPushEvents serves the mail server's events on the phones'
// listener when --push-events is set. Without the secret the path answers
// 401, so it need not be hidden; a reverse proxy may still keep it inside.
func registerPushEvents(e *echo.Echo, cfg config.Config, pool *pgxpool.Pool, auth *eas.Authenticator,
	log *slog.Logger, reg prometheus.Registerer) {
	observe := newPushEventMetrics(reg) // registered either way, for dashboards
	if cfg.PushEvents == "" {
		return
	}
	h := &pushevents.Handler{
		Secret:  cfg.PushSecret,
		Folders: folders.NewStore(pool),
		Notify: func(ctx context.Context, userID int64, folderID string) error {
			return eas.NotifyFolderChanged(ctx, pool, userID, folderID)
		},
		Hierarchy: func(ctx context.Context, userID int64) error {
			return eas.NotifyHierarchyChanged(ctx, pool, userID)
		},
		Logins:  auth.Logins,
		Log:     log,
		Observe: observe,
	}
	e.Any(pushevents.Path, echo.WrapHandler(h))
	log.Info("push: taking the mail server's events", "source", cfg.PushEvents, "path", pushevents.Path,
		"sweep_interval", cfg.PushSweepInterval.String())
}

// notifier adapts the hub to eas.Notifier.
type notifier struct{ h *pgnotify.Hub }

func (n notifier) Subscribe(topic string) eas.NotifySub { return n.h.Subscribe(topic) }

func (n notifier) QuietSince(topic string, t time.Time) bool { return n.h.QuietSince(topic, t) }

// mailWatchers adapts the IMAP watchers (IDLE or sweep) to
// eas.MailWatcher.
type mailWatchers struct {
	subscribe subscribeFunc
}

type subscribeFunc func(ctx context.Context, login, password string, mailboxes []string,
	fn func(imapbridge.Event, bool)) (closer, error)

// subscriber adapts the SubscribeFunc of the IDLE watchers or the STATUS
// sweep, which return their own subscription types.
func subscriber[S closer](f func(ctx context.Context, login, password string, mailboxes []string,
	fn func(imapbridge.Event, bool)) (S, error)) subscribeFunc {
	return func(ctx context.Context, login, password string, mailboxes []string,
		fn func(imapbridge.Event, bool)) (closer, error) {
		return f(ctx, login, password, mailboxes, fn)
	}
}

// closer is a watcher subscription.
type closer interface{ Close() }

func (m mailWatchers) WatchMail(ctx context.Context, login, password string, mailboxes []string) (eas.MailWatch, error) {
	w := &mailWatch{c: make(chan []eas.MailboxChange, 1)}
	sub, err := m.subscribe(ctx, login, password, mailboxes, w.deliver)
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
	sub closer
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
			Status: modelStatus(mb), CheckedAt: ev.CheckedAt})
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
