package imapbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/model"
)

// MailSession is one logged-in IMAP connection serving one EAS request
// (Sync, GetItemEstimate): change detection and item operations on any
// number of mailboxes. It is used by one goroutine.
//
// Change detection follows DESIGN.md: STATUS first (one command, whatever
// the size of the mailbox), and only when that differs a listing: UID
// SEARCH with ESEARCH for the UID set (new and expunged messages by set
// difference), FETCH FLAGS CHANGEDSINCE for flag changes where the server
// has CONDSTORE, and a FETCH of all flags where it has not. QRESYNC is
// never enabled (go-imap v2 cannot parse VANISHED).
type MailSession struct {
	store               *Store
	login               string
	c                   *imapclient.Client
	condstore           bool
	esearch             bool
	selected            string // mailbox selected now, "" for none
	selectedUIDValidity uint32 // its UIDVALIDITY
	commands            int
	failed              bool        // a command failed: the connection's state is unknown
	stop                func() bool // detaches the context watcher

	sparseAbove int64 // size from which messages are fetched in part (sparseAbove; tests lower it)
}

// OpenMail returns a session of login on a pooled connection (see
// pool.go), or logs in. The session ends with Close, which gives the
// connection back to the pool unless a command failed; cancelling ctx
// closes the connection, which makes a pending command fail.
func (s *Store) OpenMail(ctx context.Context, login, password string) (*MailSession, error) {
	m := &MailSession{store: s, login: login, sparseAbove: sparseAbove}
	if m.c = s.pool.get(login); m.c == nil {
		c, err := s.Dialer.Login(ctx, login, password)
		if err != nil {
			return nil, err
		}
		m.c, m.commands = c, 1
	}
	caps := m.c.Caps()
	m.condstore = caps.Has(imap.CapCondStore) || caps.Has(imap.CapIMAP4rev2)
	m.esearch = caps.Has(imap.CapESearch) || caps.Has(imap.CapIMAP4rev2)
	c := m.c
	m.stop = context.AfterFunc(ctx, func() { c.Close() })
	return m, nil
}

// Commands is the number of IMAP commands sent so far (LOGIN included).
func (m *MailSession) Commands() int { return m.commands }

// CondStore reports whether the server offers CONDSTORE.
func (m *MailSession) CondStore() bool { return m.condstore }

// CloseIdle closes the idle pooled connections of login: a request that
// starts to wait needs none, and each holds a mail server process.
func (s *Store) CloseIdle(login string) { s.pool.closeIdle(login) }

// Close ends the session: the connection goes back to the pool when every
// command succeeded, and is closed otherwise. A mailbox still selected is
// unselected first: Dovecot answers STATUS of the selected mailbox from
// the session's view, which lags changes made by other sessions, and the
// O(1) test must see them.
func (m *MailSession) Close() error {
	if !m.stop() || m.failed {
		return m.c.Close()
	}
	if m.selected != "" {
		stop := guard(m.c)
		err := m.unselect()
		stop()
		if err != nil {
			return m.c.Close()
		}
	}
	m.store.pool.put(m.login, m.c)
	return nil
}

// unselect leaves the selected mailbox.
func (m *MailSession) unselect() error {
	m.commands++
	if err := m.c.Unselect().Wait(); err != nil {
		return fmt.Errorf("imap: unselect: %w", err)
	}
	m.selected = ""
	return nil
}

// track bounds the commands of an exported method by CommandTimeout
// (deadline.go) and returns the function the method defers, as
// `defer m.track(&err)()`: it marks the session failed when *err is set,
// so that a broken connection never returns to the pool.
func (m *MailSession) track(err *error) func() {
	stop := guard(m.c)
	return func() {
		stop()
		if *err != nil {
			m.failed = true
		}
	}
}

// Status is the O(1) change test: one STATUS command.
func (m *MailSession) Status(ctx context.Context, mailbox string) (_ model.MailboxStatus, err error) {
	defer m.track(&err)()
	if m.selected == mailbox {
		// STATUS of the selected mailbox reports the session's view,
		// which lags other sessions' changes until it syncs.
		if err := m.unselect(); err != nil {
			return model.MailboxStatus{}, err
		}
	}
	opts := &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, HighestModSeq: m.condstore}
	m.commands++
	d, err := m.c.Status(mailbox, opts).Wait()
	if err != nil {
		return model.MailboxStatus{}, m.openErr("status", mailbox, err)
	}
	st := model.MailboxStatus{UIDValidity: d.UIDValidity, UIDNext: uint32(d.UIDNext), HighestModSeq: d.HighestModSeq}
	if d.NumMessages != nil {
		st.Messages = *d.NumMessages
	}
	return st, nil
}

// UIDValidity is the mailbox's UIDVALIDITY: the one its SELECT said when
// it is selected, which a server cannot change under a session that has
// it selected; else one STATUS.
func (m *MailSession) UIDValidity(ctx context.Context, mailbox string) (uint32, error) {
	if m.selected == mailbox && m.selectedUIDValidity != 0 {
		return m.selectedUIDValidity, nil
	}
	st, err := m.Status(ctx, mailbox)
	return st.UIDValidity, err
}

// selectBox selects mailbox (again, when fresh is set, to read its status
// after our own changes) and returns its status.
func (m *MailSession) selectBox(mailbox string, fresh bool) (model.MailboxStatus, error) {
	if m.selected == mailbox && !fresh {
		return model.MailboxStatus{}, nil
	}
	m.selected = ""
	m.commands++
	d, err := m.c.Select(mailbox, &imap.SelectOptions{CondStore: m.condstore}).Wait()
	if err != nil {
		return model.MailboxStatus{}, m.openErr("select", mailbox, err)
	}
	m.selected, m.selectedUIDValidity = mailbox, d.UIDValidity
	return model.MailboxStatus{UIDValidity: d.UIDValidity, UIDNext: uint32(d.UIDNext),
		Messages: d.NumMessages, HighestModSeq: d.HighestModSeq}, nil
}

// allUIDs is "1:*" as a UID set.
var allUIDs = imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}

// List reads the UID set and changed flags of mailbox.
func (m *MailSession) List(ctx context.Context, mailbox string, opts model.MailListOptions) (_ *model.MailListing, err error) {
	defer m.track(&err)()
	st, err := m.selectBox(mailbox, true)
	if err != nil {
		return nil, err
	}
	if opts.IfChanged != nil && *opts.IfChanged == st && m.condstore && st.HighestModSeq != 0 {
		return &model.MailListing{Status: st, Unchanged: true}, nil
	}
	l := &model.MailListing{Status: st, Flags: map[uint32]model.MailFlags{}}
	if st.Messages == 0 {
		l.AllFlags = true
		return l, nil
	}
	changedSince := opts.ChangedSince
	if !m.condstore {
		changedSince = 0
	}
	if changedSince == 0 {
		// Every message's flags: the UID set comes with them.
		l.AllFlags = true
		if err := m.fetchFlags(allUIDs, 0, l.Flags); err != nil {
			return nil, err
		}
		l.All = make([]uint32, 0, len(l.Flags))
		for uid := range l.Flags {
			l.All = append(l.All, uid)
		}
		slices.Sort(l.All)
	} else {
		if l.All, err = m.search(&imap.SearchCriteria{}); err != nil {
			return nil, err
		}
		if err := m.fetchFlags(allUIDs, changedSince, l.Flags); err != nil {
			return nil, err
		}
		var extra imap.UIDSet
		for _, uid := range opts.FlagsOf {
			if _, ok := l.Flags[uid]; !ok && model.Contains(l.All, uid) {
				extra.AddNum(imap.UID(uid))
			}
		}
		if len(extra) > 0 {
			if err := m.fetchFlags(extra, 0, l.Flags); err != nil {
				return nil, err
			}
		}
	}
	l.InFilter = l.All
	if !opts.Since.IsZero() {
		if l.InFilter, err = m.search(&imap.SearchCriteria{Since: opts.Since}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// search runs UID SEARCH, with RETURN (ALL) where the server has ESEARCH
// so that the answer is compact ranges.
func (m *MailSession) search(criteria *imap.SearchCriteria) ([]uint32, error) {
	var opts *imap.SearchOptions
	if m.esearch {
		opts = &imap.SearchOptions{ReturnAll: true}
	}
	m.commands++
	d, err := m.c.UIDSearch(criteria, opts).Wait()
	if err != nil {
		return nil, fmt.Errorf("imap: uid search %s: %w", m.selected, err)
	}
	uids := d.AllUIDs()
	out := make([]uint32, len(uids))
	for i, u := range uids {
		out[i] = uint32(u)
	}
	slices.Sort(out)
	return out, nil
}

// fetchFlags adds the flags of the messages in set (changed since
// changedSince, when not 0) to into.
func (m *MailSession) fetchFlags(set imap.UIDSet, changedSince uint64, into map[uint32]model.MailFlags) error {
	m.commands++
	cmd := m.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, ChangedSince: changedSince})
	err := eachMessage(cmd, func(msg *imapclient.FetchMessageData) error {
		buf, err := msg.Collect()
		if err == nil && buf.UID != 0 {
			into[uint32(buf.UID)] = mailFlags(buf.Flags)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("imap: fetch flags %s: %w", m.selected, err)
	}
	return nil
}

// Flags returns the flags of those of uids that still exist.
func (m *MailSession) Flags(ctx context.Context, mailbox string, uids []uint32) (_ map[uint32]model.MailFlags, err error) {
	defer m.track(&err)()
	out := map[uint32]model.MailFlags{}
	if len(uids) == 0 {
		return out, nil
	}
	if _, err := m.selectBox(mailbox, false); err != nil {
		return nil, err
	}
	if err := m.fetchFlags(uidSet(uids), 0, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Count counts the messages of mailbox received on or after since; for
// all messages one STATUS suffices.
func (m *MailSession) Count(ctx context.Context, mailbox string, since time.Time) (_ int, err error) {
	defer m.track(&err)()
	if since.IsZero() {
		st, err := m.Status(ctx, mailbox)
		return int(st.Messages), err
	}
	if _, err := m.selectBox(mailbox, false); err != nil {
		return 0, err
	}
	uids, err := m.search(&imap.SearchCriteria{Since: since})
	return len(uids), err
}

func uidSet(uids []uint32) imap.UIDSet {
	var s imap.UIDSet
	for _, u := range uids {
		s.AddNum(imap.UID(u))
	}
	return s
}

// listPattern is a LIST pattern that matches the mailbox name and as few
// others as it can: "*" in a name becomes "%", which matches the "*"
// itself but does not descend into every mailbox below.
func listPattern(name string) string { return strings.ReplaceAll(name, "*", "%") }

// mailboxErr wraps a failed command on mailbox; NO [NONEXISTENT] becomes
// model.ErrMailboxGone.
func mailboxErr(what, mailbox string, err error) error {
	if isNonExistent(err) {
		return fmt.Errorf("imap: %s %q: %w: %w", what, mailbox, model.ErrMailboxGone, err)
	}
	return fmt.Errorf("imap: %s %q: %w", what, mailbox, err)
}

// openErr classifies a SELECT or STATUS refused with a plain NO (Dovecot
// 2.3 sends "NO Mailbox doesn't exist" without [NONEXISTENT]) by listing
// the mailbox: gone (the client's hierarchy is stale: Status 12), a
// \Noselect container (model.ErrNotSelectable: the folder reads as empty
// rather than sending the client into a FolderSync loop), or neither (a
// failure to retry). It costs one LIST, on the error path only.
func (m *MailSession) openErr(what, mailbox string, err error) error {
	var ie *imap.Error
	if isNonExistent(err) || !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo || ie.Code != "" {
		return mailboxErr(what, mailbox, err)
	}
	m.commands++
	list, lerr := m.c.List("", listPattern(mailbox), nil).Collect()
	// A LIST pattern has no escape for its wildcards: a mailbox named "%"
	// lists every top-level mailbox. Only the entry of that very name
	// tells whether the mailbox exists.
	var entry *imap.ListData
	for _, l := range list {
		if l.Mailbox == mailbox {
			entry = l
			break
		}
	}
	switch {
	case lerr != nil:
		return mailboxErr(what, mailbox, err)
	case entry == nil || hasAttr(entry.Attrs, imap.MailboxAttrNonExistent):
		return fmt.Errorf("imap: %s %q: %w: %w", what, mailbox, model.ErrMailboxGone, err)
	case hasAttr(entry.Attrs, imap.MailboxAttrNoSelect):
		return fmt.Errorf("imap: %s %q: %w: %w", what, mailbox, model.ErrNotSelectable, err)
	}
	return mailboxErr(what, mailbox, err)
}
