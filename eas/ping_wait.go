package eas

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/pgnotify"
)

// pingWait is one Ping between its checks and its answer: the folders it
// watches, what the device last synced of each, and the subscriptions it
// waits on.
type pingWait struct {
	k         *call
	gen       int64 // this request's generation (ping_params)
	heartbeat time.Duration

	order   []string               // watched folder ids, in request order
	mail    map[string]*mailFolder // by IMAP mailbox name
	pim     map[string]bool        // watched PIM folder ids
	changed map[string]bool

	device  NotifySub // newer requests of the device
	folders NotifySub // PIM folder changes of the user
	mailSub MailWatch
}

// mailFolder is a watched mail folder and the mailbox STATUS its stored
// sync state was computed from.
type mailFolder struct {
	id     string
	synced bool // the device holds a usable state; else it is changed already
	status model.MailboxStatus
}

// start resolves the folders, subscribes, and compares the stored sync
// state with the stores, in that order: a change made after the
// subscription is reported by it, one made before by the comparison. It
// returns a status to answer at once, or 0 to wait.
func (w *pingWait) start(ctx context.Context, want []pingFolder) (Status, error) {
	k := w.k
	list, err := k.s.folders.List(ctx, k.dev.UserID)
	if err != nil {
		return 0, err
	}
	byID := make(map[string]folders.Folder, len(list))
	for _, f := range list {
		byID[f.ServerID] = f
	}
	w.mail, w.pim, w.changed = map[string]*mailFolder{}, map[string]bool{}, map[string]bool{}
	var mailboxes, ids []string
	for _, pf := range want {
		f, ok := byID[pf.ID]
		if !ok {
			k.log.Info("ping: folder not in the hierarchy", "collection", pf.ID)
			return pingHierarchyChanged, nil
		}
		switch f.Source {
		case folders.SourceIMAP:
			name := canonicalMailbox(f.IMAPName)
			w.mail[name] = &mailFolder{id: f.ServerID}
			mailboxes = append(mailboxes, name)
		case folders.SourcePIM:
			w.pim[f.ServerID] = true
		default:
			continue // the virtual Outbox never changes
		}
		w.order = append(w.order, f.ServerID)
		ids = append(ids, f.ServerID)
	}

	push := k.s.opts.Push
	if push.Hub != nil && len(w.pim) > 0 {
		w.folders = push.Hub.Subscribe(FolderChangedTopic(k.dev.UserID))
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
	for _, id := range ids {
		if _, ok := states[id]; !ok {
			w.changed[id] = true // never synced: the client has work to do
		}
	}
	for _, m := range w.mail {
		st, ok := states[m.id]
		if !ok {
			continue
		}
		ms, err := decodeMailState(st)
		if err != nil || ms.pending {
			w.changed[m.id] = true // corrupt (Sync answers 3) or MoreAvailable due
			continue
		}
		m.synced, m.status = true, ms.status
	}
	if len(w.changed) > 0 {
		return pingChanged, nil
	}
	return w.compareMail(ctx), nil
}

// compareMail asks the mail server for the STATUS of each synced mail
// folder and marks those that differ from the device's state.
func (w *pingWait) compareMail(ctx context.Context) Status {
	k := w.k
	if len(w.mail) == 0 || k.s.opts.MailSync == nil {
		return 0
	}
	sess, err := k.s.opts.MailSync.OpenMail(ctx, k.creds.Login, k.creds.Password)
	if err != nil {
		// The watcher reports the folders once the server is back.
		k.log.Warn("ping: mail server unavailable for the first check", "err", err)
		return 0
	}
	defer sess.Close()
	for name, m := range w.mail {
		if !m.synced {
			continue
		}
		st, err := sess.Status(ctx, name)
		if err != nil {
			if errors.Is(err, model.ErrMailboxGone) {
				return pingHierarchyChanged
			}
			k.log.Warn("ping: STATUS failed", "collection", m.id, "err", err)
			return 0
		}
		if st != m.status {
			w.changed[m.id] = true
		}
	}
	if len(w.changed) > 0 {
		return pingChanged
	}
	return 0
}

// wait blocks until there is something to answer; 0 means the client is
// gone.
func (w *pingWait) wait() Status {
	k := w.k
	timer := time.NewTimer(w.heartbeat)
	defer timer.Stop()
	var mailC <-chan []MailboxChange
	if w.mailSub != nil {
		mailC = w.mailSub.C()
	}
	var deviceC, foldersC <-chan pgnotify.Payload
	if w.device != nil {
		deviceC = w.device.C()
	}
	if w.folders != nil {
		foldersC = w.folders.C()
	}
	for {
		select {
		case <-timer.C:
			return pingExpired
		case <-k.s.opts.Drain:
			return pingExpired // shutting down: the client pings again, maybe elsewhere
		case <-k.ctx().Done():
			if w.draining() {
				return pingExpired
			}
			return 0
		case ev, ok := <-mailC:
			if !ok {
				return pingExpired // watchers closed (shutdown) or login refused
			}
			if st := w.mailChanged(ev); st != 0 {
				return st
			}
		case p, ok := <-deviceC:
			if !ok || w.superseded(p) {
				return pingExpired
			}
		case p, ok := <-foldersC:
			if !ok {
				return pingExpired
			}
			if w.pimChanged(p) {
				return pingChanged
			}
		}
	}
}

func (w *pingWait) draining() bool {
	select {
	case <-w.k.s.opts.Drain:
		return true
	default:
		return false
	}
}

// mailChanged compares a watcher event with the stored states.
func (w *pingWait) mailChanged(ev []MailboxChange) Status {
	for _, c := range ev {
		m := w.mail[canonicalMailbox(c.Mailbox)]
		if m == nil {
			continue
		}
		if c.Missing {
			return pingHierarchyChanged
		}
		if !m.synced || c.Status != m.status {
			w.changed[m.id] = true
		}
	}
	if len(w.changed) > 0 {
		return pingChanged
	}
	return 0
}

// pimChanged handles a folders:<user> notification. After a LISTEN
// reconnect (Resync) notifications may have been lost, and PIM folders
// have no cheaper test yet: report them all.
func (w *pingWait) pimChanged(p pgnotify.Payload) bool {
	if p.Resync {
		for id := range w.pim {
			w.changed[id] = true
		}
	} else if w.pim[p.Data] {
		w.changed[p.Data] = true
	}
	return len(w.changed) > 0
}

// superseded tells whether a device:<id> notification announces a newer
// request of the device than this one. After a LISTEN reconnect the
// announcement may be lost: read the generation instead.
func (w *pingWait) superseded(p pgnotify.Payload) bool {
	k := w.k
	gen, err := strconv.ParseInt(p.Data, 10, 64)
	if p.Resync {
		ctx, cancel := context.WithTimeout(k.ctx(), 5*time.Second)
		gen, err = k.s.requestGeneration(ctx, k.dev.ID)
		cancel()
	}
	if err != nil || gen <= w.gen {
		return false
	}
	k.log.Info("waiting request ended by a newer request of the device", "generation", w.gen, "newer", gen)
	return true
}

// changedIDs lists the changed folders in the order the client asked.
func (w *pingWait) changedIDs() []string {
	var out []string
	for _, id := range w.order {
		if w.changed[id] {
			out = append(out, id)
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
	if w.folders != nil {
		w.folders.Close()
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
