package dav

import (
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-webdav/caldav"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/tasks"
)

// REPORTs on a calendar: calendar-multiget, calendar-query,
// free-busy-query (RFC 4791 7.8-7.10) and sync-collection (RFC 6578).

type timeRangeEl struct {
	Start string `xml:"start,attr"`
	End   string `xml:"end,attr"`
}

type calTextMatchEl struct {
	Text   string `xml:",chardata"`
	Negate string `xml:"negate-condition,attr"`
}

type calParamFilterEl struct {
	Name         string          `xml:"name,attr"`
	IsNotDefined *struct{}       `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TextMatch    *calTextMatchEl `xml:"urn:ietf:params:xml:ns:caldav text-match"`
}

type calPropFilterEl struct {
	Name         string             `xml:"name,attr"`
	IsNotDefined *struct{}          `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *timeRangeEl       `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	TextMatch    *calTextMatchEl    `xml:"urn:ietf:params:xml:ns:caldav text-match"`
	Params       []calParamFilterEl `xml:"urn:ietf:params:xml:ns:caldav param-filter"`
}

type compFilterEl struct {
	Name         string            `xml:"name,attr"`
	IsNotDefined *struct{}         `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *timeRangeEl      `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	Props        []calPropFilterEl `xml:"urn:ietf:params:xml:ns:caldav prop-filter"`
	Comps        []compFilterEl    `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
}

type calQueryReq struct {
	Prop   *propList `xml:"DAV: prop"`
	Filter struct {
		Comp *compFilterEl `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
	} `xml:"urn:ietf:params:xml:ns:caldav filter"`
}

type freeBusyReq struct {
	TimeRange *timeRangeEl `xml:"urn:ietf:params:xml:ns:caldav time-range"`
}

// parseUTC reads a time-range bound (RFC 4791 9.9: UTC date-time); ""
// is unbounded.
func parseUTC(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		return time.Time{}, condition(http.StatusBadRequest, nameCalValidFilter, "time-range %q is not a UTC date-time", s)
	}
	return t, nil
}

func (tr *timeRangeEl) parse() (from, to time.Time, err error) {
	if from, err = parseUTC(tr.Start); err != nil {
		return
	}
	if to, err = parseUTC(tr.End); err != nil {
		return
	}
	if tr.Start == "" && tr.End == "" {
		return from, to, condition(http.StatusBadRequest, nameCalValidFilter, "time-range without start or end")
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, condition(http.StatusBadRequest, nameCalValidFilter, "time-range ends before it starts")
	}
	return from, to, nil
}

func (f *compFilterEl) toLib() (caldav.CompFilter, error) {
	out := caldav.CompFilter{Name: f.Name, IsNotDefined: f.IsNotDefined != nil}
	if f.TimeRange != nil {
		var err error
		if out.Start, out.End, err = f.TimeRange.parse(); err != nil {
			return out, err
		}
	}
	for _, p := range f.Props {
		pf := caldav.PropFilter{Name: p.Name, IsNotDefined: p.IsNotDefined != nil}
		if p.TimeRange != nil {
			var err error
			if pf.Start, pf.End, err = p.TimeRange.parse(); err != nil {
				return out, err
			}
		}
		if p.TextMatch != nil {
			pf.TextMatch = &caldav.TextMatch{Text: p.TextMatch.Text, NegateCondition: p.TextMatch.Negate == "yes"}
		}
		for _, pp := range p.Params {
			x := caldav.ParamFilter{Name: pp.Name, IsNotDefined: pp.IsNotDefined != nil}
			if pp.TextMatch != nil {
				x.TextMatch = &caldav.TextMatch{Text: pp.TextMatch.Text, NegateCondition: pp.TextMatch.Negate == "yes"}
			}
			pf.ParamFilter = append(pf.ParamFilter, x)
		}
		out.Props = append(out.Props, pf)
	}
	for i := range f.Comps {
		c, err := f.Comps[i].toLib()
		if err != nil {
			return out, err
		}
		out.Comps = append(out.Comps, c)
	}
	return out, nil
}

func (c *calHome) report(w http.ResponseWriter, r *http.Request, u *user, cl *cal) error {
	body, name, err := readReport(r)
	if err != nil {
		return err
	}
	switch name {
	case xml.Name{Space: nsCalDAV, Local: "calendar-multiget"}:
		var req multigetReq
		if err := decodeReport(body, name, &req); err != nil {
			return err
		}
		return c.coll(u, cl).multiget(w, r, &req)
	case xml.Name{Space: nsCalDAV, Local: "calendar-query"}:
		var req calQueryReq
		if err := decodeReport(body, name, &req); err != nil {
			return err
		}
		return c.query(w, r, u, cl, &req)
	case xml.Name{Space: nsCalDAV, Local: "free-busy-query"}:
		var req freeBusyReq
		if err := decodeReport(body, name, &req); err != nil {
			return err
		}
		return c.freeBusy(w, r, u, &req)
	case xml.Name{Space: nsDAV, Local: "sync-collection"}:
		var req syncReq
		if err := decodeReport(body, name, &req); err != nil {
			return err
		}
		return c.coll(u, cl).syncCollection(w, r, &req)
	}
	return condition(http.StatusForbidden, xml.Name{Space: nsDAV, Local: "supported-report"},
		"report %s %s is not supported", name.Space, name.Local)
}

// query answers calendar-query. A time range on the VEVENT filter is
// answered by the store (the index, then each candidate's expanded
// recurrence); what else the filter says is matched by go-webdav's
// matcher on the candidates.
func (c *calHome) query(w http.ResponseWriter, r *http.Request, u *user, cl *cal, req *calQueryReq) error {
	root := req.Filter.Comp
	if root == nil || !strings.EqualFold(root.Name, "VCALENDAR") {
		return condition(http.StatusBadRequest, nameCalValidFilter, "the filter's comp-filter must name VCALENDAR")
	}
	filter, err := root.toLib()
	if err != nil {
		return err
	}
	if cl.st.comp() == "VTODO" {
		return c.queryTasks(w, r, u, cl, req, filter)
	}
	var from, to time.Time
	ranged := false
	rest := false // anything left for the matcher
	for i := range filter.Comps {
		f := &filter.Comps[i]
		if !strings.EqualFold(f.Name, "VEVENT") {
			if f.IsNotDefined {
				continue
			}
			// Only events live here: a filter on VTODO matches nothing.
			(&multistatus{}).write(w)
			return nil
		}
		if !f.Start.IsZero() || !f.End.IsZero() {
			from, to, ranged = f.Start, f.End, true
			f.Start, f.End = time.Time{}, time.Time{}
		}
		if len(f.Props) > 0 || len(f.Comps) > 0 || f.IsNotDefined {
			rest = true
		}
	}
	if len(filter.Props) > 0 || len(filter.Comps) > 1 {
		rest = true
	}
	ctx := r.Context()
	st := c.h.opts.Calendar
	names := reqNames(req.Prop)
	co := c.coll(u, cl)
	// The objects are read only when the answer or the filter needs them.
	if ranged && !rest && !co.wantsData(names) {
		res, err := st.InRange(ctx, c.h.opts.Pool, u.id, cl.folder.ServerID, from, to)
		if err != nil {
			return err
		}
		ms := &multistatus{}
		for _, rs := range res {
			ms.responses = append(ms.responses, answer(co.href(rs.Href), co.props(member{version: rs.Version}), names, len(names) == 0, false))
		}
		ms.write(w)
		return nil
	}
	var evs []calObj
	if ranged {
		res, err := st.InRange(ctx, c.h.opts.Pool, u.id, cl.folder.ServerID, from, to)
		if err != nil {
			return err
		}
		sids := make([]string, len(res))
		for i, rs := range res {
			sids[i] = rs.ServerID
		}
		evs, err = cl.st.get(ctx, c.h.opts.Pool, u.id, cl.folder.ServerID, sids)
		if err != nil {
			return err
		}
	} else if evs, err = cl.st.byHref(ctx, c.h.opts.Pool, u.id, cl.folder.ServerID, nil); err != nil {
		return err
	}
	ms := &multistatus{}
	for i := range evs {
		if rest {
			ok, err := caldav.Match(filter, &caldav.CalendarObject{Data: evs[i].Cal})
			if err != nil {
				return condition(http.StatusBadRequest, nameCalValidFilter, "calendar-query: %v", err)
			}
			if !ok {
				continue
			}
		}
		m := member{href: evs[i].Href, version: evs[i].Version}
		if co.wantsData(names) {
			if m, err = objMember(cl, &evs[i]); err != nil {
				return err
			}
		}
		ms.responses = append(ms.responses, answer(co.href(m.href), co.props(m), names, len(names) == 0, false))
	}
	ms.write(w)
	return nil
}

// maxFreeBusySpan is the longest free-busy-query answered; a longer one
// is cut to it (RFC 4791 7.10 lets the server answer for less).
const maxFreeBusySpan = 62 * 24 * time.Hour

// freeBusy answers free-busy-query with a VFREEBUSY of the user's busy
// time in all calendars (free/busy is a person's, as the phones'
// availability lookups see it too), in the store's half-hour slots:
// tentative, busy and out-of-office runs become FREEBUSY periods.
func (c *calHome) freeBusy(w http.ResponseWriter, r *http.Request, u *user, req *freeBusyReq) error {
	if req.TimeRange == nil {
		return errorf(http.StatusBadRequest, "free-busy-query needs a time-range")
	}
	from, to, err := req.TimeRange.parse()
	if err != nil {
		return err
	}
	if from.IsZero() || to.IsZero() {
		return errorf(http.StatusBadRequest, "free-busy-query needs a time-range with start and end")
	}
	if to.Sub(from) > maxFreeBusySpan {
		to = from.Add(maxFreeBusySpan)
	}
	digits, err := c.h.opts.Calendar.FreeBusy(r.Context(), c.h.opts.Pool, u.id, from, to)
	if err != nil {
		return err
	}
	const stamp = "20060102T150405Z"
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easd//CalDAV//EN\r\nBEGIN:VFREEBUSY\r\n")
	b.WriteString("DTSTAMP:" + time.Now().UTC().Format(stamp) + "\r\n")
	b.WriteString("DTSTART:" + from.UTC().Format(stamp) + "\r\nDTEND:" + to.UTC().Format(stamp) + "\r\n")
	kinds := map[byte]string{'1': "BUSY-TENTATIVE", '2': "BUSY", '3': "BUSY-UNAVAILABLE"}
	for i := 0; i < len(digits); {
		j := i + 1
		for j < len(digits) && digits[j] == digits[i] {
			j++
		}
		if k, ok := kinds[digits[i]]; ok {
			s := from.Add(time.Duration(i) * calendar.FreeBusySlot)
			e := from.Add(time.Duration(j) * calendar.FreeBusySlot)
			if e.After(to) {
				e = to
			}
			b.WriteString("FREEBUSY;FBTYPE=" + k + ":" + s.UTC().Format(stamp) + "/" + e.UTC().Format(stamp) + "\r\n")
		}
		i = j
	}
	b.WriteString("END:VFREEBUSY\r\nEND:VCALENDAR\r\n")
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
	return nil
}

// queryTasks answers calendar-query on a task list. A time-range on the
// VTODO filter is judged as RFC 4791 9.9 tells for VTODO (DTSTART, DUE,
// DURATION, COMPLETED, CREATED), by tasks.Overlaps; what else the filter
// says is matched by go-webdav's matcher. A task list holds no VEVENT, so
// a filter on one matches nothing. The list's objects are all read: task
// lists are small, and none of the 9.9 cases is an index range.
func (c *calHome) queryTasks(w http.ResponseWriter, r *http.Request, u *user, cl *cal, req *calQueryReq, filter caldav.CompFilter) error {
	var from, to time.Time
	ranged := false
	for i := range filter.Comps {
		f := &filter.Comps[i]
		if !strings.EqualFold(f.Name, "VTODO") {
			if f.IsNotDefined {
				continue
			}
			(&multistatus{}).write(w)
			return nil
		}
		if !f.Start.IsZero() || !f.End.IsZero() {
			from, to, ranged = f.Start, f.End, true
			f.Start, f.End = time.Time{}, time.Time{}
		}
	}
	objs, err := cl.st.byHref(r.Context(), c.h.opts.Pool, u.id, cl.folder.ServerID, nil)
	if err != nil {
		return err
	}
	names := reqNames(req.Prop)
	co := c.coll(u, cl)
	ms := &multistatus{}
	for i := range objs {
		if ranged && !tasks.Overlaps(objs[i].Cal, from, to) {
			continue
		}
		ok, err := caldav.Match(filter, &caldav.CalendarObject{Data: objs[i].Cal})
		if err != nil {
			return condition(http.StatusBadRequest, nameCalValidFilter, "calendar-query: %v", err)
		}
		if !ok {
			continue
		}
		m := member{href: objs[i].Href, version: objs[i].Version}
		if co.wantsData(names) {
			if m, err = objMember(cl, &objs[i]); err != nil {
				return err
			}
		}
		ms.responses = append(ms.responses, answer(co.href(m.href), co.props(m), names, len(names) == 0, false))
	}
	ms.write(w)
	return nil
}
