package eas

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/mailconv"
)

// mailSync is the work on one mail collection within a Sync.
type mailSync struct {
	sc     *syncRun
	col    message.SyncCollection
	f      folders.Folder
	rc     *message.SyncResponseCollection
	tx     *syncstate.Tx
	st     mailState
	sess   MailSession
	since  time.Time
	fetch  model.MailFetchOptions
	ops    []syncstate.ClientOp
	resps  message.SyncResponses
	before int // IMAP commands of the session before this collection
	// changed: mailQuiet's STATUS, just before this collection's
	// transaction, found the mailbox changed; no second STATUS then.
	changed bool

	prefetched map[uint32]model.MailItem // this window's messages, fetched ahead
	flagEdited []uint32                  // messages whose flag details the client changed
}

// mail answers a mail collection: the O(1) STATUS test first when the
// client sent nothing and nothing is pending; otherwise the client's
// commands, a listing, the exchange, and the items of this window.
func (sc *syncRun) mail(col message.SyncCollection, f folders.Folder, rc *message.SyncResponseCollection) error {
	ctx := sc.k.ctx()
	quiet, changed, err := sc.mailQuiet(col, f)
	if err != nil || quiet {
		if quiet {
			rc.Status = int(syncOK)
		}
		return err
	}
	release, err := sc.k.dbSlot(ctx)
	if err != nil {
		return err
	}
	defer release()
	tx, err := sc.k.s.sync.Begin(ctx, sc.k.dev.ID, col.CollectionID, col.SyncKey)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	m := &mailSync{sc: sc, col: col, f: f, rc: rc, tx: tx, changed: changed}
	switch tx.KeyStatus() {
	case syncstate.KeyUnknown:
		return &StatusError{Status: syncBadKey, Err: fmt.Errorf("unknown key %q", col.SyncKey)}
	case syncstate.KeyInitial:
		// Key 0 only creates the partnership; the items come with the
		// next request (MS-ASCMD 3.1.5.3).
		key, err := tx.Commit(ctx, mailState{items: syncstate.Items{}}.encode())
		if err != nil {
			return err
		}
		rc.SyncKey, rc.Status = key, int(syncOK)
		sc.k.s.prefetch.warm(sc.k.s.opts.MailSync, sc.k.creds)
		return nil
	}
	if m.st, err = decodeMailState(tx.State()); err != nil {
		return &StatusError{Status: syncBadKey, Err: err}
	}
	if err := m.options(); err != nil {
		return err
	}
	if m.sess, err = sc.conn.session(); err != nil {
		return mailErr(err)
	}
	m.before = m.sess.Commands()
	err = m.run()
	if errors.Is(err, model.ErrNotSelectable) {
		// A container folder: no messages to show, and nothing to retry.
		sc.k.log.Info("sync: mailbox cannot be opened, answered as empty", "collection", col.CollectionID, "err", err)
		_ = tx.Rollback(ctx) // empty takes the collection's lock itself
		return sc.empty(col, f, rc)
	}
	if err != nil && !isStatusError(err) {
		sc.conn.drop()
	}
	return mailErr(err)
}

// mailQuiet answers a mail collection that carries nothing, has nothing
// pending and finds the mailbox as its state left it, from the head of
// the device's state (key, mailbox status, FilterType window, pending)
// and one STATUS: no transaction, no lock, no DB slot held across the
// IMAP round trip, and the state's items (most of its size) are never
// read. Whatever it cannot decide this way goes the full way, which
// checks the same under the collection's lock; so does a STATUS that
// failed, on a new session. changed says that the STATUS showed the
// mailbox changed since the state: the full way then lists without
// asking again.
func (sc *syncRun) mailQuiet(col message.SyncCollection, f folders.Folder) (quiet, changed bool, err error) {
	k := sc.k
	c := col.Commands
	if col.SyncKey == syncstate.InitialKey || (c != nil && len(c.Add)+len(c.Change)+len(c.Delete)+len(c.Fetch) > 0) {
		return false, false, nil
	}
	ctx := k.ctx()
	key, head, ok, err := k.s.sync.PeekHead(ctx, k.dev.ID, col.CollectionID, mailStateHeadLen)
	if err != nil || !ok || key != col.SyncKey {
		return false, false, err
	}
	st, err := decodeMailHead(head)
	if err != nil || st.pending {
		return false, false, nil
	}
	m := &mailSync{sc: sc, col: col, f: f}
	if err := m.options(); err != nil || st.filterDay != m.filterDay() {
		return false, false, nil // a bad FilterType is answered by the full way
	}
	if !m.getChanges() {
		return true, false, nil
	}
	// Without CONDSTORE (HighestModSeq 0) a flag change is invisible to
	// STATUS: such servers always list.
	if st.status.HighestModSeq == 0 {
		return false, false, nil
	}
	// The STATUS may be another quiet Sync's of the same mailbox, sent
	// after this request began (statusRounds): as current as our own.
	cmds := 0
	asked := time.Now()
	now, _, err := k.s.statusRounds.status(ctx, k.creds.Login, f.IMAPName, func() (model.MailboxStatus, error) {
		sess, err := sc.conn.session()
		if err != nil {
			return model.MailboxStatus{}, err
		}
		before := sess.Commands()
		st, err := sess.Status(ctx, f.IMAPName)
		cmds = sess.Commands() - before
		if err != nil {
			sc.conn.drop()
		}
		return st, err
	})
	if err != nil && (timedOut(err) || time.Since(asked) >= slowStatus) {
		// The mail server did not answer in time: it will not answer the
		// full way either, which would wait as long again behind the DB
		// slot. Answer the failure now. A quick failure is most likely a
		// pooled connection the server had closed: the full way retries
		// on a new session.
		return false, false, mailErr(err)
	}
	if err != nil {
		return false, false, nil // the full way asks again on a new session, and answers the failure
	}
	if now != st.status {
		return false, true, nil
	}
	k.log.Debug("sync mail collection", "collection", f.ServerID, "path", "unchanged",
		"imap_cmds", cmds, "adds", 0, "changes", 0, "deletes", 0)
	return true, false, nil
}

// slowStatus is how long a failed STATUS of a quiet Sync must have taken
// for its failure to be answered at once: a hung server, not a dead pooled
// connection.
const slowStatus = 5 * time.Second

// timedOut tells whether err is a mail server that did not answer within
// its deadline.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isStatusError(err error) bool {
	_, ok := err.(*StatusError)
	return ok
}

// options reads the collection's Options: FilterType window and how to
// render items.
func (m *mailSync) options() error {
	m.fetch = model.MailFetchOptions{FolderID: m.f.ServerID, Version: m.sc.k.version}
	for _, o := range m.col.Options {
		if o.Class != "" && o.Class != string(model.ClassEmail) {
			continue // SMS options
		}
		if o.FilterType != nil {
			days, ok := filterDays(*o.FilterType)
			if !ok {
				return &StatusError{Status: syncProtocolError, Err: fmt.Errorf("FilterType %d on mail", *o.FilterType)}
			}
			if days > 0 {
				m.since = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -days)
			}
		}
		m.fetch.BodyPreferences = o.BodyPreference
		m.fetch.MIMESupport = o.MIMESupport
		m.fetch.MIMETruncation = o.MIMETruncation
		m.fetch.Truncation = o.Truncation
	}
	return nil
}

// filterDays maps a FilterType to the age of the oldest message shown,
// in days (0: all). 8 (incomplete tasks) is not a mail filter.
func filterDays(t int) (int, bool) {
	switch t {
	case 0:
		return 0, true
	case 1:
		return 1, true
	case 2:
		return 3, true
	case 3:
		return 7, true
	case 4:
		return 14, true
	case 5:
		return 31, true
	case 6:
		return 92, true
	case 7:
		return 183, true
	}
	return 0, false
}

func (m *mailSync) filterDay() int64 {
	if m.since.IsZero() {
		return 0
	}
	return m.since.Unix() / 86400
}

func (m *mailSync) getChanges() bool {
	return m.col.GetChanges == nil || *m.col.GetChanges
}

func (m *mailSync) hasCommands() bool {
	c := m.col.Commands
	return c != nil && len(c.Add)+len(c.Change)+len(c.Delete)+len(c.Fetch) > 0
}

func (m *mailSync) run() error {
	ctx := m.sc.k.ctx()
	mailbox := m.f.IMAPName
	quiet := m.tx.KeyStatus() == syncstate.KeyCurrent && !m.hasCommands() && !m.st.pending &&
		m.st.filterDay == m.filterDay()
	if quiet && !m.getChanges() {
		m.rc.Status = int(syncOK)
		return nil
	}
	// The O(1) test: one STATUS against the state. Without CONDSTORE
	// (HighestModSeq 0) a flag change is invisible to STATUS, so such
	// servers always take the listing path.
	if quiet && m.st.status.HighestModSeq != 0 && !m.changed {
		st, err := m.sess.Status(ctx, mailbox)
		if err != nil {
			return err
		}
		if st == m.st.status {
			m.rc.Status = int(syncOK)
			m.log("unchanged", 0, 0, 0)
			return nil
		}
	}
	if m.hasCommands() {
		if err := m.decodeItems(); err != nil {
			return err
		}
	}
	if err := m.clientChanges(); err != nil {
		return err
	}
	if err := m.clientDeletes(); err != nil {
		return err
	}
	if err := m.clientAdds(); err != nil {
		return err
	}
	listing, err := m.listing()
	if err != nil {
		return err
	}
	if m.st.status.UIDValidity != 0 && listing.Status.UIDValidity != m.st.status.UIDValidity {
		// The UIDs the client holds name other messages now: it must
		// start over (DESIGN.md, mail identity).
		return &StatusError{Status: syncBadKey, Err: fmt.Errorf("UIDVALIDITY of %q changed", mailbox)}
	}
	window := m.sc.window(m.col)
	if !m.getChanges() {
		window = syncstate.NoChanges
	}
	var res syncstate.Result
	var queue []uint32
	if listing.Unchanged {
		res, queue = m.fromQueue(window)
	} else {
		now := m.nowItems(listing)
		res = syncstate.Exchange{Known: m.st.items, Now: now, Client: m.ops, Window: window, Order: newestFirst}.Run()
		if res.MoreAvailable {
			queue = onlyAddsLeft(now, res.State)
		}
	}
	if len(queue) > 0 && m.getChanges() {
		// The messages after this window are fetched ahead from now on,
		// beside this window's own fetch.
		k := m.sc.k
		k.s.prefetch.ensure(k.s.opts.MailSync, k.creds, m.streamKey(), mailbox, listing.Status, m.fetch, queue,
			m.sc.windowSize(m.col), !listing.Unchanged)
	}
	cmds, err := m.serverChanges(res, listing)
	if err != nil {
		return err
	}
	if err := m.flagDetails(cmds, listing); err != nil {
		return err
	}
	fetched, err := m.clientFetches()
	if err != nil {
		return err
	}
	m.resps.Fetch = fetched
	newState := mailState{status: listing.Status, filterDay: m.filterDay(), pending: res.MoreAvailable, queue: queue, items: res.State}
	if m.st.items == nil {
		// A window from the queue with the state still encoded: res.State
		// holds this window's adds, laid over the encoded items.
		raw, err := syncstate.MergeEncoded(m.st.raw, res.State)
		if err != nil {
			return &StatusError{Status: syncBadKey, Err: fmt.Errorf("%w: %w", errMailState, err)}
		}
		newState.items, newState.raw = nil, raw
	}
	key, err := m.tx.Commit(ctx, newState.encode())
	if err != nil {
		return err
	}
	if len(m.flagEdited) > 0 {
		m.shareFlagEdits()
	}
	m.sc.spend(len(res.Adds) + len(res.Changes) + len(res.Deletes))
	// Without GetChanges the client asked for none; the pending changes
	// stay pending (the state says so) for the next request.
	m.rc.SyncKey, m.rc.Status, m.rc.MoreAvailable = key, int(syncOK), res.MoreAvailable && m.getChanges()
	if len(cmds.Add)+len(cmds.Change)+len(cmds.Delete)+len(cmds.SoftDelete) > 0 {
		m.rc.Commands = cmds
	}
	r := m.resps
	if len(r.Add)+len(r.Change)+len(r.Delete)+len(r.Fetch) > 0 {
		m.rc.Responses = &r
	}
	path := "listed"
	if listing.Unchanged {
		path = "queued"
	}
	m.log(path, len(cmds.Add), len(cmds.Change), len(cmds.Delete)+len(cmds.SoftDelete))
	return nil
}

// listing lists the mailbox, or for the next window of an initial sync
// (nothing sent by the client) tells that the mailbox shows no change
// since the last window: its messages are then the next in the state's
// queue, without listing or diffing. When they were fetched ahead, a
// STATUS is the whole test; otherwise the SELECT that fetching needs
// gives the status.
func (m *mailSync) listing() (*model.MailListing, error) {
	ctx, mailbox := m.sc.k.ctx(), m.f.IMAPName
	queued := m.tx.KeyStatus() == syncstate.KeyCurrent && !m.hasCommands() && m.st.pending &&
		len(m.st.queue) > 0 && m.st.filterDay == m.filterDay() && m.getChanges() && m.st.status.HighestModSeq != 0
	if queued {
		ahead, err := m.fromStream()
		if err != nil {
			return nil, err
		}
		if len(ahead) > 0 {
			m.prefetched = ahead
			return &model.MailListing{Status: m.st.status, Unchanged: true}, nil
		}
	}
	if err := m.decodeItems(); err != nil {
		return nil, err
	}
	opts := m.listOptions()
	if queued {
		opts.IfChanged = &m.st.status
	}
	return m.sess.List(ctx, mailbox, opts)
}

// fromStream takes this window's messages from the stream fetching the
// queue ahead (sync_prefetch.go), when the mailbox is as the stream found
// it: as a STATUS showed less than Limits.MailRecheck ago, or as one run
// now, beside the take, shows. Items fetched after that STATUS are no
// less current: a change after it is seen by the next request either
// way. Nil: list as usual.
func (m *mailSync) fromStream() (map[uint32]model.MailItem, error) {
	ctx, key, prefetch := m.sc.k.ctx(), m.streamKey(), m.sc.k.s.prefetch
	next := m.st.queue[:min(len(m.st.queue), m.sc.window(m.col))]
	if prefetch.trusted(key, m.st.status, m.fetch, m.sc.k.s.opts.Limits.MailRecheck) {
		return prefetch.take(ctx, key, m.st.status, m.fetch, next), nil
	}
	if !prefetch.has(key, m.st.status, m.fetch) {
		return nil, nil
	}
	type status struct {
		st  model.MailboxStatus
		err error
	}
	statusC := make(chan status, 1)
	asked := time.Now()
	go func() {
		st, err := m.sess.Status(ctx, m.f.IMAPName)
		statusC <- status{st, err}
	}()
	ahead := prefetch.take(ctx, key, m.st.status, m.fetch, next)
	now := <-statusC
	switch {
	case now.err != nil:
		return nil, now.err
	case now.st == m.st.status:
		prefetch.checked(key, now.st, asked)
		return ahead, nil
	case len(ahead) > 0:
		// Changed since they were fetched, maybe: not used, and the
		// stream is stale.
		prefetch.stop(key)
	}
	return nil, nil
}

// fromQueue is the exchange of a window taken from the state's queue:
// the next messages to add, nothing else, since nothing changed.
func (m *mailSync) fromQueue(window int) (syncstate.Result, []uint32) {
	n := min(window, len(m.st.queue))
	res := syncstate.Result{State: m.st.items, MoreAvailable: n < len(m.st.queue)}
	if res.State == nil {
		// Still encoded (the messages were fetched ahead): the new state
		// is this window laid over it (run).
		res.State = make(syncstate.Items, n)
	}
	for _, uid := range m.st.queue[:n] {
		key := uidKey(uid)
		res.Adds = append(res.Adds, key)
		res.State[key] = "?" // replaced by the version fetched
	}
	return res, m.st.queue[n:]
}

// onlyAddsLeft returns the messages still to add, newest first, when
// nothing but adds is left after this window (state: what the client
// will hold; now: the listing); otherwise nil, and the next window lists.
func onlyAddsLeft(now, state syncstate.Items) []uint32 {
	for key, v := range state {
		if nv, ok := now[key]; !ok || nv != v {
			return nil // a change or delete is pending too
		}
	}
	queue := make([]uint32, 0, len(now)-len(state))
	for key := range now {
		if _, ok := state[key]; !ok {
			queue = append(queue, keyUID(key))
		}
	}
	slices.SortFunc(queue, func(a, b uint32) int { return cmp.Compare(b, a) })
	return queue
}

// listOptions asks for the messages within the filter, the flags changed
// since the state's HIGHESTMODSEQ, and the flags of the items whose copy
// on the client is stale.
func (m *mailSync) listOptions() model.MailListOptions {
	var stale []uint32
	for key, v := range m.st.items {
		if v == "" {
			stale = append(stale, keyUID(key))
		}
	}
	return model.MailListOptions{Since: m.since, ChangedSince: m.st.status.HighestModSeq, FlagsOf: stale}
}

// log notes what one collection cost: the IMAP command count proves that
// a quiet Sync costs O(1) IMAP work.
func (m *mailSync) log(path string, adds, changes, deletes int) {
	m.sc.k.log.Debug("sync mail collection", "collection", m.f.ServerID, "path", path,
		"imap_cmds", m.sess.Commands()-m.before, "adds", adds, "changes", changes, "deletes", deletes)
}

// nowItems is the source side of the exchange: every message within the
// filter with its flags version. Versions come from the listing for
// messages whose flags it reported, from the known state for the others
// (unchanged since the state's HIGHESTMODSEQ), and are a placeholder for
// messages the client does not hold yet: an Add's version is set from
// the flags fetched with it.
func (m *mailSync) nowItems(l *model.MailListing) syncstate.Items {
	now := make(syncstate.Items, len(l.InFilter))
	for _, uid := range l.InFilter {
		key := uidKey(uid)
		if f, ok := l.Flags[uid]; ok {
			now[key] = f.Version()
		} else if v, ok := m.st.items[key]; ok && v != "" {
			now[key] = v
		} else {
			now[key] = "?"
		}
	}
	return now
}

// serverChanges renders the exchange's result: the adds fetched and
// converted (only this window's), the changes from the listing's flags,
// deletes as SoftDelete when the message still exists outside the filter.
func (m *mailSync) serverChanges(res syncstate.Result, l *model.MailListing) (*message.SyncCommands, error) {
	cmds := &message.SyncCommands{}
	for _, key := range res.Deletes {
		uid := keyUID(key)
		item := message.SyncItem{ServerID: m.serverID(uid)}
		if model.Contains(l.All, uid) {
			cmds.SoftDelete = append(cmds.SoftDelete, item)
		} else {
			cmds.Delete = append(cmds.Delete, item)
		}
	}
	for _, key := range res.Changes {
		uid := keyUID(key)
		f, ok := l.Flags[uid]
		if !ok {
			// Not reported, so not changed on the server: the client's copy
			// was marked stale. Fetch its flags to send them.
			fl, err := m.sess.Flags(m.sc.k.ctx(), m.f.IMAPName, []uint32{uid})
			if err != nil {
				return nil, err
			}
			if f, ok = fl[uid]; !ok {
				delete(res.State, key)
				cmds.Delete = append(cmds.Delete, message.SyncItem{ServerID: m.serverID(uid)})
				continue
			}
			res.State[key] = f.Version()
		}
		cmds.Change = append(cmds.Change, message.SyncItem{ServerID: m.serverID(uid), ApplicationData: mailconv.FlagChange(f, m.sc.k.version)})
	}
	if len(res.Adds) == 0 {
		return cmds, nil
	}
	uids := make([]uint32, len(res.Adds))
	for i, key := range res.Adds {
		uids[i] = keyUID(key)
		delete(res.State, key) // put back below for what was fetched
	}
	items, err := m.fetchAdds(uids)
	if err != nil {
		return nil, err
	}
	if err := m.fileMeetings(items); err != nil {
		return nil, err
	}
	for _, it := range items {
		res.State[uidKey(it.UID)] = it.Flags.Version()
		cmds.Add = append(cmds.Add, message.SyncItem{ServerID: m.serverID(it.UID), ApplicationData: it.Data})
	}
	return cmds, nil
}

// fetchAdds renders the messages to add, in the order of uids: those
// prefetched from there, the others from the mail server.
func (m *mailSync) fetchAdds(uids []uint32) ([]model.MailItem, error) {
	var rest []uint32
	for _, uid := range uids {
		if _, ok := m.prefetched[uid]; !ok {
			rest = append(rest, uid)
		}
	}
	fetched, err := m.sess.Fetch(m.sc.k.ctx(), m.f.IMAPName, rest, m.fetch) // none: no IMAP
	if err != nil {
		return nil, err
	}
	byUID := make(map[uint32]model.MailItem, len(fetched))
	for _, it := range fetched {
		byUID[it.UID] = it
	}
	items := make([]model.MailItem, 0, len(uids))
	for _, uid := range uids {
		if it, ok := m.prefetched[uid]; ok {
			items = append(items, it)
		} else if it, ok := byUID[uid]; ok {
			items = append(items, it)
		}
	}
	return items, nil
}

// decodeItems decodes the state's items, which a window of an initial
// sync fetched ahead never needs (MergeEncoded).
func (m *mailSync) decodeItems() error {
	if err := m.st.decodeItems(); err != nil {
		return &StatusError{Status: syncBadKey, Err: err}
	}
	return nil
}

func (m *mailSync) streamKey() streamKey {
	return streamKey{device: m.sc.k.dev.ID, collection: m.col.CollectionID}
}

func (m *mailSync) serverID(uid uint32) string {
	return model.MailID{FolderID: m.f.ServerID, UID: uid}.String()
}
