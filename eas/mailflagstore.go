package eas

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
)

// Flag details (model.FlagDetails) per message, in table mail_flags
// (migrations/00011_mail_flags.sql). A row is keyed by user, folder id,
// UIDVALIDITY and UID, so it is found only for the message it was written
// for. Reads take a whole Sync window or one fetched item in one query;
// writes are queued on a pgx.Batch and sent once per request, inside the
// caller's transaction where there is one (Sync, MoveItems), so that they
// commit together with the sync state.

// flagDB is what the store needs of a connection: a pgx.Tx or a pool.
type flagDB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// mailboxKey names a mailbox for the store: the user, the EAS folder id
// and the mailbox's UIDVALIDITY.
type mailboxKey struct {
	user        int64
	folder      string
	uidValidity uint32
}

// storedFlag is one row: the details, and when the row was written (the
// database's clock), which tells a reader whether its IMAP view is older.
type storedFlag struct {
	model.FlagDetails
	uidValidity uint32
	updated     time.Time
}

const flagColumns = `uid, uidvalidity, status, flag_type, start_date, utc_start_date, due_date, utc_due_date,
	reminder_set, reminder_time, ordinal_date, sub_ordinal_date, complete_time, date_completed, updated_at`

// readFlagDetails returns the details stored for uids of the mailbox, by UID.
func readFlagDetails(ctx context.Context, db flagDB, mb mailboxKey, uids []uint32) (map[uint32]*storedFlag, error) {
	out := map[uint32]*storedFlag{}
	if len(uids) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `SELECT `+flagColumns+` FROM mail_flags
		WHERE user_id = $1 AND folder_id = $2 AND uid = ANY($3::bigint[]) AND uidvalidity = $4`,
		mb.user, mb.folder, int64s(uids), int64(mb.uidValidity))
	if err != nil {
		return nil, fmt.Errorf("mail flags: read: %w", err)
	}
	err = scanFlags(rows, func(uid uint32, s *storedFlag) { out[uid] = s })
	return out, err
}

// readMessageFlags returns the rows of messages under every UIDVALIDITY
// the folder had, by UID: a caller that does not know the mailbox's
// current one asks the mail server only when there is a row at all.
func readMessageFlags(ctx context.Context, db flagDB, user int64, folder string, uids []uint32) (map[uint32][]*storedFlag, error) {
	out := map[uint32][]*storedFlag{}
	if len(uids) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `SELECT `+flagColumns+` FROM mail_flags
		WHERE user_id = $1 AND folder_id = $2 AND uid = ANY($3::bigint[])`, user, folder, int64s(uids))
	if err != nil {
		return nil, fmt.Errorf("mail flags: read: %w", err)
	}
	err = scanFlags(rows, func(uid uint32, s *storedFlag) { out[uid] = append(out[uid], s) })
	return out, err
}

// applyStoredFlags renders the Flag of items of folder f, fetched outside
// a Sync, with their stored details, as Sync does (model.EmailFlag). It
// needs the mailbox's UIDVALIDITY only when there is a row (most fetches
// cost one indexed query), and the fetch that rendered the items has
// selected the mailbox, which says it. A row that
// disagrees with IMAP is ignored here; Sync drops such rows.
func applyStoredFlags(ctx context.Context, db flagDB, user int64, sess MailSession, f folders.Folder, items []model.MailItem) error {
	var uids []uint32
	for _, it := range items {
		if flagOf(it.Data) != nil { // no Flag before 12.0
			uids = append(uids, it.UID)
		}
	}
	rows, err := readMessageFlags(ctx, db, user, f.ServerID, uids)
	if err != nil || len(rows) == 0 {
		return err
	}
	uv, err := sess.UIDValidity(ctx, f.IMAPName)
	if err != nil {
		return err
	}
	current := map[uint32]*storedFlag{}
	for uid, list := range rows {
		for _, s := range list {
			if s.uidValidity == uv {
				current[uid] = s
			}
		}
	}
	renderStoredFlags(items, current)
	return nil
}

func scanFlags(rows pgx.Rows, fn func(uint32, *storedFlag)) error {
	defer rows.Close()
	for rows.Next() {
		var (
			uid, uv                                   int64
			status                                    int16
			flagType, subOrdinal                      *string
			start, utcStart, due, utcDue, remindAt    *time.Time
			ordinal, completeTime, dateCompleted, upd *time.Time
			s                                         storedFlag
		)
		if err := rows.Scan(&uid, &uv, &status, &flagType, &start, &utcStart, &due, &utcDue,
			&s.ReminderSet, &remindAt, &ordinal, &subOrdinal, &completeTime, &dateCompleted, &upd); err != nil {
			return fmt.Errorf("mail flags: read: %w", err)
		}
		s.uidValidity, s.updated = uint32(uv), *upd
		s.Complete = status == 1
		s.FlagType, s.SubOrdinalDate = deref(flagType), deref(subOrdinal)
		s.StartDate, s.UtcStartDate, s.DueDate, s.UtcDueDate = derefTime(start), derefTime(utcStart), derefTime(due), derefTime(utcDue)
		s.ReminderTime, s.OrdinalDate = derefTime(remindAt), derefTime(ordinal)
		s.CompleteTime, s.DateCompleted = derefTime(completeTime), derefTime(dateCompleted)
		fn(uint32(uid), &s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mail flags: read: %w", err)
	}
	return nil
}

// flagWrites collects a request's writes for one round trip.
type flagWrites struct{ b pgx.Batch }

// put stores the details of a message, replacing what was there: a
// re-sent request writes the same row again, never a second one.
// updated_at is clock_timestamp(), not the transaction's start, because it
// must be later than the IMAP change made before it in the request.
func (w *flagWrites) put(mb mailboxKey, uid uint32, d *model.FlagDetails) {
	status := 2
	if d.Complete {
		status = 1
	}
	w.b.Queue(`INSERT INTO mail_flags (user_id, folder_id, uid, uidvalidity, status, flag_type,
		start_date, utc_start_date, due_date, utc_due_date, reminder_set, reminder_time,
		ordinal_date, sub_ordinal_date, complete_time, date_completed, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, clock_timestamp())
		ON CONFLICT (user_id, folder_id, uid, uidvalidity) DO UPDATE SET status = EXCLUDED.status,
			flag_type = EXCLUDED.flag_type, start_date = EXCLUDED.start_date,
			utc_start_date = EXCLUDED.utc_start_date, due_date = EXCLUDED.due_date,
			utc_due_date = EXCLUDED.utc_due_date, reminder_set = EXCLUDED.reminder_set,
			reminder_time = EXCLUDED.reminder_time, ordinal_date = EXCLUDED.ordinal_date,
			sub_ordinal_date = EXCLUDED.sub_ordinal_date, complete_time = EXCLUDED.complete_time,
			date_completed = EXCLUDED.date_completed, updated_at = EXCLUDED.updated_at`,
		mb.user, mb.folder, int64(uid), int64(mb.uidValidity), status, nullString(d.FlagType),
		nullTime(d.StartDate), nullTime(d.UtcStartDate), nullTime(d.DueDate), nullTime(d.UtcDueDate),
		d.ReminderSet, nullTime(d.ReminderTime), nullTime(d.OrdinalDate), nullString(d.SubOrdinalDate),
		nullTime(d.CompleteTime), nullTime(d.DateCompleted))
}

// remove deletes the details of messages (flag cleared, message gone).
func (w *flagWrites) remove(mb mailboxKey, uids []uint32) {
	if len(uids) == 0 {
		return
	}
	w.b.Queue(`DELETE FROM mail_flags WHERE user_id = $1 AND folder_id = $2
		AND uid = ANY($3::bigint[]) AND uidvalidity = $4`, mb.user, mb.folder, int64s(uids), int64(mb.uidValidity))
}

// dropStale deletes a row that disagrees with the IMAP state a reader
// saw, but only if it is the row the reader read (same updated_at) and
// was written before the reader's transaction began, hence before its
// IMAP listing: a row written meanwhile goes with an IMAP change the
// reader has not seen yet. Under READ COMMITTED a concurrent rewrite of
// the row makes the condition false, so a fresh row is never lost.
func (w *flagWrites) dropStale(mb mailboxKey, uid uint32, seen *storedFlag) {
	w.b.Queue(`DELETE FROM mail_flags WHERE user_id = $1 AND folder_id = $2 AND uid = $3
		AND uidvalidity = $4 AND updated_at = $5 AND updated_at < now()`,
		mb.user, mb.folder, int64(uid), int64(mb.uidValidity), seen.updated)
}

// pruneOtherUIDValidity deletes the folder's rows of earlier UIDVALIDITYs:
// their UIDs name no message any more.
func (w *flagWrites) pruneOtherUIDValidity(mb mailboxKey) {
	w.b.Queue(`DELETE FROM mail_flags WHERE user_id = $1 AND folder_id = $2 AND uidvalidity <> $3`,
		mb.user, mb.folder, int64(mb.uidValidity))
}

// move makes the details of moved messages follow them: uids maps their
// UIDs in from to those in to. A row already at a new UID (left by an
// older message of a mailbox recreated under the same UIDVALIDITY, which
// should not happen) gives way. One statement each, whatever the count.
func (w *flagWrites) move(from mailboxKey, to mailboxKey, uids map[uint32]uint32) {
	if len(uids) == 0 {
		return
	}
	olds, news := make([]int64, 0, len(uids)), make([]int64, 0, len(uids))
	for o, n := range uids {
		olds, news = append(olds, int64(o)), append(news, int64(n))
	}
	w.b.Queue(`DELETE FROM mail_flags WHERE user_id = $1 AND folder_id = $2 AND uid = ANY($3::bigint[]) AND uidvalidity = $4`,
		to.user, to.folder, news, int64(to.uidValidity))
	w.b.Queue(`UPDATE mail_flags f SET folder_id = $5, uid = m.new, uidvalidity = $6, updated_at = clock_timestamp()
		FROM unnest($3::bigint[], $7::bigint[]) AS m(old, new)
		WHERE f.user_id = $1 AND f.folder_id = $2 AND f.uid = m.old AND f.uidvalidity = $4`,
		from.user, from.folder, olds, int64(from.uidValidity), to.folder, int64(to.uidValidity), news)
}

// deleted handles the details of messages deleted from from: those the
// server moved to the folder trash (its EAS folder id) under a UID it
// said follow them there, the rest are dropped.
func (w *flagWrites) deleted(from mailboxKey, trash string, moved model.MailMoved, uids []uint32) {
	w.move(from, mailboxKey{user: from.user, folder: trash, uidValidity: moved.UIDValidity}, moved.UIDs)
	w.remove(from, uids)
}

// send runs the queued writes, if any, in one round trip.
func (w *flagWrites) send(ctx context.Context, db flagDB) error {
	if w.b.Len() == 0 {
		return nil
	}
	if err := db.SendBatch(ctx, &w.b).Close(); err != nil {
		return fmt.Errorf("mail flags: write: %w", err)
	}
	w.b = pgx.Batch{}
	return nil
}

func int64s(uids []uint32) []int64 {
	out := make([]int64, len(uids))
	for i, u := range uids {
		out[i] = int64(u)
	}
	return out
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
