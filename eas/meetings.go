package eas

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// Meetings is the calendar's side of meetings (calendar.Meetings): it
// files meeting mails in the user's calendar, records the user's answers,
// and sends the iMIP messages (invitations, cancellations, replies) that
// calendar writes queued. Every method but Flush runs in the caller's
// transaction; Flush runs after it committed, so nothing is sent for a
// write that did not happen.
type Meetings interface {
	// FileMail takes a meeting mail's iCalendar object (REQUEST, CANCEL,
	// REPLY) into the user's calendar; idempotent by UID and SEQUENCE.
	FileMail(ctx context.Context, db model.DB, userID int64, self string, ics []byte) error
	// Answer records a MeetingResponse and returns the calendar item's
	// ServerId ("" when declined). Errors wrapping model.ErrItemInvalid
	// or model.ErrItemNotFound are the request's fault.
	Answer(ctx context.Context, db model.DB, userID int64, a model.MeetingAnswer) (string, error)
	// Flush sends what is queued for the user through send.
	Flush(ctx context.Context, userID int64, send func(ctx context.Context, from string, to []string, msg []byte) error) (int, error)
}

// flushMeetings sends the iMIP messages queued for the user, after the
// request's transaction committed. A failure is logged and leaves them
// queued: the data they announce is committed, the client's request
// succeeded, and the next calendar write or MeetingResponse of the user
// sends them.
//
// It runs on a context detached from the request's, as a send does
// (sendFinishTimeout): a phone that hangs up once the data is committed
// must not cut a submission off between the mail server's 250 and the
// calendar noting the message sent, which would send it again next time.
func (k *call) flushMeetings() {
	m, sub := k.s.opts.Meetings, k.s.opts.Submitter
	if m == nil || sub == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.ctx()), sendFinishTimeout)
	defer cancel()
	n, err := m.Flush(ctx, k.dev.UserID, func(ctx context.Context, from string, to []string, msg []byte) error {
		return sub.Submit(ctx, k.creds.Login, k.creds.Password, from, to, msg)
	})
	if err != nil {
		k.log.Warn("meeting messages not sent; kept for the next attempt", "sent", n, "err", err)
		return
	}
	if n > 0 {
		k.log.Info("meeting messages sent", "count", n)
	}
}

// fileMeetings files the meeting mails of a window in the user's
// calendar, in the Sync's transaction, before the phone sees them: the
// phone then finds the meeting (tentative) when it looks for the request
// in its calendar. A meeting the calendar cannot file is logged; the
// mail still syncs.
func (m *mailSync) fileMeetings(items []model.MailItem) error {
	k := m.sc.k
	mt := k.s.opts.Meetings
	if mt == nil {
		return nil
	}
	self := ""
	for _, it := range items {
		e, ok := it.Data.(*message.Email)
		if !ok || e.Meeting == nil {
			continue
		}
		if self == "" {
			var err error
			if self, err = k.userAddress(); err != nil {
				return err
			}
		}
		ctx := k.ctx()
		err := savepoint(ctx, m.tx.PGTx(), func(db pgx.Tx) error {
			return mt.FileMail(ctx, db, k.dev.UserID, self, e.Meeting)
		})
		if err != nil && ctx.Err() != nil {
			return err
		}
		if err != nil {
			// The savepoint undid the attempt; the mail syncs anyway.
			level := slog.LevelWarn
			if errors.Is(err, model.ErrItemInvalid) {
				level = slog.LevelInfo
			}
			k.log.Log(ctx, level, "meeting mail not filed in the calendar", "uid", it.UID, "err", err)
		}
	}
	return nil
}
