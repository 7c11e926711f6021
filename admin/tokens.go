package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/audit"
)

// tokenPrefix marks easd admin tokens, so that one pasted into the wrong
// place (a log, a ticket) is recognisable and scanners can find it.
const tokenPrefix = "easd_"

// Token is one admin token as listed; the secret itself is never stored.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Created   time.Time  `json:"created"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Errors of the token store.
var (
	ErrTokenExists   = errors.New("a token with this name exists")
	ErrTokenNotFound = errors.New("no such token")
	ErrBadToken      = errors.New("unknown, revoked or expired token")
	ErrBadName       = errors.New("token name must be 1-64 letters, digits, '.', '_' or '-'")
)

// Tokens keeps admin tokens and web sessions (tables admin_tokens and
// admin_sessions).
type Tokens struct{ pool *pgxpool.Pool }

// NewTokens returns the token store on pool.
func NewTokens(pool *pgxpool.Pool) *Tokens { return &Tokens{pool: pool} }

func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func randomSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin: random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
			return false
		}
	}
	return true
}

// Create makes a token called name, valid until expires (zero: forever),
// and returns its secret: the only time it is seen. The creation is
// audited as who.
func (t *Tokens) Create(ctx context.Context, who audit.Who, name string, expires time.Time) (string, error) {
	if !validName(name) {
		return "", ErrBadName
	}
	secret, err := randomSecret(tokenPrefix)
	if err != nil {
		return "", err
	}
	var exp *time.Time
	detail := map[string]any{}
	if !expires.IsZero() {
		exp = &expires
		detail["expires_at"] = expires.UTC().Format(time.RFC3339)
	}
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO admin_tokens (name, hash, expires_at) VALUES ($1, $2, $3)`,
			name, hash(secret), exp); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return ErrTokenExists
			}
			return fmt.Errorf("admin: create token: %w", err)
		}
		return audit.Record(ctx, tx, who, "token.create", "token:"+name, detail)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// List returns every token, by name.
func (t *Tokens) List(ctx context.Context) ([]Token, error) {
	rows, err := t.pool.Query(ctx, `SELECT id, name, created_at, last_used_at, expires_at
		FROM admin_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("admin: list tokens: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		var tk Token
		err := r.Scan(&tk.ID, &tk.Name, &tk.Created, &tk.LastUsed, &tk.ExpiresAt)
		return tk, err
	})
}

// Revoke deletes the token called name and, through the schema's
// cascade, every web session opened with it.
func (t *Tokens) Revoke(ctx context.Context, who audit.Who, name string) error {
	return pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM admin_tokens WHERE name = $1`, name)
		if err != nil {
			return fmt.Errorf("admin: revoke token: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrTokenNotFound
		}
		return audit.Record(ctx, tx, who, "token.revoke", "token:"+name, nil)
	})
}

// Authenticate returns the name of the valid token secret, noting its use.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (string, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return "", ErrBadToken
	}
	var name string
	// The last-use stamp is written at most once a minute.
	err := t.pool.QueryRow(ctx, `WITH tok AS (
			SELECT id, name, last_used_at FROM admin_tokens
			WHERE hash = $1 AND (expires_at IS NULL OR expires_at > now())
		), touched AS (
			UPDATE admin_tokens a SET last_used_at = now() FROM tok
			WHERE a.id = tok.id AND (tok.last_used_at IS NULL OR tok.last_used_at < now() - interval '1 minute')
		)
		SELECT name FROM tok`, hash(secret)).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrBadToken
	}
	if err != nil {
		return "", fmt.Errorf("admin: authenticate: %w", err)
	}
	return name, nil
}

// Session is a logged-in web page user.
type Session struct {
	TokenName string
	CSRF      string
}

// sessionPrefix marks session cookies, which are never admin tokens.
const sessionPrefix = "easds_"

// OpenSession logs in with a token secret for ttl and returns the cookie
// value and the session. The login is audited.
func (t *Tokens) OpenSession(ctx context.Context, source, secret string, ttl time.Duration) (string, *Session, error) {
	name, err := t.Authenticate(ctx, secret)
	if err != nil {
		return "", nil, err
	}
	id, err := randomSecret(sessionPrefix)
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomSecret("")
	if err != nil {
		return "", nil, err
	}
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		// Expired sessions go when someone logs in: no sweeper needed.
		if _, err := tx.Exec(ctx, `DELETE FROM admin_sessions WHERE expires_at < now()`); err != nil {
			return fmt.Errorf("admin: session: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO admin_sessions (hash, token_id, csrf, expires_at)
			SELECT $1, id, $3, now() + $4::interval FROM admin_tokens WHERE name = $2`,
			hash(id), name, csrf, fmt.Sprintf("%d seconds", int(ttl.Seconds()))); err != nil {
			return fmt.Errorf("admin: session: %w", err)
		}
		return audit.Record(ctx, tx, audit.Who{Actor: "web:" + name, Source: source}, "admin.login", "token:"+name, nil)
	})
	if err != nil {
		return "", nil, err
	}
	return id, &Session{TokenName: name, CSRF: csrf}, nil
}

// Session returns the live session of a cookie value.
func (t *Tokens) Session(ctx context.Context, id string) (*Session, error) {
	if !strings.HasPrefix(id, sessionPrefix) {
		return nil, ErrBadToken
	}
	var s Session
	err := t.pool.QueryRow(ctx, `SELECT t.name, s.csrf FROM admin_sessions s JOIN admin_tokens t ON t.id = s.token_id
		WHERE s.hash = $1 AND s.expires_at > now() AND (t.expires_at IS NULL OR t.expires_at > now())`,
		hash(id)).Scan(&s.TokenName, &s.CSRF)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("admin: session: %w", err)
	}
	return &s, nil
}

// CloseSession ends a session (logout); closing one that is gone is fine.
func (t *Tokens) CloseSession(ctx context.Context, id string) error {
	if _, err := t.pool.Exec(ctx, `DELETE FROM admin_sessions WHERE hash = $1`, hash(id)); err != nil {
		return fmt.Errorf("admin: logout: %w", err)
	}
	return nil
}
