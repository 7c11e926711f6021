package calendar

import (
	"context"
	"strings"
	"testing"
	"time"
)

const seriesInvite = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
METHOD:REQUEST
BEGIN:VEVENT
UID:weekly@example.test
SEQUENCE:0
DTSTAMP:20260105T080000Z
DTSTART;TZID=Europe/Berlin:20260112T100000
DTEND;TZID=Europe/Berlin:20260112T110000
RRULE:FREQ=WEEKLY;COUNT=6
SUMMARY:Weekly
ORGANIZER:mailto:bob@example.test
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.test
END:VEVENT
END:VCALENDAR`

// Answering one occurrence of a series: an override with the answer,
// the series untouched; declining another deletes that one only; the
// REPLY names the occurrence.
func TestRespondToOneOccurrence(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := NewMeetings(f.store)
	ics := []byte(strings.ReplaceAll(seriesInvite, "\n", "\r\n") + "\r\n")
	second := time.Date(2026, 1, 19, 9, 0, 0, 0, time.UTC) // 10:00 Berlin
	id, err := m.Respond(ctx, f.pool, f.userID, Answer{Self: "alice@example.test", Response: Tentative, ICS: ics,
		Instance: second, Reply: true})
	if err != nil || id == "" {
		t.Fatalf("Respond: %q %v", id, err)
	}
	e, err := f.store.ByUID(ctx, f.pool, f.userID, "weekly@example.test")
	if err != nil {
		t.Fatal(err)
	}
	master, overrides := events(e.Cal)
	if len(overrides) != 1 || partStatOf(overrides[0], "alice@example.test") != "TENTATIVE" ||
		partStatOf(master, "alice@example.test") != "NEEDS-ACTION" ||
		overrides[0].Props.Get("RECURRENCE-ID").Value != "20260119T100000" {
		t.Fatalf("after the answer:\n%s", mustEncode(t, e))
	}
	third := second.AddDate(0, 0, 7)
	if id, err := m.Respond(ctx, f.pool, f.userID, Answer{Self: "alice@example.test", Response: Decline, FolderID: e.FolderID,
		ServerID: e.ServerID, Instance: third}); err != nil || id != "" {
		t.Fatalf("decline: %q %v", id, err)
	}
	e, _ = f.store.ByUID(ctx, f.pool, f.userID, "weekly@example.test")
	if master, _ := events(e.Cal); !strings.Contains(mustEncode(t, e), "EXDATE;TZID=Europe/Berlin:20260126T100000") || master == nil {
		t.Fatalf("after the decline:\n%s", mustEncode(t, e))
	}
	var msg []byte
	if err := f.pool.QueryRow(ctx, `SELECT message FROM meeting_outbox WHERE user_id = $1 AND method = 'REPLY'`, f.userID).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"METHOD:REPLY", "RECURRENCE-ID;TZID=Europe/Berlin:20260119T100000", "PARTSTAT=TENTATIVE", "To: bob@example.test"} {
		if !strings.Contains(string(msg), want) {
			t.Errorf("reply lacks %q:\n%s", want, msg)
		}
	}
	// The organizer's own meeting cannot be answered.
	if _, err := m.Respond(ctx, f.pool, f.userID, Answer{Self: "bob@example.test", Response: Accept, FolderID: e.FolderID, ServerID: e.ServerID}); err != ErrNotInvited {
		t.Errorf("organizer answering: %v", err)
	}
}

func mustEncode(t *testing.T, e Event) string {
	t.Helper()
	s, err := encodeObject(e.Cal)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Mail syncs newest first: a cancellation seen before its request keeps
// the request out of the calendar.
func TestFileCancelBeforeRequest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := NewMeetings(f.store)
	req := strings.ReplaceAll(seriesInvite, "\n", "\r\n") + "\r\n"
	cancel := strings.Replace(strings.Replace(req, "METHOD:REQUEST", "METHOD:CANCEL", 1), "SEQUENCE:0", "SEQUENCE:1", 1)
	for _, ics := range []string{cancel, req} {
		if err := m.File(ctx, f.pool, f.userID, "alice@example.test", []byte(ics)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.ByUID(ctx, f.pool, f.userID, "weekly@example.test"); err != ErrNotFound {
		t.Fatalf("cancelled meeting filed: %v", err)
	}
}
