package eas

import (
	"sync"
	"time"

	"github.com/easd/easd/eas/model"
)

// Vouched first checks. A Ping starts by comparing each synced mail
// folder's stored state with the mail server's STATUS; with the mail
// server's events on, that costs an IMAP login (a new process on Dovecot)
// per Ping for nothing in the usual case: a phone whose Ping ended at its
// heartbeat pings again, nothing having changed. The instance therefore
// remembers what a device's last check verified (the status the device's
// state had and the server showed, and when the STATUS was sent), and the
// next Ping skips the IMAP session when, for every watched mail folder,
// the stored state still shows that status and the LISTEN hub has been
// listening without a break and received no notice on the user's folder
// topic since then. A change whose event got lost is found by the STATUS
// sweep within its interval, as for a Ping that waits.

// VerifiedTTL bounds how old a verification may vouch: past it the Ping
// checks over IMAP again, whatever the events said. The hub must remember
// the notices of FolderChangedPrefix at least as long.
const VerifiedTTL = time.Hour

// verifiedKey is a device's mail folder.
type verifiedKey struct {
	dev     int64
	mailbox string // canonical IMAP name
}

// verifiedCheck is what a check (a Ping's first check, or a sweep)
// found the same in the device's state and on the server.
type verifiedCheck struct {
	status model.MailboxStatus
	at     time.Time // taken just before the STATUS command was sent
}

// verifiedChecks is the instance's record of verified checks: one entry
// per mail folder of a waiting device, dropped after VerifiedTTL.
type verifiedChecks struct {
	mu     sync.Mutex
	m      map[verifiedKey]verifiedCheck
	pruned time.Time
}

// record notes that at, the device's state of mailbox and the server both
// showed status. An older verification than the one held is ignored.
func (v *verifiedChecks) record(dev int64, mailbox string, status model.MailboxStatus, at time.Time) {
	now := time.Now()
	k := verifiedKey{dev, mailbox}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[verifiedKey]verifiedCheck{}
	}
	if old, ok := v.m[k]; ok && old.status == status && old.at.After(at) {
		return
	}
	v.m[k] = verifiedCheck{status, at}
	// A walk over the entries at most every tenth of the TTL: an entry
	// outlives it by 10% at most, a record costs a map write.
	if now.Sub(v.pruned) >= VerifiedTTL/10 {
		v.pruned = now
		for k, c := range v.m {
			if now.Sub(c.at) >= VerifiedTTL {
				delete(v.m, k)
			}
		}
	}
}

// lookup returns when the device's mailbox was last verified to show
// status; false when it was not, or with another status (the device
// synced since, or the server showed a change), or too long ago.
func (v *verifiedChecks) lookup(dev int64, mailbox string, status model.MailboxStatus) (time.Time, bool) {
	v.mu.Lock()
	c, ok := v.m[verifiedKey{dev, mailbox}]
	v.mu.Unlock()
	if !ok || c.status != status || time.Since(c.at) >= VerifiedTTL {
		return time.Time{}, false
	}
	return c.at, true
}

// forget drops the device's entry for mailbox: its state and the server
// differ, the next Ping must check.
func (v *verifiedChecks) forget(dev int64, mailbox string) {
	v.mu.Lock()
	delete(v.m, verifiedKey{dev, mailbox})
	v.mu.Unlock()
}
