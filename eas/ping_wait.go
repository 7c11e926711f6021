package eas

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/internal/pgnotify"
)

// pingWait is one Ping (or hanging Sync) between its checks and its
// answer: the folders it watches, what the device last synced of each,
// and the subscriptions it waits on. It is what a waiting request holds
// besides its HTTP connection, so it is kept small: one slice of folders,
// searched linearly (a Ping watches a few folders; events are rare).
type pingWait struct {
	k         *call // nil once the request is detached
	kind      WaitKind
	gen       int64 // this request's generation (ping_params)
	heartbeat time.Duration

	watched []watchedFolder // in request order

	device    NotifySub // newer requests of the device
	folderSub NotifySub // folder changes of the user: PIM writes, flag details
	mailSub   MailWatch

	// What the wait needs of the call, which a detached request no longer
	// holds (its echo context serves other requests then); set by start.
	s     *Server
	log   *slog.Logger
	devID int64
	// who waits, for observers (Info)
	login, deviceID, deviceType string
	gone                        <-chan struct{} // the client left (or, not detached, the request ended)
}

// watchedFolder is a folder a waiting request watches. A mail folder
// carries its IMAP mailbox name and the mailbox STATUS its stored sync
// state was computed from.
type watchedFolder struct {
	id      string
	mailbox string // canonical IMAP name; "" for a PIM folder
	synced  bool   // the device holds a usable state; else it is changed already
	changed bool
	status  model.MailboxStatus
	store   model.ItemStore // a store class's folder: compared by CTag
}

// start resolves the folders, subscribes, and compares the stored sync
// state with the stores, in that order: a change made after the
// subscription is reported by it, one made before by the comparison. It
// returns a status to answer at once, or 0 to wait. byID is the user's
// folders when the caller has them (a hanging Sync), else nil.
func (w *pingWait) start(ctx context.Context, want []pingFolder, byID map[string]folders.Folder) (Status, error) {
	k := w.k
	w.s, w.log, w.devID, w.gone = k.s, k.log, k.dev.ID, k.ctx().Done()
	w.login, w.deviceID, w.deviceType = k.dev.Login, k.dev.DeviceID, k.dev.DeviceType
	var err error
	if byID == nil {
		list, err := k.s.folders.List(ctx, k.dev.UserID)
		if err != nil {
			return 0, err
		}
		byID = folders.ByID(list)
	}
	var mailboxes, ids []string
	w.watched = make([]watchedFolder, 0, len(want))
	for _, pf := range want {
		f, ok := byID[pf.ID]
		if !ok {
			k.log.Info("ping: folder not in the hierarchy", "collection", pf.ID)
			return pingHierarchyChanged, nil
		}
		wf := watchedFolder{id: f.ServerID}
		switch cls := k.s.classOf(f); cls.watch() {
		case watchMail:
			wf.mailbox = canonicalMailbox(f.IMAPName)
			mailboxes = append(mailboxes, wf.mailbox)
		case watchItems:
			if sc, ok := cls.(storeClass); ok {
				wf.store = sc.store
			}
		default:
			continue // the Outbox never changes
		}
		w.watched = append(w.watched, wf)
		ids = append(ids, f.ServerID)
	}

	push := k.s.opts.Push
	// Every wait listens: the topic also tells of hierarchy changes. Mail
	// folders listen for their own sake too: flag details changed on
	// another device change no IMAP flag (sync_mailflags_share.go).
	if push.Hub != nil {
		w.folderSub = push.Hub.Subscribe(FolderChangedTopic(k.dev.UserID))
	}
	if push.Mail != nil && len(mailboxes) > 0 {
		w.mailSub, err = push.Mail.WatchMail(ctx, k.creds.Login, k.creds.Password, mailboxes)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			// Waiting still ends at the heartbeat; the next Ping compares.
			k.log.Warn("ping: mail watcher unavailable", "err", err)
		}
	}

	states, err := k.s.sync.Peek(ctx, k.dev.ID, ids...)
	if err != nil {
		return 0, err
	}
	for i := range w.watched {
		f := &w.watched[i]
		st, ok := states[f.id]
		switch {
		case !ok:
			f.changed = true // never synced: the client has work to do
		case f.mailbox != "":
			ms, err := decodeMailState(st)
			if err != nil || ms.pending {
				f.changed = true // corrupt (Sync answers 3) or MoreAvailable due
			} else {
				f.synced, f.status = true, ms.status
			}
		case f.store != nil:
			if f.changed, err = w.itemsChanged(ctx, f, st); err != nil {
				return 0, err
			}
		}
	}
	if w.anyChanged() {
		return pingChanged, nil
	}
	st := w.compareMail(ctx)
	if st == 0 {
		w.closeIdleMail()
	}
	return st, nil
}

// mailIdleCloser is implemented by mail stores that keep idle IMAP
// connections for reuse.
type mailIdleCloser interface {
	CloseIdle(login string)
}

// closeIdleMail closes the user's idle mail connections as the request
// starts to wait: the wait needs none (the watcher or the mail server's
// events tell of changes), and each one is a process on the mail server
// (Dovecot) for up to the pool's idle time-out. The Sync after the wait
// opens a new one.
func (w *pingWait) closeIdleMail() {
	if c, ok := w.k.s.opts.MailSync.(mailIdleCloser); ok {
		c.CloseIdle(w.k.creds.Login)
	}
}

// itemsChanged compares a store folder's CTag with the one the device's
// state was computed from: one primary-key read.
func (w *pingWait) itemsChanged(ctx context.Context, f *watchedFolder, state []byte) (bool, error) {
	st, err := decodeItemHead(state)
	if err != nil || st.pending {
		return true, nil // corrupt (Sync answers 3) or MoreAvailable due
	}
	ctag, err := f.store.CTag(ctx, w.k.s.opts.Pool, w.k.dev.UserID, f.id)
	if err != nil {
		return false, err
	}
	f.synced = true
	return ctag != st.ctag, nil
}

// compareMail asks the mail server for the STATUS of each synced mail
// folder and marks those that differ from the device's state. The mail
// session goes back to the pool before the request waits.
func (w *pingWait) compareMail(ctx context.Context) Status {
	k := w.k
	if k.s.opts.MailSync == nil || !w.hasSyncedMail() {
		return 0
	}
	if w.vouched() {
		k.log.Debug("ping: first check skipped, nothing changed since the last one")
		return 0
	}
	sess, err := k.s.opts.MailSync.OpenMail(ctx, k.creds.Login, k.creds.Password)
	if err != nil {
		// The watcher reports the folders once the server is back.
		k.log.Warn("ping: mail server unavailable for the first check", "err", err)
		return 0
	}
	defer sess.Close()
	for i := range w.watched {
		f := &w.watched[i]
		if f.mailbox == "" || !f.synced {
			continue
		}
		sent := time.Now()
		st, err := sess.Status(ctx, f.mailbox)
		if err != nil {
			if errors.Is(err, model.ErrMailboxGone) {
				return pingHierarchyChanged
			}
			k.log.Warn("ping: STATUS failed", "collection", f.id, "err", err)
			return 0
		}
		w.verify(f, st, sent)
	}
	if w.anyChanged() {
		return pingChanged
	}
	return 0
}

// vouched tells whether the first check may be skipped: see
// ping_verified.go. The subscriptions are open already, so a notice that
// arrives after QuietSince answered wakes the wait.
func (w *pingWait) vouched() bool {
	push := w.s.opts.Push
	q, ok := push.Hub.(QuietNotifier)
	if !push.EventsVouch || !ok || w.mailSub == nil {
		return false // no events, or no sweep for the lost ones
	}
	topic := FolderChangedTopic(w.k.dev.UserID)
	for i := range w.watched {
		f := &w.watched[i]
		if f.mailbox == "" || !f.synced {
			continue
		}
		at, ok := w.s.verified.lookup(w.devID, f.mailbox, f.status)
		if !ok || !q.QuietSince(topic, at) {
			return false
		}
	}
	return true
}

// verify compares a synced mail folder's state with the server's status,
// read by a STATUS command sent at sent, and notes the outcome for the
// device's next Ping (ping_verified.go).
func (w *pingWait) verify(f *watchedFolder, st model.MailboxStatus, sent time.Time) {
	if st != f.status {
		f.changed = true
		if w.s.opts.Push.EventsVouch {
			w.s.verified.forget(w.devID, f.mailbox)
		}
		return
	}
	if w.s.opts.Push.EventsVouch {
		w.s.verified.record(w.devID, f.mailbox, st, sent)
	}
}

// anyChanged reports whether a watched folder is marked changed.
func (w *pingWait) anyChanged() bool {
	for i := range w.watched {
		if w.watched[i].changed {
			return true
		}
	}
	return false
}

func (w *pingWait) hasSyncedMail() bool {
	for i := range w.watched {
		if f := &w.watched[i]; f.mailbox != "" && f.synced {
			return true
		}
	}
	return false
}

// wait blocks until there is something to answer; 0 means the client is
// gone. This is where thousands of requests sit, each on its connection's
// goroutine: the select is kept in this one shallow frame, and each case
// hands its work to a method that returns before the next wait.
func (w *pingWait) wait() Status {
	s := w.s
	if obs := s.opts.Push.Waits; obs != nil {
		obs.WaitStarted(w.kind, w)
	}
	beat := s.heartbeats.start(w.heartbeat)
	defer s.heartbeats.stop(beat)
	var mailC <-chan []MailboxChange
	if w.mailSub != nil {
		mailC = w.mailSub.C()
	}
	var deviceC, folderC <-chan pgnotify.Payload
	if w.device != nil {
		deviceC = w.device.C()
	}
	if w.folderSub != nil {
		folderC = w.folderSub.C()
	}
	// The cases only note the outcome; the one exit reports it. Shared
	// variables and a single call site keep the frame small.
	var (
		ev  []MailboxChange
		p   pgnotify.Payload
		ok  bool
		st  Status
		end WaitEnd
	)
loop:
	for {
		select {
		case <-beat.C:
			st, end = pingExpired, WaitExpired
			break loop
		case <-s.opts.Drain:
			// Shutting down: the client pings again, maybe elsewhere.
			st, end = pingExpired, WaitShutdown
			break loop
		case <-w.gone:
			st, end = w.ctxDone()
			break loop
		case ev, ok = <-mailC:
			if !ok {
				st, end = w.mailClosed()
				break loop
			}
			if st = w.mailChanged(ev); st != 0 {
				end = WaitChanged
				break loop
			}
		case p, ok = <-deviceC:
			if !ok || w.superseded(p) {
				// The hub closes at shutdown only.
				st, end = pingExpired, WaitShutdown
				if ok {
					end = WaitSuperseded
				}
				break loop
			}
		case p, ok = <-folderC:
			if !ok {
				st, end = pingExpired, WaitShutdown
				break loop
			}
			if st = w.folderChanged(p); st != 0 {
				end = WaitChanged
				break loop
			}
		}
	}
	if obs := s.opts.Push.Waits; obs != nil {
		obs.WaitEnded(w.kind, w, end)
	}
	return st
}

// ctxDone tells how the request's context ended: shutdown (it derives
// from the server's base context) or the client closing the connection,
// which leaves nobody to answer (0).
//
//go:noinline // keeps its locals out of wait's frame
func (w *pingWait) ctxDone() (Status, WaitEnd) {
	if w.draining() {
		return pingExpired, WaitShutdown
	}
	return 0, WaitClientGone
}

// mailClosed tells why the mail watch ended: the watchers closed at
// shutdown, or the watcher ended for good (a refused login).
//
//go:noinline // keeps its locals out of wait's frame
func (w *pingWait) mailClosed() (Status, WaitEnd) {
	if w.draining() {
		return pingExpired, WaitShutdown
	}
	return pingExpired, WaitWatcherEnded
}

func (w *pingWait) draining() bool {
	select {
	case <-w.s.opts.Drain:
		return true
	default:
		return false
	}
}

// mailChanged compares a watcher event with the stored states.
func (w *pingWait) mailChanged(ev []MailboxChange) Status {
	for _, c := range ev {
		name := canonicalMailbox(c.Mailbox)
		for i := range w.watched {
			f := &w.watched[i]
			if f.mailbox != name {
				continue
			}
			if c.Missing {
				return pingHierarchyChanged
			}
			switch {
			case !f.synced:
				f.changed = true
			case !c.CheckedAt.IsZero():
				w.verify(f, c.Status, c.CheckedAt) // a sweep's STATUS
			case c.Status != f.status:
				f.changed = true
			}
		}
	}
	if w.anyChanged() {
		return pingChanged
	}
	return 0
}

// folderChanged handles a folders:<user> notification: the status to
// answer, or 0 to go on waiting. After a LISTEN reconnect (Resync)
// notifications may have been lost, and PIM folders have no cheaper test
// yet: they all count as changed. Mail folders have their watcher, and a
// lost flag-details notice is found by the next Ping from the state. A
// lost hierarchy notice is not made up for: every waiting device would
// run FolderSync at once; the next FolderSync finds the change.
//
//go:noinline // keeps its locals out of wait's frame
func (w *pingWait) folderChanged(p pgnotify.Payload) Status {
	if at, ok := hierarchyNotice(p.Data); ok {
		if w.hierarchyStale(at) {
			return pingHierarchyChanged
		}
		return 0
	}
	for i := range w.watched {
		f := &w.watched[i]
		if f.id == p.Data || (p.Resync && f.mailbox == "") {
			f.changed = true
		}
	}
	if w.anyChanged() {
		return pingChanged
	}
	return 0
}

// hierarchyStale tells whether the device's hierarchy predates a change
// made at (database clock, µs): its hierarchy state was written before.
// The device that made the change (its FolderCreate, FolderUpdate or
// FolderDelete commits its state after the change), or that ran FolderSync
// since, is not sent to FolderSync again, however late the notice comes:
// no loop. A device without hierarchy state needs a FolderSync anyway.
func (w *pingWait) hierarchyStale(at int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	written, ok, err := w.s.sync.WrittenAt(ctx, w.devID, syncstate.HierarchyID)
	cancel()
	if err != nil {
		// The notice says the hierarchy changed: a FolderSync too many
		// costs less than a folder the phone does not show.
		w.log.Warn("ping: could not compare a hierarchy change with the device's hierarchy", "err", err)
		return true
	}
	if ok && written.UnixMicro() >= at {
		return false
	}
	w.log.Info("waiting request ended by a change of the folder hierarchy")
	return true
}

// superseded tells whether a device:<id> notification announces a newer
// request of the device than this one. After a LISTEN reconnect the
// announcement may be lost: read the generation instead.
func (w *pingWait) superseded(p pgnotify.Payload) bool {
	if p.Data == device.WakeAdmin { // blocked, wiped, resynced, removed
		w.log.Info("waiting request ended by an administrative change of the device")
		return true
	}
	var gen int64
	var err error
	if p.Resync {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		gen, err = w.s.requestGeneration(ctx, w.devID)
		cancel()
	} else {
		gen, err = strconv.ParseInt(p.Data, 10, 64)
	}
	if err != nil || gen <= w.gen {
		return false
	}
	w.log.Info("waiting request ended by a newer request of the device", "generation", w.gen, "newer", gen)
	return true
}

// changedIDs lists the changed folders in the order the client asked.
func (w *pingWait) changedIDs() []string {
	var out []string
	for i := range w.watched {
		if f := &w.watched[i]; f.changed {
			out = append(out, f.id)
		}
	}
	return out
}

func (w *pingWait) close() {
	if w.mailSub != nil {
		w.mailSub.Close()
	}
	if w.device != nil {
		w.device.Close()
	}
	if w.folderSub != nil {
		w.folderSub.Close()
	}
}

// canonicalMailbox spells INBOX as the watchers do (the name is
// case-insensitive, RFC 3501 5.1).
func canonicalMailbox(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}
