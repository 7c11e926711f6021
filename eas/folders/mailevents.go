package folders

import (
	"context"
	"fmt"
)

// MailboxFolders is what FindMailboxes found: the user and the folder ids
// of those of the asked mailboxes it has.
type MailboxFolders struct {
	UserID int64
	Login  string
	IDs    map[string]string // IMAP name -> EAS folder id
}

// FindMailboxes looks up the first of logins (in order) that is a user
// easd knows, and the folders of that user standing for mailboxes. ok is
// false when none of the logins is known. It serves mail server events,
// which name a user and mailboxes, to wake the requests waiting on them.
func (s *Store) FindMailboxes(ctx context.Context, logins, mailboxes []string) (_ MailboxFolders, ok bool, err error) {
	rows, err := s.pool.Query(ctx, `
		SELECT u.id, u.login, f.imap_name, f.server_id
		FROM users u
		LEFT JOIN folders f ON f.user_id = u.id AND f.source = 'imap' AND f.imap_name = ANY($2::text[])
		WHERE u.login = ANY($1::text[])
		ORDER BY array_position($1::text[], u.login)`, logins, mailboxes)
	if err != nil {
		return MailboxFolders{}, false, fmt.Errorf("folders: find mailboxes: %w", err)
	}
	defer rows.Close()
	var out MailboxFolders
	for rows.Next() {
		var id int64
		var login string
		var name, serverID *string
		if err := rows.Scan(&id, &login, &name, &serverID); err != nil {
			return MailboxFolders{}, false, fmt.Errorf("folders: find mailboxes: %w", err)
		}
		if !ok {
			out, ok = MailboxFolders{UserID: id, Login: login, IDs: map[string]string{}}, true
		}
		if id == out.UserID && name != nil && serverID != nil {
			out.IDs[*name] = *serverID
		}
	}
	if err := rows.Err(); err != nil {
		return MailboxFolders{}, false, fmt.Errorf("folders: find mailboxes: %w", err)
	}
	return out, ok, nil
}
