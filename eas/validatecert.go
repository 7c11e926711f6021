package eas

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/easd/easd/eas/message"
)

func init() {
	addCommand("ValidateCert", &commandSpec{root: "ValidateCert:ValidateCert", run: validateCert})
}

// ValidateCert statuses (MS-ASCMD 2.2.3.177.18).
const (
	vcOK               Status = 1
	vcProtocolError    Status = 2
	vcBadSignature     Status = 3
	vcUntrusted        Status = 4
	vcBadChain         Status = 5
	vcNotForEmail      Status = 6
	vcExpired          Status = 7
	vcBadInfo          Status = 10
	vcNotACA           Status = 11
	vcRevocationNotRun Status = 16
	vcServerError      Status = 17
)

// validateCertMax bounds the certificates of one request: each costs a
// chain build, and a phone validates a handful at a time.
const validateCertMax = 100

// validateCert answers ValidateCert: each certificate is parsed and its
// chain built with crypto/x509 against the system's roots, with the
// request's CertificateChain as intermediates, for e-mail protection at the
// current time. easd does not fetch CRLs or ask OCSP responders (a
// certificate's URLs are the sender's choice, and the server may not reach
// them); a certificate that verifies when CheckCRL asks for revocation
// checking is answered 16, "revocation status cannot be validated", so
// the client knows the check did not happen.
func validateCert(k *call) error {
	var req message.ValidateCertRequest
	if err := k.decodeRequired(&req, vcProtocolError); err != nil {
		return err
	}
	if req.Certificates == nil || len(req.Certificates.Certificate) == 0 ||
		len(req.Certificates.Certificate) > validateCertMax {
		return statusErr(vcProtocolError, "no certificates, or more than %d", validateCertMax)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		k.log.Warn("validatecert: no system roots", "err", err)
		return statusErr(vcServerError, "system roots: %v", err)
	}
	inter := x509.NewCertPool()
	if req.CertificateChain != nil {
		for _, s := range req.CertificateChain.Certificate {
			if c, err := parseCertB64(s); err == nil {
				inter.AddCert(c)
			}
		}
	}
	checkCRL := req.CheckCRL == "1"
	resp := message.ValidateCertResponse{Status: int(vcOK)}
	for _, s := range req.Certificates.Certificate {
		st := validateOne(s, roots, inter, checkCRL)
		if st != vcOK {
			k.log.Info("validatecert: certificate refused", "status", int(st))
		}
		resp.Certificate = append(resp.Certificate, message.ValidateCertResult{Status: int(st)})
	}
	return k.respond(&resp)
}

// parseCertB64 reads one certificate: base64 (padded or not, line breaks
// allowed) of DER.
func parseCertB64(s string) (*x509.Certificate, error) {
	s = strings.Join(strings.Fields(s), "")
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if der, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return nil, err
		}
	}
	return x509.ParseCertificate(der)
}

func validateOne(s string, roots, inter *x509.CertPool, checkCRL bool) Status {
	cert, err := parseCertB64(s)
	if err != nil {
		return vcBadInfo
	}
	_, err = cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: time.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	})
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var insecure x509.InsecureAlgorithmError
	switch {
	case err == nil:
		if checkCRL {
			return vcRevocationNotRun
		}
		return vcOK
	case errors.As(err, &invalid):
		switch invalid.Reason {
		case x509.Expired:
			return vcExpired
		case x509.IncompatibleUsage:
			return vcNotForEmail
		case x509.NotAuthorizedToSign:
			return vcNotACA
		}
		return vcBadChain
	case errors.As(err, &unknown):
		return vcUntrusted
	case errors.As(err, &insecure), errors.Is(err, x509.ErrUnsupportedAlgorithm):
		return vcBadSignature
	}
	return vcBadChain
}
