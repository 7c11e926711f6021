package eas

import (
	"context"
	"io"
	"time"

	"github.com/easd/easd/eas/model"
)

// MailSync is what Sync and GetItemEstimate need of the mail server: a
// session per request, opened with the request's credentials, that the
// handler uses for every mail collection of the request.
type MailSync interface {
	OpenMail(ctx context.Context, login, password string) (MailSession, error)
}

// MailSession is one logged-in connection to the mail server. Mailboxes
// are IMAP names. Errors wrapping model.ErrMailboxGone mean the folder is
// gone (the client's hierarchy is stale); any other error is a failure of
// the mail server that a retry may cure.
type MailSession interface {
	// Status is one STATUS command: the cheap "did anything change" test.
	Status(ctx context.Context, mailbox string) (model.MailboxStatus, error)
	// UIDValidity is the mailbox's UIDVALIDITY: known without a command
	// when the session has the mailbox selected (it cannot change while
	// it is), else one STATUS.
	UIDValidity(ctx context.Context, mailbox string) (uint32, error)
	// List reads the UIDs and the changed flags of a mailbox.
	List(ctx context.Context, mailbox string, opts model.MailListOptions) (*model.MailListing, error)
	// Fetch renders messages as items, in the order of uids; a UID without
	// an item no longer exists. A message that cannot be converted still
	// yields an item (headers only), so it is never retried forever.
	Fetch(ctx context.Context, mailbox string, uids []uint32, opts model.MailFetchOptions) ([]model.MailItem, error)
	// FetchEach is Fetch handing each item to fn as soon as it is ready,
	// in no set order and from several goroutines.
	FetchEach(ctx context.Context, mailbox string, uids []uint32, opts model.MailFetchOptions, fn func(model.MailItem)) error
	// Flags returns the flags of the given messages that still exist.
	Flags(ctx context.Context, mailbox string, uids []uint32) (map[uint32]model.MailFlags, error)
	// SetFlags applies a client change; ok is false when the message is
	// gone.
	SetFlags(ctx context.Context, mailbox string, uid uint32, ch model.MailFlagChange) (flags model.MailFlags, ok bool, err error)
	// Delete removes messages: moved to trash when trash is not "",
	// expunged otherwise, and says where moved messages went when the
	// server tells. Messages already gone are no error.
	Delete(ctx context.Context, mailbox string, uids []uint32, trash string) (model.MailMoved, error)
	// AppendDraft stores a draft (\Draft, \Seen) and returns its UID and
	// flags.
	AppendDraft(ctx context.Context, mailbox string, msg []byte) (uint32, model.MailFlags, error)
	// FindByHeader returns the UID and flags of a message of mailbox whose
	// header field name has exactly value; ok is false when none has.
	FindByHeader(ctx context.Context, mailbox, name, value string) (uid uint32, flags model.MailFlags, ok bool, err error)
	// Count counts the messages received on or after since (zero: all).
	Count(ctx context.Context, mailbox string, since time.Time) (int, error)
	// Move moves one message to the mailbox dest and returns its UID
	// there and its flags; ok is false when the message is gone.
	Move(ctx context.Context, mailbox string, uid uint32, dest string) (newUID uint32, flags model.MailFlags, ok bool, err error)
	// Search returns the UIDs of the messages whose headers or body
	// contain text ("" matches all) and that arrived within [since,
	// before) (zero: unbounded), with their arrival times.
	Search(ctx context.Context, mailbox, text string, since, before time.Time) (uids []uint32, arrived []time.Time, err error)
	// PartInfo returns the media type and the decoded size of part
	// partPath ("2", "1.2": IMAP section numbers) of a message; ok is
	// false when the message or the part does not exist. It costs no more
	// memory than a read buffer, whatever the size of the part.
	PartInfo(ctx context.Context, mailbox string, uid uint32, partPath string) (contentType string, size int64, ok bool, err error)
	// ReadPart calls fn with a reader of n decoded bytes of the part from
	// offset on, streamed from the mail server; fn reads them all.
	ReadPart(ctx context.Context, mailbox string, uid uint32, partPath string, offset, n int64, fn func(io.Reader) error) error
	// Commands is the number of IMAP commands issued so far, for logs
	// and for tests that prove a quiet Sync costs O(1) IMAP work.
	Commands() int
	Close() error
}
