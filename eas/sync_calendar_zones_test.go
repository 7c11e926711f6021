package eas_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/calendar/tz"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/message"
)

// The zone matrix end to end: a weekly series at 09:00 local time, made
// on a 14.1 phone in zones with and without DST, in both hemispheres,
// from UTC-10 to UTC+14, reaches a 14.1 and a 16.1 phone, and goes
// through an iCalendar export and import, without drift: the same
// instants, and 09:00 local on both sides of the DST changes.
func TestCalendarZoneMatrix(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	a := startCalendar(t, s, "14.1", nil)
	b := startCalendar(t, s.device(t, "phone-b"), "14.1", nil)
	c := startCalendar(t, s.device(t, "phone-c"), "16.1", nil)
	zones := []string{"Europe/Berlin", "America/New_York", "America/Los_Angeles", "America/Phoenix",
		"Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "Pacific/Honolulu", "Asia/Kolkata",
		"Asia/Kathmandu", "Pacific/Kiritimati", "Europe/Dublin", "UTC"}
	type made struct {
		loc   *time.Location
		start time.Time
		blob  string
	}
	byID := map[string]made{}
	for i, name := range zones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		// A Thursday in January: the series crosses a DST change in both
		// hemispheres before its 30th occurrence.
		start := time.Date(2026, 1, 8, 9, 0, 0, 0, loc)
		blob := base64.StdEncoding.EncodeToString(tz.Encode(loc, 2026).Bytes())
		ev := &message.Calendar{Timezone: blob, AllDayEvent: "0", Subject: "weekly in " + name, BusyStatus: "2",
			UID:       fmt.Sprintf("zone-%d", i),
			StartTime: start.UTC().Format("20060102T150405Z"), EndTime: start.Add(time.Hour).UTC().Format("20060102T150405Z"),
			Recurrence: &message.Recurrence{Type: "1", Interval: "1", DayOfWeek: "16", Occurrences: "30"}}
		id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd(fmt.Sprint("z", i), ev)}}))
		byID[id] = made{loc, start, blob}
	}
	check := func(who string, cmds message.SyncCommands) {
		t.Helper()
		if len(cmds.Add) != len(zones) {
			t.Fatalf("%s got %d events, want %d", who, len(cmds.Add), len(zones))
		}
		for _, it := range cmds.Add {
			got := decodedEvent(t, it)
			m, ok := byID[it.ServerID]
			if !ok {
				// An imported copy: match by subject.
				for _, mm := range byID {
					if strings.HasSuffix(got.Subject, mm.loc.String()) {
						m, ok = mm, true
					}
				}
			}
			if !ok {
				t.Fatalf("%s: unknown event %s %q", who, it.ServerID, got.Subject)
			}
			if got.StartTime != m.start.UTC().Format("20060102T150405Z") {
				t.Errorf("%s, %s: start %s, want %s", who, m.loc, got.StartTime, m.start.UTC().Format("20060102T150405Z"))
			}
			if got.Timezone == "" {
				continue // 16.1 all-day only; timed events carry a zone
			}
			raw, err := base64.StdEncoding.DecodeString(got.Timezone)
			if err != nil {
				t.Fatal(err)
			}
			blob, err := tz.ParseBlob(raw)
			if err != nil {
				t.Fatalf("%s, %s: %v", who, m.loc, err)
			}
			// 09:00 local on every occurrence, before and after the DST
			// changes, as the phone computes it from the blob.
			for w := range 30 {
				occ := m.start.AddDate(0, 0, 7*w)
				if off := blob.Offset(occ); off != offsetOf(occ) {
					t.Errorf("%s, %s: week %d offset %v, want %v", who, m.loc, w, off, offsetOf(occ))
					break
				}
			}
		}
	}
	check("14.1 phone", b.pullF(t, nil))
	check("16.1 phone", c.pullF(t, nil))

	// Through iCalendar: export the calendar, import it into a new one.
	var userID int64
	if err := s.env.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	store := calendar.NewStore(s.env.DB.Pool, eas.NotifyFolderChanged)
	var ics strings.Builder
	if err := store.Export(ctx, userID, a.folder, &ics); err != nil {
		t.Fatal(err)
	}
	fs, err := s.c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := s.c.FolderCreate(ctx, fs.SyncKey, "0", "Imported", 13)
	if err != nil || fc.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", fc, err)
	}
	// The UIDs exist in the first calendar: give the copies new ones, as
	// an import of someone else's file would have.
	copyICS := strings.ReplaceAll(ics.String(), "UID:zone-", "UID:copy-zone-")
	if _, err := store.Import(ctx, userID, fc.ServerID, strings.NewReader(copyICS)); err != nil {
		t.Fatal(err)
	}
	d := s.device(t, "phone-d")
	d.c.Version = "14.1"
	imp := &calEnv{&contactsEnv{syncEnv: d, folder: fc.ServerID}}
	rc := d.sync(t, message.SyncCollection{SyncKey: "0", CollectionID: imp.folder})
	imp.key = rc.SyncKey
	check("imported copy", imp.pullF(t, nil))
}

// offsetOf is t's offset from UTC in its zone, in seconds.
func offsetOf(t time.Time) int {
	_, off := t.Zone()
	return off
}

// The commands that reach calendars through the seam's generic paths:
// a Ping woken by another phone's change, GetItemEstimate, ItemOperations
// Fetch, MoveItems between calendars (a re-sent one answered alike).
func TestCalendarThroughEveryCommand(t *testing.T) {
	s := startPing(t)
	ctx := context.Background()
	a := startCalendar(t, s, "14.1", nil)
	b := startCalendar(t, s.device(t, "phone-b"), "14.1", nil)
	ping := pingAsync(b.c, time.Minute, message.PingFolder{ID: b.folder, Class: "Calendar"})
	stillWaiting(t, ping, time.Second)
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, berlin())
	id := added(t, a.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{calAdd("p", fullEvent(141, start))}}))
	wantChanged(t, answer(t, ping, wakeWithin), b.folder)

	r, err := b.c.GetItemEstimate(ctx, b.folder, b.key, nil)
	if err != nil || r.Response[0].Status != 1 || r.Response[0].Collection.Estimate != 1 {
		t.Fatalf("GetItemEstimate: %+v %v", r, err)
	}
	io, _, err := b.c.ItemOperations(ctx, &message.ItemOperationsRequest{Fetch: []message.ItemOperationsFetch{
		{Store: "Mailbox", CollectionID: b.folder, ServerID: id}}}, false)
	if err != nil || io.Response == nil || io.Response.Fetch[0].Status != 1 || io.Response.Fetch[0].Class != "Calendar" {
		t.Fatalf("ItemOperations Fetch: %+v %v", io, err)
	}

	fs, err := s.c.FolderSync(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := s.c.FolderCreate(ctx, fs.SyncKey, "0", "Team", 13)
	if err != nil || fc.Status != 1 {
		t.Fatalf("FolderCreate: %+v %v", fc, err)
	}
	mv := message.MoveItem{SrcMsgID: id, SrcFldID: a.folder, DstFldID: fc.ServerID}
	r1, err := s.c.MoveItems(ctx, mv)
	if err != nil || r1.Response[0].Status != 3 {
		t.Fatalf("MoveItems: %+v %v", r1, err)
	}
	if r2, err := s.c.MoveItems(ctx, mv); err != nil || r2.Response[0].DstMsgID != r1.Response[0].DstMsgID {
		t.Fatalf("re-sent MoveItems: %+v %v", r2, err)
	}
	if cmds := b.pullF(t, nil); len(cmds.Add) != 0 {
		t.Fatalf("the other phone's default calendar after the move: %+v", cmds)
	}
	// A contact cannot move into a calendar.
	c := startContacts(t, s)
	cid := added(t, c.send(t, &message.SyncClientCommands{Add: []message.SyncClientAdd{addOf("c", &message.Contact{FirstName: "X"})}}))
	if r, err := s.c.MoveItems(ctx, message.MoveItem{SrcMsgID: cid, SrcFldID: c.folder, DstFldID: fc.ServerID}); err != nil || r.Response[0].Status != 2 {
		t.Fatalf("contact into a calendar: %+v %v", r, err)
	}
}
