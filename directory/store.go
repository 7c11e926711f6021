// Package directory is easd's Global Address List: people and resources a
// phone finds with Search Store=GAL and Find, and resolves with
// ResolveRecipients. Entries live in PostgreSQL (Store), each with its
// folded search terms; users who log in appear with their address without
// an administrator's help. An LDAP server can serve instead (LDAP).
//
// A query is split into words; an entry matches when every word begins one
// of its terms (a word of a name, an address, a part of an address's local
// part), ignoring case and accents. Exact matches (every word a whole
// term) rank before prefix matches, then entries are ordered by display
// name.
package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/textfold"
)

// MaxPicture bounds an entry's picture: MS-ASCMD lets a phone ask for
// pictures of up to 100 KB (Picture MaxSize), so a larger one could never
// be sent.
const MaxPicture = 100 << 10

// Kinds of entries.
const (
	Person   = "person"
	Resource = "resource"
)

// Entry is one stored directory entry.
type Entry struct {
	ID     int64
	Kind   string // Person or Resource
	Hidden bool
	// Login is the user's login when the entry is a user's (UserID set).
	Login string
	model.DirectoryEntry
}

// Options configure searches.
type Options struct {
	// Domain completes the address of users whose login has none.
	Domain string
	// MinQuery is the fewest characters a query must have.
	MinQuery int
	// MaxResults caps the matches of one search (Total included).
	MaxResults int
}

// Errors.
var (
	ErrNotFound = errors.New("directory: no such entry")
	ErrExists   = errors.New("directory: an entry with this address exists")
)

// Store keeps the directory in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	// usersSeen is the highest users.id known to have an entry, so that
	// bringing users in costs one index probe per search (see syncUsers).
	usersSeen atomic.Int64
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool, opts Options) *Store {
	if opts.MaxResults <= 0 {
		opts.MaxResults = 100
	}
	return &Store{pool: pool, opts: opts}
}

// Check validates an entry before it is written and normalises its
// addresses (lower case, trimmed).
func Check(e *Entry) error {
	if e.Kind == "" {
		e.Kind = Person
	}
	if e.Kind != Person && e.Kind != Resource {
		return fmt.Errorf("kind %q is neither %s nor %s", e.Kind, Person, Resource)
	}
	var emails []string
	for _, a := range e.Emails {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if at := strings.IndexByte(a, '@'); at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " \t<>,;\"") {
			return fmt.Errorf("%q is not an e-mail address", a)
		}
		if !slices.Contains(emails, a) {
			emails = append(emails, a)
		}
	}
	if len(emails) == 0 {
		return errors.New("an entry needs an e-mail address")
	}
	e.Emails = emails
	if e.DisplayName == "" {
		e.DisplayName = strings.TrimSpace(e.FirstName + " " + e.LastName)
	}
	if e.DisplayName == "" {
		e.DisplayName = emails[0]
	}
	if len(e.Picture) > MaxPicture {
		return fmt.Errorf("picture of %d bytes is larger than %d", len(e.Picture), MaxPicture)
	}
	for _, s := range []string{e.DisplayName, e.FirstName, e.LastName, e.Alias, e.Phone, e.MobilePhone, e.HomePhone,
		e.Title, e.Company, e.Office, e.Department} {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 256 {
			return fmt.Errorf("%.40q: not UTF-8 or longer than 256 characters", s)
		}
	}
	return nil
}

// Terms are the search terms of an entry.
func Terms(e *model.DirectoryEntry) []string {
	t := textfold.NameTerms(e.DisplayName, e.FirstName, e.LastName, e.Alias)
	t = append(t, textfold.AddressTerms(e.Emails...)...)
	return textfold.Unique(t)
}

const entryColumns = `e.id, e.kind, e.hidden, coalesce(u.login, ''), coalesce(e.user_id, 0), e.display_name, e.first_name,
	e.last_name, e.alias, e.email, e.other_emails, e.phone, e.mobile_phone, e.home_phone, e.title, e.company,
	e.office, e.department, coalesce(e.picture, ''), e.certificates`

// scanEntry reads entryColumns, after the destinations of lead (columns
// a query selects before them).
func scanEntry(row pgx.Row, lead ...any) (Entry, error) {
	var e Entry
	var email string
	var others []string
	err := row.Scan(append(lead, &e.ID, &e.Kind, &e.Hidden, &e.Login, &e.UserID, &e.DisplayName, &e.FirstName, &e.LastName,
		&e.Alias, &email, &others, &e.Phone, &e.MobilePhone, &e.HomePhone, &e.Title, &e.Company, &e.Office,
		&e.Department, &e.Picture, &e.Certificates)...)
	e.Emails = append([]string{email}, others...)
	if len(e.Picture) == 0 {
		e.Picture = nil
	}
	return e, err
}

// Querier runs SQL: the pool or a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Add stores a new entry; an entry with one of its addresses as primary
// address is ErrExists.
func (s *Store) Add(ctx context.Context, e Entry) (Entry, error) {
	var out Entry
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.add(ctx, tx, e)
		return err
	})
	return out, err
}

func (s *Store) add(ctx context.Context, q Querier, e Entry) (Entry, error) {
	if err := Check(&e); err != nil {
		return Entry{}, err
	}
	err := q.QueryRow(ctx, `INSERT INTO directory_entries (kind, hidden, display_name, first_name, last_name, alias,
			email, other_emails, phone, mobile_phone, home_phone, title, company, office, department, picture,
			certificates, sort_key, user_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
			(SELECT id FROM users WHERE login = nullif($19, '')))
		ON CONFLICT (email) DO NOTHING RETURNING id`,
		e.Kind, e.Hidden, e.DisplayName, e.FirstName, e.LastName, e.Alias, e.Emails[0], nonNil(e.Emails[1:]),
		e.Phone, e.MobilePhone, e.HomePhone, e.Title, e.Company, e.Office, e.Department, e.Picture,
		nonNilBytes(e.Certificates), sortKey(&e.DirectoryEntry), e.Login).Scan(&e.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, fmt.Errorf("%w: %s", ErrExists, e.Emails[0])
	}
	if err != nil {
		return Entry{}, fmt.Errorf("directory: add: %w", err)
	}
	return e, writeTerms(ctx, q, e.ID, &e.DirectoryEntry)
}

// Update replaces the stored entry e.ID with e.
func (s *Store) Update(ctx context.Context, e Entry) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.update(ctx, tx, e) })
}

func (s *Store) update(ctx context.Context, q Querier, e Entry) error {
	if err := Check(&e); err != nil {
		return err
	}
	tag, err := q.Exec(ctx, `UPDATE directory_entries SET kind = $2, hidden = $3, display_name = $4, first_name = $5,
			last_name = $6, alias = $7, email = $8, other_emails = $9, phone = $10, mobile_phone = $11,
			home_phone = $12, title = $13, company = $14, office = $15, department = $16, picture = $17,
			certificates = $18, sort_key = $19, updated = now()
		WHERE id = $1`,
		e.ID, e.Kind, e.Hidden, e.DisplayName, e.FirstName, e.LastName, e.Alias, e.Emails[0], nonNil(e.Emails[1:]),
		e.Phone, e.MobilePhone, e.HomePhone, e.Title, e.Company, e.Office, e.Department, e.Picture,
		nonNilBytes(e.Certificates), sortKey(&e.DirectoryEntry))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %s", ErrExists, e.Emails[0])
	}
	if err != nil {
		return fmt.Errorf("directory: update: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return writeTerms(ctx, q, e.ID, &e.DirectoryEntry)
}

func writeTerms(ctx context.Context, q Querier, id int64, e *model.DirectoryEntry) error {
	if _, err := q.Exec(ctx, `DELETE FROM directory_terms WHERE entry_id = $1`, id); err != nil {
		return fmt.Errorf("directory: terms: %w", err)
	}
	_, err := q.Exec(ctx, `INSERT INTO directory_terms (term, entry_id, sort_key) SELECT unnest($2::text[]), $1, $3`,
		id, Terms(e), sortKey(e))
	if err != nil {
		return fmt.Errorf("directory: terms: %w", err)
	}
	return nil
}

func sortKey(e *model.DirectoryEntry) string { return textfold.Fold(e.DisplayName) + "\t" + e.Email() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilBytes(s [][]byte) [][]byte {
	if s == nil {
		return [][]byte{}
	}
	return s
}

// Get finds an entry by id, address (primary or other) or a user's login.
func (s *Store) Get(ctx context.Context, key string) (Entry, error) {
	return s.get(ctx, s.pool, key)
}

func (s *Store) get(ctx context.Context, q Querier, key string) (Entry, error) {
	key = strings.TrimSpace(key)
	id, _ := strconv.ParseInt(key, 10, 64)
	e, err := scanEntry(q.QueryRow(ctx, `SELECT `+entryColumns+` FROM directory_entries e
		LEFT JOIN users u ON u.id = e.user_id
		WHERE e.id = $1 OR e.email = lower($2) OR lower($2) = ANY(e.other_emails) OR u.login = $2
		ORDER BY e.id = $1 DESC, e.email = lower($2) DESC LIMIT 1`, id, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("directory: get: %w", err)
	}
	return e, nil
}

// Remove deletes an entry by id, address or login. A user's entry comes
// back with the user's next lookup unless it is hidden instead.
func (s *Store) Remove(ctx context.Context, key string) (Entry, error) {
	e, err := s.Get(ctx, key)
	if err != nil {
		return e, err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM directory_entries WHERE id = $1`, e.ID); err != nil {
		return e, fmt.Errorf("directory: remove: %w", err)
	}
	return e, nil
}

// List returns every entry, hidden ones included, by display name; after
// bringing in users who have none yet.
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	if err := s.SyncUsers(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+` FROM directory_entries e
		LEFT JOIN users u ON u.id = e.user_id ORDER BY e.sort_key, e.id`)
	if err != nil {
		return nil, fmt.Errorf("directory: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("directory: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ImportResult says what Import did.
type ImportResult struct{ Created, Updated int }

// Import writes entries in one transaction: an entry whose primary
// address is stored replaces that entry's fields (its user link, and a
// photo, certificates or hidden flag the file does not give, kept);
// others are added. Any failure leaves the directory as it was.
func (s *Store) Import(ctx context.Context, entries []Entry) (ImportResult, error) {
	var res ImportResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = ImportResult{}
		for i, e := range entries {
			if err := Check(&e); err != nil {
				return fmt.Errorf("entry %d: %w", i+1, err)
			}
			old, err := s.get(ctx, tx, e.Emails[0])
			switch {
			case err == nil:
				// A file that carries no photo or certificate (CSV never
				// does) keeps the stored ones, and an import never
				// unhides: `easd directory edit` does.
				e.ID = old.ID
				if e.Picture == nil {
					e.Picture = old.Picture
				}
				if len(e.Certificates) == 0 {
					e.Certificates = old.Certificates
				}
				e.Hidden = e.Hidden || old.Hidden
				if err := s.update(ctx, tx, e); err != nil {
					return fmt.Errorf("entry %d (%s): %w", i+1, e.Emails[0], err)
				}
				res.Updated++
			case errors.Is(err, ErrNotFound):
				if _, err := s.add(ctx, tx, e); err != nil {
					return fmt.Errorf("entry %d (%s): %w", i+1, e.Emails[0], err)
				}
				res.Created++
			default:
				return err
			}
		}
		return nil
	})
	return res, err
}

// UserAddress is a user's primary address: the one recorded, else the
// login when it is an address, else login@domain (as Settings
// UserInformation reports it).
func UserAddress(login, recorded, domain string) string {
	switch {
	case recorded != "":
		return recorded
	case strings.Contains(login, "@") || domain == "":
		return login
	default:
		return login + "@" + domain
	}
}

// SyncUsers gives every user without a directory entry one: their
// address, and their login's local part as name and alias. An entry an
// administrator made with the user's address becomes the user's. Users
// are never removed here: a user's entry goes with the user.
func (s *Store) SyncUsers(ctx context.Context) error {
	seen := s.usersSeen.Load()
	// One statement: the users to bring in, and the highest id to
	// remember when there are none (one row of NULLs then).
	rows, err := s.pool.Query(ctx, `SELECT m.top, u.id, u.login, u.email
		FROM (SELECT coalesce(max(id), 0) AS top FROM users) m
		LEFT JOIN users u ON u.id > $1 AND NOT EXISTS (SELECT 1 FROM directory_entries e WHERE e.user_id = u.id)
		ORDER BY u.id`, seen)
	if err != nil {
		return fmt.Errorf("directory: users: %w", err)
	}
	type user struct {
		id           int64
		login, email string
	}
	var users []user
	var maxID int64
	for rows.Next() {
		var id *int64
		var login, email *string
		if err := rows.Scan(&maxID, &id, &login, &email); err != nil {
			rows.Close()
			return fmt.Errorf("directory: users: %w", err)
		}
		if id != nil {
			users = append(users, user{id: *id, login: *login, email: *email})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("directory: users: %w", err)
	}
	top := seen
	for _, u := range users {
		name, _, _ := strings.Cut(u.login, "@")
		e := Entry{Kind: Person, DirectoryEntry: model.DirectoryEntry{DisplayName: name, Alias: name,
			Emails: []string{UserAddress(u.login, u.email, s.opts.Domain)}}}
		if err := Check(&e); err != nil {
			top = u.id // a login that makes no address: nothing to list
			continue
		}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO directory_entries (user_id, kind, display_name, alias, email, sort_key)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (email) DO UPDATE SET user_id = $1 WHERE directory_entries.user_id IS NULL
				RETURNING id`, u.id, e.Kind, e.DisplayName, e.Alias, e.Emails[0], sortKey(&e.DirectoryEntry)).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // another user's entry has the address
			}
			if err != nil {
				return err
			}
			var inserted bool
			if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM directory_terms WHERE entry_id = $1)`, id).Scan(&inserted); err != nil {
				return err
			}
			if inserted {
				return writeTerms(ctx, tx, id, &e.DirectoryEntry)
			}
			return nil
		})
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			continue // a concurrent instance made it
		}
		if err != nil {
			return fmt.Errorf("directory: user %q: %w", u.login, err)
		}
		top = u.id
	}
	if len(users) == 0 {
		// Nothing new: remember the highest id so the next probe starts
		// there.
		top = maxID
	}
	if top > seen {
		s.usersSeen.CompareAndSwap(seen, top)
	}
	return nil
}
