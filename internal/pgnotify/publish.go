package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"
)

// Channel is the one PostgreSQL notification channel easd uses.
const Channel = "easd"

// MaxPayload is PostgreSQL's limit on a NOTIFY payload (8000 bytes in the
// default build), which the encoded topic and data must stay below.
const MaxPayload = 8000 - 1

// Execer is what Publish needs: a *pgxpool.Pool, *pgx.Conn or pgx.Tx.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// ErrTooLarge is returned by Publish for a payload PostgreSQL would refuse.
var ErrTooLarge = errors.New("pgnotify: payload too large")

// Publish sends data to every subscriber of topic on every instance
// listening on the database. In a transaction it is sent at commit.
func Publish(ctx context.Context, db Execer, topic, data string) error {
	msg, err := encode(topic, data)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, msg); err != nil {
		return fmt.Errorf("pgnotify: publish %s: %w", topic, err)
	}
	return nil
}

// Prefix returns what a payload for topic starts with. A statement that
// runs anyway can then notify itself, saving a round trip:
//
//	SELECT pg_notify($channel, $prefix || data) ...
//
// with $channel = Channel. The data must keep the payload under MaxPayload.
func Prefix(topic string) (string, error) {
	if err := checkTopic(topic); err != nil {
		return "", err
	}
	return topic + " ", nil
}

// encode builds the NOTIFY payload "topic data" (see the package comment).
func encode(topic, data string) (string, error) {
	if err := checkTopic(topic); err != nil {
		return "", err
	}
	if n := len(topic) + 1 + len(data); n > MaxPayload {
		return "", fmt.Errorf("%w: %d bytes for %s (limit %d)", ErrTooLarge, n, topic, MaxPayload)
	}
	return topic + " " + data, nil
}

// decode splits a NOTIFY payload into topic and data.
func decode(msg string) (topic, data string, err error) {
	topic, data, _ = strings.Cut(msg, " ")
	if err := checkTopic(topic); err != nil {
		return "", "", err
	}
	return topic, data, nil
}

func checkTopic(topic string) error {
	if topic == "" {
		return errors.New("pgnotify: empty topic")
	}
	if strings.IndexFunc(topic, unicode.IsSpace) >= 0 {
		return fmt.Errorf("pgnotify: topic %q contains white space", topic)
	}
	return nil
}
