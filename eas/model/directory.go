package model

import (
	"context"
	"errors"
	"time"
)

// DirectoryEntry is one person or resource as GAL searches and recipient
// resolution show it: from the directory (PostgreSQL or LDAP) or from a
// user's own contacts.
type DirectoryEntry struct {
	DisplayName string
	FirstName   string
	LastName    string
	Alias       string
	// Emails: the primary SMTP address first.
	Emails      []string
	Phone       string // office
	MobilePhone string
	HomePhone   string
	Title       string
	Company     string
	Office      string
	Department  string
	Picture     []byte
	// Certificates are S/MIME certificates, DER encoded.
	Certificates [][]byte
	// UserID is the local user the entry is, 0 for anyone else: only
	// local users have a calendar to take free/busy from.
	UserID int64
	// Exact: the query matched whole words (or the whole address), not
	// only prefixes. Results are ranked exact first.
	Exact bool
}

// Email is the primary address, "" when there is none.
func (e *DirectoryEntry) Email() string {
	if len(e.Emails) == 0 {
		return ""
	}
	return e.Emails[0]
}

// DirectoryPage is one page of a ranked search and how many matches there
// are in all (at most the configured cap).
type DirectoryPage struct {
	Entries []DirectoryEntry
	Total   int
}

// Errors of directory searches.
var (
	// ErrQueryTooShort: the query has fewer characters than the
	// configured minimum; nothing was searched.
	ErrQueryTooShort = errors.New("directory: query too short")
	// ErrDirectoryUnavailable: the directory (an LDAP server) did not
	// answer.
	ErrDirectoryUnavailable = errors.New("directory: unavailable")
)

// Directory is the Global Address List.
type Directory interface {
	// Search returns matches first..first+count-1 of query, ranked
	// exact before prefix, hidden entries left out.
	Search(ctx context.Context, query string, first, count int) (DirectoryPage, error)
}

// ContactSearcher finds a user's own contacts by name or address, ranked
// as the directory ranks.
type ContactSearcher interface {
	SearchContacts(ctx context.Context, userID int64, query string, limit int) (DirectoryPage, error)
}

// FreeBusy answers a local user's availability as an EAS MergedFreeBusy
// string (MS-ASCMD 2.2.3.107): one digit per interval from start to end,
// 0 free, 1 tentative, 2 busy, 3 out of office, 4 no data.
type FreeBusy interface {
	MergedFreeBusy(ctx context.Context, userID int64, start, end time.Time, interval time.Duration) (string, error)
}

// ErrNotOwnCertificate: a certificate a user tried to publish is not an
// S/MIME certificate of one of the user's own addresses, or has expired.
var ErrNotOwnCertificate = errors.New("directory: not a valid certificate of the user's own address")

// CertificatePublisher lets a user publish their own S/MIME certificates
// in the directory, as Outlook's "Publish to GAL" does on Exchange, so
// that others' phones find them with ResolveRecipients.
type CertificatePublisher interface {
	// PublishCertificates replaces the certificates (DER) of the entry
	// of the user login with certs; none unpublishes. A certificate that
	// is not the user's is ErrNotOwnCertificate and nothing changes.
	PublishCertificates(ctx context.Context, login string, certs [][]byte) error
	// PublishedCertificates returns the certificates of login's entry.
	PublishedCertificates(ctx context.Context, login string) ([][]byte, error)
}
