package model

import (
	"errors"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/eas/message"
)

// MailboxStatus is what STATUS (or SELECT) says of a mailbox: enough to
// tell, in one IMAP command, whether anything changed since it was last
// read. HighestModSeq is 0 on servers without CONDSTORE.
type MailboxStatus struct {
	UIDValidity   uint32
	UIDNext       uint32
	Messages      uint32
	HighestModSeq uint64
}

// MailMoved says where messages went in a move to another mailbox: their
// UIDs there by their old UIDs, and that mailbox's UIDVALIDITY. Empty when
// the server did not say (no UIDPLUS).
type MailMoved struct {
	UIDValidity uint32
	UIDs        map[uint32]uint32
}

// MailFlags are the IMAP flags a phone shows: Read (\Seen), the follow-up
// flag (\Flagged), replied and forwarded state, and keywords, which are
// EAS categories.
type MailFlags struct {
	Seen, Flagged, Answered, Forwarded bool
	Draft                              bool     // not part of Version: it never changes
	Keywords                           []string // sorted
}

// Version is a short fingerprint of the flags, the item version in a mail
// collection's sync state: it changes exactly when something a phone shows
// changes, so an IMAP-only flag ($Junk, \Recent ...) never causes a Change.
func (f MailFlags) Version() string {
	bits := 0
	for i, b := range []bool{f.Seen, f.Flagged, f.Answered, f.Forwarded} {
		if b {
			bits |= 1 << i
		}
	}
	v := strconv.FormatInt(int64(bits), 16)
	if len(f.Keywords) > 0 {
		h := fnv.New32a()
		h.Write([]byte(strings.Join(f.Keywords, "\x00")))
		v += "." + strconv.FormatUint(uint64(h.Sum32()), 36)
	}
	return v
}

// MailFlagChange is a client's change to a message: nil fields stay as
// they are.
type MailFlagChange struct {
	Seen     *bool
	Flagged  *bool
	Keywords *[]string // the full new set of categories
}

// MailListOptions say what a listing of a mailbox needs.
type MailListOptions struct {
	// Since limits the messages to those received on or after this day
	// (EAS FilterType); zero: all messages.
	Since time.Time
	// ChangedSince is the HIGHESTMODSEQ the caller last saw; flags are
	// reported only for messages changed after it (CONDSTORE). 0: report
	// the flags of every message.
	ChangedSince uint64
	// FlagsOf are further UIDs whose flags are needed whatever their
	// modseq (items whose copy on the phone is stale).
	FlagsOf []uint32
	// IfChanged, when set, is the status of the caller's last listing:
	// if the mailbox still has it (CONDSTORE only: without it a flag
	// change does not show in the status), the listing is skipped and
	// comes back with Unchanged set and Status only.
	IfChanged *MailboxStatus
}

// MailListing is the state of a mailbox at one moment.
type MailListing struct {
	// Status was read before the listing: a change after it is seen again
	// next time, never lost.
	Status MailboxStatus
	// All holds every UID, ascending; InFilter the UIDs within
	// MailListOptions.Since (All when there is no filter).
	All, InFilter []uint32
	// Flags of the messages changed since MailListOptions.ChangedSince
	// (and of FlagsOf); of every message when AllFlags.
	Flags    map[uint32]MailFlags
	AllFlags bool
	// Unchanged: the status equals MailListOptions.IfChanged; nothing else
	// is filled in.
	Unchanged bool
}

// Contains reports whether the ascending list uids holds uid.
func Contains(uids []uint32, uid uint32) bool {
	_, ok := slices.BinarySearch(uids, uid)
	return ok
}

// MailFetchOptions say how to render messages as EAS Email items.
type MailFetchOptions struct {
	FolderID        string // the EAS folder id, for attachment references
	BodyPreferences []message.BodyPreference
	MIMESupport     int // 0 never MIME, 1 S/MIME only, 2 always
	MIMETruncation  *int
	Truncation      *int // 2.5 Truncation code of Email:Body
	Version         int  // EAS protocol version: 25, 120 ... 161
}

// MailItem is one message rendered for a phone: Data is the class's item
// struct (encoded as ApplicationData), Flags what its version is made of.
type MailItem struct {
	UID   uint32
	Flags MailFlags
	Data  any
}

// ErrMailboxGone is returned by mail stores when the mailbox of a folder
// no longer exists: the client's hierarchy is out of date.
var ErrMailboxGone = errors.New("mailbox does not exist")

// ErrNotSelectable is returned when the mail server refuses to open a
// mailbox for good (a \Noselect container, no rights): the folder holds
// no messages a client could see.
var ErrNotSelectable = errors.New("mailbox cannot be opened")
