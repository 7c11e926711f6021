package eas

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// stateUnavailable reports whether err means easd's database could not be
// reached (down, restarting, refusing connections, gone mid-query), as
// opposed to a bug or a bad request. Such a request is answered 503 with
// Retry-After (MS-ASHTTP 3.1.5.2.3), as a mail server outage already is:
// the phone retries later and shows no error, where a 500 would look like
// a broken server.
func stateUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrStateUnavailable) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutdown, crash, starting
			pe.Code == "53300": // too many connections
			return true
		}
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// pgx reports a connection lost under a query, or a pool that cannot
	// connect, as plain errors; their text is stable across versions.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "failed to connect")
}
