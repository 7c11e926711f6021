package eas

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// userSlots bounds how many PostgreSQL transactions one user's requests
// hold at once while they talk to the mail server. Such a transaction
// (a mail Sync's state, a Move, a send's record) keeps its pooled
// connection across IMAP round trips; with a mail server that hangs, a
// few requests of one user would otherwise hold the whole pool and every
// other user's requests, database-only ones included, would wait for it.
// A request over its user's share waits here, holding no connection.
//
// The limit is per instance; the pool it protects is per instance too.
type userSlots struct {
	limit int // 0: no limit
	mu    sync.Mutex
	users map[int64]chan struct{}
	held  map[int64]int // slots taken per user, to drop idle channels
}

// userSlotWait bounds the wait for a slot; past it the request answers a
// retryable status instead of queueing behind a hung mail server.
const userSlotWait = 30 * time.Second

func newUserSlots(limit int) *userSlots {
	return &userSlots{limit: limit, users: map[int64]chan struct{}{}, held: map[int64]int{}}
}

// acquire takes one of user's slots, waiting at most userSlotWait, and
// returns the function that gives it back.
func (u *userSlots) acquire(ctx context.Context, user int64) (release func(), err error) {
	if u == nil || u.limit <= 0 {
		return func() {}, nil
	}
	u.mu.Lock()
	ch, ok := u.users[user]
	if !ok {
		ch = make(chan struct{}, u.limit)
		u.users[user] = ch
	}
	u.held[user]++
	u.mu.Unlock()

	t := time.NewTimer(userSlotWait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		u.forget(user)
		return nil, ctx.Err()
	case <-t.C:
		u.forget(user)
		return nil, &StatusError{Status: StatusServerErrorRetryLater,
			Err: fmt.Errorf("user %d: all %d database slots busy for %v (mail server slow?)", user, u.limit, userSlotWait)}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-ch
			u.forget(user)
		})
	}, nil
}

// forget drops user's channel once nobody holds or waits for a slot.
func (u *userSlots) forget(user int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.held[user]--; u.held[user] <= 0 {
		delete(u.held, user)
		delete(u.users, user)
	}
}

// dbSlot takes a slot of the request's user for a transaction that will
// span IMAP round trips (see userSlots).
func (k *call) dbSlot(ctx context.Context) (func(), error) {
	return k.s.slots.acquire(ctx, k.dev.UserID)
}
