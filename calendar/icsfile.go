package calendar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/emersion/go-ical"
)

// iCalendar files: import and export of whole calendars (RFC 5545 files
// with many events). An import is all or nothing: every series is checked
// first, and the bad ones are reported with their position and reason;
// only a file with none is written, in one transaction.

// ErrBadEvents: the file has events that cannot be stored; nothing was
// imported.
var ErrBadEvents = errors.New("calendar: the file has bad events")

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated int
	// Bad describes each series that cannot be stored: "event 3 (UID x): reason".
	Bad []string
}

// series groups a file's VEVENTs by UID, in the order of first
// appearance, each with the VTIMEZONEs of the file.
type seriesObj struct {
	pos int // 1-based position of its first VEVENT in the file
	uid string
	cal *ical.Calendar
}

// readSeries parses r (one or more VCALENDARs) into one object per
// series. A VEVENT without UID is a series of its own.
func readSeries(r io.Reader) ([]seriesObj, error) {
	dec := ical.NewDecoder(r)
	var out []seriesObj
	byUID := map[string]int{}
	pos := 0
	for {
		cal, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("calendar: after event %d: %w", pos, err)
		}
		var tzs []*ical.Component
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				tzs = append(tzs, c)
			}
		}
		for _, c := range cal.Children {
			if c.Name != ical.CompEvent {
				continue
			}
			pos++
			uid := ""
			if p := c.Props.Get(ical.PropUID); p != nil {
				uid = p.Value
			}
			i, ok := byUID[uid]
			if !ok || uid == "" {
				obj := ical.NewCalendar()
				obj.Props.SetText(ical.PropProductID, prodID)
				obj.Props.SetText(ical.PropVersion, "2.0")
				out = append(out, seriesObj{pos: pos, uid: uid, cal: obj})
				i = len(out) - 1
				byUID[uid] = i
			}
			obj := out[i].cal
			for _, tz := range tzs {
				if tzid := tz.Props.Get(ical.PropTimezoneID); tzid != nil && usesTZID(c, tzid.Value) && !hasTZ(obj, tzid.Value) {
					obj.Children = append([]*ical.Component{tz}, obj.Children...)
				}
			}
			obj.Children = append(obj.Children, c)
		}
	}
	return out, nil
}

func usesTZID(c *ical.Component, tzid string) bool {
	for _, ps := range c.Props {
		for _, p := range ps {
			if p.Params.Get(ical.PropTimezoneID) == tzid {
				return true
			}
		}
	}
	return false
}

func hasTZ(cal *ical.Calendar, tzid string) bool {
	return slices.ContainsFunc(cal.Children, func(c *ical.Component) bool {
		p := c.Props.Get(ical.PropTimezoneID)
		return c.Name == ical.CompTimezone && p != nil && p.Value == tzid
	})
}

// Import reads an iCalendar file into the calendar folderID. A series
// whose UID the user has in this calendar is replaced; one in another of
// the user's calendars is bad (a UID names one event). With any bad
// series nothing is written and the error is ErrBadEvents.
func (s *Store) Import(ctx context.Context, userID int64, folderID string, r io.Reader) (ImportResult, error) {
	var res ImportResult
	objs, err := readSeries(r)
	if err != nil {
		return res, err
	}
	for _, o := range objs {
		if _, err := prepare(cloneCalendar(o.cal), ""); err != nil {
			res.Bad = append(res.Bad, fmt.Sprintf("event %d (UID %q): %v", o.pos, o.uid, err))
		}
	}
	if len(res.Bad) > 0 {
		return res, ErrBadEvents
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx)
	for _, o := range objs {
		e, err := s.Create(ctx, tx, userID, folderID, o.cal)
		switch {
		case err == nil:
			res.Created++
		case errors.Is(err, ErrUIDExists) && e.FolderID == folderID:
			if _, err := s.Update(ctx, tx, userID, folderID, e.ServerID, o.cal); err != nil {
				return res, err
			}
			res.Updated++
		case errors.Is(err, ErrUIDExists):
			res.Bad = append(res.Bad, fmt.Sprintf("event %d (UID %q): the UID is in another calendar (%s)", o.pos, o.uid, e.FolderID))
		default:
			return res, fmt.Errorf("event %d (UID %q): %w", o.pos, o.uid, err)
		}
	}
	if len(res.Bad) > 0 {
		return ImportResult{Bad: res.Bad}, ErrBadEvents
	}
	return res, tx.Commit(ctx)
}

// Export writes the calendar as one VCALENDAR: every series' events, and
// each VTIMEZONE once.
func (s *Store) Export(ctx context.Context, userID int64, folderID string, w io.Writer) error {
	rows, err := s.pool.Query(ctx, `SELECT ical FROM events WHERE user_id = $1 AND folder_id = $2 ORDER BY first_start, id`, userID, folderID)
	if err != nil {
		return fmt.Errorf("calendar: export: %w", err)
	}
	defer rows.Close()
	out := ical.NewCalendar()
	out.Props.SetText(ical.PropProductID, prodID)
	out.Props.SetText(ical.PropVersion, "2.0")
	var tzs, evs []*ical.Component
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return fmt.Errorf("calendar: export: %w", err)
		}
		cal, err := decodeObject(text)
		if err != nil {
			return fmt.Errorf("calendar: export: %w", err)
		}
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				id := c.Props.Get(ical.PropTimezoneID)
				if id != nil && !slices.ContainsFunc(tzs, func(x *ical.Component) bool { return x.Props.Get(ical.PropTimezoneID).Value == id.Value }) {
					tzs = append(tzs, c)
				}
				continue
			}
			evs = append(evs, c)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("calendar: export: %w", err)
	}
	if len(evs) == 0 {
		// go-ical refuses an empty VCALENDAR; an empty calendar exports
		// as one anyway, which every reader accepts.
		_, err := io.WriteString(w, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"+prodID+"\r\nEND:VCALENDAR\r\n")
		return err
	}
	out.Children = append(tzs, evs...)
	text, err := encodeObject(out)
	if err != nil {
		return fmt.Errorf("calendar: export: %w", err)
	}
	_, err = io.WriteString(w, text)
	return err
}
