package tasks

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/calendar/recur"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/notes"
)

// Task recurrence (MS-ASTASK Recurrence) <-> RRULE.
//
// A task series is a series of days, so the rule is an all-day rule
// anchored at DTSTART;VALUE=DATE, the start day of the current
// occurrence (RFC 5545 builds the recurrence set from DTSTART). A phone's
// recurring task without a start day gets its due day (or the pattern's
// Start) as DTSTART, so every iCalendar reader sees the same series. The
// EAS pattern is computed with calendar/recur both ways; what RFC 5545
// has no word for is kept in extension properties:
//
//	Start          X-EAS-RECURRENCE-START;VALUE=DATE, only when it is not
//	               DTSTART's day
//	Regenerate 1   X-EAS-REGENERATE:1 (the next occurrence is counted from
//	               the completion, not from the pattern)
//	DeadOccur      X-EAS-DEAD-OCCUR (no occurrence is left to generate)
//	CalendarType   X-EAS-CALENDARTYPE when RSCALE does not carry it (1
//	               Gregorian and the era calendars)
//
// A desktop's RRULE is shown to phones in its EAS form. When that form is
// lossy (recur.FromRRULE's exact is false) the phone echoes the lossy
// form with every edit; an echo that equals what the stored rule is shown
// as leaves the stored RRULE as it is, and only a different pattern
// replaces it. Tasks stored before this mapping kept a phone's pattern
// verbatim in X-EAS-RECURRENCE and no RRULE: they are read as before and
// turned into an RRULE at their next write or export.
//
// Completing an occurrence (Complete 1 on a recurring task that is open
// and not dead) advances the series as Exchange does (the EWS UpdateItem
// rules for recurring tasks, which ActiveSync clients see too): the
// completed occurrence becomes a task of its own, completed and without
// recurrence, and the series' task moves to its next occurrence, open,
// under its old ServerId. The next occurrence is the pattern's next one
// after the completed one, or, for a regenerating task, Interval days,
// weeks, months or years after the completion day. The pattern is moved
// with it: Start becomes the new occurrence and a COUNT loses the
// completed occurrence, so the RRULE stays true for desktops. When no
// occurrence is left, the task itself completes and DeadOccur becomes 1,
// as Outlook marks a series whose last instance it generated.
const (
	propRecurStart   = "X-EAS-RECURRENCE-START"
	propRegenerate   = "X-EAS-REGENERATE"
	propDeadOccur    = "X-EAS-DEAD-OCCUR"
	propCalendarType = "X-EAS-CALENDARTYPE"
	// propDoneOccur and propDoneAt record the last occurrence a phone
	// completed (its start day) and when: a re-sent completion of that
	// occurrence (a replayed Sync whose client wins conflicts) is known
	// by them and does not advance the series twice.
	propDoneOccur = "X-EAS-DONE-OCCURRENCE"
	propDoneAt    = "X-EAS-DONE-AT"
)

// series is a task's recurrence as EAS sees it.
type series struct {
	rule       recur.Rule
	anchor     civil  // DTSTART's day: the current occurrence
	start      civil  // the pattern's Start
	regenerate bool   // Regenerate 1
	dead       string // DeadOccur as stored, "" for 0
	calType    string // CalendarType kept beside the rule, "" if none
	rrule      string // the stored RRULE, "" for a legacy pattern
}

// seriesAnchor is the day a task's rule counts from: DTSTART's day, else
// the due day.
func seriesAnchor(todo *ical.Component, zone *time.Location) (civil, bool) {
	if d, ok := startDay(todo, zone); ok {
		return d, true
	}
	return dueDay(todo, zone)
}

// seriesOf reads a task's recurrence from its RRULE, or from the legacy
// X-EAS-RECURRENCE; ok is false for a task that does not recur (or whose
// rule cannot be read: it is then left alone).
func seriesOf(todo *ical.Component, zone *time.Location) (series, bool) {
	anchor, hasAnchor := seriesAnchor(todo, zone)
	s := series{anchor: anchor, start: anchor,
		regenerate: text(todo, propRegenerate) == "1",
		dead:       text(todo, propDeadOccur),
		calType:    text(todo, propCalendarType)}
	if s.dead == "0" {
		s.dead = ""
	}
	if d, ok := dateProp(todo, propRecurStart); ok {
		s.start = d
	}
	if p := todo.Props.Get(ical.PropRecurrenceRule); p != nil {
		if !hasAnchor {
			return series{}, false
		}
		r, _, err := recur.FromRRULE(p.Value, anchor.midnight(time.UTC), true)
		if err != nil {
			return series{}, false
		}
		if !r.Until.IsZero() {
			r.Until = dayOf(r.Until.In(zoneOf(r.Until, zone))).midnight(time.UTC)
		}
		s.rule, s.rrule = r, p.Value
		return s, true
	}
	if p := todo.Props.Get(propRecurrence); p != nil {
		m, err := parseRecurrence(p.Value)
		if err != nil {
			return series{}, false
		}
		legacy, err := seriesOfEAS(m, anchor, hasAnchor, zone)
		if err != nil {
			return series{}, false
		}
		return legacy, true
	}
	return series{}, false
}

// zoneOf is the zone an Until instant from FromRRULE is read in: a DATE
// UNTIL comes back as midnight UTC (the anchor's zone), a UTC one is an
// instant of the user's day.
func zoneOf(t time.Time, zone *time.Location) *time.Location {
	if t.Location() == time.UTC {
		if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 {
			return time.UTC
		}
	}
	return zone
}

func dateProp(todo *ical.Component, name string) (civil, bool) {
	p := todo.Props.Get(name)
	if p == nil {
		return civil{}, false
	}
	t, err := time.Parse("20060102", strings.TrimSpace(p.Value))
	if err != nil {
		return civil{}, false
	}
	return dayOf(t), true
}

func setDateProp(todo *ical.Component, name string, d civil, keep bool) {
	if !keep {
		todo.Props.Del(name)
		return
	}
	p := ical.NewProp(name)
	p.SetDate(d.midnight(time.UTC))
	todo.Props.Set(p)
}

func setFlag(todo *ical.Component, name, v string) {
	if v == "" || v == "0" {
		todo.Props.Del(name)
		return
	}
	todo.Props.Set(&ical.Prop{Name: name, Params: ical.Params{}, Value: v})
}

// easDay reads a day a phone sends as an MS-ASDTYPE dateTime: the local
// midnight written with a Z (the tasks' convention), the instant of the
// local midnight, or the end of the day.
func easDay(elem, s string, zone *time.Location) (civil, error) {
	t, err := notes.ParseEASTime(s)
	if err != nil {
		return civil{}, bad("Recurrence", "%s: %v", elem, err)
	}
	if h, m, sec := t.Clock(); h == 0 && m == 0 && sec == 0 {
		return dayOf(t), nil
	}
	l := t.In(zone)
	if h := l.Hour(); h >= 12 && !(h == 23 && l.Minute() == 59) {
		return dayOf(l).add(1), nil
	}
	return dayOf(l), nil
}

// seriesOfEAS checks a phone's Recurrence and reads it as a series whose
// current occurrence is anchor (the pattern's Start when hasAnchor is
// false).
func seriesOfEAS(m *message.TaskRecurrence, anchor civil, hasAnchor bool, zone *time.Location) (series, error) {
	var s series
	if m.Type == "" {
		return s, bad("Recurrence", "no Type")
	}
	typ, err := smallInt(m.Type, 0, 6)
	if err != nil || typ == 4 {
		return s, bad("Recurrence", "Type %q", m.Type)
	}
	s.rule.Type = typ
	for _, f := range []struct {
		elem   string
		v      string
		lo, hi int
		dst    *int
	}{
		{"Occurrences", m.Occurrences, 0, 999, &s.rule.Occurrences},
		{"Interval", m.Interval, 0, 999, &s.rule.Interval},
		{"DayOfMonth", m.DayOfMonth, 1, 31, &s.rule.DayOfMonth},
		{"DayOfWeek", m.DayOfWeek, 1, 127, &s.rule.DayOfWeek},
		{"WeekOfMonth", m.WeekOfMonth, 1, 5, &s.rule.WeekOfMonth},
		{"MonthOfYear", m.MonthOfYear, 1, 12, &s.rule.MonthOfYear},
		{"CalendarType", m.CalendarType, 0, 23, &s.rule.CalendarType},
		{"FirstDayOfWeek", m.FirstDayOfWeek, 0, 6, &s.rule.FirstDayOfWeek},
	} {
		if f.v == "" {
			continue
		}
		if *f.dst, err = smallInt(f.v, f.lo, f.hi); err != nil {
			return s, bad("Recurrence", "%s: %v", f.elem, err)
		}
	}
	s.rule.Interval = max(s.rule.Interval, 1)
	s.rule.HasFirstDayOfWeek = m.FirstDayOfWeek != ""
	if m.IsLeapMonth != "" {
		n, err := smallInt(m.IsLeapMonth, 0, 1)
		if err != nil {
			return s, bad("Recurrence", "IsLeapMonth: %v", err)
		}
		s.rule.IsLeapMonth = n == 1
	}
	if m.Regenerate != "" {
		n, err := smallInt(m.Regenerate, 0, 1)
		if err != nil {
			return s, bad("Recurrence", "Regenerate: %v", err)
		}
		s.regenerate = n == 1
	}
	if m.DeadOccur != "" {
		n, err := smallInt(m.DeadOccur, 0, 1<<30)
		if err != nil {
			return s, bad("Recurrence", "DeadOccur: %v", err)
		}
		if n != 0 {
			s.dead = m.DeadOccur
		}
	}
	if m.CalendarType != "" {
		s.calType = m.CalendarType
	}
	if m.Start != "" {
		if s.start, err = easDay("Start", m.Start, zone); err != nil {
			return s, err
		}
	}
	switch {
	case hasAnchor:
		s.anchor = anchor
		if m.Start == "" {
			s.start = anchor
		}
	case m.Start != "":
		s.anchor = s.start
	default:
		return s, bad("Recurrence", "no Start, StartDate or DueDate to count from")
	}
	if m.Until != "" {
		u, err := easDay("Until", m.Until, zone)
		if err != nil {
			return s, err
		}
		if u.before(s.anchor) && u.before(s.start) {
			return s, bad("Recurrence", "Until %s is before the start", m.Until)
		}
		s.rule.Until = u.midnight(time.UTC)
	}
	if s.rule.Type == recur.Weekly && s.rule.DayOfWeek == 0 {
		s.rule.DayOfWeek = 1 << uint(s.anchor.midnight(time.UTC).Weekday())
	}
	return s, nil
}

// toRRULE writes the series' rule for its anchor.
func (s series) toRRULE() (string, error) {
	v, err := recur.ToRRULE(s.rule, s.anchor.midnight(time.UTC), true)
	if err != nil {
		return "", bad("Recurrence", "%v", err)
	}
	return v, nil
}

// recurrenceOf renders the series for a version: CalendarType and
// IsLeapMonth from 14.0, FirstDayOfWeek from 14.1 (MS-ASTASK 2.2.2).
func (s series) recurrenceOf(version int) *message.TaskRecurrence {
	r := s.rule
	itoa := func(i int) string {
		if i == 0 {
			return ""
		}
		return strconv.Itoa(i)
	}
	out := &message.TaskRecurrence{
		Type:        strconv.Itoa(r.Type),
		Start:       s.start.midnight(time.UTC).Format(easTime),
		Occurrences: itoa(r.Occurrences),
		Interval:    strconv.Itoa(max(r.Interval, 1)),
		DayOfMonth:  itoa(r.DayOfMonth),
		DayOfWeek:   itoa(r.DayOfWeek),
		WeekOfMonth: itoa(r.WeekOfMonth),
		MonthOfYear: itoa(r.MonthOfYear),
		Regenerate:  "0",
		DeadOccur:   "0",
	}
	if !r.Until.IsZero() {
		out.Until = dayOf(r.Until).midnight(time.UTC).Format(easTime)
	}
	if s.regenerate {
		out.Regenerate = "1"
	}
	if s.dead != "" {
		out.DeadOccur = s.dead
	}
	if version >= 140 {
		switch {
		case s.calType != "":
			out.CalendarType = s.calType
		case r.CalendarType != 0 || r.Type == 2 || r.Type == 3 || r.Type == 5 || r.Type == 6:
			// Required with these types, as for calendar items.
			out.CalendarType = strconv.Itoa(r.CalendarType)
		}
		if r.IsLeapMonth {
			out.IsLeapMonth = "1"
		}
	}
	if version >= 141 && r.HasFirstDayOfWeek {
		out.FirstDayOfWeek = strconv.Itoa(r.FirstDayOfWeek)
	}
	return out
}

// sameRule reports whether a phone's pattern is the EAS form a stored
// rule is shown as: values a version does not carry (CalendarType,
// FirstDayOfWeek) count as equal.
func sameRule(a, b recur.Rule) bool {
	a.Interval, b.Interval = max(a.Interval, 1), max(b.Interval, 1)
	a.CalendarType, b.CalendarType = 0, 0
	if !a.HasFirstDayOfWeek || !b.HasFirstDayOfWeek {
		a.HasFirstDayOfWeek, b.HasFirstDayOfWeek, a.FirstDayOfWeek, b.FirstDayOfWeek = false, false, 0, 0
	}
	ua, ub := a.Until, b.Until
	a.Until, b.Until = time.Time{}, time.Time{}
	return a == b && ua.IsZero() == ub.IsZero() && (ua.IsZero() || dayOf(ua) == dayOf(ub))
}

// clearRecurrence removes every recurrence property.
func clearRecurrence(todo *ical.Component) {
	for _, n := range []string{ical.PropRecurrenceRule, propRecurrence, propRecurStart, propRegenerate, propDeadOccur, propCalendarType, propDoneOccur, propDoneAt} {
		todo.Props.Del(n)
	}
}

// writeSeries stores s on todo: DTSTART if the task had none, the RRULE
// unless the stored one is shown as the same pattern, and the extension
// properties.
func writeSeries(todo *ical.Component, s series) error {
	if _, ok := startDay(todo, time.UTC); !ok {
		todo.Props.SetDate(ical.PropDateTimeStart, s.anchor.midnight(time.UTC))
	}
	keep := false
	if p := todo.Props.Get(ical.PropRecurrenceRule); p != nil {
		if was, _, err := recur.FromRRULE(p.Value, s.anchor.midnight(time.UTC), true); err == nil {
			if !was.Until.IsZero() {
				was.Until = dayOf(was.Until.In(zoneOf(was.Until, time.UTC))).midnight(time.UTC)
			}
			keep = sameRule(was, s.rule)
		}
	}
	if !keep {
		v, err := s.toRRULE()
		if err != nil {
			return err
		}
		todo.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: strings.TrimPrefix(v, "RRULE:")})
	}
	todo.Props.Del(propRecurrence)
	setDateProp(todo, propRecurStart, s.start, s.start != s.anchor)
	setFlag(todo, propRegenerate, map[bool]string{true: "1"}[s.regenerate])
	setFlag(todo, propDeadOccur, s.dead)
	cal := s.calType
	if v := todo.Props.Get(ical.PropRecurrenceRule).Value; strings.Contains(strings.ToUpper(v), "RSCALE=") {
		cal = "" // RSCALE says it
	}
	setFlag(todo, propCalendarType, cal)
	return nil
}

// applyRecurrence takes a phone's Recurrence (sent) or its removal;
// shown says the phone was shown the stored one.
func applyRecurrence(todo *ical.Component, m *message.Task, sent bool, zone *time.Location, shown bool) error {
	if !sent || m.Recurrence == nil || *m.Recurrence == (message.TaskRecurrence{}) {
		if shown {
			clearRecurrence(todo)
		}
		// A rule the phone could not be shown (no day to count from, or
		// unreadable) is not the phone's to remove.
		return nil
	}
	anchor, ok := seriesAnchor(todo, zone)
	s, err := seriesOfEAS(m.Recurrence, anchor, ok, zone)
	if err != nil {
		return err
	}
	return writeSeries(todo, s)
}

// migrateRecurrence turns a legacy X-EAS-RECURRENCE into the RRULE form;
// a pattern that cannot be read is left as it is.
func migrateRecurrence(todo *ical.Component, zone *time.Location) {
	if todo.Props.Get(propRecurrence) == nil || todo.Props.Get(ical.PropRecurrenceRule) != nil {
		return
	}
	if s, ok := seriesOf(todo, zone); ok {
		if err := writeSeries(todo, s); err != nil {
			todo.Props.Del(ical.PropRecurrenceRule)
		}
	}
}

// Advance says what completing a task did to its series.
type Advance int

// Results of CompleteOccurrence.
const (
	NotAdvanced Advance = iota // not a completion of an open occurrence
	Advanced                   // the series moved on; the returned VTODO is the completed occurrence
	Replayed                   // the completion of an occurrence completed before: drop the edit
	LastDone                   // the last occurrence: the task itself completed
)

// CompleteOccurrence advances todo's series after a phone's edit marked
// it complete; wasOpen says the stored task was open before the edit.
// For Advanced it returns the completed occurrence as a VTODO of its own
// (a UID made from the series' and the occurrence's, so it is made only
// once) and leaves todo at the next occurrence, open.
func CompleteOccurrence(todo *ical.Component, wasOpen bool, zone *time.Location) (*ical.Component, Advance, error) {
	zone = zoneOr(zone)
	if !IsComplete(todo) {
		return nil, NotAdvanced, nil
	}
	s, ok := seriesOf(todo, zone)
	if !ok {
		return nil, NotAdvanced, nil
	}
	completed := time.Now().UTC()
	if p := todo.Props.Get(ical.PropCompleted); p != nil {
		if t, _, err := propTime(p, zone); err == nil {
			completed = t.UTC()
		}
	}
	if !wasOpen {
		return nil, NotAdvanced, nil
	}
	// A re-sent completion names the occurrence completed before (or,
	// without dates, carries the same DateCompleted).
	if d, ok := dateProp(todo, propDoneOccur); ok && !d.before(s.anchor) {
		return nil, Replayed, nil
	}
	if p := todo.Props.Get(propDoneAt); p != nil && p.Value == completed.Format("20060102T150405Z") {
		return nil, Replayed, nil
	}
	if s.dead != "" {
		return nil, NotAdvanced, nil
	}
	offset := 0
	if due, ok := dueDay(todo, zone); ok {
		offset = daysBetween(s.anchor, due)
	}
	next, ok, err := s.next(dayOf(completed.In(zone)), offset)
	if err != nil {
		// A rule that cannot be expanded here (RSCALE, too long): the
		// task completes as the phone says and keeps its rule, rather
		// than the phone's Sync failing.
		return nil, NotAdvanced, nil
	}
	if !ok {
		todo.Props.Set(&ical.Prop{Name: propDeadOccur, Params: ical.Params{}, Value: "1"})
		return nil, LastDone, nil
	}

	// The completed occurrence, on its own.
	done := cloneComponent(todo)
	clearRecurrence(done)
	uid := text(todo, ical.PropUID)
	done.Props.SetText(ical.PropUID, uid+"-"+s.anchor.midnight(time.UTC).Format("20060102"))
	rel := ical.NewProp(ical.PropRelatedTo)
	rel.SetText(uid)
	rel.Params.Set("RELTYPE", "SIBLING")
	done.Props.Set(rel)

	// The series, at its next occurrence.
	shift := daysBetween(s.anchor, next)
	if due, ok := dueDay(todo, zone); ok {
		todo.Props.Del(ical.PropDuration)
		todo.Props.SetDate(ical.PropDue, due.add(shift+1).midnight(time.UTC))
	}
	todo.Props.SetDate(ical.PropDateTimeStart, next.midnight(time.UTC))
	todo.Props.SetText(ical.PropStatus, "NEEDS-ACTION")
	todo.Props.Del(ical.PropCompleted)
	todo.Props.Del(ical.PropPercentComplete)
	shiftAlarms(todo, shift)
	if s.rrule != "" {
		todo.Props.Get(ical.PropRecurrenceRule).Value = withCount(s.rrule, s.rule.Occurrences-1)
	}
	todo.Props.Del(propRecurStart) // Start moves with the series
	setDateProp(todo, propDoneOccur, s.anchor, true)
	todo.Props.Set(&ical.Prop{Name: propDoneAt, Params: ical.Params{}, Value: completed.Format("20060102T150405Z")})
	return done, Advanced, nil
}

// next is the series' occurrence after its current one; for a
// regenerating task, the one due Interval units after the completion
// day, offset being the task's days from start to due. ok is false when
// the series ends.
func (s series) next(completed civil, offset int) (civil, bool, error) {
	r := s.rule
	if r.Occurrences == 1 {
		return civil{}, false, nil
	}
	var next civil
	if s.regenerate {
		n := max(r.Interval, 1)
		t := completed.midnight(time.UTC)
		switch r.Type {
		case recur.Daily:
			t = t.AddDate(0, 0, n)
		case recur.Weekly:
			t = t.AddDate(0, 0, 7*n)
		case recur.MonthlyByDay, recur.MonthlyNth:
			t = t.AddDate(0, n, 0)
		default:
			t = t.AddDate(n, 0, 0)
		}
		next = dayOf(t).add(-offset)
		if !s.anchor.before(next) {
			next = s.anchor.add(1) // completed early: never step back
		}
	} else {
		rule, err := s.toRRULE()
		if s.rrule != "" {
			rule, err = s.rrule, nil
		}
		if err != nil {
			return civil{}, false, err
		}
		from := s.anchor.add(1).midnight(time.UTC)
		got, err := recur.Expand(s.anchor.midnight(time.UTC), rule, nil, nil, from, from.AddDate(100, 0, 0), 1)
		if err != nil {
			return civil{}, false, fmt.Errorf("tasks: next occurrence: %w", err)
		}
		if len(got) == 0 {
			return civil{}, false, nil
		}
		next = dayOf(got[0])
	}
	if !r.Until.IsZero() && dayOf(r.Until).before(next) {
		return civil{}, false, nil
	}
	return next, true, nil
}

// withCount sets an RRULE's COUNT, if it has one, leaving the rest of
// the desktop's spelling alone.
func withCount(rrule string, n int) string {
	parts := strings.Split(rrule, ";")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "COUNT") {
			parts[i] = "COUNT=" + strconv.Itoa(max(n, 1))
		}
	}
	return strings.Join(parts, ";")
}

// shiftAlarms moves absolute alarm times by days, as the series moves;
// relative ones follow DTSTART or DUE by themselves.
func shiftAlarms(todo *ical.Component, days int) {
	for _, a := range todo.Children {
		if a.Name != ical.CompAlarm {
			continue
		}
		tr := a.Props.Get(ical.PropTrigger)
		if tr == nil || !(tr.ValueType() == ical.ValueDateTime || tr.Params.Get(ical.ParamValue) == "DATE-TIME") {
			continue
		}
		if t, err := tr.DateTime(time.UTC); err == nil {
			tr.SetDateTime(t.AddDate(0, 0, days).UTC())
		}
	}
}

func daysBetween(a, b civil) int {
	return int(b.midnight(time.UTC).Sub(a.midnight(time.UTC)).Hours() / 24)
}

// cloneComponent copies c deeply, so that changing the copy's
// properties, parameters or alarms leaves c alone.
func cloneComponent(c *ical.Component) *ical.Component {
	out := ical.NewComponent(c.Name)
	for name, ps := range c.Props {
		cp := make([]ical.Prop, len(ps))
		for i, p := range ps {
			cp[i] = ical.Prop{Name: p.Name, Value: p.Value, Params: ical.Params{}}
			for k, v := range p.Params {
				cp[i].Params[k] = append([]string(nil), v...)
			}
		}
		out.Props[name] = cp
	}
	for _, k := range c.Children {
		out.Children = append(out.Children, cloneComponent(k))
	}
	return out
}
