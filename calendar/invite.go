package calendar

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/model"
)

// The attendee's side of meetings, and the organizer's reading of
// replies.
//
// Where an invitation enters the calendar: when its mail is synced to a
// phone (the Email Sync files the object of every meeting mail it sends
// the phone), in the user's default calendar, as tentative and awaiting
// the answer, the way Exchange shows an unanswered meeting. Filing is
// idempotent by UID and SEQUENCE: the same mail synced by a second
// device, or again after a resync, changes nothing; an update of the
// meeting (a higher SEQUENCE) replaces the stored one; an older one is
// ignored. That choice costs nothing for users who never sync mail
// (their calendar stays as CalDAV leaves it) and needs no delivery hook
// in the mail server.

// Answers (MeetingResponse UserResponse).
const (
	Accept    = 1
	Tentative = 2
	Decline   = 3
)

var answerPartStat = map[int]string{Accept: "ACCEPTED", Tentative: "TENTATIVE", Decline: "DECLINED"}

// ResponseType values (MS-ASCAL 2.2.2.38) an answer stores.
var answerResponseType = map[int]string{Accept: "3", Tentative: "2", Decline: "4"}

// ErrNotInvited: the meeting is the user's own, or the object is not an
// invitation; MeetingResponse answers it "invalid meeting request".
var ErrNotInvited = errors.New("calendar: not an invitation to the user")

// Meetings files meeting mails in users' calendars and records their
// answers.
type Meetings struct{ store *Store }

// NewMeetings returns the meetings side of store.
func NewMeetings(store *Store) *Meetings { return &Meetings{store: store} }

// DefaultCalendar is the folder id of the user's default calendar (EAS
// folder type 8).
func DefaultCalendar(ctx context.Context, q Querier, userID int64) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT server_id FROM folders WHERE user_id = $1 AND type = 8 ORDER BY server_id LIMIT 1`, userID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("calendar: user %d has no default calendar", userID)
	}
	if err != nil {
		return "", fmt.Errorf("calendar: default calendar: %w", err)
	}
	return id, nil
}

// File takes the object of a meeting mail synced to the user self into
// the calendar: a REQUEST adds the meeting (or replaces it with a newer
// SEQUENCE), tentative until answered; a CANCEL marks it cancelled (one
// cancelled occurrence: deleted); a REPLY to a meeting self organises
// records the attendee's answer. Mails about the user's own meetings
// (copies of what easd sent) and unknown methods change nothing.
func (m *Meetings) File(ctx context.Context, q Querier, userID int64, self string, ics []byte) error {
	inv, err := ParseInvitation(ics)
	if err != nil {
		return err
	}
	stored, err := m.store.ByUID(ctx, q, userID, inv.UID)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	switch inv.Method {
	case "REQUEST":
		if sameAddress(organizerOf(inv.Event), self) {
			return nil
		}
		// An invitation filed before and gone from the calendar since
		// (declined, or deleted by the user) stays gone until the
		// organizer sends a newer one.
		fresh, err := markFiled(ctx, q, userID, inv)
		if err != nil {
			return err
		}
		if !found {
			if !fresh {
				return nil
			}
			folder, err := DefaultCalendar(ctx, q, userID)
			if err != nil {
				return err
			}
			_, err = m.store.Create(ctx, q, userID, folder, received(inv.Cal, nil, self))
			if errors.Is(err, ErrUIDExists) {
				return nil // filed meanwhile by another request
			}
			return err
		}
		if organisedBy(stored.Cal, self) || !newer(inv, stored.Cal) {
			return nil
		}
		return m.update(ctx, q, userID, stored, received(inv.Cal, stored.Cal, self))
	case "CANCEL":
		if !found {
			// Mail syncs newest first: the request this cancels may
			// come after it, and must not file a cancelled meeting.
			_, err := markFiled(ctx, q, userID, inv)
			return err
		}
		if organisedBy(stored.Cal, self) {
			return nil
		}
		return m.update(ctx, q, userID, stored, cancelled(inv, stored.Cal))
	case "REPLY":
		if !found || !organisedBy(stored.Cal, self) {
			return nil
		}
		return m.update(ctx, q, userID, stored, replied(inv, stored.Cal))
	}
	return nil
}

// update writes cal over the stored event unless nothing changed.
func (m *Meetings) update(ctx context.Context, q Querier, userID int64, stored Event, cal *ical.Calendar) error {
	if cal == nil {
		return nil
	}
	a, err1 := encodeObject(stored.Cal)
	b, err2 := encodeObject(cal)
	if err1 == nil && err2 == nil && a == b {
		return nil
	}
	_, err := m.store.Update(ctx, q, userID, stored.FolderID, stored.ServerID, cal)
	return err
}

// newer reports whether inv updates the stored series (RFC 5546 2.1.5:
// a higher SEQUENCE, or the same one with a later DTSTAMP). An
// invitation for one occurrence of a stored series always applies.
func newer(inv *Invitation, stored *ical.Calendar) bool {
	master, _ := events(inv.Cal)
	if master == nil {
		return true
	}
	old := firstEvent(stored)
	if s, o := inv.Sequence, sequenceOf(old); s != o {
		return s > o
	}
	return textOf(inv.Event, ical.PropDateTimeStamp) > textOf(old, ical.PropDateTimeStamp)
}

// received makes the stored form of an invitation: the object without
// METHOD, a received meeting (MeetingStatus 3) that shows tentative and
// not yet answered. With stored, an invitation for one occurrence is
// merged into the stored series, and the user's answer to a series
// whose update changed nothing attendees answer for is kept.
func received(in, stored *ical.Calendar, self string) *ical.Calendar {
	cal := cloneCalendar(in)
	cal.Props.Del(ical.PropMethod)
	master, _ := events(cal)
	if stored != nil && master == nil {
		// One occurrence: merge into the stored series.
		out := cloneCalendar(stored)
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone && !hasTZ(out, textOf(c, ical.PropTimezoneID)) {
				out.Children = append([]*ical.Component{c}, out.Children...)
			}
		}
		for _, c := range cal.Children {
			if c.Name != ical.CompEvent {
				continue
			}
			rid := c.Props.Get(ical.PropRecurrenceID)
			out.Children = slices.DeleteFunc(out.Children, func(x *ical.Component) bool {
				p := x.Props.Get(ical.PropRecurrenceID)
				return x.Name == ical.CompEvent && p != nil && rid != nil && p.Value == rid.Value
			})
			markReceived(c, self)
			out.Children = append(out.Children, c)
		}
		return out
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			markReceived(c, self)
		}
	}
	return cal
}

func markReceived(c *ical.Component, self string) {
	c.Props.SetText(xMeeting, "3")
	intended := strings.ToUpper(textOf(c, "X-MICROSOFT-CDO-INTENDEDSTATUS"))
	if intended == "" {
		intended = "BUSY"
		if strings.EqualFold(textOf(c, ical.PropTransparency), "TRANSPARENT") {
			intended = "FREE"
		}
	}
	c.Props.SetText("X-MICROSOFT-CDO-INTENDEDSTATUS", intended)
	switch partStatOf(c, self) {
	case "ACCEPTED":
		c.Props.SetText(xBusyStatus, intended)
		c.Props.SetText(xRespType, "3")
	case "DECLINED":
		c.Props.SetText(xBusyStatus, "FREE")
		c.Props.SetText(xRespType, "4")
	default:
		// Not answered yet: tentative in the calendar and to free/busy.
		c.Props.SetText(xBusyStatus, "TENTATIVE")
		c.Props.SetText(xRespType, "5")
	}
	if textOf(c, ical.PropSequence) == "" {
		setSequence(c, "0")
	}
}

// cancelled applies a CANCEL: the series (or one occurrence, whose
// RECURRENCE-ID names it) is marked cancelled and free, as Exchange
// keeps a cancelled meeting in view until the user removes it; a
// cancelled occurrence of a series is removed from it (EXDATE).
func cancelled(inv *Invitation, stored *ical.Calendar) *ical.Calendar {
	cal := cloneCalendar(stored)
	master, overrides := events(cal)
	if rid := inv.Event.Props.Get(ical.PropRecurrenceID); rid != nil && master != nil && master.Props.Get(ical.PropRecurrenceRule) != nil {
		z := zonesOf(inv.Cal, nil)
		w, err := z.timeOf(rid)
		if err != nil {
			return nil
		}
		out, err := DeleteInstance(cal, w.t, nil)
		if err != nil {
			return nil
		}
		return out
	}
	for _, c := range append([]*ical.Component{master}, overrides...) {
		if c == nil {
			continue
		}
		c.Props.SetText(ical.PropStatus, "CANCELLED")
		c.Props.SetText(xMeeting, "7")
		c.Props.SetText(xBusyStatus, "FREE")
		setSequence(c, strconv.Itoa(max(inv.Sequence, sequenceOf(c))))
	}
	return cal
}

// replied records the answers of a REPLY on the organizer's series: each
// attendee's PARTSTAT in the series, or in the occurrence the reply
// names when the series has an override for it.
func replied(inv *Invitation, stored *ical.Calendar) *ical.Calendar {
	cal := cloneCalendar(stored)
	master, overrides := events(cal)
	target := master
	if rid := inv.Event.Props.Get(ical.PropRecurrenceID); rid != nil {
		for _, o := range overrides {
			if p := o.Props.Get(ical.PropRecurrenceID); p != nil && p.Value == rid.Value {
				target = o
			}
		}
	}
	if target == nil {
		return nil
	}
	for _, a := range inv.Event.Props.Values(ical.PropAttendee) {
		ps := strings.ToUpper(a.Params.Get(ical.ParamParticipationStatus))
		if ps == "" {
			continue
		}
		setPartStat(target, a.Value, ps, a.Params.Get(ical.ParamCommonName))
	}
	return cal
}

// setPartStat sets who's PARTSTAT on c, adding who as attendee if c does
// not list it.
func setPartStat(c *ical.Component, who, partStat, name string) {
	list := c.Props[ical.PropAttendee]
	for i, a := range list {
		if sameAddress(a.Value, who) {
			a.Params.Set(ical.ParamParticipationStatus, partStat)
			a.Params.Del(ical.ParamRSVP)
			list[i] = a
			return
		}
	}
	p := ical.NewProp(ical.PropAttendee)
	p.Value = "mailto:" + mailtoOf(who)
	p.Params.Set(ical.ParamParticipationStatus, partStat)
	if name != "" {
		p.Params.Set(ical.ParamCommonName, name)
	}
	c.Props.Add(p)
}

// Answer is a user's answer to a meeting (MeetingResponse).
type Answer = model.MeetingAnswer

// Respond records a's answer in the user's calendar and returns the
// calendar item's ServerId ("" for a declined meeting, which leaves the
// calendar, as on Exchange). A mail's invitation not filed yet is filed
// first. ErrNotInvited: the meeting is the user's own; ErrNotFound: no
// such calendar item.
func (m *Meetings) Respond(ctx context.Context, q Querier, userID int64, a Answer) (string, error) {
	if a.Now.IsZero() {
		a.Now = time.Now()
	}
	ps, ok := answerPartStat[a.Response]
	if !ok {
		return "", fmt.Errorf("%w: UserResponse %d", ErrBadValue, a.Response)
	}
	var ev Event
	var err error
	if a.ICS != nil {
		inv, err := ParseInvitation(a.ICS)
		if err != nil {
			return "", err
		}
		if inv.Method != "REQUEST" && inv.Method != "" {
			return "", fmt.Errorf("%w: method %s", ErrNotInvited, inv.Method)
		}
		if err := m.File(ctx, q, userID, a.Self, a.ICS); err != nil {
			return "", err
		}
		ev, err = m.store.ByUID(ctx, q, userID, inv.UID)
		if errors.Is(err, ErrNotFound) && !sameAddress(organizerOf(inv.Event), a.Self) {
			// Declined or deleted before: the user changed their mind,
			// and answering the mail again brings the meeting back.
			folder, ferr := DefaultCalendar(ctx, q, userID)
			if ferr != nil {
				return "", ferr
			}
			ev, err = m.store.Create(ctx, q, userID, folder, received(inv.Cal, nil, a.Self))
		}
		if err != nil {
			return "", err
		}
	} else {
		evs, err := m.store.Get(ctx, q, userID, a.FolderID, []string{a.ServerID})
		if err != nil {
			return "", err
		}
		if len(evs) == 0 {
			return "", ErrNotFound
		}
		ev = evs[0]
	}
	master := firstEvent(ev.Cal)
	if master == nil || organisedBy(ev.Cal, a.Self) || organizerOf(master) == "" {
		return "", ErrNotInvited
	}
	cal := cloneCalendar(ev.Cal)
	target, err := occurrence(cal, a.Instance, a.Zone)
	if err != nil {
		return "", err
	}
	setPartStat(target, a.Self, ps, "")
	target.Props.SetText(xRespType, answerResponseType[a.Response])
	target.Props.SetText(xReplyTime, a.Now.UTC().Format(compact))
	switch a.Response {
	case Accept:
		intended := textOf(target, "X-MICROSOFT-CDO-INTENDEDSTATUS")
		if intended == "" {
			intended = "BUSY"
		}
		target.Props.SetText(xBusyStatus, intended)
	case Tentative:
		target.Props.SetText(xBusyStatus, "TENTATIVE")
	case Decline:
		target.Props.SetText(xBusyStatus, "FREE")
	}
	if a.Reply {
		if err := queueReply(ctx, q, userID, a, cal, target, ps); err != nil {
			return "", err
		}
	}
	if a.Response == Decline {
		// Declined: out of the calendar, the series or the occurrence.
		if a.Instance.IsZero() {
			if err := m.store.Delete(ctx, q, userID, ev.FolderID, ev.ServerID); err != nil {
				return "", err
			}
			return "", nil
		}
		out, err := DeleteInstance(ev.Cal, a.Instance, a.Zone)
		if err != nil {
			return "", err
		}
		_, err = m.store.Update(ctx, q, userID, ev.FolderID, ev.ServerID, out)
		return "", err
	}
	e, err := m.store.Update(ctx, q, userID, ev.FolderID, ev.ServerID, cal)
	if err != nil {
		return "", err
	}
	return e.ServerID, nil
}

// occurrence is the VEVENT an answer applies to: the master, or the
// override of instance, made from the master when there is none.
func occurrence(cal *ical.Calendar, instance time.Time, zone *time.Location) (*ical.Component, error) {
	master, overrides := events(cal)
	if instance.IsZero() || master == nil {
		if master == nil {
			return overrides[0], nil
		}
		return master, nil
	}
	if master.Props.Get(ical.PropRecurrenceRule) == nil {
		return nil, fmt.Errorf("%w: InstanceId: the meeting is not a series", ErrBadValue)
	}
	z := zonesOf(cal, zone)
	for _, o := range overrides {
		if w, err := z.timeOf(o.Props.Get(ical.PropRecurrenceID)); err == nil && w.t.Equal(instance) {
			return o, nil
		}
	}
	s, e, err := z.span(master)
	if err != nil {
		return nil, err
	}
	loc := zoneOfProp(master.Props.Get(ical.PropDateTimeStart), z, zone)
	o := cloneComponent(master)
	for _, p := range []string{ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates} {
		o.Props.Del(p)
	}
	rid := when{t: instance, date: s.date}
	if s.date {
		rid.t = dateOf(rid, time.UTC)
	}
	setWhen(o, ical.PropRecurrenceID, rid, loc)
	setWhen(o, ical.PropDateTimeStart, rid, loc)
	setWhen(o, ical.PropDateTimeEnd, when{t: rid.t.Add(e.t.Sub(s.t)), date: s.date}, loc)
	cal.Children = append(cal.Children, o)
	return o, nil
}

// queueReply queues the REPLY (or COUNTER, with a proposed time) of an
// answer to the organizer: the answered VEVENT with only the user as
// attendee (RFC 5546 3.2.3). Its key holds the answer, so a re-sent
// MeetingResponse sends nothing again, and a changed answer is sent.
func queueReply(ctx context.Context, q Querier, userID int64, a Answer, cal *ical.Calendar, target *ical.Component, ps string) error {
	out := &ical.Calendar{Component: &ical.Component{Name: ical.CompCalendar, Props: ical.Props{}}}
	out.Props.SetText(ical.PropProductID, prodID)
	out.Props.SetText(ical.PropVersion, "2.0")
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			out.Children = append(out.Children, c)
		}
	}
	ev := ical.NewComponent(ical.CompEvent)
	for _, name := range []string{ical.PropUID, ical.PropSequence, ical.PropRecurrenceID, ical.PropDateTimeStart,
		ical.PropDateTimeEnd, ical.PropDuration, ical.PropSummary, ical.PropLocation, ical.PropOrganizer} {
		if ps := target.Props.Values(name); len(ps) > 0 {
			ev.Props[name] = slices.Clone(ps)
		}
	}
	if ev.Props.Get(ical.PropUID) == nil {
		ev.Props.SetText(ical.PropUID, textOf(firstEvent(cal), ical.PropUID))
	}
	setDateTimeUTC(ev, ical.PropDateTimeStamp, a.Now)
	att := ical.NewProp(ical.PropAttendee)
	att.Value = "mailto:" + a.Self
	att.Params.Set(ical.ParamParticipationStatus, ps)
	ev.Props.Add(att)
	method := "REPLY"
	variant := ps
	if !a.ProposedStart.IsZero() && !a.ProposedEnd.IsZero() && a.ProposedEnd.After(a.ProposedStart) {
		method = "COUNTER"
		setDateTimeUTC(ev, ical.PropDateTimeStart, a.ProposedStart)
		setDateTimeUTC(ev, ical.PropDateTimeEnd, a.ProposedEnd)
		ev.Props.Del(ical.PropDuration)
		variant += " " + a.ProposedStart.UTC().Format(compact) + "/" + a.ProposedEnd.UTC().Format(compact)
	}
	if a.Comment != "" {
		ev.Props.SetText(ical.PropComment, a.Comment)
	}
	out.Children = append(out.Children, ev)
	org := organizerOf(target)
	if org == "" {
		org = organizerOf(firstEvent(cal))
	}
	if org == "" {
		return fmt.Errorf("%w: no organizer to answer", ErrNotInvited)
	}
	if p := ev.Props.Get(ical.PropRecurrenceID); p != nil {
		variant += " " + p.Value
	}
	msg, err := IMIPMessage(method, out, a.Self, []string{org}, a.Comment)
	if err != nil {
		return err
	}
	return enqueue(ctx, q, userID, textOf(ev, ical.PropUID), sequenceOf(ev), method, org, variant, a.Self, msg)
}

// markFiled records that the user's calendar got the invitation's
// SEQUENCE, and reports whether it had not got it (or a later one)
// before.
func markFiled(ctx context.Context, q Querier, userID int64, inv *Invitation) (bool, error) {
	var fresh bool
	err := q.QueryRow(ctx, `WITH old AS (SELECT sequence FROM meeting_filed WHERE user_id = $1 AND uid = $2),
		up AS (INSERT INTO meeting_filed AS f (user_id, uid, sequence) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, uid) DO UPDATE SET sequence = greatest(f.sequence, excluded.sequence))
		SELECT NOT EXISTS (SELECT 1 FROM old WHERE sequence >= $3)`, userID, inv.UID, inv.Sequence).Scan(&fresh)
	if err != nil {
		return false, fmt.Errorf("calendar: record invitation %q: %w", inv.UID, err)
	}
	return fresh, nil
}

// FileMail is File for the protocol: errors the phone's data caused are
// the item seam's (model.ErrItemInvalid).
func (m *Meetings) FileMail(ctx context.Context, db model.DB, userID int64, self string, ics []byte) error {
	return itemErr(m.File(ctx, db, userID, self, ics))
}

// Answer is Respond for the protocol: a meeting that is not an
// invitation to the user is model.ErrItemInvalid, a missing item
// model.ErrItemNotFound.
func (m *Meetings) Answer(ctx context.Context, db model.DB, userID int64, a model.MeetingAnswer) (string, error) {
	id, err := m.Respond(ctx, db, userID, a)
	if errors.Is(err, ErrNotInvited) {
		return "", fmt.Errorf("%w: %w", model.ErrItemInvalid, err)
	}
	return id, itemErr(err)
}

// Flush sends the user's queued iMIP messages (package function Flush)
// over the store's pool.
func (m *Meetings) Flush(ctx context.Context, userID int64, send func(ctx context.Context, from string, to []string, msg []byte) error) (int, error) {
	return Flush(ctx, m.store.pool, userID, send)
}

// FreeBusy is the package function FreeBusy over the store's pool, for
// ResolveRecipients Availability.
func (m *Meetings) FreeBusy(ctx context.Context, userID int64, from, to time.Time) (string, error) {
	return m.store.FreeBusy(ctx, m.store.pool, userID, from, to)
}
