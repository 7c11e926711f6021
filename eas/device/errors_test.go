package device

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/easd/easd/internal/testenv"
)

// A device keeps its last KeptErrors failed requests, newest first; the
// writing statement drops the older ones, and a removed device's go with it.
func TestRecordErrorKeepsTheNewest(t *testing.T) {
	db := testenv.PG(t)
	s := NewStore(db.Pool, 0)
	ctx := context.Background()
	d, err := s.Touch(ctx, Seen{Login: "alice", DeviceID: "flaky", DeviceType: "iPhone", ProtocolVersion: "16.1"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Touch(ctx, Seen{Login: "alice", DeviceID: "quiet", DeviceType: "iPhone", ProtocolVersion: "16.1"})
	if err != nil {
		t.Fatal(err)
	}
	if errs, err := s.Errors(ctx, d.ID); err != nil || errs == nil || len(errs) != 0 {
		t.Fatalf("errors of a new device: %v %v", errs, err)
	}
	for i := range KeptErrors + 5 {
		if err := s.RecordError(ctx, d.ID, RequestError{Command: "Sync", HTTPStatus: 200, EASStatus: 3,
			Reason: fmt.Sprintf("failure %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	errs, err := s.Errors(ctx, d.ID)
	if err != nil || len(errs) != KeptErrors || errs[0].Reason != fmt.Sprintf("failure %d", KeptErrors+4) ||
		errs[KeptErrors-1].Reason != "failure 5" || errs[0].At.IsZero() || errs[0].EASStatus != 3 {
		t.Fatalf("kept errors: %d %+v %v", len(errs), errs, err)
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM device_errors WHERE device_id = $1`, d.ID).Scan(&rows); err != nil || rows != KeptErrors {
		t.Fatalf("rows kept: %d %v", rows, err)
	}
	if errs, _ := s.Errors(ctx, other.ID); len(errs) != 0 {
		t.Fatalf("another device's errors: %+v", errs)
	}

	// A long reason is cut, and bytes that are not UTF-8 are replaced.
	long := strings.Repeat("é", 400) + "\xff"
	if err := s.RecordError(ctx, d.ID, RequestError{Command: "Ping", HTTPStatus: 400, Reason: long}); err != nil {
		t.Fatal(err)
	}
	errs, _ = s.Errors(ctx, d.ID)
	if r := errs[0].Reason; len(r) > maxErrorReason+3 || !utf8.ValidString(r) || !strings.HasSuffix(r, "...") {
		t.Fatalf("long reason kept as %d bytes %q", len(r), r)
	}

	if err := s.Delete(ctx, admin, "alice", "flaky"); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM device_errors WHERE device_id = $1`, d.ID).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("rows of a removed device: %d %v", rows, err)
	}
}
