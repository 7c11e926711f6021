package contacts

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// ContactAddresses lists the distinct e-mail addresses of the user's
// contacts in all address books, lower case and sorted, at most limit:
// out-of-office tells contacts ("external known" senders) from strangers
// by them.
func (s *Store) ContactAddresses(ctx context.Context, userID int64, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT e FROM contacts, unnest(emails) AS e WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("contacts: addresses: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("contacts: addresses: %w", err)
		}
		// Phones write "Name <addr>" as often as the bare address.
		if a, err := mail.ParseAddress(e); err == nil {
			e = a.Address
		}
		if e = strings.ToLower(strings.TrimSpace(e)); strings.Contains(e, "@") {
			seen[e] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("contacts: addresses: %w", err)
	}
	out := make([]string, 0, len(seen))
	for e := range seen {
		out = append(out, e)
	}
	slices.Sort(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
