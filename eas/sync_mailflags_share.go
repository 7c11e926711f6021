package eas

import (
	"context"
	"time"

	"github.com/easd/easd/eas/syncstate"
)

// Flag details reach the user's other devices. A change of a flag's dates
// (or from complete to cleared) changes no IMAP flag, so neither their
// next Sync's STATUS test nor their Ping's watcher would see it. After a
// Sync that changed flag details commits, the other devices' states of
// the folder mark those messages stale (version ""), which makes their
// next Sync send the message's Flag as a Change, and say a change is
// pending, which makes their next Sync list and their next Ping answer at
// once; a Ping already waiting on the folder is woken through the
// user's folder topic. A Sync of another device on that folder holds its
// state's lock for milliseconds; should one hold it past shareLockWait,
// the details are not passed on (logged) and the other devices see them
// with the message's next change, as before this existed.
const shareLockWait = 2 * time.Second

func (m *mailSync) shareFlagEdits() {
	k := m.sc.k
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.ctx()), 10*time.Second)
	defer cancel()
	if err := shareFlagEdits(ctx, k, m.f.ServerID, m.flagEdited); err != nil {
		k.log.Warn("sync: flag details not passed to the user's other devices", "collection", m.f.ServerID, "err", err)
	}
}

func shareFlagEdits(ctx context.Context, k *call, collection string, uids []uint32) error {
	tx, err := k.s.opts.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := syncstate.SetLockTimeout(ctx, tx, shareLockWait); err != nil {
		return err
	}
	// The same row locks a Sync of those devices takes (syncstate.Engine),
	// in device order so that two sharing Syncs cannot deadlock.
	devices, err := syncstate.LockOtherDevices(ctx, tx, k.dev.UserID, k.dev.ID, collection)
	if err != nil {
		return err
	}
	if len(devices) == 0 {
		return nil
	}
	keys := make([]string, len(uids))
	for i, uid := range uids {
		keys[i] = uidKey(uid)
	}
	if err := amendMailStates(ctx, tx, devices, collection, func(st *mailState) {
		for _, key := range keys {
			if _, ok := st.items[key]; ok {
				// A queue lists adds only; a stale item needs a listing.
				st.items[key], st.pending, st.queue = "", true, nil
			}
		}
	}); err != nil {
		return err
	}
	if err := NotifyFolderChanged(ctx, tx, k.dev.UserID, collection); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
