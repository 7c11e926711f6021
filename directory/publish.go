package directory

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/model"
)

// MaxPublished bounds the certificates a user publishes: a signing and an
// encryption certificate, and their successors during a renewal.
const MaxPublished = 4

// oidEmail is PKCS #9 emailAddress, where older S/MIME certificates put
// the address instead of the subjectAltName.
var oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// CheckOwnCertificate returns why der is not a current S/MIME certificate
// of one of addrs, nil when it is. Only a certificate naming the user's
// address is accepted: a user must not be able to make others' phones
// encrypt to a key for someone else's address.
func CheckOwnCertificate(der []byte, addrs []string, now time.Time) error {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("%w: %v", model.ErrNotOwnCertificate, err)
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("%w: expired %s", model.ErrNotOwnCertificate, c.NotAfter.Format(time.DateOnly))
	}
	if len(c.ExtKeyUsage) > 0 && !hasEKU(c, x509.ExtKeyUsageEmailProtection) && !hasEKU(c, x509.ExtKeyUsageAny) {
		return fmt.Errorf("%w: not for e-mail protection", model.ErrNotOwnCertificate)
	}
	names := append([]string{}, c.EmailAddresses...)
	for _, a := range c.Subject.Names {
		if s, ok := a.Value.(string); ok && a.Type.Equal(oidEmail) {
			names = append(names, s)
		}
	}
	for _, n := range names {
		for _, a := range addrs {
			if strings.EqualFold(n, a) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: it names %v, the entry has %v", model.ErrNotOwnCertificate, names, addrs)
}

func hasEKU(c *x509.Certificate, u x509.ExtKeyUsage) bool { return slices.Contains(c.ExtKeyUsage, u) }

// userEntry returns the entry of the user login, making the user and the
// entry when this is the user's first request: a user who has only ever
// read mail elsewhere can publish too. A user with an entry, the usual
// case, costs one query.
func (s *Store) userEntry(ctx context.Context, login string) (Entry, error) {
	e, err := s.loginEntry(ctx, login)
	if !errors.Is(err, ErrNotFound) {
		return e, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO users (login) VALUES ($1) ON CONFLICT (login) DO NOTHING`, login); err != nil {
		return Entry{}, fmt.Errorf("directory: user: %w", err)
	}
	if err := s.SyncUsers(ctx); err != nil {
		return Entry{}, err
	}
	return s.loginEntry(ctx, login)
}

// loginEntry is the entry of the user login; by login alone: Get would
// also take the login as an id or address.
func (s *Store) loginEntry(ctx context.Context, login string) (Entry, error) {
	e, err := scanEntry(s.pool.QueryRow(ctx, `SELECT `+entryColumns+` FROM directory_entries e
		JOIN users u ON u.id = e.user_id WHERE u.login = $1`, login))
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, fmt.Errorf("%w: user %q", ErrNotFound, login)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("directory: user entry: %w", err)
	}
	return e, nil
}

// PublishCertificates implements model.CertificatePublisher.
func (s *Store) PublishCertificates(ctx context.Context, login string, certs [][]byte) error {
	if len(certs) > MaxPublished {
		return fmt.Errorf("%w: more than %d certificates", model.ErrNotOwnCertificate, MaxPublished)
	}
	e, err := s.userEntry(ctx, login)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, der := range certs {
		if err := CheckOwnCertificate(der, e.Emails, now); err != nil {
			return err
		}
	}
	if _, err := s.pool.Exec(ctx, `UPDATE directory_entries SET certificates = $2, updated = now() WHERE id = $1`,
		e.ID, nonNilBytes(certs)); err != nil {
		return fmt.Errorf("directory: publish: %w", err)
	}
	return nil
}

// PublishedCertificates implements model.CertificatePublisher.
func (s *Store) PublishedCertificates(ctx context.Context, login string) ([][]byte, error) {
	e, err := s.userEntry(ctx, login)
	return e.Certificates, err
}
