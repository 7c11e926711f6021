package device

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// KeptErrors is how many failed requests a device keeps: enough to see
// what goes wrong with a phone, bounded so that a phone failing in a loop
// costs a fixed amount of space.
const KeptErrors = 20

// maxErrorReason bounds a kept reason (the access log's note, which may
// quote what the client sent).
const maxErrorReason = 500

// RequestError is a request of the device that ended in an error.
type RequestError struct {
	At         time.Time
	Command    string
	HTTPStatus int
	EASStatus  int // 0: none in the answer
	Reason     string
}

// RecordError keeps a failed request of the device and drops its older
// ones beyond KeptErrors, in one statement. It is called on the error path
// only: a request that succeeds writes nothing here.
func (s *Store) RecordError(ctx context.Context, deviceID int64, e RequestError) error {
	// The DELETE sees the rows as they were before the INSERT (one
	// snapshot): keeping KeptErrors-1 of them leaves KeptErrors with the
	// new one. Concurrent failures of one device may leave a row or two
	// more, which the next one drops.
	_, err := s.pool.Exec(ctx, `WITH added AS (
			INSERT INTO device_errors (device_id, command, http_status, eas_status, reason)
			VALUES ($1, $2, $3, $4, $5))
		DELETE FROM device_errors WHERE device_id = $1 AND id < (
			SELECT id FROM device_errors WHERE device_id = $1 ORDER BY id DESC OFFSET $6 LIMIT 1)`,
		deviceID, cut(e.Command, 64), e.HTTPStatus, e.EASStatus, cut(e.Reason, maxErrorReason), KeptErrors-2)
	if err != nil {
		return fmt.Errorf("device: record error: %w", err)
	}
	return nil
}

// Errors returns the device's kept failed requests, newest first.
func (s *Store) Errors(ctx context.Context, deviceID int64) ([]RequestError, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, command, http_status, eas_status, reason
		FROM device_errors WHERE device_id = $1 ORDER BY id DESC LIMIT $2`, deviceID, KeptErrors)
	if err != nil {
		return nil, fmt.Errorf("device: errors: %w", err)
	}
	defer rows.Close()
	out := []RequestError{}
	for rows.Next() {
		var e RequestError
		if err := rows.Scan(&e.At, &e.Command, &e.HTTPStatus, &e.EASStatus, &e.Reason); err != nil {
			return nil, fmt.Errorf("device: errors: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("device: errors: %w", err)
	}
	return out, nil
}

// cut shortens s to at most n bytes at a rune boundary, and makes it
// valid UTF-8 (PostgreSQL text refuses anything else).
func cut(s string, n int) string {
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
