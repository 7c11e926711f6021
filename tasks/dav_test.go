package tasks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
)

// Moves and deletes leave tombstones that ChangesSince reports, and a
// moved task keeps its CalDAV name.
func TestTasksDAVChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, u := f.store, f.userID
	a, err := s.CreateNamed(ctx, f.pool, u, "7", "a.ics", task(t, &message.Task{Subject: "a"}))
	if err != nil || a.Href != "a.ics" {
		t.Fatalf("CreateNamed: %+v %v", a, err)
	}
	if _, err := s.CreateNamed(ctx, f.pool, u, "7", "a.ics", task(t, &message.Task{Subject: "a2"})); !errors.Is(err, ErrHrefExists) {
		t.Fatalf("same name again: %v", err)
	}
	b, err := s.Create(ctx, f.pool, u, "7", task(t, &message.Task{Subject: "b"}))
	if err != nil || b.Href != b.UID+".ics" {
		t.Fatalf("Create's name: %+v %v", b, err)
	}
	ch, err := s.ChangesSince(ctx, f.pool, u, "7", 0, 0)
	if err != nil || len(ch.Changed) != 2 || ch.CTag != 2 {
		t.Fatalf("all: %+v %v", ch, err)
	}
	since := ch.CTag
	moved, err := s.Move(ctx, f.pool, u, "7", "8", a.ServerID)
	if err != nil || moved.Href != "a.ics" {
		t.Fatalf("Move: %+v %v", moved, err)
	}
	if err := s.Delete(ctx, f.pool, u, "7", b.ServerID); err != nil {
		t.Fatal(err)
	}
	ch, err = s.ChangesSince(ctx, f.pool, u, "7", since, 0)
	if err != nil || len(ch.Changed) != 0 || len(ch.Removed) != 2 || ch.Removed[0].Href != "a.ics" || ch.Removed[1].Href != b.Href {
		t.Fatalf("after move and delete: %+v %v", ch, err)
	}
	if _, err := s.ChangesSince(ctx, f.pool, u, "7", ch.CTag+1, 0); !errors.Is(err, ErrTokenTooOld) {
		t.Fatalf("token from the future: %v", err)
	}
	if err := s.PruneTombstones(ctx, f.pool, u, "7", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangesSince(ctx, f.pool, u, "7", since, 0); !errors.Is(err, ErrTokenTooOld) {
		t.Fatalf("token older than the pruned tombstones: %v", err)
	}
}

// Overlaps follows the VTODO table of RFC 4791 9.9.
func TestOverlaps(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse("20060102", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		props    []string
		from, to string
		want     bool
	}{
		{nil, "20260301", "20260302", true},
		{[]string{"DUE:20260310T120000Z"}, "20260310", "20260311", true},
		{[]string{"DUE:20260310T120000Z"}, "20260311", "20260312", false},
		{[]string{"DTSTART:20260305T000000Z"}, "20260301", "20260306", true},
		{[]string{"DTSTART:20260305T000000Z"}, "20260306", "20260307", false},
		{[]string{"DTSTART:20260301T000000Z", "DUE:20260320T000000Z"}, "20260310", "20260311", true},
		{[]string{"DTSTART:20260301T000000Z", "DUE:20260320T000000Z"}, "20260321", "20260322", false},
		{[]string{"DTSTART:20260301T000000Z", "DURATION:P2D"}, "20260302", "20260303", true},
		{[]string{"DTSTART:20260301T000000Z", "DURATION:P2D"}, "20260304", "20260305", false},
		{[]string{"COMPLETED:20260301T100000Z"}, "20260301", "20260302", true},
		{[]string{"COMPLETED:20260301T100000Z"}, "20260302", "20260303", false},
		{[]string{"CREATED:20260301T100000Z"}, "20260201", "20260202", false},
		{[]string{"DUE;VALUE=DATE:20260310"}, "20260309", "20260311", true},
	} {
		text := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:u\r\nDTSTAMP:20260101T000000Z\r\n"
		for _, p := range c.props {
			text += p + "\r\n"
		}
		cal, err := decodeCal(text + "END:VTODO\r\nEND:VCALENDAR\r\n")
		if err != nil {
			t.Fatal(err)
		}
		if got := Overlaps(cal, d(c.from), d(c.to)); got != c.want {
			t.Errorf("%v in [%s, %s): %v, want %v", c.props, c.from, c.to, got, c.want)
		}
	}
}
