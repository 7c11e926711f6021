package calendar

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/calendar/recur"
)

// Free/busy (MS-ASCMD 2.2.3.107 MergedFreeBusy): one digit per 30
// minutes of the requested span, 0 free, 1 tentative, 2 busy, 3 out of
// office, 4 no data; an event covering part of an interval gives the
// interval its status, and where several overlap the highest digit
// wins. An event's status is its EAS BusyStatus: a cancelled event and
// one marked free or "working elsewhere" (the user is available) count
// as free.
//
// Speed: a ResolveRecipients asks for a few users' next days, and must
// not decode every event of their calendars each time. The index gives
// the candidate series (their first start and last end); each series'
// busy shape (status, duration, rule, exceptions) and its expanded
// occurrences are cached in the Store by (user, event id, version), so
// only series written since the last look are decoded and expanded. The
// cache is only a cache: a new version is read from the database, and
// another instance's cache plays no part. It belongs to the Store, not the
// process: ids are unique per database only.

// FreeBusySlot is the length of one MergedFreeBusy digit.
const FreeBusySlot = 30 * time.Minute

// maxFreeBusySlots bounds one answer: 62 days of half hours (Exchange
// answers at most 62 days).
const maxFreeBusySlots = 62 * 48

// FreeBusy returns the MergedFreeBusy string of userID's calendars for
// [from, to). All-day events take their days in from's zone (pass times
// in the user's zone; UTC gives UTC days).
func (s *Store) FreeBusy(ctx context.Context, db Querier, userID int64, from, to time.Time) (string, error) {
	if !to.After(from) {
		return "", nil
	}
	n := int((to.Sub(from) + FreeBusySlot - 1) / FreeBusySlot)
	if n > maxFreeBusySlots {
		return "", fmt.Errorf("%w: free/busy of %v, at most %d slots", ErrBadValue, to.Sub(from), maxFreeBusySlots)
	}
	rows, err := db.Query(ctx, `SELECT id, version FROM events WHERE user_id = $1
		AND first_start < $2 AND (last_end IS NULL OR last_end > $3)`, userID, to, from)
	if err != nil {
		return "", fmt.Errorf("calendar: free/busy: %w", err)
	}
	var cands []fbKey
	var versions []int64
	for rows.Next() {
		var k fbKey
		var v int64
		if err := rows.Scan(&k.id, &v); err != nil {
			rows.Close()
			return "", fmt.Errorf("calendar: free/busy: %w", err)
		}
		k.user = userID
		cands = append(cands, k)
		versions = append(versions, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("calendar: free/busy: %w", err)
	}
	series := make([]*fbSeries, len(cands))
	var missing []int64
	for i, k := range cands {
		if sh := s.shapes.get(k); sh != nil && sh.version == versions[i] {
			series[i] = sh
		} else {
			missing = append(missing, k.id)
		}
	}
	if len(missing) > 0 {
		loaded, err := loadFreeBusy(ctx, db, s.shapes, userID, missing)
		if err != nil {
			return "", err
		}
		for i, k := range cands {
			if series[i] == nil {
				series[i] = loaded[k.id]
			}
		}
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = '0'
	}
	loc := from.Location()
	for _, sh := range series {
		if sh != nil {
			sh.paint(out, from, to, loc)
		}
	}
	return string(out), nil
}

type fbKey struct{ user, id int64 }

// fbSeries is a series' busy shape.
type fbSeries struct {
	version int64
	// spans are the occurrences that need no expansion: a single event,
	// the overrides of a series.
	spans []fbSpan
	// The rule's occurrences, each lasting dur with status.
	rule            string
	dtstart         time.Time
	dur             time.Duration
	status          byte
	allDay          bool
	rdates, exdates []time.Time
	overridden      map[int64]bool // RECURRENCE-IDs, as Unix seconds
	mu              sync.Mutex
	occ             []time.Time // expanded up to expandedTo
	expandedTo      time.Time
	expandErr       error
}

type fbSpan struct {
	start, end time.Time
	allDay     bool
	status     byte
}

// digit is the MergedFreeBusy digit of an event.
func digit(c *ical.Component) byte {
	if strings.EqualFold(textOf(c, ical.PropStatus), "CANCELLED") {
		return '0'
	}
	switch busyStatus(c) {
	case 1:
		return '1'
	case 2:
		return '2'
	case 3:
		return '3'
	}
	return '0' // free, working elsewhere
}

func loadFreeBusy(ctx context.Context, db Querier, cache *freeBusyCache, userID int64, ids []int64) (map[int64]*fbSeries, error) {
	rows, err := db.Query(ctx, `SELECT id, version, ical FROM events WHERE user_id = $1 AND id = ANY($2)`, userID, ids)
	if err != nil {
		return nil, fmt.Errorf("calendar: free/busy: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]*fbSeries, len(ids))
	for rows.Next() {
		var id, version int64
		var text string
		if err := rows.Scan(&id, &version, &text); err != nil {
			return nil, fmt.Errorf("calendar: free/busy: %w", err)
		}
		cal, err := decodeObject(text)
		if err != nil {
			continue // an object that does not parse shows nothing
		}
		s, err := shapeOf(cal)
		if err != nil {
			continue
		}
		s.version = version
		cache.put(fbKey{userID, id}, s)
		out[id] = s
	}
	return out, rows.Err()
}

// shapeOf reads a series' busy shape.
func shapeOf(cal *ical.Calendar) (*fbSeries, error) {
	master, overrides := events(cal)
	z := zonesOf(cal, nil)
	s := &fbSeries{overridden: map[int64]bool{}}
	for _, o := range overrides {
		st, en, err := z.span(o)
		if err != nil {
			return nil, err
		}
		if rid := o.Props.Get(ical.PropRecurrenceID); rid != nil {
			if w, err := z.timeOf(rid); err == nil {
				s.overridden[w.t.Unix()] = true
			}
		}
		s.spans = append(s.spans, fbSpan{start: st.t, end: en.t, allDay: st.date, status: digit(o)})
	}
	if master == nil {
		return s, nil
	}
	st, en, err := z.span(master)
	if err != nil {
		return nil, err
	}
	s.status = digit(master)
	rr := master.Props.Get(ical.PropRecurrenceRule)
	rd, err := z.timesOf(master, ical.PropRecurrenceDates)
	if err != nil {
		return nil, err
	}
	if rr == nil && len(rd) == 0 {
		s.spans = append(s.spans, fbSpan{start: st.t, end: en.t, allDay: st.date, status: s.status})
		return s, nil
	}
	if rr != nil {
		s.rule = rr.Value
	}
	ex, err := z.timesOf(master, ical.PropExceptionDates)
	if err != nil {
		return nil, err
	}
	s.dtstart, s.dur, s.allDay = st.t, en.t.Sub(st.t), st.date
	if !st.date {
		s.dtstart = st.t.In(zoneOfProp(master.Props.Get(ical.PropDateTimeStart), z, time.UTC))
	}
	s.rdates, s.exdates = instants(rd), instants(ex)
	return s, nil
}

// fbHorizon is how far past a request a series is expanded at once, so
// that the next requests (the following days) find it done.
const fbHorizon = 400 * 24 * time.Hour

// occurrences returns the rule's occurrence starts up to to.
func (s *fbSeries) occurrences(to time.Time) ([]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expandErr == nil && !to.After(s.expandedTo) && s.expandedTo.After(s.dtstart) {
		return s.occ, nil
	}
	until := to.Add(fbHorizon)
	occ, err := recur.Expand(s.dtstart, s.rule, s.rdates, s.exdates, s.dtstart, until, maxExpand)
	if err != nil {
		s.expandErr = err
		return nil, err
	}
	s.occ, s.expandedTo, s.expandErr = occ, until, nil
	return occ, nil
}

// paint raises out's digits where the series is in [from, to).
func (s *fbSeries) paint(out []byte, from, to time.Time, loc *time.Location) {
	mark := func(start, end time.Time, allDay bool, d byte) {
		if d == '0' {
			return
		}
		if allDay {
			start = dayIn(start, loc)
			end = dayIn(end, loc)
		}
		if !end.After(from) || !start.Before(to) {
			return
		}
		i0 := max(0, int(start.Sub(from)/FreeBusySlot))
		i1 := min(len(out), int((end.Sub(from)+FreeBusySlot-1)/FreeBusySlot))
		if end.Equal(start) {
			i1 = min(len(out), i0+1) // a zero-length event still marks its slot
		}
		for i := i0; i < i1; i++ {
			if d > out[i] {
				out[i] = d
			}
		}
	}
	for _, sp := range s.spans {
		mark(sp.start, sp.end, sp.allDay, sp.status)
	}
	if s.dtstart.IsZero() || s.status == '0' {
		return
	}
	occ, err := s.occurrences(to)
	if err != nil {
		return
	}
	// Occurrences that can reach into the window: starts in
	// [from - dur - a day, to); a day more for all-day dates, which move
	// with the zone.
	lo := from.Add(-s.dur - 24*time.Hour)
	i := sort.Search(len(occ), func(i int) bool { return !occ[i].Before(lo) })
	for ; i < len(occ) && occ[i].Before(to.Add(24*time.Hour)); i++ {
		if s.overridden[occ[i].Unix()] {
			continue
		}
		mark(occ[i], occ[i].Add(s.dur), s.allDay, s.status)
	}
}

// dayIn is the midnight in loc of the date that t (midnight UTC of an
// all-day date) names.
func dayIn(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// maxFreeBusyCache bounds the cache; beyond it the cache starts over,
// which costs a few decodes, not correctness.
const maxFreeBusyCache = 200000

type freeBusyCache struct {
	mu sync.RWMutex
	m  map[fbKey]*fbSeries
}

func (c *freeBusyCache) get(k fbKey) *fbSeries {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[k]
}

func (c *freeBusyCache) put(k fbKey, s *fbSeries) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxFreeBusyCache {
		c.m = map[fbKey]*fbSeries{}
	}
	c.m[k] = s
}

// MergedFreeBusy is FreeBusy for ResolveRecipients Availability
// (model.FreeBusy): MS-ASCMD 2.2.3.107 fixes the interval at 30 minutes.
func (m *Meetings) MergedFreeBusy(ctx context.Context, userID int64, start, end time.Time, interval time.Duration) (string, error) {
	if interval != 30*time.Minute {
		return "", fmt.Errorf("calendar: free/busy in %v intervals; MergedFreeBusy has 30 minutes", interval)
	}
	return m.FreeBusy(ctx, userID, start, end)
}
