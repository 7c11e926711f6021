package eas_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
)

// selfSigned makes a base64 DER e-mail certificate valid from nb to na.
func selfSigned(t *testing.T, nb, na time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alice"},
		EmailAddresses: []string{"alice@example.test"}, NotBefore: nb, NotAfter: na,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// ValidateCert checks each certificate with crypto/x509 and answers the
// statuses of MS-ASCMD 2.2.3.177.18, one per certificate in order.
func TestValidateCert(t *testing.T) {
	s := startSync(t)
	ctx := context.Background()
	now := time.Now()
	certs := []string{
		selfSigned(t, now.Add(-time.Hour), now.Add(time.Hour)),         // not from a trusted root: 4
		selfSigned(t, now.Add(-48*time.Hour), now.Add(-time.Hour)),     // expired: 7
		base64.StdEncoding.EncodeToString([]byte("not a certificate")), // 10
	}
	for _, v := range []string{"12.1", "16.1"} {
		s.c.Version = v
		r, err := s.c.ValidateCert(ctx, &message.ValidateCertRequest{
			Certificates: &message.ValidateCertificates{Certificate: certs}, CheckCRL: "1"})
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		var got []int
		for _, c := range r.Certificate {
			got = append(got, c.Status)
		}
		if r.Status != 1 || len(got) != 3 || got[0] != 4 || got[1] != 7 || got[2] != 10 {
			t.Errorf("%s: status %d, certificates %v, want 1 and [4 7 10]", v, r.Status, got)
		}
	}
	r, err := s.c.ValidateCert(ctx, &message.ValidateCertRequest{})
	if err != nil || r.Status != 2 {
		t.Errorf("no certificates: %+v %v, want Status 2", r, err)
	}
}
