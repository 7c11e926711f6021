package calendar

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5"
)

// iMIP (RFC 6047): the messages easd sends for its users. Meetings the
// user organises on the phone go out as REQUEST to every attendee and as
// CANCEL when they are cancelled or deleted; answers to invitations go to
// the organizer as REPLY (COUNTER with a proposed new time). Each message
// is queued in the meeting_outbox table in the transaction that changes
// the calendar, keyed by (UID, SEQUENCE, method, recipient, variant), and
// sent by Flush after that transaction committed: a replayed Sync or a
// re-sent MeetingResponse queues the same key again, which is a no-op,
// so nothing is sent twice; a rolled back one queued nothing.

// Meeting status values of MS-ASCAL 2.2.2.29 the organizer side reads.
func organisedStatus(s string) bool { return s == "1" || s == "5" || s == "9" || s == "13" }
func cancelledStatus(s string) bool { return s == "5" || s == "7" || s == "13" || s == "15" }
func sameAddress(a, b string) bool  { return a != "" && strings.EqualFold(mailtoOf(a), mailtoOf(b)) }
func organizerOf(c *ical.Component) string {
	if p := c.Props.Get(ical.PropOrganizer); p != nil {
		return mailtoOf(p.Value)
	}
	return ""
}

// organisedBy reports whether the series is a meeting self organises.
func organisedBy(cal *ical.Calendar, self string) bool {
	master := firstEvent(cal)
	if master == nil || self == "" || len(master.Props.Values(ical.PropAttendee)) == 0 {
		return false
	}
	return sameAddress(organizerOf(master), self)
}

// organize prepares a phone's meeting for storing, before the write:
// a meeting the phone says the user organises (MeetingStatus 1, 5, 9,
// 13: 16.x clients send no organizer) gets the user as ORGANIZER, and a
// change that attendees must hear of (time, recurrence, place, title,
// text, cancellation) raises SEQUENCE (RFC 5546 2.1.4). An identical
// re-sent change raises nothing, so it queues nothing either.
func organize(before, after *ical.Calendar, self string) {
	master := firstEvent(after)
	if master == nil || self == "" || len(master.Props.Values(ical.PropAttendee)) == 0 {
		return
	}
	if organizerOf(master) == "" && organisedStatus(textOf(master, xMeeting)) {
		p := ical.NewProp(ical.PropOrganizer)
		p.Value = "mailto:" + self
		for _, c := range after.Children {
			if c.Name == ical.CompEvent {
				c.Props.Set(p)
			}
		}
	}
	if !organisedBy(after, self) {
		return
	}
	seq := 0
	if before != nil {
		if m := firstEvent(before); m != nil {
			seq = sequenceOf(m)
			if fingerprint(before) != fingerprint(after) {
				seq++
			}
		}
	}
	for _, c := range after.Children {
		if c.Name == ical.CompEvent {
			setSequence(c, strconv.Itoa(seq))
			// A new attendee is asked to answer.
			for i, a := range c.Props[ical.PropAttendee] {
				if a.Params.Get(ical.ParamParticipationStatus) == "" {
					a.Params.Set(ical.ParamParticipationStatus, "NEEDS-ACTION")
				}
				if a.Params.Get(ical.ParamRSVP) == "" && !sameAddress(a.Value, self) {
					a.Params.Set(ical.ParamRSVP, "TRUE")
				}
				c.Props[ical.PropAttendee][i] = a
			}
		}
	}
}

// fingerprint is what attendees must be told of when it changes.
func fingerprint(cal *ical.Calendar) string {
	var b strings.Builder
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		for _, name := range []string{ical.PropRecurrenceID, ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDuration,
			ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates, ical.PropLocation,
			ical.PropSummary, ical.PropDescription, ical.PropStatus, xMeeting} {
			for _, p := range c.Props.Values(name) {
				b.WriteString(name + ";" + p.Params.Get(ical.PropTimezoneID) + ":" + p.Value + "\n")
			}
		}
		b.WriteString("--\n")
	}
	return b.String()
}

// queueOrganized queues what a phone's write of the user's meeting must
// send, after the write: REQUEST to every attendee of after (nil: the
// series was deleted) at its SEQUENCE, CANCEL to the attendees dropped
// since before, and CANCEL to all when the meeting is cancelled or
// deleted.
func queueOrganized(ctx context.Context, q Querier, userID int64, self string, before, after *ical.Calendar) error {
	switch {
	case after != nil && organisedBy(after, self):
	case after == nil && before != nil && organisedBy(before, self):
	default:
		return nil
	}
	if after == nil {
		cancel := cloneCalendar(before)
		m := firstEvent(cancel)
		seq := sequenceOf(m) + 1
		for _, c := range cancel.Children {
			if c.Name == ical.CompEvent {
				setSequence(c, strconv.Itoa(seq))
				c.Props.SetText(ical.PropStatus, "CANCELLED")
			}
		}
		return queueToAttendees(ctx, q, userID, self, "CANCEL", cancel, attendeesOfCal(before, self))
	}
	master := firstEvent(after)
	method := "REQUEST"
	if cancelledStatus(textOf(master, xMeeting)) || strings.EqualFold(textOf(master, ical.PropStatus), "CANCELLED") {
		method = "CANCEL"
	}
	now := attendeesOfCal(after, self)
	if err := queueToAttendees(ctx, q, userID, self, method, after, now); err != nil {
		return err
	}
	if before == nil || method == "CANCEL" {
		return nil
	}
	var dropped []string
	for _, a := range attendeesOfCal(before, self) {
		if !slices.Contains(now, a) {
			dropped = append(dropped, a)
		}
	}
	if len(dropped) == 0 {
		return nil
	}
	return queueToAttendees(ctx, q, userID, self, "CANCEL", after, dropped)
}

// attendeesOfCal lists the attendees of a series (lower case), the
// organizer left out.
func attendeesOfCal(cal *ical.Calendar, self string) []string {
	var out []string
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		for _, a := range c.Props.Values(ical.PropAttendee) {
			addr := strings.ToLower(mailtoOf(a.Value))
			if addr != "" && !sameAddress(addr, self) && !slices.Contains(out, addr) {
				out = append(out, addr)
			}
		}
	}
	return out
}

// queueToAttendees queues one message per recipient: an iMIP message is
// addressed to the attendee it asks, as Exchange does, so that one
// refused address does not hold back the others.
func queueToAttendees(ctx context.Context, q Querier, userID int64, self, method string, cal *ical.Calendar, to []string) error {
	m := firstEvent(cal)
	uid, seq := textOf(m, ical.PropUID), sequenceOf(m)
	for _, rcpt := range to {
		msg, err := IMIPMessage(method, cal, self, []string{rcpt}, "")
		if err != nil {
			return err
		}
		if err := enqueue(ctx, q, userID, uid, seq, method, rcpt, "", self, msg); err != nil {
			return err
		}
	}
	return nil
}

func enqueue(ctx context.Context, q Querier, userID int64, uid string, seq int, method, rcpt, variant, from string, msg []byte) error {
	_, err := q.Exec(ctx, `INSERT INTO meeting_outbox (user_id, uid, sequence, method, recipient, variant, sender, message)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (user_id, uid, sequence, method, recipient, variant) DO NOTHING`,
		userID, uid, seq, method, strings.ToLower(rcpt), variant, from, msg)
	if err != nil {
		return fmt.Errorf("calendar: queue %s of %q: %w", method, uid, err)
	}
	return nil
}

// SendFunc submits one message from from to the recipients.
type SendFunc func(ctx context.Context, from string, to []string, msg []byte) error

// Flush sends the user's queued iMIP messages, oldest first, each in a
// transaction of its own that marks it sent once the mail server took it:
// a message is never sent before the write that queued it committed, and
// a failure leaves it (and those after it) queued for the next Flush.
// Concurrent Flushes of one user skip each other's rows. It returns how
// many were sent.
func Flush(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, userID int64, send SendFunc) (int, error) {
	n := 0
	for {
		tx, err := db.Begin(ctx)
		if err != nil {
			return n, fmt.Errorf("calendar: flush: %w", err)
		}
		var id int64
		var from, rcpt string
		var msg []byte
		err = tx.QueryRow(ctx, `SELECT id, sender, recipient, message FROM meeting_outbox
			WHERE user_id = $1 AND sent_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`, userID).Scan(&id, &from, &rcpt, &msg)
		if errors.Is(err, pgx.ErrNoRows) {
			return n, tx.Rollback(ctx)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
			return n, fmt.Errorf("calendar: flush: %w", err)
		}
		if err := send(ctx, from, []string{rcpt}, msg); err != nil {
			_ = tx.Rollback(ctx)
			return n, fmt.Errorf("calendar: send iMIP to %s: %w", rcpt, err)
		}
		// The mail server has the message: recording that must not be
		// undone by the request's end (the phone hanging up now), or the
		// next Flush would send it a second time.
		kept := context.WithoutCancel(ctx)
		if _, err := tx.Exec(kept, `UPDATE meeting_outbox SET sent_at = now() WHERE id = $1`, id); err != nil {
			_ = tx.Rollback(kept)
			return n, fmt.Errorf("calendar: flush: %w", err)
		}
		if err := tx.Commit(kept); err != nil {
			return n, fmt.Errorf("calendar: flush: %w", err)
		}
		n++
	}
}

// IMIPMessage builds the iMIP message (RFC 6047) carrying cal with
// method from from to to: a short plain-text part and the object as
// text/calendar with the method, in multipart/alternative, as calendar
// clients expect. comment, when not empty, is the user's text (a reply's).
func IMIPMessage(method string, cal *ical.Calendar, from string, to []string, comment string) ([]byte, error) {
	out := itipObject(cal, method)
	text, err := encodeObject(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadObject, err)
	}
	ev := firstEvent(out)
	summary := textOf(ev, ical.PropSummary)
	var subject, body string
	switch method {
	case "REQUEST":
		subject, body = "Invitation: "+summary, "You are invited to "+summary+"."
		if sequenceOf(ev) > 0 {
			subject = "Updated invitation: " + summary
		}
	case "CANCEL":
		subject, body = "Canceled: "+summary, summary+" has been canceled."
	case "REPLY", "COUNTER":
		word := map[string]string{"ACCEPTED": "Accepted", "TENTATIVE": "Tentative", "DECLINED": "Declined"}[partStatOf(ev, from)]
		if word == "" {
			word = "Reply"
		}
		if method == "COUNTER" {
			word = "New time proposed"
		}
		subject, body = word+": "+summary, from+" answered: "+strings.ToLower(word)+"."
	}
	if comment != "" {
		body = comment + "\n\n" + body
	}
	var bnd [12]byte
	_, _ = rand.Read(bnd[:])
	boundary := "easd-" + hex.EncodeToString(bnd[:])
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", time.Now().UTC().Format(time.RFC1123Z))
	hdr("Message-ID", messageID(from))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\n")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n--" + boundary + "\r\n")
	hdr("Content-Type", "text/calendar; charset=utf-8; method="+method)
	hdr("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	b.WriteString(text)
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

func messageID(from string) string {
	var r [16]byte
	_, _ = rand.Read(r[:])
	domain := "easd.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

// itipObject is cal as an iTIP message: METHOD set, and what is the
// user's own left out (alarms, easd's X-EAS- properties).
func itipObject(cal *ical.Calendar, method string) *ical.Calendar {
	out := cloneCalendar(cal)
	out.Props.SetText(ical.PropMethod, method)
	for _, c := range out.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		c.Children = slices.DeleteFunc(c.Children, func(x *ical.Component) bool { return x.Name == ical.CompAlarm })
		for name := range c.Props {
			if strings.HasPrefix(name, "X-EAS-") {
				delete(c.Props, name)
			}
		}
		if c.Props.Get(ical.PropDateTimeStamp) == nil {
			setDateTimeUTC(c, ical.PropDateTimeStamp, time.Now())
		}
	}
	return out
}

// partStatOf is who's PARTSTAT on c, upper case.
func partStatOf(c *ical.Component, who string) string {
	for _, a := range c.Props.Values(ical.PropAttendee) {
		if sameAddress(a.Value, who) {
			return strings.ToUpper(a.Params.Get(ical.ParamParticipationStatus))
		}
	}
	return ""
}

// setSequence sets SEQUENCE as the INTEGER it is (SetText would add
// VALUE=TEXT, which strict parsers refuse).
func setSequence(c *ical.Component, v string) {
	p := ical.NewProp(ical.PropSequence)
	p.Value = v
	c.Props.Set(p)
}
