package tasks

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/notes"
)

// The mapping between EAS tasks (MS-ASTASK) and VTODO (RFC 5545 3.6.2):
//
//	Subject                    SUMMARY
//	Body                       DESCRIPTION (text); an HTML body also as
//	                           X-ALT-DESC;FMTTYPE=text/html
//	Categories                 CATEGORIES
//	Complete, DateCompleted    STATUS:COMPLETED and COMPLETED (UTC), PERCENT-COMPLETE:100
//	StartDate / UtcStartDate   DTSTART;VALUE=DATE: the start day
//	DueDate / UtcDueDate       DUE;VALUE=DATE: the day AFTER the due day
//	Importance 0/1/2           PRIORITY 9/5/1 (1-4 read as high, 6-9 as low)
//	ReminderSet, ReminderTime  a VALARM with an absolute TRIGGER
//	Sensitivity 0/1/2/3        CLASS PUBLIC/X-PERSONAL/PRIVATE/CONFIDENTIAL
//	OrdinalDate, SubOrdinalDate X-EAS-ORDINAL-DATE, X-EAS-SUBORDINAL-DATE
//	Recurrence                 RRULE and X-EAS-* (see recurrence.go)
//
// Task dates are days. EAS sends a day as the local midnight twice: as
// wall-clock time in StartDate/DueDate (the Z there does not mean UTC)
// and as the instant in UtcStartDate/UtcDueDate. The day is read from
// the local form, so no zone can move it; only a client that sends the
// UTC form alone has it read in the user's zone. The EAS due day is
// inclusive ("due on the 10th"), and DUE says before when the to-do is
// to be done (RFC 5545 3.8.2.3), so a DATE DUE is the next day, as DTEND
// of an all-day event is: DUE;VALUE=DATE:20260311 for a task due on the
// 10th. A DUE or DTSTART with a time (from a desktop) is shown as its
// day in its zone (the user's for floating times), and is kept as it is
// when a phone echoes that same day back: an echo never replaces what
// EAS cannot express, and so are PRIORITY values other than 1, 5 and 9,
// alarms other than the one EAS shows, an HTML description, and an RRULE
// EAS shows only approximately.

// Extension properties.
const (
	propAltDesc     = "X-ALT-DESC"
	propOrdinal     = "X-EAS-ORDINAL-DATE"
	propSubOrdinal  = "X-EAS-SUBORDINAL-DATE"
	propRecurrence  = "X-EAS-RECURRENCE"
	classPersonal   = "X-PERSONAL"
	easTime         = "2006-01-02T15:04:05.000Z"
	prodID          = "-//easd//tasks//EN"
	maxSubject      = 4096
	maxBody         = 1 << 20
	maxCategories   = 300
	maxCategoryRune = 255
)

// ErrBadValue: a client's or a file's task cannot be kept as sent.
var ErrBadValue = errors.New("tasks: bad value")

func bad(elem, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadValue, elem, fmt.Sprintf(format, args...))
}

// RenderOptions say how a task is shown.
type RenderOptions struct {
	Version int // protocol version times ten
	Body    []message.BodyPreference
	Zone    *time.Location // the user's zone; nil is UTC
}

func zoneOr(z *time.Location) *time.Location {
	if z == nil {
		return time.UTC
	}
	return z
}

// civil is a calendar day.
type civil struct {
	y int
	m time.Month
	d int
}

func dayOf(t time.Time) civil { return civil{t.Year(), t.Month(), t.Day()} }
func (c civil) midnight(z *time.Location) time.Time {
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, z)
}
func (c civil) add(days int) civil { return dayOf(c.midnight(time.UTC).AddDate(0, 0, days)) }
func (c civil) before(o civil) bool {
	return c.midnight(time.UTC).Before(o.midnight(time.UTC))
}

// propTime reads a DATE or DATE-TIME property: the instant (midnight in
// zone for a date, zone for a floating time) and whether it is a date.
func propTime(p *ical.Prop, zone *time.Location) (time.Time, bool, error) {
	isDate := p.ValueType() == ical.ValueDate || (p.Params.Get(ical.ParamValue) == "" && len(p.Value) == 8)
	t, err := p.DateTime(zone)
	if err != nil {
		return time.Time{}, false, err
	}
	return t, isDate, nil
}

// startDay is the task's start day: DTSTART's date, or its day in its
// zone.
func startDay(todo *ical.Component, zone *time.Location) (civil, bool) {
	p := todo.Props.Get(ical.PropDateTimeStart)
	if p == nil {
		return civil{}, false
	}
	t, _, err := propTime(p, zone)
	if err != nil {
		return civil{}, false
	}
	return dayOf(t.In(zone)), true
}

// dueDay is the task's inclusive due day: the day before a DATE DUE,
// the day of the last moment before a DATE-TIME DUE; DTSTART + DURATION
// when there is no DUE.
func dueDay(todo *ical.Component, zone *time.Location) (civil, bool) {
	if p := todo.Props.Get(ical.PropDue); p != nil {
		t, isDate, err := propTime(p, zone)
		if err != nil {
			return civil{}, false
		}
		if isDate {
			return dayOf(t).add(-1), true
		}
		return dayOf(t.In(zone).Add(-time.Second)), true
	}
	s, d := todo.Props.Get(ical.PropDateTimeStart), todo.Props.Get(ical.PropDuration)
	if s == nil || d == nil {
		return civil{}, false
	}
	t, _, err := propTime(s, zone)
	dur, derr := d.Duration()
	if err != nil || derr != nil {
		return civil{}, false
	}
	return dayOf(t.Add(dur).In(zone).Add(-time.Second)), true
}

// IsComplete reports whether the VTODO is done.
func IsComplete(todo *ical.Component) bool {
	if p := todo.Props.Get(ical.PropStatus); p != nil {
		return strings.EqualFold(p.Value, "COMPLETED")
	}
	return todo.Props.Get(ical.PropCompleted) != nil
}

func text(todo *ical.Component, name string) string {
	p := todo.Props.Get(name)
	if p == nil {
		return ""
	}
	return unescapeText(p.Value)
}

// unescapeText reads a TEXT value (RFC 5545 3.3.11). go-ical's Text()
// splits at unescaped commas, which desktop programs do write in
// DESCRIPTION; here a lone comma is kept as a comma.
func unescapeText(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func setText(todo *ical.Component, name, v string) {
	if v == "" {
		todo.Props.Del(name)
		return
	}
	todo.Props.SetText(name, v)
}

// body returns the stored body and its type.
func body(todo *ical.Component) (string, int) {
	if p := todo.Props.Get(propAltDesc); p != nil && strings.EqualFold(p.Params.Get("FMTTYPE"), "text/html") {
		return unescapeText(p.Value), message.BodyHTML
	}
	return text(todo, ical.PropDescription), message.BodyPlain
}

func categories(todo *ical.Component) []string {
	var out []string
	for _, p := range todo.Props.Values(ical.PropCategories) {
		l, err := p.TextList()
		if err != nil {
			continue
		}
		for _, c := range l {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// importance maps PRIORITY (RFC 5545 3.8.1.9) to EAS Importance.
func importance(todo *ical.Component) int {
	p := todo.Props.Get(ical.PropPriority)
	if p == nil {
		return 1
	}
	n, err := strconv.Atoi(strings.TrimSpace(p.Value))
	switch {
	case err != nil || n == 0 || n == 5:
		return 1
	case n < 5:
		return 2
	}
	return 0
}

// sensitivity maps CLASS to EAS Sensitivity; an unknown class is
// private, as RFC 5545 3.8.1.3 asks.
func sensitivity(todo *ical.Component) int {
	p := todo.Props.Get(ical.PropClass)
	if p == nil {
		return 0
	}
	switch strings.ToUpper(p.Value) {
	case "PUBLIC":
		return 0
	case classPersonal:
		return 1
	case "CONFIDENTIAL":
		return 3
	}
	return 2
}

var sensitivityClass = [...]string{"PUBLIC", classPersonal, "PRIVATE", "CONFIDENTIAL"}

// reminder returns the instant of the task's first alarm that has one.
func reminder(todo *ical.Component, zone *time.Location) (time.Time, bool) {
	for _, a := range todo.Children {
		if a.Name != ical.CompAlarm {
			continue
		}
		tr := a.Props.Get(ical.PropTrigger)
		if tr == nil {
			continue
		}
		if tr.ValueType() == ical.ValueDateTime || tr.Params.Get(ical.ParamValue) == "DATE-TIME" {
			if t, err := tr.DateTime(time.UTC); err == nil {
				return t.UTC(), true
			}
			continue
		}
		d, err := tr.Duration()
		if err != nil {
			continue
		}
		base := todo.Props.Get(ical.PropDateTimeStart)
		if strings.EqualFold(tr.Params.Get("RELATED"), "END") {
			base = todo.Props.Get(ical.PropDue)
		}
		if base == nil {
			continue
		}
		if t, _, err := propTime(base, zone); err == nil {
			return t.Add(d).UTC(), true
		}
	}
	return time.Time{}, false
}

// ToEAS shows a VTODO as an EAS task.
func ToEAS(todo *ical.Component, o RenderOptions) *message.Task {
	zone := zoneOr(o.Zone)
	t := &message.Task{
		Subject:     text(todo, ical.PropSummary),
		Complete:    "0",
		Importance:  strconv.Itoa(importance(todo)),
		Sensitivity: strconv.Itoa(sensitivity(todo)),
		ReminderSet: "0",
	}
	b, typ := body(todo)
	if o.Version == 25 {
		if b != "" {
			if typ == message.BodyHTML {
				b = model.TextOfHTML(b)
			}
			var pref *uint32
			if len(o.Body) > 0 {
				pref = o.Body[0].TruncationSize
			}
			data, truncated := model.Truncate(b, pref)
			t.Body25, t.BodyTruncated = data, &truncated
			if truncated {
				t.BodySize = int64(len(b))
			}
		}
	} else {
		t.Body = model.RenderBody(b, typ, o.Version, o.Body)
	}
	if cats := categories(todo); len(cats) > 0 {
		t.Categories = &message.TaskCategories{Category: cats}
	}
	if IsComplete(todo) {
		t.Complete = "1"
		done := time.Now()
		if p := todo.Props.Get(ical.PropCompleted); p != nil {
			if c, _, err := propTime(p, zone); err == nil {
				done = c
			}
		} else if p := todo.Props.Get(ical.PropLastModified); p != nil {
			if c, _, err := propTime(p, zone); err == nil {
				done = c
			}
		}
		t.DateCompleted = done.UTC().Format(easTime)
	}
	if d, ok := startDay(todo, zone); ok {
		t.StartDate = d.midnight(time.UTC).Format(easTime)
		t.UtcStartDate = d.midnight(zone).UTC().Format(easTime)
	}
	if d, ok := dueDay(todo, zone); ok {
		t.DueDate = d.midnight(time.UTC).Format(easTime)
		t.UtcDueDate = d.midnight(zone).UTC().Format(easTime)
	}
	if r, ok := reminder(todo, zone); ok {
		t.ReminderSet, t.ReminderTime = "1", r.Format(easTime)
	}
	t.OrdinalDate = text(todo, propOrdinal)
	t.SubOrdinalDate = text(todo, propSubOrdinal)
	if s, ok := seriesOf(todo, zone); ok {
		t.Recurrence = s.recurrenceOf(o.Version)
	}
	return t
}

// Edit is a client's Add or Change of one task.
type Edit struct {
	Task *message.Task
	// Sent reports the element local names the client sent ("Subject",
	// "Body" for either body form, "Categories" ...). Nil: every element
	// counts as sent.
	Sent func(name string) bool
	// Ghosted reports the absent elements to keep (MS-ASCMD 2.2.3.179).
	// Nil: none.
	Ghosted func(name string) bool
	// Zone is the user's zone, for a day sent only as UTC.
	Zone *time.Location
	// Now is the time of the write.
	Now time.Time
}

// Apply merges a client's task onto todo (a new VTODO for an Add),
// changing only what EAS expresses; see the mapping above. On error todo
// may be half changed: apply to a copy.
func Apply(todo *ical.Component, e Edit) error {
	m := e.Task
	if m == nil {
		m = &message.Task{}
	}
	sent := e.Sent
	if sent == nil {
		sent = func(string) bool { return true }
	}
	ghosted := e.Ghosted
	if ghosted == nil {
		ghosted = func(string) bool { return false }
	}
	zone := zoneOr(e.Zone)
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	migrateRecurrence(todo, zone)
	// Whether the phone was shown a recurrence, before the edit moves
	// the days it is counted from.
	_, shownSeries := seriesOf(todo, zone)
	// An element takes the client's value when sent, is cleared when
	// neither sent nor ghosted, and is kept when ghosted.
	take := func(names ...string) (send, clear bool) {
		for _, n := range names {
			if sent(n) {
				return true, false
			}
		}
		for _, n := range names {
			if !ghosted(n) {
				return false, true
			}
		}
		return false, false
	}

	if s, c := take("Subject"); s || c {
		if len(m.Subject) > maxSubject {
			return bad("Subject", "longer than %d bytes", maxSubject)
		}
		setText(todo, ical.PropSummary, m.Subject)
	}
	if s, c := take("Body"); s || c {
		if err := applyBody(todo, m, s); err != nil {
			return err
		}
	}
	if s, c := take("Categories"); s || c {
		var cats []string
		if s && m.Categories != nil {
			cats = m.Categories.Category
		}
		if len(cats) > maxCategories {
			return bad("Categories", "%d categories, at most %d", len(cats), maxCategories)
		}
		for _, c := range cats {
			if strings.TrimSpace(c) == "" || len([]rune(c)) > maxCategoryRune {
				return bad("Category", "%q", c)
			}
		}
		if !slices.Equal(cats, categories(todo)) {
			todo.Props.Del(ical.PropCategories)
			if len(cats) > 0 {
				p := ical.NewProp(ical.PropCategories)
				p.SetTextList(cats)
				todo.Props.Set(p)
			}
		}
	}
	if s, c := take("Complete", "DateCompleted"); s || c {
		if err := applyComplete(todo, m, now, zone); err != nil {
			return err
		}
	}
	if err := applyDays(todo, m, take, zone); err != nil {
		return err
	}
	if s, c := take("Importance"); s || c {
		want := 1
		if s && m.Importance != "" {
			n, err := smallInt(m.Importance, 0, 2)
			if err != nil {
				return bad("Importance", "%v", err)
			}
			want = n
		}
		if importance(todo) != want || (want == 1 && todo.Props.Get(ical.PropPriority) != nil && c) {
			todo.Props.Del(ical.PropPriority)
			if want != 1 {
				todo.Props.Set(&ical.Prop{Name: ical.PropPriority, Params: ical.Params{}, Value: []string{"9", "5", "1"}[want]})
			}
		}
	}
	if s, c := take("ReminderSet", "ReminderTime"); s || c {
		if err := applyReminder(todo, m, s, zone); err != nil {
			return err
		}
	}
	if s, c := take("Sensitivity"); s || c {
		want := 0
		if s && m.Sensitivity != "" {
			n, err := smallInt(m.Sensitivity, 0, 3)
			if err != nil {
				return bad("Sensitivity", "%v", err)
			}
			want = n
		}
		if sensitivity(todo) != want {
			todo.Props.Del(ical.PropClass)
			if want != 0 {
				todo.Props.SetText(ical.PropClass, sensitivityClass[want])
			}
		}
	}
	for _, x := range []struct{ elem, prop, val string }{
		{"OrdinalDate", propOrdinal, m.OrdinalDate}, {"SubOrdinalDate", propSubOrdinal, m.SubOrdinalDate}} {
		s, c := take(x.elem)
		if !s && !c {
			continue
		}
		v := ""
		if s {
			v = x.val
		}
		if x.elem == "OrdinalDate" && v != "" {
			if _, err := notes.ParseEASTime(v); err != nil {
				return bad(x.elem, "%v", err)
			}
		}
		if len(v) > 255 {
			return bad(x.elem, "longer than 255 bytes")
		}
		setText(todo, x.prop, v)
	}
	if s, c := take("Recurrence"); s || c {
		if err := applyRecurrence(todo, m, s, zone, shownSeries); err != nil {
			return err
		}
	}
	todo.Props.SetDateTime(ical.PropLastModified, now)
	todo.Props.SetDateTime(ical.PropDateTimeStamp, now)
	return nil
}

func smallInt(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, lo, hi)
	}
	return n, nil
}

func applyBody(todo *ical.Component, m *message.Task, sent bool) error {
	var txt string
	typ := message.BodyPlain
	switch {
	case !sent:
	case m.Body != nil:
		if m.Body.Truncated {
			return nil // the client never had it whole: keep ours
		}
		var ok bool
		if txt, typ, ok = model.BodyOf(m.Body); !ok {
			return bad("Body", "type %d is not kept (plain text or HTML)", m.Body.Type)
		}
	default:
		if m.BodyTruncated != nil && *m.BodyTruncated {
			return nil
		}
		txt = m.Body25
	}
	if len(txt) > maxBody {
		return bad("Body", "longer than %d bytes", maxBody)
	}
	old, oldType := body(todo)
	if typ == message.BodyPlain && oldType == message.BodyHTML && txt == model.TextOfHTML(old) {
		return nil // a plain-text echo of the HTML body we showed
	}
	if typ == message.BodyHTML {
		p := ical.NewProp(propAltDesc)
		p.SetText(txt)
		p.Params.Set("FMTTYPE", "text/html")
		todo.Props.Set(p)
		txt = model.TextOfHTML(txt)
	} else {
		todo.Props.Del(propAltDesc)
	}
	setText(todo, ical.PropDescription, txt)
	return nil
}

func applyComplete(todo *ical.Component, m *message.Task, now time.Time, zone *time.Location) error {
	done := false
	if m.Complete != "" {
		n, err := smallInt(m.Complete, 0, 1)
		if err != nil {
			return bad("Complete", "%v", err)
		}
		done = n == 1
	}
	if !done {
		if IsComplete(todo) {
			todo.Props.SetText(ical.PropStatus, "NEEDS-ACTION")
			if p := todo.Props.Get(ical.PropPercentComplete); p != nil && strings.TrimSpace(p.Value) == "100" {
				todo.Props.Del(ical.PropPercentComplete)
			}
		}
		todo.Props.Del(ical.PropCompleted)
		return nil
	}
	at := now
	if m.DateCompleted != "" {
		t, err := notes.ParseEASTime(m.DateCompleted)
		if err != nil {
			return bad("DateCompleted", "%v", err)
		}
		at = t
	} else if p := todo.Props.Get(ical.PropCompleted); p != nil && IsComplete(todo) {
		if t, _, err := propTime(p, zone); err == nil {
			at = t
		}
	}
	todo.Props.SetText(ical.PropStatus, "COMPLETED")
	todo.Props.SetDateTime(ical.PropCompleted, at.UTC())
	todo.Props.Set(&ical.Prop{Name: ical.PropPercentComplete, Params: ical.Params{}, Value: "100"})
	return nil
}

// sentDay reads a day from the local and the UTC form of a date
// element; ok is false when the client sent neither (or both empty).
func sentDay(elem, local, utc string, zone *time.Location) (civil, bool, error) {
	switch {
	case local != "":
		t, err := notes.ParseEASTime(local)
		if err != nil {
			return civil{}, false, bad(elem, "%v", err)
		}
		return dayOf(t), true, nil
	case utc != "":
		t, err := notes.ParseEASTime(utc)
		if err != nil {
			return civil{}, false, bad("Utc"+elem, "%v", err)
		}
		return dayOf(t.In(zone)), true, nil
	}
	return civil{}, false, nil
}

func applyDays(todo *ical.Component, m *message.Task, take func(...string) (bool, bool), zone *time.Location) error {
	ss, sc := take("StartDate", "UtcStartDate")
	ds, dc := take("DueDate", "UtcDueDate")
	var start, due civil
	var hasStart, hasDue bool
	var err error
	if ss {
		if start, hasStart, err = sentDay("StartDate", m.StartDate, m.UtcStartDate, zone); err != nil {
			return err
		}
	}
	if ds {
		if due, hasDue, err = sentDay("DueDate", m.DueDate, m.UtcDueDate, zone); err != nil {
			return err
		}
	}
	// The days the task will have, for the order check.
	finalStart, fsOK := start, hasStart
	if !ss && !sc {
		finalStart, fsOK = startDay(todo, zone)
	}
	finalDue, fdOK := due, hasDue
	if !ds && !dc {
		finalDue, fdOK = dueDay(todo, zone)
	}
	if fsOK && fdOK && finalDue.before(finalStart) {
		return bad("DueDate", "before StartDate")
	}
	if ss || sc {
		if old, ok := startDay(todo, zone); !(ok && hasStart && old == start) {
			todo.Props.Del(ical.PropDateTimeStart)
			if hasStart {
				todo.Props.SetDate(ical.PropDateTimeStart, start.midnight(time.UTC))
			}
		}
	}
	if ds || dc {
		if old, ok := dueDay(todo, zone); !(ok && hasDue && old == due) {
			todo.Props.Del(ical.PropDue)
			todo.Props.Del(ical.PropDuration)
			if hasDue {
				todo.Props.SetDate(ical.PropDue, due.add(1).midnight(time.UTC))
			}
		}
	}
	if todo.Props.Get(ical.PropDuration) != nil && todo.Props.Get(ical.PropDateTimeStart) == nil {
		todo.Props.Del(ical.PropDuration) // RFC 5545: DURATION needs DTSTART
	}
	return nil
}

func applyReminder(todo *ical.Component, m *message.Task, sent bool, zone *time.Location) error {
	on := false
	if sent && m.ReminderSet != "" {
		n, err := smallInt(m.ReminderSet, 0, 1)
		if err != nil {
			return bad("ReminderSet", "%v", err)
		}
		on = n == 1
	}
	var at time.Time
	if on {
		if m.ReminderTime == "" {
			return bad("ReminderTime", "missing while ReminderSet is 1")
		}
		t, err := notes.ParseEASTime(m.ReminderTime)
		if err != nil {
			return bad("ReminderTime", "%v", err)
		}
		at = t
		if old, ok := reminder(todo, zone); ok && old.Equal(at) {
			return nil // the alarm we showed: keep it as it is
		}
	}
	kids := todo.Children[:0]
	for _, c := range todo.Children {
		if c.Name != ical.CompAlarm {
			kids = append(kids, c)
		}
	}
	todo.Children = kids
	if on {
		a := ical.NewComponent(ical.CompAlarm)
		a.Props.SetText(ical.PropAction, "DISPLAY")
		a.Props.SetText(ical.PropDescription, "Reminder")
		tr := ical.NewProp(ical.PropTrigger)
		tr.SetDateTime(at.UTC())
		a.Props.Set(tr)
		todo.Children = append(todo.Children, a)
	}
	return nil
}

// recurrenceFields are the elements of Tasks:Recurrence as the legacy
// X-EAS-RECURRENCE (KEY=value;...) wrote them, read for tasks stored
// before the RRULE mapping.
var recurrenceFields = []struct {
	key string
	get func(*message.TaskRecurrence) *string
}{
	{"TYPE", func(r *message.TaskRecurrence) *string { return &r.Type }},
	{"START", func(r *message.TaskRecurrence) *string { return &r.Start }},
	{"UNTIL", func(r *message.TaskRecurrence) *string { return &r.Until }},
	{"OCCURRENCES", func(r *message.TaskRecurrence) *string { return &r.Occurrences }},
	{"INTERVAL", func(r *message.TaskRecurrence) *string { return &r.Interval }},
	{"DAYOFMONTH", func(r *message.TaskRecurrence) *string { return &r.DayOfMonth }},
	{"DAYOFWEEK", func(r *message.TaskRecurrence) *string { return &r.DayOfWeek }},
	{"WEEKOFMONTH", func(r *message.TaskRecurrence) *string { return &r.WeekOfMonth }},
	{"MONTHOFYEAR", func(r *message.TaskRecurrence) *string { return &r.MonthOfYear }},
	{"REGENERATE", func(r *message.TaskRecurrence) *string { return &r.Regenerate }},
	{"DEADOCCUR", func(r *message.TaskRecurrence) *string { return &r.DeadOccur }},
	{"CALENDARTYPE", func(r *message.TaskRecurrence) *string { return &r.CalendarType }},
	{"ISLEAPMONTH", func(r *message.TaskRecurrence) *string { return &r.IsLeapMonth }},
	{"FIRSTDAYOFWEEK", func(r *message.TaskRecurrence) *string { return &r.FirstDayOfWeek }},
}

func parseRecurrence(v string) (*message.TaskRecurrence, error) {
	r := &message.TaskRecurrence{}
	for part := range strings.SplitSeq(v, ";") {
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("tasks: recurrence %q", v)
		}
		for _, f := range recurrenceFields {
			if f.key == strings.ToUpper(k) {
				*f.get(r) = val
			}
		}
	}
	if r.Type == "" {
		return nil, fmt.Errorf("tasks: recurrence without type: %q", v)
	}
	return r, nil
}
