package tasks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/itemstore"
)

// ImportOptions change how Import treats a file.
type ImportOptions struct {
	// SkipBad imports the good tasks of a file that has bad ones; by
	// default one bad task leaves the list untouched.
	SkipBad bool
}

// BadTask is a task Import refused, with where it is in the file.
type BadTask struct {
	Task   int // 1 for the file's first VTODO; 0 for text outside any
	Line   int // line of the file, 1-based: the problem's, else the VTODO's BEGIN
	Reason string
}

func (b BadTask) String() string {
	if b.Task == 0 {
		return fmt.Sprintf("line %d: %s", b.Line, b.Reason)
	}
	return fmt.Sprintf("task %d, line %d: %s", b.Task, b.Line, b.Reason)
}

// ImportResult says what Import did.
type ImportResult struct {
	Created   int
	Updated   int       // tasks that replaced the list's task of their UID
	Unchanged int       // tasks the list already held exactly so
	Skipped   int       // components that are not tasks (VEVENT, VJOURNAL ...)
	Bad       []BadTask // in file order
}

// Errors of Import.
var (
	ErrBadTasks = errors.New("tasks: bad tasks in the file, nothing imported")
	ErrNoTasks  = errors.New("tasks: no VTODO in the file")
)

// Beginner starts a transaction (a pool, or a transaction for a
// savepoint).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// maxLine bounds one unfolded line of an imported file.
const maxLine = MaxObjectSize

type line struct {
	no   int
	text string
}

// block is one component of the file, its lines unfolded.
type block struct {
	name  string
	start int
	lines []line
}

// splitFile reads an iCalendar file into its top-level components'
// blocks (the children of VCALENDAR), unfolding lines and counting them.
func splitFile(r io.Reader) ([]block, []BadTask, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var raw []line
	n := 0
	for sc.Scan() {
		n++
		t := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			t = strings.TrimPrefix(t, "\ufeff")
		}
		if (strings.HasPrefix(t, " ") || strings.HasPrefix(t, "\t")) && len(raw) > 0 {
			raw[len(raw)-1].text += t[1:]
			continue
		}
		if t == "" {
			continue
		}
		raw = append(raw, line{n, t})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("tasks: line %d: %w", n+1, err)
	}
	var blocks []block
	var bad []BadTask
	depth := 0 // 1 inside VCALENDAR, 2+ inside a component
	var cur *block
	for _, l := range raw {
		name, value, _ := strings.Cut(l.text, ":")
		name = strings.ToUpper(name)
		value = strings.ToUpper(strings.TrimSpace(value))
		switch {
		case name == "BEGIN" && depth == 0:
			if value != ical.CompCalendar {
				bad = append(bad, BadTask{Line: l.no, Reason: fmt.Sprintf("BEGIN:%s outside a VCALENDAR", value)})
				return nil, bad, nil
			}
			depth = 1
		case name == "END" && depth == 1:
			depth = 0
		case name == "BEGIN" && depth == 1:
			blocks = append(blocks, block{name: value, start: l.no})
			cur = &blocks[len(blocks)-1]
			cur.lines = append(cur.lines, l)
			depth = 2
		case depth >= 2:
			cur.lines = append(cur.lines, l)
			if name == "BEGIN" {
				depth++
			} else if name == "END" {
				depth--
				if depth == 1 && value != cur.name {
					bad = append(bad, BadTask{Line: l.no, Reason: fmt.Sprintf("END:%s closes BEGIN:%s of line %d", value, cur.name, cur.start)})
					return nil, bad, nil
				}
			}
		case depth == 1:
			// A property of the VCALENDAR (VERSION, PRODID, X-WR-...).
		default:
			bad = append(bad, BadTask{Line: l.no, Reason: "text outside a VCALENDAR"})
			return nil, bad, nil
		}
	}
	if depth != 0 {
		bad = append(bad, BadTask{Line: n, Reason: "the file ends inside a component"})
		return nil, bad, nil
	}
	return blocks, bad, nil
}

func (b block) text() string {
	var s strings.Builder
	for _, l := range b.lines {
		s.WriteString(l.text)
		s.WriteString("\r\n")
	}
	return s.String()
}

// lineOf is the line of b's first property called name, else b's start.
func (b block) lineOf(name string) int {
	for _, l := range b.lines {
		n, _, _ := strings.Cut(l.text, ":")
		n, _, _ = strings.Cut(n, ";")
		if strings.EqualFold(n, name) {
			return l.no
		}
	}
	return b.start
}

// parsed is one good task of a file.
type parsed struct {
	p   prepared
	cal *ical.Calendar
}

// parseTask checks one VTODO block and makes it a stored object with the
// VTIMEZONEs it uses.
func parseTask(b block, zones map[string]block) (*ical.Calendar, int, error) {
	var s strings.Builder
	s.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + prodID + "\r\n")
	var used []string
	for _, l := range b.lines {
		_, params, _ := strings.Cut(strings.SplitN(l.text, ":", 2)[0], ";")
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "TZID") {
				v = strings.Trim(v, `"`)
				if _, ok := zones[v]; ok && !slices.Contains(used, v) {
					used = append(used, v)
				}
			}
		}
	}
	slices.Sort(used)
	for _, z := range used {
		s.WriteString(zones[z].text())
	}
	s.WriteString(b.text())
	s.WriteString("END:VCALENDAR\r\n")
	cal, err := decodeCal(s.String())
	if err != nil {
		return nil, b.start, err
	}
	todo := todoOf(cal)
	for _, c := range todo.Children {
		if c.Name != ical.CompAlarm {
			return nil, b.start, fmt.Errorf("a VTODO may hold VALARMs only, not %s", c.Name)
		}
	}
	if todo.Props.Get(ical.PropRecurrenceID) != nil {
		return nil, b.lineOf(ical.PropRecurrenceID), errors.New("an override of one occurrence (RECURRENCE-ID) is not supported")
	}
	for _, name := range []string{ical.PropDateTimeStart, ical.PropDue, ical.PropCompleted, ical.PropDateTimeStamp} {
		if p := todo.Props.Get(name); p != nil {
			if _, _, err := propTime(p, time.UTC); err != nil {
				return nil, b.lineOf(name), fmt.Errorf("%s: %v", name, err)
			}
		}
	}
	if p := todo.Props.Get(ical.PropDuration); p != nil {
		if _, err := p.Duration(); err != nil {
			return nil, b.lineOf(ical.PropDuration), fmt.Errorf("DURATION: %v", err)
		}
	}
	if todo.Props.Get(ical.PropUID) == nil {
		// A UID from the text: importing the file again finds the task
		// instead of making a second one.
		sum := sha256.Sum256([]byte(b.text()))
		todo.Props.SetText(ical.PropUID, fmt.Sprintf("import-%x", sum[:16]))
	}
	if todo.Props.Get(ical.PropDateTimeStamp) == nil {
		todo.Props.SetDateTime(ical.PropDateTimeStamp, time.Now().UTC().Truncate(time.Second))
	}
	return cal, b.start, nil
}

// Import reads a file of VTODOs (iCalendar, RFC 5545) into the task list
// folderID of userID: each VTODO becomes one task with the VTIMEZONEs it
// uses; a UID the list holds replaces that task, so importing a file
// again (or an export) creates no duplicates. Other components are
// skipped. Everything happens in one transaction.
func (s *Store) Import(ctx context.Context, db Beginner, userID int64, folderID string, r io.Reader, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	blocks, bad, err := splitFile(r)
	if err != nil {
		return res, err
	}
	res.Bad = bad
	zones := map[string]block{}
	for _, b := range blocks {
		if b.name == ical.CompTimezone {
			for _, l := range b.lines {
				if n, v, _ := strings.Cut(l.text, ":"); strings.EqualFold(n, "TZID") {
					zones[v] = b
				}
			}
		}
	}
	var good []parsed
	firstOfUID := map[string]int{}
	taskNo := 0
	for _, b := range blocks {
		switch b.name {
		case ical.CompTimezone:
			continue
		case ical.CompToDo:
		default:
			res.Skipped++
			continue
		}
		taskNo++
		cal, at, err := parseTask(b, zones)
		if err != nil {
			res.Bad = append(res.Bad, BadTask{Task: taskNo, Line: at, Reason: err.Error()})
			continue
		}
		p, err := prepare(cal)
		if err != nil {
			res.Bad = append(res.Bad, BadTask{Task: taskNo, Line: b.start, Reason: err.Error()})
			continue
		}
		if first, dup := firstOfUID[p.uid]; dup {
			res.Bad = append(res.Bad, BadTask{Task: taskNo, Line: b.lineOf(ical.PropUID),
				Reason: fmt.Sprintf("UID %q is also task %d's", p.uid, first)})
			continue
		}
		firstOfUID[p.uid] = taskNo
		good = append(good, parsed{p, cal})
	}
	if len(res.Bad) > 0 && !opts.SkipBad {
		return res, ErrBadTasks
	}
	if taskNo == 0 && len(res.Bad) == 0 {
		return res, ErrNoTasks
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("tasks: import: %w", err)
	}
	defer tx.Rollback(ctx)
	for _, g := range good {
		var id int64
		var old string
		err := tx.QueryRow(ctx, `SELECT id, ical FROM tasks WHERE user_id = $1 AND folder_id = $2 AND uid = $3`,
			userID, folderID, g.p.uid).Scan(&id, &old)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := s.Create(ctx, tx, userID, folderID, g.cal); err != nil {
				return res, err
			}
			res.Created++
		case err != nil:
			return res, fmt.Errorf("tasks: import: %w", err)
		case old == g.p.text:
			res.Unchanged++
		default:
			if _, err := s.Update(ctx, tx, userID, folderID, itemstore.ServerID(folderID, id), g.cal); err != nil {
				return res, err
			}
			res.Updated++
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("tasks: import: %w", err)
	}
	return res, nil
}

// Export writes the list's tasks as one iCalendar object: every VTODO,
// and each VTIMEZONE they use once.
func (s *Store) Export(ctx context.Context, q Querier, userID int64, folderID string, w io.Writer) (int, error) {
	list, err := s.List(ctx, q, userID, folderID)
	if err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, ErrNoTasks
	}
	return len(list), WriteCalendar(w, list)
}

// WriteCalendar writes ts as one iCalendar object.
func WriteCalendar(w io.Writer, ts []Task) error {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, prodID)
	seen := map[string]bool{}
	var todos []*ical.Component
	for _, t := range ts {
		for _, c := range t.Cal.Children {
			if c.Name == ical.CompTimezone {
				id := text(c, ical.PropTimezoneID)
				if !seen[id] {
					seen[id] = true
					cal.Children = append(cal.Children, c)
				}
				continue
			}
			// A task stored before the RRULE mapping is exported with
			// its RRULE.
			migrateRecurrence(c, time.UTC)
			todos = append(todos, c)
		}
	}
	cal.Children = append(cal.Children, todos...)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return fmt.Errorf("tasks: export: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
